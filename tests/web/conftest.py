"""Helpers for the participant's pages: enroll someone through the organization API, then
drive the HTML forms the way a browser would (CSRF token read from the page)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Org, holding_body, purpose_body

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
GOOD_PIN = "482913"


def csrf_from(html: str) -> str:
    match = CSRF_FIELD.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def page_csrf(client: TestClient, path: str = "/login") -> str:
    response = client.get(path)
    return csrf_from(response.text)


def enroll(org: Org, ref: str = "A-1") -> str:
    """Enroll a person with the organization; returns their claim code."""
    response = org.post("/api/v1/participants", {"external_ref": ref})
    assert response.status_code == 201, response.text
    return response.json()["claim_code"]


def fresh_code(org: Org, ref: str = "A-1") -> str:
    response = org.post(f"/api/v1/participants/{ref}/claim-codes")
    assert response.status_code == 201, response.text
    return response.json()["claim_code"]


def claim(
    client: TestClient,
    code: str,
    *,
    username: str = "maria",
    pin: str = GOOD_PIN,
    confirm_pin: str | None = None,
) -> Any:
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


def login(client: TestClient, username: str = "maria", pin: str = GOOD_PIN) -> Any:
    token = page_csrf(client, "/login")
    return client.post("/login", data={"csrf_token": token, "username": username, "pin": pin})


def logout(client: TestClient) -> Any:
    token = page_csrf(client, "/")
    return client.post("/logout", data={"csrf_token": token})


@dataclass
class Person:
    """A participant with an account, signed in on `client`."""

    username: str
    pin: str
    org: Org
    ref: str


@pytest.fixture
def housing_org(org: Org) -> Org:
    """Northside with a consent-based purpose ("housing") and a service one ("food")."""
    assert org.put("/api/v1/purposes/housing", purpose_body()).status_code == 201
    food = purpose_body(
        basis="service",
        title={"en": "Giving you food each week"},
        description={"en": "We count your household to give the right amount."},
    )
    assert org.put("/api/v1/purposes/food", food).status_code == 201
    return org


@pytest.fixture
def person(client: TestClient, housing_org: Org) -> Person:
    code = enroll(housing_org, "A-1")
    response = claim(client, code)
    assert response.status_code == 200 and "Your recovery code" in response.text, response.text
    return Person(username="maria", pin=GOOD_PIN, org=housing_org, ref="A-1")


def hold(org: Org, ref: str, field_key: str, **overrides: Any) -> dict[str, Any]:
    body = holding_body(**overrides)
    response = org.put(f"/api/v1/participants/{ref}/holdings/{field_key}", body)
    assert response.status_code in (200, 201), response.text
    return response.json()
