"""Helpers for the organization API tests: a plan, an enrolled participant, a claimed account.

Everything goes through the real API or the real services, on the real database.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from app.events.models import Event
from app.participants.models import Participant
from app.participants.service import create_account_by_claim, find_claim, link_enrollment
from tests.conftest import Org, holding_body, purpose_body

PIN = "493817"


def add_purpose(org: Org, key: str = "housing", basis: str = "consent", **overrides: Any) -> dict:
    r = org.put(f"/api/v1/purposes/{key}", purpose_body(basis, **overrides))
    assert r.status_code in (200, 201), r.text
    return r.json()


def enroll(org: Org, ref: str = "A-1", **extra: Any) -> dict:
    r = org.post("/api/v1/participants", {"external_ref": ref, **extra})
    assert r.status_code == 201, r.text
    return r.json()


def hold(org: Org, ref: str = "A-1", field_key: str = "phone", **overrides: Any) -> dict:
    r = org.put(f"/api/v1/participants/{ref}/holdings/{field_key}", holding_body(**overrides))
    assert r.status_code in (200, 201), r.text
    return r.json()


def consent(org: Org, ref: str = "A-1", purpose: str = "housing", state: str = "given") -> dict:
    r = org.post(
        f"/api/v1/participants/{ref}/consents",
        {"purpose": purpose, "state": state, "method": "paper"},
    )
    assert r.status_code == 201, r.text
    return r.json()


def participant_with_holding(org: Org, ref: str = "A-1", basis: str = "consent") -> dict:
    """A plan with one purpose `housing`, a participant `ref` and their phone number."""
    add_purpose(org, basis=basis)
    enrolled = enroll(org, ref)
    hold(org, ref)
    return enrolled


def claim(db: Session, code: str, username: str = "river") -> Participant:
    """The participant claims a code: a new account, or (same username) one more enrollment."""
    found = find_claim(db, code)
    assert found is not None, "the claim code should work"
    existing = db.exec(select(Participant).where(Participant.username == username)).first()
    if existing is None:
        participant, _recovery_code = create_account_by_claim(
            db, claim=found, username=username, pin=PIN, confirm_pin=PIN, language="en"
        )
    else:
        link_enrollment(db, claim=found, participant=existing)
        participant = existing
    db.commit()
    return participant


def events(db: Session, **where: Any) -> list[Event]:
    """Ledger events, oldest first, read fresh (the API committed them in its own session)."""
    db.expire_all()
    query = select(Event)
    for name, value in where.items():
        query = query.where(getattr(Event, name) == value)
    return list(db.exec(query.order_by(Event.created_at, Event.seq)))  # type: ignore[arg-type]
