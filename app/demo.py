"""Demo data for `make run`: three organizations with realistic plans, one participant who
has claimed two of them, and one person in every staff role (a case manager, an org admin, a
network administrator). Loaded once, on the first run; every start prints every demo login."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session, select

from app.config import Settings
from app.consent.notice import build_notice
from app.consent.service import decide
from app.db import make_engine, utcnow
from app.disclosures.schemas import DisclosureIn
from app.disclosures.service import record_disclosure
from app.holdings.schemas import HoldingIn
from app.holdings.service import upsert_holding
from app.organizations.models import Organization
from app.organizations.schemas import PurposeIn, RecipientIn, RecipientRef
from app.organizations.service import (
    create_network_admin,
    create_organization,
    create_staff,
    upsert_purpose,
)
from app.participants.models import Participant
from app.participants.service import enroll, find_claim, issue_claim_code, link_enrollment
from app.reports.schemas import ReportIn
from app.reports.service import run_report, upsert_report
from app.security.passwords import hash_secret
from app.stories.service import draft_story

DEMO_USERNAME = "demo"
DEMO_PIN = "482913"
DEMO_STAFF_EMAIL = "casey@northside.example"
DEMO_STAFF_PASSWORD = "demo-password-123"  # noqa: S105 - printed for the demo on purpose
DEMO_ORG_ADMIN_EMAIL = "avery@northside.example"
DEMO_NETWORK_ADMIN_EMAIL = "network@portal.example"


def _purpose(**kw: object) -> PurposeIn:
    return PurposeIn.model_validate(kw)


def load_demo(settings: Settings) -> bool:
    """Returns False (and prints nothing new) when the database already has organizations."""
    engine = make_engine(settings.database_url)
    with Session(engine, expire_on_commit=False) as session:
        if session.exec(select(Organization)).first() is not None:
            print("\nDemo data already loaded.")
            print_logins(settings.base_url)
            print(
                "  API keys were shown once, when the demo was loaded; make a new one with\n"
                "  `consent-portal org key --org northside` (or in the browser: the org admin's\n"
                "  API keys page)."
            )
            print()
            return False
        keys = {}
        northside, keys["northside"] = create_organization(
            session, name="Northside Food Shelf", slug="northside"
        )
        cedar, keys["cedar"] = create_organization(
            session, name="Cedar Housing Partners", slug="cedar-housing"
        )
        lakeside, keys["lakeside"] = create_organization(
            session, name="Lakeside Youth Program", slug="lakeside-youth"
        )

        upsert_purpose(
            session,
            organization=northside,
            key="food-distribution",
            data=_purpose(
                title={"en": "Giving you food each week", "es": "Darle comida cada semana"},
                description={
                    "en": "We record your household size so we give the right amount.",
                    "es": "Anotamos cuántas personas viven con usted para darle la cantidad correcta.",
                },
                basis="service",
                categories=["household", "contact"],
                retention_days=730,
            ),
        )
        upsert_purpose(
            session,
            organization=northside,
            key="housing-referral",
            data=_purpose(
                title={
                    "en": "Sharing with Cedar Housing Partners for housing help",
                    "es": "Compartir con Cedar Housing Partners para ayuda de vivienda",
                },
                description={
                    "en": "If you agree, we send your contact details and household size to Cedar Housing Partners so they can call you about housing.",
                    "es": "Si acepta, enviamos sus datos de contacto y el tamaño de su hogar a Cedar Housing Partners para que le llamen sobre vivienda.",
                },
                basis="consent",
                categories=["contact", "household"],
                recipients=[
                    RecipientIn(
                        name="Cedar Housing Partners",
                        organization="cedar-housing",
                        reason="housing referrals",
                    )
                ],
                retention_days=365,
                refusal_consequence={
                    "en": "Nothing changes at the food shelf. You can still ask Cedar yourself.",
                    "es": "Nada cambia en el banco de alimentos. Puede llamar a Cedar usted mismo.",
                },
            ),
        )
        upsert_purpose(
            session,
            organization=northside,
            key="funder-report",
            data=_purpose(
                title={
                    "en": "Reporting visit counts to our funder",
                    "es": "Informar el número de visitas a quien nos financia",
                },
                description={
                    "en": "Our funder, Second Harvest, receives how often you visited, without your name."
                },
                basis="funder_contract",
                categories=["services"],
                recipients=[RecipientIn(name="Second Harvest Heartland", reason="grant reporting")],
                retention_days=1095,
            ),
        )
        upsert_purpose(
            session,
            organization=cedar,
            key="housing-case",
            data=_purpose(
                title={"en": "Finding you housing", "es": "Encontrarle vivienda"},
                description={
                    "en": "Your housing situation and income decide which programs fit you.",
                    "es": "Su situación de vivienda y sus ingresos deciden qué programas le sirven.",
                },
                basis="service",
                categories=["housing", "income", "contact"],
                retention_days=1825,
            ),
        )
        upsert_purpose(
            session,
            organization=cedar,
            key="county-hmis",
            data=_purpose(
                title={
                    "en": "Reporting to the county's homeless system (HMIS)",
                    "es": "Informar al sistema del condado para personas sin hogar (HMIS)",
                },
                description={
                    "en": "The law requires us to report shelter stays to Hennepin County."
                },
                basis="legal_obligation",
                categories=["housing"],
                recipients=[
                    RecipientIn(name="Hennepin County HMIS", reason="required by state law")
                ],
                retention_days=2555,
                legal_recipients={"en": "Hennepin County HMIS; auditors of the state of Minnesota"},
            ),
        )
        upsert_purpose(
            session,
            organization=cedar,
            key="health-support",
            data=_purpose(
                title={
                    "en": "Connecting you with health support",
                    "es": "Conectarle con apoyo de salud",
                },
                description={
                    "en": "If you agree, we note health needs that affect housing, to find accessible units."
                },
                basis="consent",
                categories=["health"],
                sensitive=True,
                retention_days=365,
                refusal_consequence={
                    "en": "We still help you find housing.",
                    "es": "Igual le ayudamos a encontrar vivienda.",
                },
            ),
        )
        upsert_purpose(
            session,
            organization=lakeside,
            key="youth-programs",
            data=_purpose(
                title={"en": "Running youth programs", "es": "Organizar programas para jóvenes"},
                basis="service",
                categories=["education", "contact"],
                retention_days=1095,
            ),
        )

        participant = Participant(
            username=DEMO_USERNAME, pin_hash=hash_secret(DEMO_PIN), preferred_language="en"
        )
        session.add(participant)
        session.flush()
        today = date.today()
        enrollments = {}
        for organization, ref in ((northside, "NS-1042"), (cedar, "CHP-77"), (lakeside, "LY-301")):
            enrollment, code = enroll(
                session, organization=organization, external_ref=ref, preferred_language="en"
            )
            enrollments[organization.slug] = enrollment
            if organization is not lakeside:  # Lakeside is not claimed yet: its code is printed
                claim = find_claim(session, code)
                assert claim is not None
                link_enrollment(session, claim=claim, participant=participant)
        lakeside_code = issue_claim_code(session, enrollment=enrollments["lakeside-youth"])

        def hold(slug: str, key: str, **kw: object) -> None:
            upsert_holding(
                session,
                enrollment=enrollments[slug],
                field_key=key,
                data=HoldingIn.model_validate(kw),
            )

        hold(
            "northside",
            "household_size",
            label="People in your household",
            category="household",
            value="4",
            purpose="food-distribution",
            source="Intake form",
            collected_at=today - timedelta(days=90),
        )
        hold(
            "northside",
            "phone",
            label="Phone number",
            category="contact",
            value="612-555-0143",
            purpose="food-distribution",
            source="Intake form",
            collected_at=today - timedelta(days=90),
        )
        hold(
            "northside",
            "visits",
            label="Visits this year",
            category="services",
            value="6 or more",
            purpose="funder-report",
            source="Check-in desk",
        )
        hold(
            "cedar-housing",
            "housing_status",
            label="Where you sleep now",
            category="housing",
            value="Staying with a friend",
            purpose="housing-case",
            source="Phone call with Casey",
            collected_at=today - timedelta(days=30),
        )
        hold(
            "cedar-housing",
            "monthly_income",
            label="Monthly income",
            category="income",
            value="$1,240",
            purpose="housing-case",
            source="Pay stub you showed us",
            collected_at=today - timedelta(days=30),
        )
        hold(
            "cedar-housing",
            "mobility",
            label="Mobility needs",
            category="health",
            value="Needs a ground-floor unit (knee surgery in 2025)",
            purpose="health-support",
            sensitive=True,
            source="You told us",
            collected_at=today - timedelta(days=20),
        )
        hold(
            "lakeside-youth",
            "school",
            label="School",
            category="education",
            value="Roosevelt High",
            purpose="youth-programs",
        )

        housing_referral = _find(session, northside, "housing-referral")
        decide(
            session,
            enrollment=enrollments["northside"],
            organization=northside,
            purpose=housing_referral,
            state="given",
            method="self",
            notice=build_notice(housing_referral, northside, "en"),
            base_url=settings.base_url,
        )
        session.flush()
        record_disclosure(
            session,
            enrollment=enrollments["northside"],
            data=DisclosureIn(
                recipient=RecipientRef(name="Cedar Housing Partners", organization="cedar-housing"),
                purpose="housing-referral",
                field_keys=["phone", "household_size"],
                disclosed_at=utcnow() - timedelta(days=10),
            ),
        )
        record_disclosure(
            session,
            enrollment=enrollments["northside"],
            data=DisclosureIn(
                recipient=RecipientRef(name="Second Harvest Heartland"),
                purpose="funder-report",
                field_keys=["visits"],
                disclosed_at=utcnow() - timedelta(days=5),
            ),
        )
        record_disclosure(
            session,
            enrollment=enrollments["cedar-housing"],
            data=DisclosureIn(
                recipient=RecipientRef(name="Hennepin County HMIS"),
                purpose="county-hmis",
                field_keys=["housing_status"],
                disclosed_at=utcnow() - timedelta(days=3),
            ),
        )
        # A disclosure that consent did not cover: kept, and flagged for the participant.
        record_disclosure(
            session,
            enrollment=enrollments["cedar-housing"],
            data=DisclosureIn(
                recipient=RecipientRef(name="Metro Health Clinic"),
                purpose="health-support",
                field_keys=["mobility"],
                disclosed_at=utcnow() - timedelta(days=1),
            ),
        )

        # A published report that counted the demo participant, with their neighbours: a run
        # needs at least the threshold's number of people (11), or it is refused.
        for n in range(1, 26):
            neighbour, _code = enroll(
                session,
                organization=northside,
                external_ref=f"NS-{2000 + n}",
                preferred_language="en",
            )
            upsert_holding(
                session,
                enrollment=neighbour,
                field_key="visits",
                data=HoldingIn.model_validate(
                    {
                        "label": "Visits this year",
                        "category": "services",
                        "value": "1 to 5" if n % 2 else "6 or more",
                        "purpose": "funder-report",
                    }
                ),
            )
        report, _new = upsert_report(
            session,
            organization=northside,
            key="visits-2026",
            data=ReportIn.model_validate(
                {
                    "title": {"en": "Visits in 2026", "es": "Visitas en 2026"},
                    "recipient": {"name": "Second Harvest Heartland"},
                    "purpose": "funder-report",
                    "count_by": ["visits"],
                }
            ),
        )
        run_report(session, report=report, threshold=settings.report_threshold, run_by="Avery Lee")
        # A story Northside asks to tell: it waits for the participant's answer.
        draft_story(
            session,
            enrollment=enrollments["northside"],
            title="Cooking for four",
            text=(
                "Every Friday she plans the week's meals for her family of four with what she "
                "picks up here, and she shares her recipes with the volunteers."
            ),
            use={"en": "Our 2026 annual report", "es": "Nuestro informe anual de 2026"},
            drafted_by="Casey Morgan",
        )

        create_staff(
            session,
            organization=northside,
            email=DEMO_STAFF_EMAIL,
            role="case_manager",
            password=DEMO_STAFF_PASSWORD,
            name="Casey Morgan",
        )
        create_staff(
            session,
            organization=northside,
            email=DEMO_ORG_ADMIN_EMAIL,
            role="org_admin",
            password=DEMO_STAFF_PASSWORD,
            name="Avery Lee",
        )
        create_network_admin(session, email=DEMO_NETWORK_ADMIN_EMAIL, password=DEMO_STAFF_PASSWORD)
        session.commit()

    base = settings.base_url
    print("\nDemo data loaded.")
    print_logins(base)
    print(f"  Claim a third organization (Lakeside Youth Program): {base}/claim/{lakeside_code}")
    for slug, key in keys.items():
        print(f"  API key for {slug}: {key}")
    print()
    engine.dispose()
    return True


def print_logins(base: str) -> None:
    """Every demo login, so a newcomer meets every role."""
    print(f"  Participant:      {base}/login  username {DEMO_USERNAME!r}  PIN {DEMO_PIN!r}")
    print(f"  Case manager:     {base}/staff/login  {DEMO_STAFF_EMAIL} / {DEMO_STAFF_PASSWORD}")
    print(f"  Org admin:        {base}/staff/login  {DEMO_ORG_ADMIN_EMAIL} / {DEMO_STAFF_PASSWORD}")
    print(
        f"  Network admin:    {base}/admin/login  {DEMO_NETWORK_ADMIN_EMAIL} / "
        f"{DEMO_STAFF_PASSWORD}"
    )


def _find(session: Session, organization: Organization, key: str):  # type: ignore[no-untyped-def]
    from app.organizations.service import find_purpose

    purpose = find_purpose(session, organization_id=organization.id or 0, key=key)
    assert purpose is not None
    return purpose
