"""PUT /api/v1/purposes/{purpose_key} and GET /api/v1/purposes: the data collection plan."""

from __future__ import annotations

import pytest

from tests.factories import add_purpose, purpose_body


def test_put_creates_a_purpose_and_answers_it(org):
    r = org.put("/api/v1/purposes/housing", purpose_body())
    assert r.status_code == 201, r.text
    purpose = r.json()
    assert purpose["key"] == "housing"
    assert purpose["basis"] == "consent"
    assert purpose["title"]["es"] == "Compartir con el condado para ayuda de vivienda"
    assert purpose["recipients"] == [
        {"name": "Hennepin County", "organization": None, "reason": "housing referrals"}
    ]
    assert purpose["retention_days"] == 365
    assert purpose["sensitive"] is False
    assert purpose["version"] == 1


def test_put_again_replaces_with_200_and_bumps_the_version_only_when_the_notice_changes(org):
    add_purpose(org)
    same = org.put("/api/v1/purposes/housing", purpose_body())
    assert same.status_code == 200
    assert same.json()["version"] == 1

    # `sensitive` is not part of the notice a participant reads.
    sensitive = org.put("/api/v1/purposes/housing", purpose_body(sensitive=True))
    assert sensitive.status_code == 200
    assert sensitive.json()["sensitive"] is True
    assert sensitive.json()["version"] == 1

    retitled = org.put(
        "/api/v1/purposes/housing", purpose_body(title={"en": "Housing help from the county"})
    )
    assert retitled.status_code == 200
    assert retitled.json()["version"] == 2
    assert retitled.json()["title"] == {"en": "Housing help from the county"}


def test_get_lists_the_plan_wrapped_and_keyed(org):
    add_purpose(org, "housing")
    add_purpose(org, "food-delivery", basis="service", sensitive=True)
    r = org.get("/api/v1/purposes")
    assert r.status_code == 200
    body = r.json()
    assert list(body) == ["purposes"]
    assert [p["key"] for p in body["purposes"]] == ["food-delivery", "housing"]
    assert body["purposes"][0]["basis"] == "service"
    assert body["purposes"][0]["sensitive"] is True


def test_an_empty_plan_is_an_empty_list(org):
    assert org.get("/api/v1/purposes").json() == {"purposes": []}


def test_optional_fields_have_defaults(org):
    r = org.put("/api/v1/purposes/minimal", {"title": {"en": "Minimal"}, "basis": "service"})
    assert r.status_code == 201, r.text
    purpose = r.json()
    assert purpose["recipients"] == []
    assert purpose["categories"] == []
    assert purpose["retention_days"] is None
    assert purpose["legal_recipients"] == {}


def test_every_basis_is_accepted(org):
    for basis in ("consent", "service", "legal_obligation", "funder_contract"):
        r = org.put(f"/api/v1/purposes/p-{basis.replace('_', '-')}", purpose_body(basis))
        assert r.status_code == 201, r.text
        assert r.json()["basis"] == basis


def test_a_recipient_may_be_a_network_organization(org, make_org):
    make_org("cedar-housing", "Cedar Housing Partners")
    recipients = [{"name": "Cedar Housing Partners", "organization": "cedar-housing"}]
    r = org.put("/api/v1/purposes/housing", purpose_body(recipients=recipients))
    assert r.status_code == 201, r.text
    (recipient,) = r.json()["recipients"]
    assert recipient["organization"] == "cedar-housing"


def test_a_recipient_organization_outside_the_network_is_refused(org):
    recipients = [{"name": "Somebody", "organization": "no-such-org"}]
    r = org.put("/api/v1/purposes/housing", purpose_body(recipients=recipients))
    assert r.status_code == 422
    assert "no-such-org" in r.json()["detail"]
    assert org.get("/api/v1/purposes").json() == {"purposes": []}


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"basis": "because"}, "basis"),
        ({"basis": None}, "basis"),
        ({"title": {}}, "title"),
        ({"title": "Housing"}, "title"),
        ({"title": {"English": "Housing"}}, "title"),
        ({"title": {"en": ""}}, "title"),
        ({"title": {"en": "   "}}, "title"),
        ({"title": {"en": "x" * 100_000}}, "title"),
        ({"title": {"en": "Hous\x00ing"}}, "title"),
        ({"description": {"en": "a\x07b"}}, "description"),
        ({"description": {"en": "x" * 5001}}, "description"),
        ({"refusal_consequence": {"es": "\x1b[31m"}}, "refusal_consequence"),
        ({"legal_recipients": {"en": 5}}, "legal_recipients"),
        ({"categories": "contact"}, "categories"),
        ({"categories": ["Contact Info"]}, "categories"),
        ({"categories": ["ok"] * 51}, "categories"),
        ({"recipients": [{"organization": "cedar"}]}, "recipients"),
        ({"recipients": [{"name": "Cty\x00"}]}, "recipients"),
        ({"recipients": [{"name": "County", "extra": 1}]}, "recipients"),
        ({"recipients": {"name": "County"}}, "recipients"),
        ({"retention_days": 0}, "retention_days"),
        ({"retention_days": -5}, "retention_days"),
        ({"retention_days": 10**30}, "retention_days"),
        ({"retention_days": "a year"}, "retention_days"),
        ({"retention_days": 1.5}, "retention_days"),
        ({"sensitive": "very"}, "sensitive"),
        ({"consent_valid_days": 0}, "consent_valid_days"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_purposes_are_refused_with_a_clear_detail(org, change, where):
    r = org.put("/api/v1/purposes/housing", purpose_body(**change))
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert any(where in error["loc"] for error in detail), detail
    assert all(error["msg"] for error in detail)
    assert org.get("/api/v1/purposes").json() == {"purposes": []}


@pytest.mark.parametrize("missing", ["title", "basis"])
def test_required_fields(org, missing):
    body = purpose_body()
    del body[missing]
    r = org.put("/api/v1/purposes/housing", body)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", missing]


@pytest.mark.parametrize(
    "key", ["Housing", "with space", "-leading-dash", "x" * 65, "semi;colon", "%00", "caf%C3%A9"]
)
def test_bad_purpose_keys_in_the_path_are_refused(org, key):
    r = org.put(f"/api/v1/purposes/{key}", purpose_body())
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"][:2] == ["path", "purpose_key"]


def test_a_failed_replace_keeps_the_old_purpose(org):
    add_purpose(org)
    r = org.put("/api/v1/purposes/housing", purpose_body(basis="whim"))
    assert r.status_code == 422
    (kept,) = org.get("/api/v1/purposes").json()["purposes"]
    assert kept["basis"] == "consent"
    assert kept["version"] == 1
