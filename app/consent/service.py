"""Giving, withdrawing, refusing and expiring consent; checking it before sharing.

Every change adds a Consent row and a ledger event in the caller's transaction. `decide` is the
one place a decision is made: the participant's page, the API (paper, verbal) and the assisted
intake only parse their input and call it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.consent.models import Consent
from app.consent.notice import Notice
from app.corrections.statements import statements_about
from app.db import utcnow
from app.disclosures.models import Disclosure  # kept, the table only: see recipient_organizations
from app.events.service import record_for_holder_and_recipients
from app.organizations.models import Organization, Purpose
from app.participants.models import Enrollment

ACTIVE_STATES = ("given",)


class ConsentConflict(ValueError):
    """The requested change does not follow from the current state."""


def effective_state(consent: Consent | None, now: datetime | None = None) -> str:
    if consent is None:
        return "requested"
    if consent.state == "given" and consent.expires_at and consent.expires_at <= (now or utcnow()):
        return "expired"
    return consent.state


def latest_consents(session: Session, enrollment_ids: list[str]) -> dict[tuple[str, int], Consent]:
    """The current consent row per (enrollment, purpose), in one query."""
    if not enrollment_ids:
        return {}
    newest = (
        select(Consent.enrollment_id, Consent.purpose_id, func.max(Consent.created_at).label("at"))
        .where(col(Consent.enrollment_id).in_(enrollment_ids))
        .group_by(col(Consent.enrollment_id), col(Consent.purpose_id))
        .subquery()
    )
    rows = session.exec(
        select(Consent)
        .join(
            newest,
            (col(Consent.enrollment_id) == newest.c.enrollment_id)
            & (col(Consent.purpose_id) == newest.c.purpose_id)
            & (col(Consent.created_at) == newest.c.at),
        )
        # Two decisions in the same instant: the larger id wins, as in current_consent.
        .order_by(Consent.id)  # type: ignore[arg-type]
    )
    return {(c.enrollment_id, c.purpose_id): c for c in rows}


def current_consent(session: Session, *, enrollment_id: str, purpose_id: int) -> Consent | None:
    return session.exec(
        select(Consent)
        .where(Consent.enrollment_id == enrollment_id, Consent.purpose_id == purpose_id)
        .order_by(Consent.created_at.desc(), Consent.id.desc())  # type: ignore[attr-defined]
        .limit(1)
    ).first()


def history(session: Session, *, enrollment_id: str, purpose_id: int) -> list[Consent]:
    return list(
        session.exec(
            select(Consent)
            .where(Consent.enrollment_id == enrollment_id, Consent.purpose_id == purpose_id)
            .order_by(Consent.created_at.desc())  # type: ignore[attr-defined]
        )
    )


def consent_payload(consent: Consent, purpose: Purpose) -> dict[str, Any]:
    return {
        "id": consent.id,
        "purpose": purpose.key,
        "state": consent.state,
        "method": consent.method,
        "given_at": consent.given_at.isoformat() if consent.given_at else None,
        "withdrawn_at": consent.withdrawn_at.isoformat() if consent.withdrawn_at else None,
        "expires_at": consent.expires_at.isoformat() if consent.expires_at else None,
        "notice_version": consent.notice_version,
        "notice_language": consent.notice_language,
        "recorded_by": consent.recorded_by,
    }


# Who records the decision decides what a repeated or impossible one means. The person on a
# screen (their own phone, or an intake with a case manager) says the state they want: a second
# tap or an old tab changes nothing, and saying no to a given consent withdraws it. The
# organization reporting a decision made elsewhere (a signed paper form, a phone call) reports a
# fact: a form signed again renews the consent, and withdrawing what was never given is an error
# it must hear about (409).
ON_SCREEN = ("self", "assisted")


class NoticeChanged(ConsentConflict):
    """The organization changed the notice after it was shown: what was read is not what would
    be stored, so the person must read it again before deciding."""


@dataclass
class Decision:
    """What `decide` did: `consent` is the new row, or the current one when nothing changed
    (None only when nothing was ever recorded)."""

    consent: Consent | None
    changed: bool


def decide(
    session: Session,
    *,
    enrollment: Enrollment,
    organization: Organization,
    purpose: Purpose,
    state: str,
    method: str,
    notice: Notice,
    notice_version: str | None = None,
    recorded_by: str | None = None,
    assisted_by_staff_id: int | None = None,
    note: str | None = None,
    base_url: str = "",
    now: datetime | None = None,
) -> Decision:
    """Give, withdraw or refuse consent for one purpose: the one place the decision is made,
    for the participant's page, the API and the assisted intake.

    `notice` is the notice the person read (built once by the caller); `notice_version`, when
    the form sent it, is the version that was shown. Raises ConsentConflict (NoticeChanged when
    the notice changed since it was shown)."""
    if purpose.basis != "consent":
        raise ConsentConflict("this purpose does not rest on consent")
    if notice_version and notice_version != str(notice.version):
        raise NoticeChanged("the notice changed since it was shown")
    now = now or utcnow()
    previous = current_consent(session, enrollment_id=enrollment.id, purpose_id=purpose.id or 0)
    current = effective_state(previous, now)
    if method in ON_SCREEN:
        if state in ("withdrawn", "refused") and current == "given":
            state = "withdrawn"
        elif state == "withdrawn" or state == current:
            return Decision(previous, changed=False)  # already so: no second receipt
    else:
        if state == "withdrawn" and current != "given":
            raise ConsentConflict("there is no given consent to withdraw")
        if state == current and state != "given":
            return Decision(previous, changed=False)  # nothing changes: no second receipt
    consent = Consent(
        enrollment_id=enrollment.id,
        purpose_id=purpose.id or 0,
        state=state,
        method=method,
        recorded_by=recorded_by,
        assisted_by_staff_id=assisted_by_staff_id,
        note=note,
        notice_version=notice.version,
        notice_language=notice.language,
        notice_text=notice.as_text(organization.name),
        created_at=now,
    )
    if state == "given":
        consent.given_at = now
        consent.expires_at = now + timedelta(days=purpose.consent_valid_days)
    elif state == "withdrawn" and previous is not None:
        consent.given_at = previous.given_at
        consent.expires_at = previous.expires_at
        consent.withdrawn_at = now
    session.add(consent)
    if state in ("given", "withdrawn"):
        _record_consent_event(
            session,
            type=f"consent.{state}",
            consent=consent,
            enrollment=enrollment,
            organization=organization,
            purpose=purpose,
            base_url=base_url,
            now=now,
        )
    session.flush()
    return Decision(consent, changed=True)


def _record_consent_event(
    session: Session,
    *,
    type: str,
    consent: Consent,
    enrollment: Enrollment,
    organization: Organization,
    purpose: Purpose,
    base_url: str,
    now: datetime,
) -> None:
    # Statements of disagreement travel with every later event about the holdings they are on.
    statements = statements_about(session, enrollment_id=enrollment.id, purpose_id=purpose.id)
    # Giving consent concerns the holder only; withdrawing (or expiry) also tells every network
    # organization that received data under it.
    recipients = (
        []
        if type == "consent.given"
        else recipient_organizations(session, enrollment=enrollment, purpose_id=purpose.id or 0)
    )
    record_for_holder_and_recipients(
        session,
        type=type,
        enrollment=enrollment,
        holder=organization,
        recipients=recipients,
        data={
            "consent": consent_payload(consent, purpose),
            "recipients": purpose.recipients,
            "statements": statements,
        },
        base_url=base_url,
        now=now,
    )


def recipient_organizations(
    session: Session, *, enrollment: Enrollment, purpose_id: int
) -> list[Organization]:
    """The network organizations that received the participant's data for this purpose: a
    withdrawal (or expiry) must tell them. The one import up into disclosures, and only its
    table (app/disclosures/models.py imports nothing above db): who received what is the
    disclosure record's to keep, and asking it here keeps the consent event whole."""
    return list(
        session.exec(
            select(Organization)
            .where(
                Organization.id.in_(  # type: ignore[union-attr]
                    select(Disclosure.recipient_organization_id).where(
                        Disclosure.enrollment_id == enrollment.id,
                        Disclosure.purpose_id == purpose_id,
                        Disclosure.recipient_organization_id.is_not(None),  # type: ignore[union-attr]
                    )
                ),
                Organization.id != enrollment.organization_id,
            )
            .order_by(Organization.slug)  # type: ignore[arg-type]
        )
    )
