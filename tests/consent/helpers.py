"""Participants for the consent tests: enrolled by an organization through the API, claimed
through the real service, logged in through the real /login form."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.participants.service import create_account_by_claim, find_claim

PIN = "482913"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Person:
    username: str
    pin: str
    enrollment_id: str
    external_ref: str


def enroll_and_claim(db: Session, org: Any, *, external_ref: str, username: str) -> Person:
    """The organization enrolls someone (API), who then claims it with a username and PIN."""
    r = org.post("/api/v1/participants", {"external_ref": external_ref})
    assert r.status_code == 201, r.text
    body = r.json()
    claim = find_claim(db, body["claim_code"])
    assert claim is not None
    create_account_by_claim(
        db, claim=claim, username=username, pin=PIN, confirm_pin=PIN, language="en"
    )
    db.commit()
    return Person(username, PIN, body["participant_id"], external_ref)


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def log_in(client: TestClient, person: Person) -> None:
    page = client.get("/login")
    r = client.post(
        "/login",
        data={"username": person.username, "pin": person.pin, "csrf_token": csrf_from(page.text)},
    )
    assert r.status_code == 303, r.text


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
