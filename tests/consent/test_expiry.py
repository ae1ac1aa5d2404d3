"""A given consent past its end date shows as expired and stops counting."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import timedelta

from sqlmodel import select

from app.consent.expiry import expire_due
from app.consent.models import Consent
from app.db import utcnow
from app.events.models import Event
from app.jobs import JOBS, JobRunner
from app.webhooks.delivery import DeliveryWorker
from app.worker import Worker
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


def test_the_worker_process_runs_expiry_as_a_job_beside_delivery(db, org, client, engine, settings):
    assert [(job.name, job.every_seconds) for job in JOBS] == [
        ("consent expiry", 60.0),
        ("ledger checkpoints", 60.0),
        ("staff digests", 300.0),
    ]
    maria = _given_consent(db, org, client)
    later = utcnow() + timedelta(days=400)
    worker = Worker(
        DeliveryWorker(engine, settings, clock=lambda: later, poll_seconds=0.02),
        JobRunner(engine, settings, clock=lambda: later),
    )
    thread = threading.Thread(target=lambda: asyncio.run(worker.run()), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            db.expire_all()
            expired = db.exec(
                select(Event).where(
                    Event.enrollment_id == maria.enrollment_id, Event.type == "consent.expired"
                )
            ).all()
            if expired:
                break
            time.sleep(0.05)
        assert len(expired) == 1  # at start, as `consent-portal worker` does
    finally:
        worker.request_stop_threadsafe()
        thread.join(timeout=20)
    assert not thread.is_alive()
