"""An intake in the client's language changes the client's screens (the notice and the
decision, the answers, the claim card) and never the case manager's own menus, steps and
buttons: two translators, the staff's `_` and the client's `client_`."""

from __future__ import annotations

import re

from sqlmodel import select

from app.consent.models import Consent
from app.participants.models import Enrollment
from tests.factories import csrf_from, make_staff, purpose_body, staff_log_in


def _plan(org) -> None:
    body = purpose_body(title={"en": "Share with the county", "es": "Compartir con el condado"})
    assert org.put("/api/v1/purposes/county", body).status_code == 201


def _start(client, ref: str, language: str) -> str:
    page = client.get("/staff/intake")
    r = client.post("/staff/intake", data={"external_ref": ref, "csrf_token": csrf_from(page.text)})
    page = client.get(r.headers["location"])
    r = client.post(
        "/staff/intake/language",
        data={"external_ref": ref, "language": language, "csrf_token": csrf_from(page.text)},
    )
    assert r.status_code == 303, r.text
    assert "lang=" not in r.headers["location"]  # the page's language is not switched
    return client.get(r.headers["location"]).headers["location"]


def _client_screen(html: str) -> str:
    match = re.search(r'<div class="client-screen" lang="(\w+)">(.*?)</div>', html, re.S)
    assert match, html
    return match.group(1) + " " + match.group(2)


def _staff_bar(html: str) -> str:
    return html.split('class="admin-bar staff-bar"', 1)[1].split("</nav>", 1)[0]


def test_english_staff_spanish_intake_menus_stay_english(db, org, client):
    _plan(org)
    staff_log_in(client, make_staff(db, org).email)
    first = _start(client, "C-1", "es")
    page = client.get(first).text
    assert '<html lang="en">' in page
    bar = _staff_bar(page)
    for words in ("Participants", "Start an intake", "Requests to answer", "Log out"):
        assert words in bar
    # The notice and the decision are the client's, in Spanish, marked as such.
    screen = _client_screen(page)
    assert screen.startswith("es ")
    assert "Compartir con el condado" in screen and "Lo que se le pide" in screen
    assert "Dar consentimiento" in screen and "What you are asked" not in page
    # The steps and the case manager's controls stay in English.
    assert "Step 3 of 4" in page and "For the case manager" in page
    assert "Hand the device to the client" in page

    r = client.post(first, data={"decision": "given", "csrf_token": csrf_from(page)})
    db.expire_all()
    assert db.exec(select(Consent)).one().notice_language == "es"
    finish = client.get(r.headers["location"]).text
    assert '<html lang="en">' in finish and "Log out" in _staff_bar(finish)
    assert "Sus respuestas" in _client_screen(finish)
    assert "How the client gets into their account" in finish


def test_the_claim_card_prints_in_the_clients_language(db, org, client):
    _plan(org)
    staff_log_in(client, make_staff(db, org).email)
    first = _start(client, "C-2", "es")
    finish = client.get(first.rsplit("/", 2)[0] + "/finish").text
    card = client.post(
        "/staff/participants/C-2/claim-card", data={"csrf_token": csrf_from(finish)}
    ).text
    assert '<html lang="en">' in card and "Participants" in _staff_bar(card)
    article = card.split('<article class="claim-card"', 1)[1].split("</article>", 1)[0]
    assert 'lang="es"' in article
    assert "Su código para Northside Food Shelf" in article and "Your code for" not in article
    # A screen reader reads the QR code's name in the client's language too.
    assert "<title>Código QR del enlace de acceso</title>" in article
    # Around the card, the words for the case manager are theirs.
    assert "Print this page, or let the client scan the code now." in card


def test_somali_intake_keeps_english_menus(db, org, client):
    _plan(org)
    staff_log_in(client, make_staff(db, org).email)
    page = client.get(_start(client, "C-3", "so")).text
    assert '<html lang="en">' in page and "Log out" in _staff_bar(page)
    screen = _client_screen(page)
    assert screen.startswith("so ") and "Waxa lagu weydiinayo" in screen
    assert "Bixi oggolaansho" in screen


def test_spanish_staff_english_intake_menus_stay_spanish(db, org, client):
    _plan(org)
    staff_log_in(client, make_staff(db, org).email)
    assert '<html lang="es">' in client.get("/staff?lang=es").text  # the staff's own choice
    page = client.get(_start(client, "C-4", "en")).text
    assert '<html lang="es">' in page
    bar = _staff_bar(page)
    assert "Participantes" in bar and "Salir" in bar and "Log out" not in bar
    screen = _client_screen(page)
    assert screen.startswith("en ")
    assert "Share with the county" in screen and "What you are asked" in screen
    assert "Give consent" in screen and "Para el gestor de casos" in page
    db.expire_all()
    assert db.exec(select(Enrollment)).one().preferred_language == "en"


def test_prefer_not_to_say_shows_the_client_the_staff_language(db, org, client):
    _plan(org)
    staff_log_in(client, make_staff(db, org).email)
    client.get("/staff?lang=es")
    page = client.get(_start(client, "C-5", "none")).text
    assert _client_screen(page).startswith("es ") and "Lo que se le pide" in page


def test_a_handed_over_device_is_all_in_the_clients_language(db, org, client):
    _plan(org)
    staff_log_in(client, make_staff(db, org, name="Maria").email)
    first = _start(client, "C-6", "es")
    page = client.get(first).text
    client.post(
        first.rsplit("/consent", 1)[0] + "/handover",
        data={"step": "1", "csrf_token": csrf_from(page)},
    )
    page = client.get(first).text
    assert '<html lang="es">' in page and "staff-bar" not in page
    assert "Lo que se le pide" in page and "What you are asked" not in page
