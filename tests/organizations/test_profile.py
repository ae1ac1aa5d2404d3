"""The organization's profile (how participants reach it) over the API:
`GET/PUT /api/v1/organization`, and on the participant's home page."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import add_purpose, claim, enroll, fresh_code, hold, logout, sign_up

PROFILE: dict[str, Any] = {
    "name": "Northside Food Shelf",
    "phone": "+1 (612) 555-0177",
    "address": "1200 Lake Street\nMinneapolis, MN 55408",
    "opening_hours": "Monday to Friday, 9 am to 5 pm",
    "languages": ["en", "es", "so", "hmn"],
}


def test_a_new_organization_has_an_empty_profile(org):
    r = org.get("/api/v1/organization")
    assert r.status_code == 200, r.text
    assert r.json() == {
        "slug": "northside",
        "name": "Northside Food Shelf",
        "phone": None,
        "address": None,
        "opening_hours": None,
        "languages": [],
        "updated_at": None,
    }


def test_put_then_get_gives_the_same_profile(org):
    r = org.put("/api/v1/organization", PROFILE)
    assert r.status_code == 200, r.text
    assert {k: r.json()[k] for k in PROFILE} == PROFILE
    assert r.json()["updated_at"]
    got = org.get("/api/v1/organization").json()
    assert {k: got[k] for k in PROFILE} == PROFILE
    assert got["slug"] == "northside"


def test_put_replaces_the_whole_profile(org):
    org.put("/api/v1/organization", PROFILE)
    r = org.put("/api/v1/organization", {"name": "Northside", "phone": "612 555 0199"})
    assert r.status_code == 200, r.text
    got = org.get("/api/v1/organization").json()
    assert got["name"] == "Northside"
    assert got["phone"] == "612 555 0199"
    assert got["address"] is None and got["opening_hours"] is None and got["languages"] == []


def test_an_empty_text_clears_it_and_languages_are_kept_once(org):
    r = org.put(
        "/api/v1/organization",
        {**PROFILE, "address": "  ", "phone": "", "languages": ["es", "es", "en"]},
    )
    assert r.status_code == 200, r.text
    assert r.json()["address"] is None and r.json()["phone"] is None
    assert r.json()["languages"] == ["es", "en"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"phone": "call us"}, "phone"),
        ({"phone": "12"}, "phone"),
        ({"phone": "1" * 41}, "phone"),
        ({"address": "a" * 501}, "address"),
        ({"address": "nul\x00here"}, "address"),
        ({"opening_hours": "h" * 1001}, "opening_hours"),
        ({"languages": ["Spanish"]}, "languages"),
        ({"languages": ["xx"]}, "languages"),
        ({"languages": ["es"] * 21}, "languages"),
        ({"languages": "es"}, "languages"),
        ({"website": "https://example.org"}, "website"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(org, change, field):
    org.put("/api/v1/organization", PROFILE)
    r = org.put("/api/v1/organization", {**PROFILE, **change})
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert any(field in map(str, error["loc"]) and error["msg"] for error in detail), detail
    # Nothing was changed by the refused body.
    got = org.get("/api/v1/organization").json()
    assert {k: got[k] for k in PROFILE} == PROFILE


def test_the_name_is_required(org):
    r = org.put("/api/v1/organization", {"phone": "612 555 0100"})
    assert r.status_code == 422
    assert org.get("/api/v1/organization").json()["phone"] is None


def test_each_key_reads_and_writes_its_own_organization_only(make_org):
    a = make_org("northside", "Northside Food Shelf")
    b = make_org("eastside", "Eastside Housing")
    assert a.put("/api/v1/organization", PROFILE).status_code == 200
    seen = b.get("/api/v1/organization").json()
    assert seen["slug"] == "eastside" and seen["name"] == "Eastside Housing"
    assert seen["phone"] is None and seen["address"] is None
    r = b.put("/api/v1/organization", {"name": "Eastside", "phone": "651 555 0123"})
    assert r.status_code == 200 and r.json()["slug"] == "eastside"
    mine = a.get("/api/v1/organization").json()
    assert {k: mine[k] for k in PROFILE} == PROFILE


def test_without_a_key_it_is_401(client, org):
    assert client.get("/api/v1/organization").status_code == 401
    assert client.put("/api/v1/organization", json=PROFILE).status_code == 401


def test_the_participant_home_shows_how_to_reach_the_organization(org, client):
    add_purpose(org)
    code = enroll(org, "A-1")
    hold(org, "A-1", "phone")
    sign_up(client, code, "maria")
    before = client.get("/")
    assert before.status_code == 200
    assert "555-0177" not in before.text
    org.put("/api/v1/organization", PROFILE)
    html = client.get("/").text
    assert 'href="tel:+16125550177"' in html
    assert "+1 (612) 555-0177" in html
    assert "1200 Lake Street" in html and "Minneapolis, MN 55408" in html
    assert "Monday to Friday, 9 am to 5 pm" in html
    assert "Spanish" in html and "Español" in html and "Soomaali" in html and "Hmoob" in html


def test_the_home_page_names_languages_in_the_participants_language(org, client):
    add_purpose(org)
    code = enroll(org, "A-1")
    sign_up(client, code, "maria")
    org.put("/api/v1/organization", {**PROFILE, "languages": ["so"]})
    html = client.get("/?lang=es").text
    assert "somalí" in html.lower()


def test_pages_that_send_the_participant_to_an_organization_say_how_to_reach_it(make_org, client):
    northside = make_org("northside", "Northside Food Shelf")
    cedar = make_org("cedar", "Cedar Housing Partners")
    northside.put("/api/v1/organization", PROFILE)
    sign_up(client, enroll(northside, "A-1"), "maria")
    sign_up(client, enroll(cedar, "C-1"), "maria")
    # Closing the account: each organization keeps its own records, so each is named.
    close = client.get("/account/close").text
    assert 'id="reach-northside"' in close and 'href="tel:+16125550177"' in close
    assert 'id="reach-cedar"' in close and "Cedar Housing Partners has not added" in close
    # A PIN reset with Northside's code: the access page says whom to ask, and how; Cedar's
    # records are closed now, so Cedar is not named.
    logout(client)
    assert claim(client, fresh_code(northside, "A-1"), pin="739164").status_code == 303
    access = client.get("/access").text
    assert "ask the organization whose code it was" in access
    assert 'id="reach-northside"' in access and 'href="tel:+16125550177"' in access
    assert "Cedar" not in access
