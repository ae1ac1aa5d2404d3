"""An API key sees and changes its own organization's data only: anything else is 404."""

from __future__ import annotations

import pytest
from sqlmodel import select

from app.consent.models import Consent
from app.disclosures.models import Disclosure
from tests.factories import (
    add_purpose,
    consent,
    enroll,
    hold,
    holding_body,
    participant_with_holding,
)

SECRET = "612-555-0100"


@pytest.fixture
def two(org, make_org):
    """Northside holds A-1's phone under consent; Cedar is another member of the network."""
    participant_with_holding(org, "A-1")
    consent(org, "A-1")
    cedar = make_org("cedar-housing", "Cedar Housing Partners")
    add_purpose(cedar, "housing")
    return org, cedar


def other_org_requests(cedar):
    """Every call Cedar could make about Northside's participant A-1."""
    base = "/api/v1/participants/A-1"
    return {
        "get participant": lambda: cedar.get(base),
        "claim code": lambda: cedar.post(f"{base}/claim-codes"),
        "list holdings": lambda: cedar.get(f"{base}/holdings"),
        "list deleted holdings": lambda: cedar.get(f"{base}/holdings?include_deleted=true"),
        "put holding": lambda: cedar.put(f"{base}/holdings/phone", holding_body(value="x")),
        "replace holdings": lambda: cedar.put(f"{base}/holdings", {"holdings": []}),
        "delete holding": lambda: cedar.delete(f"{base}/holdings/phone"),
        "disclosure": lambda: cedar.post(
            f"{base}/disclosures",
            {
                "recipient": {"name": "Hennepin County"},
                "purpose": "housing",
                "field_keys": ["phone"],
            },
        ),
        "consent": lambda: cedar.post(
            f"{base}/consents", {"purpose": "housing", "state": "withdrawn", "method": "paper"}
        ),
        "consent check": lambda: cedar.post(
            "/api/v1/consent-checks", {"external_ref": "A-1", "purpose": "housing"}
        ),
    }


@pytest.mark.parametrize("call", list(other_org_requests(None)))
def test_another_organizations_participant_is_not_found(two, call, db):
    northside, cedar = two
    r = other_org_requests(cedar)[call]()
    assert r.status_code == 404, (call, r.text)
    assert SECRET not in r.text
    assert "participant" in r.json()["detail"]
    # ... and nothing changed at Northside.
    held = northside.get("/api/v1/participants/A-1/holdings").json()["holdings"]
    assert [h["value"] for h in held] == [SECRET]
    assert northside.get("/api/v1/participants/A-1").json()["consents"][0]["state"] == "given"
    assert len(db.exec(select(Consent)).all()) == 1
    assert db.exec(select(Disclosure)).all() == []


def test_the_same_ref_in_two_organizations_is_kept_apart(two):
    northside, cedar = two
    enroll(cedar, "A-1")
    assert cedar.get("/api/v1/participants/A-1/holdings").json() == {"holdings": []}
    hold(cedar, "A-1", value="651-555-0111")
    assert [
        h["value"] for h in cedar.get("/api/v1/participants/A-1/holdings").json()["holdings"]
    ] == ["651-555-0111"]
    assert [
        h["value"] for h in northside.get("/api/v1/participants/A-1/holdings").json()["holdings"]
    ] == [SECRET]

    # Cedar's consents are its own: Northside's consent does not show, and deleting at Cedar
    # leaves Northside's copy alone.
    assert cedar.get("/api/v1/participants/A-1").json()["consents"] == [
        {"purpose": "housing", "state": "requested"}
    ]
    check = cedar.post("/api/v1/consent-checks", {"external_ref": "A-1", "purpose": "housing"})
    assert check.json()["allowed"] is False
    assert cedar.delete("/api/v1/participants/A-1/holdings/phone").status_code == 204
    assert len(northside.get("/api/v1/participants/A-1/holdings").json()["holdings"]) == 1
    assert cedar.put("/api/v1/participants/A-1/holdings", {"holdings": []}).json()["deleted"] == 0


def test_each_plan_is_its_own(two):
    northside, cedar = two
    add_purpose(northside, "food", basis="service")
    assert [p["key"] for p in cedar.get("/api/v1/purposes").json()["purposes"]] == ["housing"]
    assert [p["key"] for p in northside.get("/api/v1/purposes").json()["purposes"]] == [
        "food",
        "housing",
    ]
    # Cedar cannot file a holding under Northside's purpose.
    enroll(cedar, "C-1")
    r = cedar.put("/api/v1/participants/C-1/holdings/x", holding_body(purpose="food"))
    assert r.status_code == 422
    # Cedar replacing its own `housing` does not touch Northside's.
    cedar.put("/api/v1/purposes/housing", {"title": {"en": "Cedar's own"}, "basis": "service"})
    (northside_housing,) = [
        p for p in northside.get("/api/v1/purposes").json()["purposes"] if p["key"] == "housing"
    ]
    assert northside_housing["basis"] == "consent"


def test_a_consent_check_cannot_probe_another_organizations_purposes(two):
    _northside, cedar = two
    enroll(cedar, "C-1")
    add_purpose(_northside, "secret-research")
    r = cedar.post("/api/v1/consent-checks", {"external_ref": "C-1", "purpose": "secret-research"})
    assert r.status_code == 422
