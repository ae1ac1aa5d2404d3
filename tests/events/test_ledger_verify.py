"""`consent-portal ledger verify`: exit 0 on an intact ledger; after someone edits the event
table directly, non-zero and naming the first broken event."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import delete, update
from sqlmodel import select

from app.events.models import Event
from app.webhooks.models import WebhookDelivery
from tests.factories import purpose_body

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _verify(settings) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": settings.database_url}
    return subprocess.run(
        [sys.executable, "-m", "app", "ledger", "verify"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def chain(db, org, make_org):
    """Two participants' chains; the first has four events (given, withdrawn, given,
    withdrawn), recorded the way an organization records paper forms."""
    assert org.put("/api/v1/purposes/housing", purpose_body()).status_code == 201
    for ref in ("A-1", "A-2"):
        assert org.post("/api/v1/participants", {"external_ref": ref}).status_code == 201
    for ref, states in (("A-1", ["given", "withdrawn", "given", "withdrawn"]), ("A-2", ["given"])):
        for state in states:
            r = org.post(
                f"/api/v1/participants/{ref}/consents",
                {"purpose": "housing", "state": state, "method": "paper"},
            )
            assert r.status_code == 201, r.text
    first = db.exec(select(Event).where(Event.seq == 4)).one()
    events = db.exec(
        select(Event).where(Event.enrollment_id == first.enrollment_id).order_by(Event.seq)
    ).all()
    assert len(events) == 4
    return events


def _tamper(db, statement) -> None:
    db.exec(statement)
    db.commit()


def test_an_intact_ledger_verifies(settings, chain):
    result = _verify(settings)
    assert result.returncode == 0, result.stderr
    assert "ledger intact" in result.stdout


def test_changed_data_is_found(db, settings, chain):
    target = chain[1]
    altered = {**target.data, "consent": {**target.data["consent"], "state": "given"}}
    _tamper(db, update(Event).where(Event.id == target.id).values(data=altered))
    result = _verify(settings)
    assert result.returncode != 0
    assert target.id in result.stderr
    assert "data was altered" in result.stderr


def test_changed_data_with_a_recomputed_digest_is_found(db, settings, chain):
    from app.events.service import data_digest

    target = chain[1]
    altered = {**target.data, "consent": {**target.data["consent"], "state": "given"}}
    _tamper(
        db,
        update(Event)
        .where(Event.id == target.id)
        .values(data=altered, data_digest=data_digest(altered)),
    )
    result = _verify(settings)
    assert result.returncode != 0
    assert target.id in result.stderr


def test_a_deleted_middle_event_is_found(db, settings, chain):
    removed, following = chain[1], chain[2]
    db.exec(delete(WebhookDelivery).where(WebhookDelivery.event_id == removed.id))
    _tamper(db, delete(Event).where(Event.id == removed.id))
    result = _verify(settings)
    assert result.returncode != 0
    # The first broken event is the one after the gap.
    assert following.id in result.stderr
    assert chain[0].id not in result.stderr


def test_a_changed_time_is_found(db, settings, chain):
    target = chain[2]
    _tamper(
        db,
        update(Event)
        .where(Event.id == target.id)
        .values(created_at=target.created_at - timedelta(days=3)),
    )
    result = _verify(settings)
    assert result.returncode != 0
    assert target.id in result.stderr
    assert "hash does not match" in result.stderr
