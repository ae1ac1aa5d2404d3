"""`Authorization: Bearer <api_key>` on every /api/v1 route; keys are stored hashed."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlmodel import select

from app.db import utcnow
from app.organizations.models import ApiKey
from app.organizations.service import create_api_key, get_organization
from tests.factories import holding_body, participant_with_holding, purpose_body

# Every route of section 2 this area covers, with a body that would be accepted.
ROUTES = [
    ("PUT", "/api/v1/purposes/housing", purpose_body()),
    ("GET", "/api/v1/purposes", None),
    ("GET", "/api/v1/organization", None),
    ("PUT", "/api/v1/organization", {"name": "Northside"}),
    ("POST", "/api/v1/participants", {"external_ref": "B-2"}),
    ("POST", "/api/v1/participants/A-1/claim-codes", None),
    ("GET", "/api/v1/participants/A-1", None),
    ("PUT", "/api/v1/participants/A-1/holdings/phone", holding_body()),
    ("PUT", "/api/v1/participants/A-1/holdings", {"holdings": []}),
    ("DELETE", "/api/v1/participants/A-1/holdings/phone", None),
    ("GET", "/api/v1/participants/A-1/holdings", None),
    (
        "POST",
        "/api/v1/participants/A-1/disclosures",
        {"recipient": {"name": "Hennepin County"}, "purpose": "housing", "field_keys": ["phone"]},
    ),
    (
        "POST",
        "/api/v1/participants/A-1/consents",
        {"purpose": "housing", "state": "given", "method": "paper"},
    ),
    ("POST", "/api/v1/consent-checks", {"external_ref": "A-1", "purpose": "housing"}),
]


def bad_headers(key: str) -> dict[str, dict[str, str]]:
    return {
        "none": {},
        "empty": {"Authorization": ""},
        "no key": {"Authorization": "Bearer "},
        "basic": {"Authorization": f"Basic {key}"},
        "bare key": {"Authorization": key},
        "wrong key": {"Authorization": "Bearer cpk_not-a-real-key"},
        "key with a typo": {"Authorization": f"Bearer {key[:-1]}x"},
        "nul": {"Authorization": "Bearer cpk_\x00"},
        "huge": {"Authorization": "Bearer " + "k" * 50_000},
    }


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_every_route_needs_a_valid_key(org, db, method, path, body):
    participant_with_holding(org)
    for name, headers in bad_headers(org.api_key).items():
        r = org.client.request(method, path, json=body, headers=headers)
        assert r.status_code == 401, (name, r.status_code, r.text)
        assert r.json()["detail"], name
        assert r.headers["www-authenticate"] == "Bearer"
        assert "612-555-0100" not in r.text
    # Nothing was changed by the refused calls.
    held = org.get("/api/v1/participants/A-1/holdings").json()["holdings"]
    assert [h["value"] for h in held] == ["612-555-0100"]


def test_the_scheme_is_case_insensitive(org):
    r = org.client.get("/api/v1/purposes", headers={"Authorization": f"bearer {org.api_key}"})
    assert r.status_code == 200


def test_a_revoked_key_is_refused_and_another_key_still_works(org, db):
    organization = get_organization(db, org.slug)
    second = create_api_key(db, organization=organization, name="second")
    first_row = db.exec(select(ApiKey).where(ApiKey.name == "default")).one()
    first_row.revoked_at = utcnow()
    db.add(first_row)
    db.commit()

    r = org.get("/api/v1/purposes")
    assert r.status_code == 401
    assert "revoked" in r.json()["detail"]
    ok = org.client.get("/api/v1/purposes", headers={"Authorization": f"Bearer {second}"})
    assert ok.status_code == 200


def test_api_keys_are_stored_hashed(org, make_org, db):
    other = make_org("cedar-housing", "Cedar Housing Partners")
    # Every column of every row, as the database holds it.
    rows = db.execute(text("SELECT * FROM api_key")).all()
    assert len(rows) == 2
    stored = [value for row in rows for value in row if isinstance(value, str)]
    for key in (org.api_key, other.api_key):
        assert key.startswith("cpk_") and len(key) > 40
        assert not any(key in value or key[4:] in value for value in stored)
    # The prefix kept to tell keys apart is too short to use as a key.
    assert all(len(r.prefix) <= 8 for r in db.exec(select(ApiKey)))


def test_a_missing_key_is_refused_before_the_body_is_validated(org):
    r = org.client.put("/api/v1/purposes/housing", json={"basis": "whim"})
    assert r.status_code == 401
    assert org.get("/api/v1/purposes").json() == {"purposes": []}
