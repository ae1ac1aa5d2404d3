"""What a participant can read back about their consent: each change (given, withdrawn,
expired, refused), who recorded it and how, each organization's acknowledgement of it, and a
receipt for it shaped after ISO/IEC TS 27560 and the Kantara Consent Receipt.

Only reads: every lookup here is scoped to one participant, so another person's enrollment,
consent or receipt is simply not found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from app.consent.models import Consent
from app.consent.notice import retention_text
from app.db import utcnow
from app.events.models import Event
from app.i18n import get_locale, pick_text, set_locale
from app.i18n import gettext as _
from app.organizations.models import Organization, Purpose, Staff
from app.participants.models import Enrollment
from app.participants.service import open_to

CONSENT_EVENT_TYPES = ("consent.given", "consent.withdrawn", "consent.expired")
RECEIPT_SCHEMA = "https://consent-portal.example/schemas/consent-receipt/1"


# --- finding the participant's own records ---------------------------------------------------


@dataclass
class OwnConsent:
    consent: Consent
    enrollment: Enrollment
    organization: Organization
    purpose: Purpose


def own_consent(session: Session, *, participant_id: str, consent_id: str) -> OwnConsent | None:
    row = session.exec(
        select(Consent, Enrollment, Organization, Purpose)
        .join(Enrollment, Enrollment.id == Consent.enrollment_id)  # type: ignore[arg-type]
        .join(Organization, Organization.id == Enrollment.organization_id)  # type: ignore[arg-type]
        .join(Purpose, Purpose.id == Consent.purpose_id)  # type: ignore[arg-type]
        .where(Consent.id == consent_id, open_to(participant_id))
    ).first()
    return OwnConsent(*row) if row else None


# --- acknowledgements ------------------------------------------------------------------------


@dataclass
class Acknowledgement:
    """One organization's answer to one change: the ledger event it was sent, and whether it
    confirmed that it acted. A recipient of the data gets its own event (role "recipient")."""

    event: Event
    organization: Organization

    @property
    def role(self) -> str:
        return self.event.role

    def status(self, now: datetime | None = None) -> str:
        """confirmed, waiting, overdue, or not_needed (the event asks nothing of them)."""
        if self.event.acked_at is not None:
            return "confirmed"
        if self.event.ack_due_by is None:
            return "not_needed"
        return "overdue" if self.event.ack_due_by < (now or utcnow()) else "waiting"


@dataclass
class ConsentChange:
    """One row of a consent's history, with who helped and who was told."""

    consent: Consent
    purpose: Purpose
    organization: Organization
    assisted_by: Staff | None
    acknowledgements: list[Acknowledgement]

    @property
    def by_self(self) -> bool:
        return self.consent.method == "self" and not self.consent.recorded_by


def consent_changes(
    session: Session, *, enrollment_ids: list[str], purpose_id: int | None = None
) -> list[ConsentChange]:
    """Every consent change of these enrollments (optionally one purpose), newest first."""
    if not enrollment_ids:
        return []
    query = (
        select(Consent, Purpose, Organization)
        .join(Purpose, Purpose.id == Consent.purpose_id)  # type: ignore[arg-type]
        .join(Organization, Organization.id == Purpose.organization_id)  # type: ignore[arg-type]
        .where(Consent.enrollment_id.in_(enrollment_ids))  # type: ignore[attr-defined]
        .order_by(Consent.created_at.desc(), Consent.id.desc())  # type: ignore[attr-defined]
    )
    if purpose_id is not None:
        query = query.where(Consent.purpose_id == purpose_id)
    rows = list(session.exec(query))
    staff_ids = {c.assisted_by_staff_id for c, _p, _o in rows if c.assisted_by_staff_id}
    staff = (
        {s.id: s for s in session.exec(select(Staff).where(Staff.id.in_(staff_ids)))}  # type: ignore[union-attr]
        if staff_ids
        else {}
    )
    acks = _acknowledgements_by_consent(session, enrollment_ids)
    return [
        ConsentChange(
            consent=c,
            purpose=p,
            organization=o,
            assisted_by=staff.get(c.assisted_by_staff_id),
            acknowledgements=acks.get(c.id, []),
        )
        for c, p, o in rows
    ]


def _acknowledgements_by_consent(
    session: Session, enrollment_ids: list[str]
) -> dict[str, list[Acknowledgement]]:
    # Each consent event carries the consent's id in its data; the holder's copy comes first,
    # then each recipient organization's copy.
    rows = session.exec(
        select(Event, Organization)
        .join(Organization, Organization.id == Event.organization_id)  # type: ignore[arg-type]
        .where(
            Event.enrollment_id.in_(enrollment_ids),  # type: ignore[attr-defined]
            Event.type.in_(CONSENT_EVENT_TYPES),  # type: ignore[attr-defined]
        )
        .order_by(Event.enrollment_id, Event.seq)  # type: ignore[arg-type]
    )
    acks: dict[str, list[Acknowledgement]] = {}
    for event, organization in rows:
        consent_id = (event.data.get("consent") or {}).get("id")
        if consent_id:
            acks.setdefault(consent_id, []).append(Acknowledgement(event, organization))
    for items in acks.values():
        items.sort(key=lambda a: (a.role != "holder", a.organization.name))
    return acks


# --- receipts --------------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def consent_url(base_url: str, enrollment_id: str, purpose_key: str) -> str:
    return f"{base_url}/consents/{enrollment_id}/{purpose_key}"


def receipt_url(base_url: str, consent_id: str) -> str:
    return f"{base_url}/consents/receipts/{consent_id}"


def build_receipt(session: Session, *, own: OwnConsent, base_url: str) -> dict[str, Any]:
    """The receipt of one consent change as a JSON record.

    Field names follow ISO/IEC TS 27560 (consent record information structure) where it has
    one, with the Kantara Consent Receipt's names alongside for tools that read those. Nothing
    here assumes a jurisdiction: `jurisdiction` and `applicable_law` are left for the
    organization's own policy to fill."""
    consent, enrollment, organization, purpose = (
        own.consent,
        own.enrollment,
        own.organization,
        own.purpose,
    )
    staff = (
        session.get(Staff, consent.assisted_by_staff_id) if consent.assisted_by_staff_id else None
    )
    # The purpose's words in the language of the notice the participant answered.
    previous_locale = get_locale()
    set_locale(consent.notice_language)
    try:
        title, _fallback = pick_text(purpose.title)
        description, _fallback = pick_text(purpose.description)
        retention = retention_text(purpose)
        how_to_withdraw = _(
            "Withdraw consent in the Consent Portal, or tell %(organization)s.",
            organization=organization.name,
        )
    finally:
        set_locale(previous_locale)
    withdraw_at = consent_url(base_url, enrollment.id, purpose.key)
    recipients = [
        {"name": r.get("name"), "organization": r.get("organization")} for r in purpose.recipients
    ]
    return {
        "schema": RECEIPT_SCHEMA,
        "schema_version": "1",
        "conforms_to": ["ISO/IEC TS 27560:2023", "Kantara Consent Receipt Specification 1.1"],
        "record_id": consent.id,
        "consentReceiptID": consent.id,
        "receipt_url": receipt_url(base_url, consent.id),
        "state": consent.state,
        "event": {"type": consent.state, "timestamp": _iso(consent.created_at)},
        "timestamps": {
            "recorded_at": _iso(consent.created_at),
            "given_at": _iso(consent.given_at),
            "withdrawn_at": _iso(consent.withdrawn_at),
            "expires_at": _iso(consent.expires_at),
        },
        "consentTimestamp": int(consent.created_at.timestamp()),
        "pii_principal": {"id": enrollment.id, "organization_reference": enrollment.external_ref},
        "controller": {
            "name": organization.name,
            "slug": organization.slug,
            "portal_url": base_url,
        },
        "piiControllers": [{"piiController": organization.name, "piiControllerUrl": base_url}],
        "purposes": [
            {
                "key": purpose.key,
                "title": title,
                "description": description,
                "basis": purpose.basis,
                "lawful_basis": purpose.basis,
                "primaryPurpose": True,
                "termination": _iso(consent.expires_at),
                "thirdPartyDisclosure": bool(recipients),
                "thirdPartyName": ", ".join(r["name"] or "" for r in recipients) or None,
            }
        ],
        "data_categories": list(purpose.categories),
        "sensitive": purpose.sensitive,
        "recipients": recipients,
        "retention": {"days": purpose.retention_days, "text": retention},
        "method": consent.method,
        "collectionMethod": consent.method,
        "recorded_by": consent.recorded_by,
        "assisted_by": (
            {"staff_id": staff.id, "name": staff.name, "organization": organization.slug}
            if staff
            else None
        ),
        "note": consent.note,
        "notice": {
            "version": consent.notice_version,
            "language": consent.notice_language,
            "text": consent.notice_text,
        },
        "language": consent.notice_language,
        "withdrawal": {
            "method": how_to_withdraw,
            "url": withdraw_at,
        },
        "jurisdiction": None,
        "applicable_law": None,
        "policy_url": None,
    }
