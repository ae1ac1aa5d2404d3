"""What a participant's home page shows, gathered in a handful of queries.

Each organization holding their data: what it holds (grouped by category), why, on what
basis, for how long, who it was shared with, and each consent-based purpose with its state.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlmodel import Session, select

from app.consent.models import Consent
from app.consent.service import effective_state, latest_consents
from app.disclosures.models import Disclosure
from app.disclosures.service import disclosures_of
from app.holdings.models import Holding
from app.organizations.models import Organization, Purpose
from app.participants.models import Enrollment
from app.participants.service import enrollments_of


@dataclass
class HoldingView:
    holding: Holding
    purpose: Purpose


@dataclass
class DisclosureView:
    disclosure: Disclosure
    purpose: Purpose
    labels: list[str]
    recipient_organization: Organization | None


@dataclass
class ConsentView:
    purpose: Purpose
    consent: Consent | None
    state: str


@dataclass
class OrganizationView:
    organization: Organization
    enrollment: Enrollment
    categories: dict[str, list[HoldingView]] = field(default_factory=dict)
    deleted: list[Holding] = field(default_factory=list)
    disclosures: list[DisclosureView] = field(default_factory=list)
    consents: list[ConsentView] = field(default_factory=list)
    purposes: list[Purpose] = field(default_factory=list)

    @property
    def holding_count(self) -> int:
        return sum(len(v) for v in self.categories.values())


@dataclass
class HomePage:
    organizations: list[OrganizationView]


def build_home(session: Session, participant_id: str) -> HomePage:
    pairs = enrollments_of(session, participant_id)
    if not pairs:
        return HomePage(organizations=[])
    enrollment_ids = [e.id for e, _o in pairs]
    org_ids = [o.id for _e, o in pairs]
    purposes = {
        p.id: p
        for p in session.exec(
            select(Purpose).where(Purpose.organization_id.in_(org_ids)).order_by(Purpose.key)  # type: ignore[attr-defined]
        )
    }
    holdings = session.exec(
        select(Holding)
        .where(Holding.enrollment_id.in_(enrollment_ids))  # type: ignore[attr-defined]
        .order_by(Holding.category, Holding.label)  # type: ignore[arg-type]
    ).all()
    disclosures = disclosures_of(session, enrollment_ids)
    consents = latest_consents(session, enrollment_ids)
    recipient_ids = {
        d.recipient_organization_id for d in disclosures if d.recipient_organization_id
    }
    recipients = (
        {
            o.id: o
            for o in session.exec(select(Organization).where(Organization.id.in_(recipient_ids)))
        }  # type: ignore[union-attr]
        if recipient_ids
        else {}
    )

    views = {e.id: OrganizationView(organization=o, enrollment=e) for e, o in pairs}
    labels: dict[str, dict[str, str]] = defaultdict(dict)
    for h in holdings:
        view = views[h.enrollment_id]
        labels[h.enrollment_id][h.field_key] = h.label
        if h.deleted_at is not None:
            view.deleted.append(h)
        else:
            view.categories.setdefault(h.category, []).append(
                HoldingView(h, purposes[h.purpose_id])
            )
    for d in disclosures:
        views[d.enrollment_id].disclosures.append(
            DisclosureView(
                disclosure=d,
                purpose=purposes[d.purpose_id],
                labels=[labels[d.enrollment_id].get(k, k) for k in d.field_keys],
                recipient_organization=recipients.get(d.recipient_organization_id),
            )
        )
    for view in views.values():
        view.purposes = [p for p in purposes.values() if p.organization_id == view.organization.id]
        for purpose in view.purposes:
            if purpose.basis == "consent":
                consent = consents.get((view.enrollment.id, purpose.id or 0))
                view.consents.append(ConsentView(purpose, consent, effective_state(consent)))
    return HomePage(organizations=list(views.values()))
