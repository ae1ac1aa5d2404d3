"""Helpers for the correction and account tests: organizations set up through the real API,
participants who sign up and act through the real HTML forms (CSRF token read from the page),
and reads of the real database."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.corrections.models import Correction
from app.events.models import Event
from app.holdings.models import Holding
from app.organizations.models import Organization
from app.participants.models import Enrollment
from tests.conftest import Org, holding_body, purpose_body

PIN = "482913"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(client: TestClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    match = CSRF_FIELD.search(response.text)
    assert match, f"{path} has no CSRF field"
    return match.group(1)


def send_form(
    client: TestClient, path: str, data: dict[str, Any], *, page: str | None = None
) -> Any:
    """Fill in the form on `page` (default: the same path) and send it, as a browser would."""
    token = csrf(client, page or path)
    return client.post(path, data={"csrf_token": token, **data})


def add_purpose(org: Org, key: str = "housing", basis: str = "consent", **overrides: Any) -> None:
    response = org.put(f"/api/v1/purposes/{key}", purpose_body(basis, **overrides))
    assert response.status_code in (200, 201), response.text


def enroll(org: Org, ref: str) -> str:
    response = org.post("/api/v1/participants", {"external_ref": ref})
    assert response.status_code == 201, response.text
    return response.json()["claim_code"]


def hold(org: Org, ref: str, field_key: str = "phone", **overrides: Any) -> None:
    body = holding_body(**overrides)
    response = org.put(f"/api/v1/participants/{ref}/holdings/{field_key}", body)
    assert response.status_code in (200, 201), response.text


def disclose(
    org: Org, ref: str, recipient: dict[str, Any], field_keys: list[str], purpose: str = "housing"
) -> None:
    response = org.post(
        f"/api/v1/participants/{ref}/disclosures",
        {"recipient": recipient, "purpose": purpose, "field_keys": field_keys},
    )
    assert response.status_code == 201, response.text


def sign_up(client: TestClient, code: str, username: str) -> None:
    """Claim a code through the claim form: a new account, or (signed in) one more organization."""
    page = client.get(f"/claim/{code}")
    assert page.status_code == 200, page.text
    token = CSRF_FIELD.search(page.text)
    assert token
    response = client.post(
        f"/claim/{code}",
        data={"csrf_token": token.group(1), "username": username, "pin": PIN, "confirm_pin": PIN},
    )
    # A new account shows its recovery code (200); one more organization goes home (303).
    assert response.status_code in (200, 303), response.text
    assert response.status_code == 303 or "Your recovery code" in response.text


def holding_id(db: Session, org_slug: str, ref: str, field_key: str = "phone") -> str:
    db.expire_all()
    row = db.exec(
        select(Holding.id)
        .join(Enrollment, Enrollment.id == Holding.enrollment_id)  # type: ignore[arg-type]
        .join(Organization, Organization.id == Enrollment.organization_id)  # type: ignore[arg-type]
        .where(
            Organization.slug == org_slug,
            Enrollment.external_ref == ref,
            Holding.field_key == field_key,
        )
    ).first()
    assert row is not None
    return row


def events(db: Session, **where: Any) -> list[Event]:
    """Ledger events, oldest first, read fresh."""
    db.expire_all()
    query = select(Event)
    for name, value in where.items():
        query = query.where(getattr(Event, name) == value)
    return list(db.exec(query.order_by(Event.created_at, Event.seq)))  # type: ignore[arg-type]


def corrections(db: Session) -> list[Correction]:
    db.expire_all()
    return list(db.exec(select(Correction).order_by(Correction.created_at)))  # type: ignore[arg-type]


def request_correction(
    client: TestClient,
    holding: str,
    value: str = "612-555-0199",
    reason: str = "I changed my number.",
) -> Any:
    return send_form(
        client,
        f"/holdings/{holding}/correction",
        {"requested_value": value, "reason": reason},
    )


def resolve(org: Org, correction_id: str, outcome: str, **body: Any) -> Any:
    return org.post(f"/api/v1/corrections/{correction_id}/resolution", {"outcome": outcome, **body})


@dataclass
class World:
    """Northside holds Maria's phone number under a consent purpose, and shared it with
    Eastside (a network organization) and Hennepin County (outside the network)."""

    holder: Org
    recipient: Org
    maria: TestClient
    phone: str  # the holding's id


def make_world(make_org: Any, client: TestClient, db: Session) -> World:
    holder = make_org("northside", "Northside Food Shelf")
    recipient = make_org("eastside", "Eastside Housing")
    add_purpose(
        holder,
        recipients=[
            {"name": "Eastside Housing", "organization": "eastside"},
            {"name": "Hennepin County"},
        ],
    )
    code = enroll(holder, "N-1")
    hold(holder, "N-1", "phone")
    disclose(holder, "N-1", {"name": "Eastside Housing", "organization": "eastside"}, ["phone"])
    disclose(holder, "N-1", {"name": "Hennepin County"}, ["phone"])
    sign_up(client, code, "maria")
    return World(
        holder=holder, recipient=recipient, maria=client, phone=holding_id(db, "northside", "N-1")
    )


def deliver(worker: Any) -> int:
    """One round of the webhook delivery worker, in a thread of its own: when the browser
    tests ran first, Playwright's sync API keeps an event loop running in this thread."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(worker.run_once_sync).result(timeout=30)
