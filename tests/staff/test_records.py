"""A participant's record as staff see it: only their own organization's (404 otherwise),
every view logged and shown to the participant, and a fresh claim code to recover access."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlmodel import select

from app.participants.service import find_claim, reset_pin_by_claim
from app.staff.models import StaffAccess
from tests.factories import (
    PIN,
    csrf_from,
    enroll_and_claim,
    log_in,
    make_staff,
    purpose_body,
    staff_log_in,
)

CODE_RE = re.compile(r'id="claim-code">([A-Z0-9-]+)<')


def test_opening_a_record_is_logged_and_the_participant_sees_who_and_when(db, org, client):
    assert org.put("/api/v1/purposes/housing", purpose_body()).status_code == 201
    maria_staff = make_staff(db, org, name="Maria")
    person = enroll_and_claim(db, org, external_ref="A-1", username="dana")

    staff_log_in(client, maria_staff.email)
    page = client.get("/staff")
    assert "A-1" in page.text
    record = client.get("/staff/participants/A-1")
    assert record.status_code == 200
    assert "This visit is logged" in record.text
    assert "Share with the county for housing help" in record.text
    db.expire_all()
    entry = db.exec(select(StaffAccess)).one()
    assert (entry.staff_id, entry.enrollment_id, entry.action) == (
        maria_staff.id,
        person.enrollment_id,
        "viewed",
    )

    client.cookies.clear()
    log_in(client, person)
    home = client.get("/")
    assert 'href="/access"' in home.text
    access = client.get("/access")
    assert access.status_code == 200
    assert "Maria at Northside Food Shelf viewed your record, " in access.text
    # Babel's "EEE d MMM HH:mm": a weekday, a day, a month, a time.
    assert re.search(r"viewed your record, \w{3} \d{1,2} \w{3} \d\d:\d\d", access.text)

    es = client.get("/access?lang=es")
    assert es.status_code == 200 and '<html lang="es">' in es.text

    # Download my data carries the same log.
    exported = client.get("/download").json()
    assert [
        (a["staff_name"], a["organization"], a["action"]) for a in exported["staff_access"]
    ] == [("Maria", "northside", "viewed")]


def test_access_page_needs_a_participant_and_shows_only_their_own_entries(db, org, client):
    assert client.get("/access").headers["location"].startswith("/login")
    staff = make_staff(db, org)
    enroll_and_claim(db, org, external_ref="A-1", username="dana")
    other = enroll_and_claim(db, org, external_ref="B-2", username="eli")
    staff_log_in(client, staff.email)
    client.get("/staff/participants/A-1")
    client.cookies.clear()
    log_in(client, other)
    access = client.get("/access")
    assert "viewed your record" not in access.text
    assert "No one has looked at your record yet." in access.text


def test_another_organizations_participants_are_404_and_never_listed(db, make_org, client):
    northside = make_org("northside", "Northside Food Shelf")
    eastside = make_org("eastside", "Eastside Housing")
    enroll_and_claim(db, eastside, external_ref="E-1", username="fran")
    staff = make_staff(db, northside)
    staff_log_in(client, staff.email)

    home = client.get("/staff")
    assert "E-1" not in home.text
    assert client.get("/staff/participants/E-1").status_code == 404
    assert client.get("/staff/participants/E-1/claim-card").status_code == 404
    r = client.post("/staff/participants/E-1/claim-card", data={"csrf_token": csrf_from(home.text)})
    assert r.status_code == 404
    assert db.exec(select(StaffAccess)).first() is None  # nothing logged for a 404

    enrollment_id = enroll_and_claim(db, eastside, external_ref="E-2", username="gus").enrollment_id
    assert client.get(f"/staff/intake/{enrollment_id}/finish").status_code == 404
    assert client.get(f"/staff/intake/{enrollment_id}/consent/1").status_code == 404


def test_a_fresh_claim_code_resets_the_pin_and_the_participant_sees_it(db, org, client):
    staff = make_staff(db, org, name="Maria")
    person = enroll_and_claim(db, org, external_ref="A-1", username="dana")
    staff_log_in(client, staff.email)
    confirm = client.get("/staff/participants/A-1/claim-card")
    assert "already has an account" in confirm.text
    card = client.post(
        "/staff/participants/A-1/claim-card", data={"csrf_token": csrf_from(confirm.text)}
    )
    assert card.status_code == 200
    code = CODE_RE.search(card.text).group(1)
    assert f"http://testserver/claim/{code}" in card.text
    assert '<svg role="img"' in card.text and "style=" not in card.text.split("<svg", 1)[1]

    # The client uses the code on their own phone and chooses a new PIN.
    client.cookies.clear()
    claim_page = client.get(f"/claim/{code}")
    assert claim_page.status_code == 200
    claim = find_claim(db, code)
    assert claim is not None and claim.owner is not None
    reset_pin_by_claim(db, claim=claim, username="dana", pin="739154", confirm_pin="739154")
    db.commit()
    page = client.get("/login")
    old = client.post(
        "/login", data={"username": "dana", "pin": PIN, "csrf_token": csrf_from(page.text)}
    )
    assert old.status_code == 400  # the old PIN stopped working
    person.pin = "739154"
    log_in(client, person)
    access = client.get("/access")
    assert (
        "Maria at Northside Food Shelf gave you a new code to get into your account" in access.text
    )


def test_closing_the_account_deletes_the_access_log(db, org, client):
    from app.account.closure import close_account
    from app.participants.models import Participant

    staff = make_staff(db, org)
    person = enroll_and_claim(db, org, external_ref="A-1", username="dana")
    staff_log_in(client, staff.email)
    client.get("/staff/participants/A-1")
    assert db.exec(select(StaffAccess)).first() is not None
    participant = db.exec(select(Participant).where(Participant.username == person.username)).one()
    close_account(db, participant=participant)
    db.commit()
    assert db.exec(select(StaffAccess)).first() is None


def test_a_reference_no_record_can_have_is_a_404_page(app, db, org):
    """A NUL in the URL (no reference can hold one; PostgreSQL can't even compare it) or a
    reference past the longest one is a plain "Page not found", not a 500."""
    client = TestClient(app, raise_server_exceptions=False, follow_redirects=False)
    staff_log_in(client, make_staff(db, org).email)
    for ref in ("A%00B", "%00", "x" * 300):
        for path in (f"/staff/participants/{ref}", f"/staff/participants/{ref}/claim-card"):
            r = client.get(path)
            assert r.status_code == 404 and "Page not found" in r.text, (path, r.status_code)
