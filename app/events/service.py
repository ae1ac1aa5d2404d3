"""Recording events in the ledger, verifying the chain, acknowledgements.

`record_event` only adds rows to the caller's session: the change, its event and (through the
webhook outbox listener) its deliveries commit together or not at all.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from app.db import utcnow
from app.events.catalogue import ACTION_EVENT_TYPES, DEFAULT_ACK_DAYS
from app.events.models import Event
from app.organizations.models import Organization
from app.participants.models import Enrollment

GENESIS = "0" * 64


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def data_digest(data: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(data).encode()).hexdigest()


def chain_hash(event: Event) -> str:
    material = "|".join(
        [
            event.prev_hash,
            event.id,
            event.enrollment_id,
            str(event.seq),
            str(event.organization_id),
            event.type,
            event.role,
            event.created_at.isoformat(),
            event.data_digest,
        ]
    )
    return hashlib.sha256(material.encode()).hexdigest()


def _last_in_chain(session: Session, enrollment_id: str) -> Event | None:
    # New events in this session are not yet in the database: look at them first.
    pending = [
        obj for obj in session.new if isinstance(obj, Event) and obj.enrollment_id == enrollment_id
    ]
    if pending:
        return max(pending, key=lambda e: e.seq)
    return session.exec(
        select(Event)
        .where(Event.enrollment_id == enrollment_id)
        .order_by(col(Event.seq).desc())
        .limit(1)
    ).first()


def record_event(
    session: Session,
    *,
    enrollment_id: str,
    organization_id: int,
    type: str,
    data: dict[str, Any],
    role: str = "holder",
    base_url: str = "",
    ack_days: int = DEFAULT_ACK_DAYS,
    now: datetime | None = None,
) -> Event:
    """Append an event to the enrollment's chain. `data` is the webhook's `data` object without
    the fields the ledger adds itself (event_id, version, ack_url, ack_due_by)."""
    now = now or utcnow()
    previous = _last_in_chain(session, enrollment_id)
    event = Event(
        enrollment_id=enrollment_id,
        organization_id=organization_id,
        type=type,
        role=role,
        seq=(previous.seq + 1) if previous else 1,
        prev_hash=previous.hash if previous else GENESIS,
        created_at=now,
        data_digest="",
        hash="",
    )
    full = {"event_id": event.id, "version": event.seq, **data}
    if role != "holder":
        full["role"] = role
    elif "role" not in full:
        full["role"] = "holder"
    if type in ACTION_EVENT_TYPES:
        event.ack_due_by = now + timedelta(days=ack_days)
        full["ack_url"] = f"{base_url}/api/v1/events/{event.id}/ack"
        full["ack_due_by"] = event.ack_due_by.isoformat()
    event.data = full
    event.data_digest = data_digest(full)
    event.hash = chain_hash(event)
    session.add(event)
    return event


def record_for_holder_and_recipients(
    session: Session,
    *,
    type: str,
    enrollment: Enrollment,
    holder: Organization,
    data: dict[str, Any],
    recipients: Iterable[Organization] = (),
    holder_extra: dict[str, Any] | None = None,
    base_url: str = "",
    ack_days: int = DEFAULT_ACK_DAYS,
    now: datetime | None = None,
) -> Event:
    """The holder's event, then one event per network organization that received the data
    (`"role": "recipient"`), each acknowledged on its own. Returns the holder's event.

    A recipient's copy names the participant by the recipient's own reference only when the
    participant claimed an enrollment there themselves, and `source` names the holder."""
    holder_event = record_event(
        session,
        enrollment_id=enrollment.id,
        organization_id=holder.id or 0,
        type=type,
        data={
            "organization": holder.slug,
            "participant": {"external_ref": enrollment.external_ref},
            **data,
            **(holder_extra or {}),
        },
        base_url=base_url,
        ack_days=ack_days,
        now=now,
    )
    for recipient in recipients:
        record_event(
            session,
            enrollment_id=enrollment.id,
            organization_id=recipient.id or 0,
            type=type,
            role="recipient",
            data={
                "organization": recipient.slug,
                "participant": {"external_ref": reference_at(session, enrollment, recipient)},
                "source": {"organization": holder.slug, "external_ref": enrollment.external_ref},
                **data,
            },
            base_url=base_url,
            ack_days=ack_days,
            now=now,
        )
    return holder_event


def reference_at(
    session: Session, enrollment: Enrollment, organization: Organization
) -> str | None:
    """The participant's reference at another organization, only when the participant has
    claimed an enrollment there themselves: the portal never links them on its own."""
    if enrollment.participant_id is None:
        return None
    other = session.exec(
        select(Enrollment).where(
            Enrollment.participant_id == enrollment.participant_id,
            Enrollment.organization_id == organization.id,
        )
    ).first()
    return other.external_ref if other else None


@dataclass
class ChainBreak:
    enrollment_id: str
    event_id: str
    seq: int
    reason: str


def verify_chain(session: Session, enrollment_id: str) -> ChainBreak | None:
    expected_prev = GENESIS
    expected_seq = 1
    for event in session.exec(
        select(Event).where(Event.enrollment_id == enrollment_id).order_by(Event.seq)  # type: ignore[arg-type]
    ):
        if event.seq != expected_seq:
            return ChainBreak(enrollment_id, event.id, event.seq, f"expected seq {expected_seq}")
        if event.prev_hash != expected_prev:
            return ChainBreak(enrollment_id, event.id, event.seq, "previous hash does not match")
        if event.data and data_digest(event.data) != event.data_digest:
            return ChainBreak(enrollment_id, event.id, event.seq, "data was altered")
        if chain_hash(event) != event.hash:
            return ChainBreak(enrollment_id, event.id, event.seq, "event hash does not match")
        expected_prev = event.hash
        expected_seq += 1
    return None


def verify_ledger(session: Session) -> ChainBreak | None:
    """The first broken event over every chain, or None when all are intact."""
    chains = session.exec(select(Event.enrollment_id).distinct().order_by(Event.enrollment_id))
    for enrollment_id in list(chains):
        broken = verify_chain(session, enrollment_id)
        if broken:
            return broken
    return None


# --- what organizations receive: the webhook body and the pull feed -----------------------

# The contract promises bodies under 20 KB; a body that would be larger carries only the
# fields that identify the event, and the receiver reads the rest from the pull feed.
MAX_BODY_BYTES = 20 * 1024
_ESSENTIAL_KEYS = (
    "event_id",
    "version",
    "organization",
    "participant",
    "role",
    "source",
    "ack_url",
    "ack_due_by",
    "chain_head",
)


def chain_head(event: Event) -> dict[str, Any]:
    """The participant's chain head right after this event: its own hash and version. An
    organization that keeps it can later ask the portal to show that the chain still reaches
    it (`ledger verify --head`); the signed checkpoints cover every chain's head at once."""
    return {"hash": event.hash, "version": event.seq}


def organization_event(session: Session, *, organization_id: int, event_id: str) -> Event | None:
    """One of the organization's own events; None for another organization's, as for none."""
    event = session.get(Event, event_id)
    return event if event is not None and event.organization_id == organization_id else None


def event_envelope(event: Event) -> dict[str, Any]:
    """`{"type", "timestamp", "data"}`: the webhook body, and each item of the pull feed.
    `data` is the event's data plus its `chain_head` (not in the data's digest: it is the hash
    the digest goes into)."""
    data = {**event.data, "chain_head": chain_head(event)}
    envelope = {"type": event.type, "timestamp": event.created_at.isoformat(), "data": data}
    if len(envelope_bytes(envelope)) > MAX_BODY_BYTES:
        trimmed = {k: data[k] for k in _ESSENTIAL_KEYS if k in data}
        trimmed["truncated"] = True
        envelope["data"] = trimmed
    return envelope


def envelope_bytes(envelope: dict[str, Any]) -> bytes:
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def is_overdue_event(event: Event, now: datetime | None = None) -> bool:
    """An event that asks to act, still unanswered past its due date."""
    due = event.ack_due_by
    return event.acked_at is None and due is not None and due < (now or utcnow())


class AlreadyAcknowledged(ValueError):
    """The event was acknowledged before with a different outcome."""


ACK_OUTCOMES = ("done", "declined")


def acknowledge_event(
    session: Session,
    *,
    event: Event,
    outcome: str,
    note: str | None,
    now: datetime | None = None,
    by: str | None = None,
) -> Event:
    """The organization confirms it acted on the event ("done") or decided not to
    ("declined"). Acknowledging again with the same outcome changes nothing, so a client may
    safely retry; a different outcome raises AlreadyAcknowledged (the first answer stands,
    since the participant has already been shown it). `by` names the staff member who answered
    in the browser (the participant sees it); the API leaves it empty."""
    if outcome not in ACK_OUTCOMES:
        raise ValueError(f"outcome must be one of {ACK_OUTCOMES}")
    if event.acked_at is not None:
        if event.ack_outcome != outcome:
            raise AlreadyAcknowledged(
                f"this event was already acknowledged as {event.ack_outcome!r}"
            )
        return event
    event.acked_at = now or utcnow()
    event.ack_outcome = outcome
    event.ack_note = note
    event.acked_by = by
    session.add(event)
    session.flush()
    return event
