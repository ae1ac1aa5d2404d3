"""The org admin's profile page (/staff/org/profile): how participants reach the organization,
edited in the browser with the same rules as PUT /api/v1/organization."""

from __future__ import annotations

from tests.factories import (
    add_purpose,
    another_browser,
    csrf_from,
    enroll,
    form_fields,
    send_form,
    sign_in_staff,
    sign_up,
)

FILLED = {
    "name": "Northside Food Shelf",
    "phone": "+1 612 555 0177",
    "address": "1200 Lake Street\nMinneapolis, MN 55408",
    "opening_hours": "Tuesday and Thursday, 10 am to 6 pm",
    "languages": ["en", "so"],
    "other_languages": "vi, om",
}


def test_an_org_admin_edits_the_profile_and_the_api_reads_it(db, org, client):
    sign_in_staff(db, client, org)
    page = client.get("/staff/org/profile")
    assert page.status_code == 200
    assert 'href="/staff/org/profile"' in page.text and 'aria-current="page"' in page.text
    fields = form_fields(page.text, "/staff/org/profile")
    assert fields["name"] == "Northside Food Shelf"
    r = send_form(client, "/staff/org/profile", FILLED)
    assert r.status_code == 303 and r.headers["location"] == "/staff/org/profile?saved=1"
    saved = client.get(r.headers["location"])
    assert "The profile was saved" in saved.text
    fields = form_fields(saved.text, "/staff/org/profile")
    assert fields["phone"] == "+1 612 555 0177"
    assert fields["other_languages"] == "vi, om"
    got = org.get("/api/v1/organization").json()
    assert got["phone"] == "+1 612 555 0177"
    assert got["address"] == "1200 Lake Street\nMinneapolis, MN 55408"
    assert got["opening_hours"] == "Tuesday and Thursday, 10 am to 6 pm"
    assert got["languages"] == ["en", "so", "vi", "om"]


def test_errors_are_by_their_fields_and_nothing_typed_is_lost(db, org, client):
    sign_in_staff(db, client, org)
    org.put("/api/v1/organization", {"name": "Northside Food Shelf", "phone": "612 555 0100"})
    bad = {**FILLED, "phone": "call us", "other_languages": "Vietnamese", "address": "a" * 501}
    r = send_form(client, "/staff/org/profile", bad)
    assert r.status_code == 400
    assert 'href="#phone"' in r.text and 'href="#other_languages"' in r.text
    assert 'href="#address"' in r.text
    assert "such as +1 612 555 0100" in r.text
    assert "500 characters or fewer" in r.text
    fields = form_fields(r.text, "/staff/org/profile")
    assert fields["phone"] == "call us"
    assert fields["other_languages"] == "Vietnamese"
    assert fields["opening_hours"] == FILLED["opening_hours"]
    assert 'value="so" id="languages-so" checked' in r.text
    # Nothing was saved.
    assert org.get("/api/v1/organization").json()["phone"] == "612 555 0100"


def test_the_errors_are_in_the_admins_language(db, org, client):
    sign_in_staff(db, client, org)
    client.get("/staff/org/profile?lang=es")
    r = send_form(client, "/staff/org/profile", {**FILLED, "name": ""})
    assert r.status_code == 400
    assert 'href="#name"' in r.text
    assert '<html lang="es"' in r.text


def test_a_form_without_its_csrf_token_changes_nothing(db, org, client):
    sign_in_staff(db, client, org)
    r = client.post("/staff/org/profile", data={**FILLED})
    assert r.status_code in (400, 403)
    assert org.get("/api/v1/organization").json()["phone"] is None


def test_a_case_manager_has_no_profile_page(db, org, client):
    sign_in_staff(db, client, org, role="case_manager")
    assert client.get("/staff/org/profile").status_code == 404
    page = client.get("/staff")
    r = client.post("/staff/org/profile", data={**FILLED, "csrf_token": csrf_from(page.text)})
    assert r.status_code == 404
    assert org.get("/api/v1/organization").json()["phone"] is None


def test_each_admin_edits_their_own_organization(db, make_org, client, app):
    north = make_org("northside", "Northside Food Shelf")
    east = make_org("eastside", "Eastside Housing")
    sign_in_staff(db, client, east)
    assert "Eastside Housing" in client.get("/staff/org/profile").text
    send_form(client, "/staff/org/profile", {**FILLED, "name": "Eastside Housing"})
    assert east.get("/api/v1/organization").json()["phone"] == "+1 612 555 0177"
    assert north.get("/api/v1/organization").json()["phone"] is None


def test_the_participant_sees_what_the_admin_saved(db, org, client, app):
    add_purpose(org)
    code = enroll(org, "A-1")
    sign_up(client, code, "maria")
    assert "tel:+16125550177" not in client.get("/").text
    for admin in another_browser(app):
        sign_in_staff(db, admin, org)
        assert send_form(admin, "/staff/org/profile", FILLED).status_code == 303
    html = client.get("/").text
    assert 'href="tel:+16125550177"' in html
    assert "Tuesday and Thursday, 10 am to 6 pm" in html
    assert "Vietnamese" in html and "Tiếng Việt" in html


def test_the_dashboard_asks_for_a_profile_until_there_is_one(db, org, client):
    sign_in_staff(db, client, org)
    assert 'id="profile-missing"' in client.get("/staff/org").text
    send_form(client, "/staff/org/profile", FILLED)
    assert 'id="profile-missing"' not in client.get("/staff/org").text
