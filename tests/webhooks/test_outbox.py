"""The outbox: deliveries are written in the event's own transaction, for the right
endpoints, and each organization gets its own event."""

from __future__ import annotations

from sqlmodel import Session, select

from app.db import utcnow
from app.events.models import Event
from app.events.service import MAX_BODY_BYTES, envelope_bytes, event_envelope, record_event
from app.organizations.service import create_organization
from app.participants.service import enroll
from app.webhooks.models import WebhookDelivery, WebhookEndpoint
from app.webhooks.signing import new_secret
from tests.factories import (
    add_endpoint,
    consent,
    deliveries,
    enroll_with_purpose,
    holding_body,
    purpose_body,
)


def _setup(db: Session) -> tuple:
    organization, _ = create_organization(db, name="Northside", slug="northside")
    other, _ = create_organization(db, name="Southside", slug="southside")
    enrollment, _ = enroll(
        db, organization=organization, external_ref="A-1", preferred_language=None
    )
    return organization, other, enrollment


def _endpoint(db: Session, organization_id: int, **fields) -> WebhookEndpoint:
    endpoint = WebhookEndpoint(
        organization_id=organization_id,
        url="http://127.0.0.1:9/hook",
        secret=new_secret(),
        **fields,
    )
    db.add(endpoint)
    db.flush()
    return endpoint


def _record(db: Session, organization_id: int, enrollment_id: str, type: str = "consent.given"):
    return record_event(
        db,
        enrollment_id=enrollment_id,
        organization_id=organization_id,
        type=type,
        data={"organization": "northside", "participant": {"external_ref": "A-1"}},
    )


def test_deliveries_commit_with_the_event_or_not_at_all(db, engine):
    organization, _, enrollment = _setup(db)
    _endpoint(db, organization.id)
    db.commit()

    _record(db, organization.id, enrollment.id)
    db.rollback()
    assert deliveries(engine) == []

    event = _record(db, organization.id, enrollment.id)
    db.commit()
    (delivery,) = deliveries(engine)
    assert delivery.event_id == event.id and delivery.status == "pending"
    assert delivery.next_attempt_at == event.created_at


def test_only_live_subscribed_endpoints_of_the_event_organization_get_a_delivery(db, engine):
    organization, other, enrollment = _setup(db)
    everything = _endpoint(db, organization.id)
    withdrawals_only = _endpoint(db, organization.id, event_types=["consent.withdrawn"])
    givens_only = _endpoint(db, organization.id, event_types=["consent.given"])
    _endpoint(db, organization.id, disabled_at=utcnow(), disabled_reason="410")
    _endpoint(db, organization.id, deleted_at=utcnow())
    _endpoint(db, other.id)  # another organization's endpoint hears nothing of this

    given = _record(db, organization.id, enrollment.id, "consent.given")
    withdrawn = _record(db, organization.id, enrollment.id, "consent.withdrawn")
    db.commit()

    got = {(d.event_id, d.endpoint_id) for d in deliveries(engine)}
    assert got == {
        (given.id, everything.id),
        (given.id, givens_only.id),
        (withdrawn.id, everything.id),
        (withdrawn.id, withdrawals_only.id),
    }


def test_a_huge_event_is_trimmed_to_fit_20_kb(db):
    organization, _, enrollment = _setup(db)
    event = record_event(
        db,
        enrollment_id=enrollment.id,
        organization_id=organization.id,
        type="statement.added",
        data={
            "organization": "northside",
            "participant": {"external_ref": "A-1"},
            "statement": "x" * 30_000,
        },
    )
    envelope = event_envelope(event)
    assert len(envelope_bytes(envelope)) < MAX_BODY_BYTES
    assert envelope["data"]["event_id"] == event.id
    assert envelope["data"]["participant"] == {"external_ref": "A-1"}
    assert envelope["data"]["ack_url"].endswith(f"/api/v1/events/{event.id}/ack")
    assert envelope["data"]["truncated"] is True


def test_a_withdrawal_reaches_the_recipient_organization_as_its_own_event(make_org, engine, db):
    holder = make_org("northside", "Northside Food Shelf")
    recipient = make_org("southside", "Southside Clinic")
    holder_hook = add_endpoint(holder, "http://127.0.0.1:9/holder")
    recipient_hook = add_endpoint(recipient, "http://127.0.0.1:9/recipient")
    body = purpose_body(recipients=[{"name": "Southside Clinic", "organization": "southside"}])
    assert holder.put("/api/v1/purposes/housing", body).status_code == 201
    enroll_with_purpose(holder)
    assert holder.put("/api/v1/participants/A-1/holdings/phone", holding_body()).status_code == 201
    consent(holder, state="given")
    disclosure = holder.post(
        "/api/v1/participants/A-1/disclosures",
        {
            "recipient": {"name": "Southside Clinic", "organization": "southside"},
            "purpose": "housing",
            "field_keys": ["phone"],
        },
    )
    assert disclosure.status_code == 201, disclosure.text
    consent(holder, state="withdrawn")

    with Session(engine) as session:
        rows = session.exec(
            select(WebhookDelivery, Event).join(Event, Event.id == WebhookDelivery.event_id)  # type: ignore[arg-type]
        ).all()
    by_endpoint: dict[str, list[Event]] = {}
    for delivery, event in rows:
        by_endpoint.setdefault(delivery.endpoint_id, []).append(event)
    assert sorted(e.type for e in by_endpoint[holder_hook["id"]]) == [
        "consent.given",
        "consent.withdrawn",
    ]
    (copy,) = by_endpoint[recipient_hook["id"]]
    holder_withdrawal = next(
        e for e in by_endpoint[holder_hook["id"]] if e.type == "consent.withdrawn"
    )
    assert copy.type == "consent.withdrawn" and copy.id != holder_withdrawal.id
    assert copy.data["role"] == "recipient" and holder_withdrawal.data["role"] == "holder"
    assert copy.data["organization"] == "southside"
    assert copy.data["participant"] == {"external_ref": None}
    assert copy.data["source"] == {"organization": "northside", "external_ref": "A-1"}
    assert deliveries(engine)  # and nothing else was queued by accident
    assert len(deliveries(engine)) == 3
