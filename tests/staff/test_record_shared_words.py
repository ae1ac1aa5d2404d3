"""A participant's record page shows, for staff, the participant's own words shared with that
organization (never another's), and the consent history in staff wording."""

from __future__ import annotations

from sqlmodel import select

from app.consent.notice import build_notice
from app.consent.service import decide
from app.context.service import save_note, withdraw_note
from app.corrections.models import Correction, Statement
from app.db import utcnow
from app.holdings.models import Holding
from app.organizations.models import Organization, Purpose
from app.participants.models import Enrollment, Participant
from tests.factories import claim, enroll, hold, make_staff, purpose_body, staff_log_in


def _enrollment(db, ref: str, organization_id: int | None = None) -> Enrollment:
    query = select(Enrollment).where(Enrollment.external_ref == ref)
    if organization_id is not None:
        query = query.where(Enrollment.organization_id == organization_id)
    return db.exec(query).one()


def _setup(db, client, org, make_org):
    """Maria, enrolled with Northside (A-1) and Eastside (E-1), signed up once."""
    other = make_org("eastside", "Eastside Youth")
    assert claim(client, enroll(org, "A-1")).status_code == 200
    # The second organization's claim code, claimed by the same signed-in participant.
    assert claim(client, enroll(other, "E-1")).status_code in (200, 303)
    mine = _enrollment(db, "A-1")
    theirs = _enrollment(db, "E-1")
    db.refresh(theirs)
    participant = db.get(Participant, mine.participant_id)
    assert participant is not None and theirs.participant_id == participant.id
    return participant, mine, theirs


def _record(db, client, org) -> str:
    staff = make_staff(db, org)
    staff_log_in(client, staff.email)
    page = client.get("/staff/participants/A-1")
    assert page.status_code == 200, page.text
    return page.text


def test_shared_context_appears_and_only_this_organizations(db, org, make_org, client):
    participant, mine, theirs = _setup(db, client, org, make_org)
    save_note(
        db,
        participant=participant,
        note=None,
        kind="strength",
        text="I cook for my block",
        shared_with=[mine.id],
    )
    save_note(
        db,
        participant=participant,
        note=None,
        kind="goal",
        text="Finish my GED by June",
        shared_with=[mine.id, theirs.id],
    )
    save_note(
        db,
        participant=participant,
        note=None,
        kind="know",
        text="Only for Eastside eyes",
        shared_with=[theirs.id],
    )
    save_note(
        db,
        participant=participant,
        note=None,
        kind="know",
        text="Shared with no one",
        shared_with=[],
    )
    db.commit()
    page = _record(db, client, org)
    assert "In the participant&#39;s own words" in page
    assert "I cook for my block" in page and "A strength" in page
    assert "Finish my GED by June" in page and "A goal" in page
    assert "Only for Eastside eyes" not in page and "Shared with no one" not in page


def test_withdrawn_or_unshared_context_is_gone(db, org, make_org, client):
    participant, mine, _theirs = _setup(db, client, org, make_org)
    gone = save_note(
        db,
        participant=participant,
        note=None,
        kind="know",
        text="Call after 5pm",
        shared_with=[mine.id],
    )
    unshared = save_note(
        db,
        participant=participant,
        note=None,
        kind="goal",
        text="A job near the bus",
        shared_with=[mine.id],
    )
    db.commit()
    withdraw_note(db, participant=participant, note=gone)
    save_note(
        db,
        participant=participant,
        note=unshared,
        kind="goal",
        text="A job near the bus",
        shared_with=[],
    )
    db.commit()
    page = _record(db, client, org)
    assert "Call after 5pm" not in page and "A job near the bus" not in page
    assert "has shared nothing of their own" in page


def test_consent_history_is_in_staff_wording(db, org, make_org, client):
    assert org.put("/api/v1/purposes/housing", purpose_body()).status_code == 201
    _participant, mine, _theirs = _setup(db, client, org, make_org)
    hold(org, "A-1", "household_size")
    staff = make_staff(db, org, email="ana@northside.example", name="Ana")
    purpose = db.exec(select(Purpose).where(Purpose.key == "housing")).one()
    org_row = db.get(Organization, purpose.organization_id)
    for answer in ("given", "refused"):  # gave, then changed their mind: withdrawn
        decide(
            db,
            enrollment=mine,
            organization=org_row,
            purpose=purpose,
            state=answer,
            method="assisted",
            notice=build_notice(purpose, org_row, "en"),
            recorded_by=staff.name,
            assisted_by_staff_id=staff.id,
        )
    db.commit()
    page = _record(db, client, org)
    assert "Withdrew consent" in page and "Gave consent" in page
    assert "with help from a case manager" in page and "Ana" in page
    for participant_words in ("You gave consent", "You withdrew consent", "by you, in the"):
        assert participant_words not in page


def test_statements_of_disagreement_show_on_their_holding(db, org, make_org, client):
    assert org.put("/api/v1/purposes/housing", purpose_body()).status_code == 201
    _participant, mine, _theirs = _setup(db, client, org, make_org)
    hold(org, "A-1", "household_size")
    holding = db.exec(select(Holding).where(Holding.enrollment_id == mine.id)).one()
    correction = Correction(
        holding_id=holding.id,
        enrollment_id=mine.id,
        field_key="household_size",
        label=holding.label,
        requested_value="5",
        reason="My sister moved in",
        status="denied",
        due_by=utcnow(),
    )
    db.add(correction)
    db.flush()
    db.add(
        Statement(
            holding_id=holding.id,
            enrollment_id=mine.id,
            correction_id=correction.id,
            text="We are five now, not four",
        )
    )
    db.commit()
    page = _record(db, client, org)
    assert "statement of disagreement" in page and "We are five now, not four" in page
