"""Language: ?lang= switches and sticks for the visit (and, signed in, in the account); every
page has a picker; <html lang> names the language shown; else Accept-Language decides."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from app.participants.models import Participant
from app.web.deps import LANG_COOKIE
from tests.factories import enroll, login


def _html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)">', response.text).group(1)


def _account_language(db) -> str | None:
    db.expire_all()
    return db.exec(select(Participant)).one().preferred_language


def test_accept_language_decides_without_a_choice(client):
    assert _html_lang(client.get("/login", headers={"Accept-Language": "es-MX,es;q=0.9"})) == "es"
    assert _html_lang(client.get("/login", headers={"Accept-Language": "fr, en;q=0.5"})) == "en"
    assert _html_lang(client.get("/login", headers={"Accept-Language": "de"})) == "en"


def test_lang_switches_and_sticks_for_the_visit(client):
    response = client.get("/login?lang=es")
    assert _html_lang(response) == "es"
    cookie = [h for h in response.headers.get_list("set-cookie") if h.startswith(LANG_COOKIE)]
    assert cookie and "Max-Age" not in cookie[0]  # for this visit only
    # Later pages remember it, even when the browser says otherwise.
    assert _html_lang(client.get("/claim", headers={"Accept-Language": "en"})) == "es"
    assert _html_lang(client.get("/login?lang=en")) == "en"
    assert _html_lang(client.get("/claim")) == "en"


def test_an_unsupported_language_is_ignored(client):
    assert _html_lang(client.get("/login?lang=xx")) == "en"
    assert _html_lang(client.get("/login?lang=<script>")) == "en"


def test_signed_in_the_choice_is_kept_in_the_account(client, person, app, db):
    assert _account_language(db) == "en"
    assert _html_lang(client.get("/?lang=es")) == "es"
    assert _account_language(db) == "es"
    # Another phone, no cookie, an English browser: after logging in, Spanish.
    with TestClient(app, follow_redirects=False) as other_phone:
        assert login(other_phone, person.username, person.pin).status_code == 303
        assert _html_lang(other_phone.get("/", headers={"Accept-Language": "en"})) == "es"


def test_a_new_account_keeps_the_language_it_was_created_in(client, housing_org, db):
    from tests.factories import claim

    code = enroll(housing_org)
    client.get(f"/claim/{code}?lang=es")
    assert claim(client, code).status_code == 200
    assert _account_language(db) == "es"


def _picker(html: str) -> str:
    match = re.search(r'<nav class="languages" aria-label="[^"]+">(.*?)</nav>', html, re.S)
    assert match, "no language picker"
    return match.group(1)


@pytest.mark.parametrize("path", ["/login", "/claim", "/claim/NOPE-NOPE-NOPE", "/no-such-page"])
def test_every_signed_out_page_has_a_picker(client, path):
    picker = _picker(client.get(path).text)
    assert f'href="{path}?lang=es" lang="es" hreflang="es">Español</a>' in picker
    assert 'lang="en"' in picker and "English</a>" in picker


def test_the_signed_in_page_has_a_picker_marking_the_current_language(client, person):
    picker = _picker(client.get("/?lang=es").text)
    assert 'href="/?lang=es" aria-current="true" lang="es"' in picker
    assert 'href="/?lang=en" lang="en"' in picker


def test_a_page_not_found_speaks_the_chosen_language(client):
    client.get("/login?lang=es")
    assert _html_lang(client.get("/no-such-page")) == "es"
