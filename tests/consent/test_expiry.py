"""A given consent past its end date shows as expired and stops counting."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from app.consent.models import Consent
from app.consent.service import expire_due
from app.db import utcnow
from app.events.models import Event
from tests.factories import consent_url, decide, enroll_and_claim, log_in, purpose_body


def _given_consent(db, org, client):
    assert org.put("/api/v1/purposes/housing", purpose_body()).status_code == 201
    maria = enroll_and_claim(db, org, external_ref="A-1", username="maria")
    log_in(client, maria)
    decide(client, maria, "give")
    return maria


def _check(org):
    r = org.post("/api/v1/consent-checks", {"external_ref": "A-1", "purpose": "housing"})
    assert r.status_code == 200
    return r.json()


def test_past_its_end_date_a_consent_is_expired_before_any_job_runs(db, org, client):
    maria = _given_consent(db, org, client)
    assert _check(org)["allowed"] is True
    consent = db.exec(select(Consent).where(Consent.enrollment_id == maria.enrollment_id)).one()
    consent.expires_at = utcnow() - timedelta(minutes=1)
    db.add(consent)
    db.commit()

    check = _check(org)
    assert (check["allowed"], check["state"]) == (False, "expired")
    page = client.get(consent_url(maria)).text
    assert "Consent expired" in page
    assert "Your consent has ended" in page
    assert ">Give consent</button>" in page  # giving again is one button away


def test_expire_due_records_the_expiry_and_tells_the_organization(db, org, client):
    maria = _given_consent(db, org, client)
    later = utcnow() + timedelta(days=400)
    assert expire_due(db, base_url="http://testserver", now=later) == 1
    db.commit()
    assert expire_due(db, now=later) == 0  # once only

    db.expire_all()
    states = [
        c.state
        for c in db.exec(
            select(Consent)
            .where(Consent.enrollment_id == maria.enrollment_id)
            .order_by(Consent.created_at)
        )
    ]
    assert states == ["given", "expired"]
    [event] = db.exec(
        select(Event).where(
            Event.enrollment_id == maria.enrollment_id, Event.type == "consent.expired"
        )
    ).all()
    assert event.ack_due_by is not None
    check = _check(org)
    assert (check["allowed"], check["state"]) == (False, "expired")
    page = client.get(consent_url(maria)).text
    assert "It reached its end date." in page
