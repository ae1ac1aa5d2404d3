"""Recording disclosures. A disclosure is always kept; one that consent or the plan did not
cover is flagged, so the participant (and the network) can see it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from app.consent.models import Consent
from app.consent.service import current_consent, effective_state
from app.db import utcnow
from app.disclosures.models import Disclosure
from app.disclosures.schemas import DisclosureIn
from app.holdings.models import Holding
from app.organizations.models import Organization, Purpose
from app.participants.models import Enrollment


class DisclosureError(ValueError):
    pass


def _named_in_plan(purpose: Purpose, name: str, organization_slug: str | None) -> bool:
    for recipient in purpose.recipients:
        if organization_slug and recipient.get("organization") == organization_slug:
            return True
        if recipient.get("name", "").strip().casefold() == name.strip().casefold():
            return True
    return False


@dataclass
class DisclosureCheck:
    """What recording `data` would do: checked before anything is saved, so staff can be
    told it will be flagged (and why) before they confirm."""

    purpose: Purpose
    recipient_org: Organization | None
    consent: Consent | None
    consent_state: str
    reasons: list[str]

    @property
    def flagged(self) -> bool:
        return bool(self.reasons)


def check_disclosure(
    session: Session, *, enrollment: Enrollment, data: DisclosureIn
) -> DisclosureCheck:
    """Validate and find the flag reasons; saves nothing. Raises DisclosureError."""
    purpose = session.exec(
        select(Purpose).where(
            Purpose.organization_id == enrollment.organization_id, Purpose.key == data.purpose
        )
    ).first()
    if purpose is None:
        raise DisclosureError(f"purpose {data.purpose!r} is not in your data collection plan")
    known = set(
        session.exec(
            select(Holding.field_key).where(
                Holding.enrollment_id == enrollment.id,
                Holding.field_key.in_(data.field_keys),  # type: ignore[attr-defined]
            )
        )
    )
    unknown = sorted(set(data.field_keys) - known)
    if unknown:
        raise DisclosureError(f"unknown field_keys for this participant: {', '.join(unknown)}")
    recipient_org: Organization | None = None
    if data.recipient.organization:
        recipient_org = session.exec(
            select(Organization).where(Organization.slug == data.recipient.organization)
        ).first()
        if recipient_org is None:
            raise DisclosureError(
                f"recipient.organization {data.recipient.organization!r} is not a network organization"
            )
    consent = current_consent(session, enrollment_id=enrollment.id, purpose_id=purpose.id or 0)
    state = effective_state(consent) if purpose.basis == "consent" else purpose.basis
    reasons = []
    if purpose.basis == "consent" and state != "given":
        reasons.append("consent_not_given")
    if not _named_in_plan(purpose, data.recipient.name, data.recipient.organization):
        reasons.append("recipient_not_in_plan")
    return DisclosureCheck(purpose, recipient_org, consent, state, reasons)


def record_disclosure(
    session: Session, *, enrollment: Enrollment, data: DisclosureIn
) -> Disclosure:
    check = check_disclosure(session, enrollment=enrollment, data=data)
    purpose, consent, state = check.purpose, check.consent, check.consent_state
    recipient_org, reasons = check.recipient_org, check.reasons
    disclosed_at = data.disclosed_at or utcnow()  # the schema made it aware UTC
    disclosure = Disclosure(
        enrollment_id=enrollment.id,
        purpose_id=purpose.id or 0,
        recipient_name=data.recipient.name,
        recipient_organization_id=recipient_org.id if recipient_org else None,
        field_keys=sorted(set(data.field_keys)),
        disclosed_at=disclosed_at,
        consent_id=consent.id if consent and purpose.basis == "consent" else None,
        consent_state=state,
        flagged=bool(reasons),
        flag_reasons=reasons,
    )
    session.add(disclosure)
    session.flush()
    return disclosure


def disclosures_of(session: Session, enrollment_ids: list[str]) -> list[Disclosure]:
    if not enrollment_ids:
        return []
    return list(
        session.exec(
            select(Disclosure)
            .where(Disclosure.enrollment_id.in_(enrollment_ids))  # type: ignore[attr-defined]
            .order_by(Disclosure.disclosed_at.desc())  # type: ignore[attr-defined]
        )
    )
