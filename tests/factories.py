"""Factories and shared helpers for every test folder, in one place.

Everything here goes through the real API, the real services or the real HTML forms (CSRF
token read from the page, as a browser would), on the real database: organizations and their
plan (purposes), participants and their enrollments, holdings, consents, disclosures, staff,
corrections, webhook endpoints, and reads of the ledger and the outbox. The fixtures that use
them live in tests/conftest.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from html.parser import HTMLParser
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.corrections.models import Correction
from app.db import utcnow
from app.events.models import Event
from app.holdings.models import Holding
from app.i18n import local
from app.organizations.models import Organization, Staff
from app.organizations.service import create_staff, get_organization
from app.participants.models import Enrollment, Participant
from app.participants.service import create_account_by_claim, find_claim, link_enrollment
from app.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

PIN = "482913"  # every test participant's PIN
PASSWORD = "correct horse battery"  # every test staff member's password
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


# --- forms, as a browser sends them -------------------------------------------------------


def csrf_from(html: str) -> str:
    match = CSRF_FIELD.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def page_csrf(client: TestClient, path: str = "/login") -> str:
    """The CSRF token of the form on `path`."""
    return csrf_from(client.get(path).text)


def send_form(
    client: TestClient, path: str, data: dict[str, Any], *, page: str | None = None
) -> Any:
    """Fill in the form on `page` (default: the same path) and send it; a list value is a
    repeated field."""
    return client.post(path, data={"csrf_token": page_csrf(client, page or path), **data})


class _FormReader(HTMLParser):
    """The fields a browser would send from the page's form that posts to `action`."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action = action
        self.inside = False
        self.fields: dict[str, Any] = {}
        self._textarea: str | None = None

    def _add(self, name: str, value: str) -> None:
        if name in self.fields:
            existing = self.fields[name]
            self.fields[name] = [*(existing if isinstance(existing, list) else [existing]), value]
        else:
            self.fields[name] = value

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("action") == self.action
        elif self.inside and tag == "input" and a.get("name"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self._add(a["name"], a.get("value", ""))
        elif self.inside and tag == "textarea":
            self._textarea = a.get("name")
            self.fields[self._textarea or ""] = ""

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self.inside = False


def form_fields(html: str, action: str) -> dict[str, Any]:
    reader = _FormReader(action)
    reader.feed(html)
    return reader.fields


def another_browser(app: Any) -> Iterator[TestClient]:
    """A browser of its own (its own cookies) for the body of `for c in another_browser(app):`,
    or for a fixture to yield from."""
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as c:
        yield c


# --- organizations and their plan ---------------------------------------------------------


@dataclass
class Org:
    """An organization made with the real service, and its API key on a test client."""

    slug: str
    name: str
    api_key: str
    client: TestClient

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(path, headers=self.headers, **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> Any:
        return self.client.post(path, json=json, headers=self.headers, **kw)

    def put(self, path: str, json: Any = None, **kw: Any) -> Any:
        return self.client.put(path, json=json, headers=self.headers, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.client.delete(path, headers=self.headers, **kw)


def purpose_body(basis: str = "consent", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": {
            "en": "Share with the county for housing help",
            "es": "Compartir con el condado para ayuda de vivienda",
        },
        "description": {
            "en": "So the county can find you housing.",
            "es": "Para que el condado le busque vivienda.",
        },
        "basis": basis,
        "categories": ["contact", "household"],
        "recipients": [{"name": "Hennepin County", "reason": "housing referrals"}],
        "retention_days": 365,
        "refusal_consequence": {"en": "You still get food from us.", "es": "Igual recibe comida."},
    }
    body.update(overrides)
    return body


def add_purpose(org: Org, key: str = "housing", basis: str = "consent", **overrides: Any) -> dict:
    r = org.put(f"/api/v1/purposes/{key}", purpose_body(basis, **overrides))
    assert r.status_code in (200, 201), r.text
    return r.json()


# --- participants and their enrollments ---------------------------------------------------


@dataclass
class Person:
    """A participant with an account (username and PIN) and one enrollment."""

    username: str
    pin: str
    enrollment_id: str
    external_ref: str
    org: Org | None = None


def enrollment(org: Org, ref: str = "A-1", **extra: Any) -> dict:
    """Enroll a person with the organization; returns the API's answer."""
    r = org.post("/api/v1/participants", {"external_ref": ref, **extra})
    assert r.status_code == 201, r.text
    return r.json()


def enroll(org: Org, ref: str = "A-1") -> str:
    """Enroll a person with the organization; returns their claim code."""
    return enrollment(org, ref)["claim_code"]


def enroll_with_purpose(org: Org, external_ref: str = "A-1", purpose: str = "housing") -> None:
    """Enroll a person, first giving the organization a consent purpose if it has none."""
    if org.get("/api/v1/purposes").json().get("purposes") in (None, []):
        add_purpose(org, purpose)
    enrollment(org, external_ref)


def fresh_code(org: Org, ref: str = "A-1") -> str:
    response = org.post(f"/api/v1/participants/{ref}/claim-codes")
    assert response.status_code == 201, response.text
    return response.json()["claim_code"]


def claim_account(db: Session, code: str, username: str = "river") -> Participant:
    """The participant claims a code through the real service: a new account, or (same
    username) one more enrollment."""
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


def enroll_and_claim(db: Session, org: Org, *, external_ref: str, username: str) -> Person:
    """The organization enrolls someone (API), who then claims it with a username and PIN."""
    body = enrollment(org, external_ref)
    claim_account(db, body["claim_code"], username)
    return Person(username, PIN, body["participant_id"], external_ref)


def claim(
    client: TestClient,
    code: str,
    *,
    username: str = "maria",
    pin: str = PIN,
    confirm_pin: str | None = None,
) -> Any:
    """Send the claim form for `code`; returns the response."""
    token = page_csrf(client, f"/claim/{code}")
    return client.post(
        f"/claim/{code}",
        data={
            "csrf_token": token,
            "username": username,
            "pin": pin,
            "confirm_pin": pin if confirm_pin is None else confirm_pin,
        },
    )


def sign_up(client: TestClient, code: str, username: str) -> None:
    """Claim a code through the claim form: a new account, or (signed in) one more organization."""
    response = claim(client, code, username=username)
    # A new account shows its recovery code (200); one more organization goes home (303).
    assert response.status_code in (200, 303), response.text
    assert response.status_code == 303 or "Your recovery code" in response.text


def login(client: TestClient, username: str = "maria", pin: str = PIN) -> Any:
    """Send the participant's login form; returns the response."""
    token = page_csrf(client, "/login")
    return client.post("/login", data={"csrf_token": token, "username": username, "pin": pin})


def log_in(client: TestClient, person: Person) -> None:
    """Sign `person` in on `client`, and check it worked."""
    r = login(client, person.username, person.pin)
    assert r.status_code == 303, r.text


def logout(client: TestClient) -> Any:
    return client.post("/logout", data={"csrf_token": page_csrf(client, "/")})


# --- holdings, consents, disclosures ------------------------------------------------------


def holding_body(purpose: str = "housing", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "label": "Phone number",
        "category": "contact",
        "value": "612-555-0100",
        "purpose": purpose,
        "source": "Intake form",
        "collected_at": "2026-10-01",
    }
    body.update(overrides)
    return body


def hold(org: Org, ref: str = "A-1", field_key: str = "phone", **overrides: Any) -> dict:
    r = org.put(f"/api/v1/participants/{ref}/holdings/{field_key}", holding_body(**overrides))
    assert r.status_code in (200, 201), r.text
    return r.json()


def participant_with_holding(org: Org, ref: str = "A-1", basis: str = "consent") -> dict:
    """A plan with one purpose `housing`, a participant `ref` and their phone number."""
    add_purpose(org, basis=basis)
    enrolled = enrollment(org, ref)
    hold(org, ref)
    return enrolled


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


def consent(org: Org, ref: str = "A-1", purpose: str = "housing", state: str = "given") -> dict:
    """A consent recorded by the organization (on paper) through the API."""
    r = org.post(
        f"/api/v1/participants/{ref}/consents",
        {"purpose": purpose, "state": state, "method": "paper"},
    )
    assert r.status_code == 201, r.text
    return r.json()


def consent_url(person: Person, purpose_key: str = "housing") -> str:
    return f"/consents/{person.enrollment_id}/{purpose_key}"


def decide(client: TestClient, person: Person, decision: str, purpose_key: str = "housing") -> Any:
    """Open the consent page, then tap its one button, as a browser without JavaScript would."""
    url = consent_url(person, purpose_key)
    page = client.get(url)
    assert page.status_code == 200, page.text
    version = re.search(r'name="notice_version" value="(\d+)"', page.text)
    assert version
    return client.post(
        url,
        data={
            "decision": decision,
            "notice_version": version.group(1),
            "csrf_token": csrf_from(page.text),
        },
    )


def disclose(
    org: Org, ref: str, recipient: dict[str, Any], field_keys: list[str], purpose: str = "housing"
) -> None:
    response = org.post(
        f"/api/v1/participants/{ref}/disclosures",
        {"recipient": recipient, "purpose": purpose, "field_keys": field_keys},
    )
    assert response.status_code == 201, response.text


# --- corrections --------------------------------------------------------------------------


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


def corrections(db: Session) -> list[Correction]:
    db.expire_all()
    return list(db.exec(select(Correction).order_by(Correction.created_at)))  # type: ignore[arg-type]


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


# --- staff --------------------------------------------------------------------------------


def make_staff(
    db: Session,
    org: Any,
    *,
    email: str = "maria@northside.example",
    name: str = "Maria",
    role: str = "case_manager",
) -> Staff:
    organization = get_organization(db, org.slug)
    assert organization is not None
    staff = create_staff(
        db, organization=organization, email=email, role=role, password=PASSWORD, name=name
    )
    db.commit()
    return staff


def staff_log_in(client: TestClient, email: str, password: str = PASSWORD) -> Any:
    """Send the /staff/login form; returns the response."""
    page = client.get("/staff/login")
    return client.post(
        "/staff/login",
        data={"email": email, "password": password, "csrf_token": csrf_from(page.text)},
    )


def sign_in_staff(
    db: Session, client: TestClient, org: Any, *, role: str = "org_admin", email: str = ""
) -> Staff:
    """A staff member of `org` (an org admin unless told), signed in on `client`."""
    organization = get_organization(db, org.slug)
    assert organization is not None
    staff = create_staff(
        db,
        organization=organization,
        email=email or f"{role}@{org.slug}.example",
        role=role,
        password=PASSWORD,
    )
    db.commit()
    r = staff_log_in(client, staff.email)
    assert r.status_code == 303, r.text
    return staff


# --- the ledger, webhook endpoints and deliveries -----------------------------------------


def events(db: Session, **where: Any) -> list[Event]:
    """Ledger events, oldest first, read fresh (the app committed them in its own session)."""
    db.expire_all()
    query = select(Event)
    for name, value in where.items():
        query = query.where(getattr(Event, name) == value)
    return list(db.exec(query.order_by(Event.created_at, Event.seq)))  # type: ignore[arg-type]


def add_endpoint(org: Org, url: str, event_types: list[str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"url": url}
    if event_types is not None:
        body["event_types"] = event_types
    response = org.post("/api/v1/webhook-endpoints", body)
    assert response.status_code == 201, response.text
    return response.json()


def deliveries(engine: Any) -> list[WebhookDelivery]:
    with Session(engine) as session:
        return list(session.exec(select(WebhookDelivery).order_by(WebhookDelivery.id)))  # type: ignore[arg-type]


def only_delivery(engine: Any) -> WebhookDelivery:
    (delivery,) = deliveries(engine)
    return delivery


def attempts(engine: Any) -> list[WebhookAttempt]:
    with Session(engine) as session:
        return list(session.exec(select(WebhookAttempt).order_by(WebhookAttempt.id)))  # type: ignore[arg-type]


def endpoint_row(engine: Any, endpoint_id: str) -> WebhookEndpoint:
    with Session(engine) as session:
        endpoint = session.get(WebhookEndpoint, endpoint_id)
        assert endpoint is not None
        return endpoint


def deliver(worker: Any) -> int:
    """One round of the webhook delivery worker, in a thread of its own: when the browser
    tests ran first, Playwright's sync API keeps an event loop running in this thread."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(worker.run_once_sync).result(timeout=30)


class ManualClock:
    """Real time until the test moves it by hand; from then on, time stands still between
    moves. The worker reads it for claims, retry times and signature timestamps."""

    def __init__(self) -> None:
        self._now: datetime | None = None

    def __call__(self) -> datetime:
        return self._now or utcnow()

    def advance(self, delta: timedelta) -> None:
        self._now = self() + delta

    def set(self, when: datetime) -> None:
        self._now = when


def shown_day(when: datetime) -> str:
    """A stored time as the English pages show its date ("Dec 24, 2026"): in the network's
    time zone, so a test run just after midnight UTC expects the day the page says."""
    day = local(when)
    return f"{day:%b} {day.day}, {day.year}"
