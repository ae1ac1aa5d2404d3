"""Assisted intake: reference and language, then one page per consent purpose with Give
consent / Don't give consent / Decide later, recorded as assisted by the case manager; and
participant mode, which reaches nothing but the client's own steps until the staff password
takes the device back."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from sqlmodel import select

from app.consent.models import Consent
from app.organizations.models import Purpose
from app.participants.models import Enrollment
from app.staff.models import Handover
from tests.factories import PASSWORD, csrf_from, make_staff, purpose_body, staff_log_in


def _plan(org) -> None:
    for key in ("housing", "food", "health"):
        body = purpose_body(title={"en": f"Share for {key}", "es": f"Compartir para {key}"})
        assert org.put(f"/api/v1/purposes/{key}", body).status_code == 201
    # A purpose that does not rest on consent is not asked about.
    assert (
        org.put("/api/v1/purposes/audit", purpose_body(basis="legal_obligation")).status_code == 201
    )


def _start(client, ref="C-100", language="es"):
    page = client.get("/staff/intake")
    assert page.status_code == 200
    r = client.post("/staff/intake", data={"external_ref": ref, "csrf_token": csrf_from(page.text)})
    assert r.status_code == 303, r.text
    page = client.get(r.headers["location"])
    r = client.post(
        "/staff/intake/language",
        data={"external_ref": ref, "language": language, "csrf_token": csrf_from(page.text)},
    )
    assert r.status_code == 303, r.text
    r = client.get(r.headers["location"])  # /start: to the first question
    return r.headers["location"]


def _answer(client, url, decision):
    page = client.get(url)
    assert page.status_code == 200, page.text
    return client.post(url, data={"decision": decision, "csrf_token": csrf_from(page.text)})


def test_intake_records_assisted_consents_with_the_case_managers_name(db, org, client):
    _plan(org)
    staff = make_staff(db, org, name="Maria")
    staff_log_in(client, staff.email)
    first = _start(client, "C-100", "es")
    enrollment = db.exec(select(Enrollment).where(Enrollment.external_ref == "C-100")).one()
    assert enrollment.preferred_language == "es"
    assert first == f"/staff/intake/{enrollment.id}/consent/1"

    page = client.get(first)
    # The client's screen is in the client's language; the case manager's page stays theirs.
    assert '<html lang="en">' in page.text and 'class="client-screen" lang="es"' in page.text
    assert "Compartir para food" in page.text  # purposes in plan order: food, health, housing
    assert re.search(r"\b3\b.*\b6\b", page.text.split('class="step">', 1)[1].split("<", 1)[0])

    r = _answer(client, first, "given")
    assert r.headers["location"].endswith("/consent/2")
    r = _answer(client, r.headers["location"], "refused")
    r = _answer(client, r.headers["location"], "later")
    assert r.headers["location"].endswith("/finish")
    finish = client.get(r.headers["location"])
    assert finish.status_code == 200

    db.expire_all()
    consents = db.exec(select(Consent).where(Consent.enrollment_id == enrollment.id)).all()
    by_purpose = {db.get(Purpose, c.purpose_id).key: c for c in consents}
    assert set(by_purpose) == {"food", "health"}  # "Decide later" records nothing
    assert by_purpose["food"].state == "given" and by_purpose["health"].state == "refused"
    for consent in consents:
        assert consent.method == "assisted"
        assert consent.recorded_by == "Maria"
        assert consent.assisted_by_staff_id == staff.id
        assert consent.notice_language == "es"


def test_going_back_and_answering_again_changes_the_answer_once(db, org, client):
    _plan(org)
    staff = make_staff(db, org)
    staff_log_in(client, staff.email)
    first = _start(client, "C-1", "en")
    _answer(client, first, "given")
    _answer(client, first, "given")  # Back, then the same answer: no second decision
    page = client.get(first)
    assert "Answered so far: " in page.text
    _answer(client, first, "refused")  # changed their mind: the consent is withdrawn
    db.expire_all()
    states = [c.state for c in db.exec(select(Consent).order_by(Consent.created_at)).all()]
    assert states == ["given", "withdrawn"]


def test_reference_and_language_are_optional(db, org, client):
    _plan(org)
    staff = make_staff(db, org)
    staff_log_in(client, staff.email)
    _start(client, "", "none")  # no reference, Prefer not to say
    enrollment = db.exec(select(Enrollment)).one()
    assert enrollment.external_ref.startswith("intake-")
    assert enrollment.preferred_language is None


def test_a_taken_reference_is_explained_and_kept(db, org, client):
    staff = make_staff(db, org)
    staff_log_in(client, staff.email)
    assert org.post("/api/v1/participants", {"external_ref": "C-1"}).status_code == 201
    page = client.get("/staff/intake")
    r = client.post(
        "/staff/intake", data={"external_ref": "C-1", "csrf_token": csrf_from(page.text)}
    )
    assert r.status_code == 400
    assert "Error:" in r.text and "already enrolled" in r.text and 'value="C-1"' in r.text


def test_participant_mode_reaches_only_the_clients_steps_until_the_password(db, org, client):
    _plan(org)
    staff = make_staff(db, org, name="Maria")
    staff_log_in(client, staff.email)
    other = _start(client, "OTHER-1", "en")
    first = _start(client, "C-200", "en")
    page = client.get(first)
    r = client.post(
        first.rsplit("/consent", 1)[0] + "/handover",
        data={"step": "1", "csrf_token": csrf_from(page.text)},
    )
    assert r.status_code == 303 and r.headers["location"] == first
    page = client.get(first)
    assert "Hand the device to the client" not in page.text
    assert '/staff/intake"' not in page.text and 'action="/staff/logout"' not in page.text

    # Every staff page, and another client's intake, sends the device back to its own steps.
    for url in ("/staff", "/staff/intake", "/staff/participants/OTHER-1", other):
        r = client.get(url)
        assert r.status_code == 303 and r.headers["location"] == "/staff/handover", url
    r = client.post("/staff/logout", data={"csrf_token": csrf_from(page.text)})
    assert r.headers["location"] == "/staff/handover"
    landing = client.get("/staff/handover")
    finish = landing.headers["location"]
    assert finish.endswith("/finish")

    # The client answers on their own.
    _answer(client, first, "given")
    page = client.get(finish)
    assert "Give the device back" in page.text and "OTHER-1" not in page.text
    take_back = finish.rsplit("/", 1)[0] + "/take-back"
    r = client.post(take_back, data={"password": "guess", "csrf_token": csrf_from(page.text)})
    assert r.status_code == 400 and "not the password" in r.text
    assert client.get("/staff").status_code == 303
    r = client.post(take_back, data={"password": PASSWORD, "csrf_token": csrf_from(page.text)})
    assert r.status_code == 303
    assert client.get("/staff").status_code == 200
    assert db.exec(select(Handover)).first() is None
    db.expire_all()
    consent = db.exec(select(Consent)).one()
    assert consent.method == "assisted" and consent.recorded_by == "Maria"


def test_guessing_the_password_in_participant_mode_locks_like_a_login(db, org, client):
    _plan(org)
    staff = make_staff(db, org)
    staff_log_in(client, staff.email)
    first = _start(client, "C-300", "en")
    page = client.get(first)
    base = first.rsplit("/consent", 1)[0]
    client.post(base + "/handover", data={"step": "1", "csrf_token": csrf_from(page.text)})
    token = csrf_from(client.get(base + "/finish").text)
    for _ in range(5):
        client.post(base + "/take-back", data={"password": "nope", "csrf_token": token})
    r = client.post(base + "/take-back", data={"password": PASSWORD, "csrf_token": token})
    assert r.status_code == 400 and "paused until" in r.text
    assert client.get("/staff").headers["location"] == "/staff/handover"


def test_leaving_the_intake_returns_the_case_manager_to_their_own_language(db, org, client):
    _plan(org)
    staff = make_staff(db, org, name="Maria")
    staff_log_in(client, staff.email)
    assert '<html lang="en">' in client.get("/staff").text
    first = _start(client, "C-101", "es")
    url = first
    for _step in range(3):
        url = _answer(client, url, "later").headers["location"]
    finish = client.get(url)
    # The client read the answers in Spanish; the case manager's page never left English.
    assert '<html lang="en">' in finish.text and 'class="client-screen" lang="es"' in finish.text
    leave = re.search(r'<a class="button secondary" href="([^"]+)">', finish.text)
    assert leave and leave.group(1) == "/staff"
    assert '<html lang="en">' in client.get(leave.group(1)).text
    # From then on the staff pages stay in English, and a later intake in English needs no switch.
    assert '<html lang="en">' in client.get("/staff/intake").text
    _start(client, "C-102", "en")
    enrollment = db.exec(select(Enrollment).where(Enrollment.external_ref == "C-102")).one()
    finish = client.get(f"/staff/intake/{enrollment.id}/finish")
    assert 'href="/staff">' in finish.text


# The references the API refuses (app/participants/refs.py), with the intake's explanation.
REFUSED_REFS = [
    ("SL/ASH-1", "have a slash (/) in it"),
    ("/", "have a slash (/) in it"),
    ("..", "or be only dots"),
    (".", "or be only dots"),
    ("A\x00B", "hidden characters in it, such as tabs or line breaks"),
    ("A\tB", "hidden characters in it, such as tabs or line breaks"),
    ("A\r\nB", "hidden characters in it, such as tabs or line breaks"),
    ("A\x1b[2JB", "hidden characters in it, such as tabs or line breaks"),
    ("A\x7fB", "hidden characters in it, such as tabs or line breaks"),
    ("x" * 129, "Use 128 characters or fewer."),
]


@pytest.mark.parametrize(("ref", "explained"), REFUSED_REFS)
def test_a_reference_the_api_refuses_is_refused_at_intake_too(db, org, client, ref, explained):
    staff = make_staff(db, org)
    staff_log_in(client, staff.email)
    assert org.post("/api/v1/participants", {"external_ref": ref}).status_code == 422
    # Both steps check it: the language step is where the enrollment is made.
    for path in ("/staff/intake", "/staff/intake/language"):
        page = client.get("/staff/intake")
        r = client.post(
            path,
            data={"external_ref": ref, "language": "none", "csrf_token": csrf_from(page.text)},
        )
        assert r.status_code == 400, (path, r.status_code)
        assert "Error:" in r.text and 'href="#external_ref"' in r.text
        assert explained in r.text.replace("&#39;", "'"), path
    assert db.exec(select(Enrollment)).all() == []


def test_the_intakes_reference_error_is_in_the_pages_language(db, org, client):
    staff = make_staff(db, org)
    staff_log_in(client, staff.email)
    page = client.get("/staff/intake?lang=es")
    r = client.post(
        "/staff/intake?lang=es",
        data={"external_ref": "SL/ASH-1", "csrf_token": csrf_from(page.text)},
    )
    assert r.status_code == 400
    assert "La referencia no puede tener una barra (/) ni ser solo puntos." in r.text
    r = client.post(
        "/staff/intake?lang=es",
        data={"external_ref": "A\x00B", "csrf_token": csrf_from(page.text)},
    )
    assert "La referencia no puede tener caracteres ocultos" in r.text


@pytest.mark.parametrize("ref", ["Ñandú 7", "id:42?x=1#frag", "名前", "x" * 128, " C-7 "])
def test_a_reference_the_api_takes_is_taken_at_intake(db, org, client, ref):
    _plan(org)
    staff = make_staff(db, org)
    staff_log_in(client, staff.email)
    _start(client, ref, "none")
    enrollment = db.exec(select(Enrollment)).one()
    assert enrollment.external_ref == ref.strip()
    r = org.get(f"/api/v1/participants/{quote(ref.strip(), safe='')}")
    assert r.status_code == 200 and r.json()["external_ref"] == ref.strip()
