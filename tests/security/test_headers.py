"""Security headers on every page, and pages that a strict CSP does not break: no inline
script, no inline style but our own stylesheet (allowed by its hash), no event-handler
attributes. Pages are compressed, and the CSRF token in them is masked afresh each time."""

from __future__ import annotations

import base64
import dataclasses
import gzip
import hashlib
import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from app.holdings.models import Holding
from app.main import create_app
from app.web.stylesheet import STYLESHEET
from tests.factories import claim, enroll, hold, login, logout

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style\b[^>]*>(.*?)</style>", re.IGNORECASE | re.DOTALL)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle\s*=", re.IGNORECASE)
HANDLER_ATTRIBUTE = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
JS_URL = re.compile(r"""(href|action|src)\s*=\s*["']\s*javascript:""", re.IGNORECASE)


def _csp(response) -> dict[str, str]:
    policy = response.headers["content-security-policy"]
    return {
        part.split()[0]: " ".join(part.split()[1:])
        for part in (p.strip() for p in policy.split(";"))
        if part
    }


def test_pages_carry_a_strict_policy(client):
    response = client.get("/login")
    csp = _csp(response)
    assert csp["default-src"] == "'none'"
    assert csp["script-src"] == "'self'"
    # The page's one <style> element, named by its hash: nothing else inline may style it.
    (style,) = STYLE_ELEMENT.findall(response.text)
    assert "font-family" in style  # the real stylesheet, not an empty element
    style_hash = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert csp["style-src"] == f"'self' 'sha256-{style_hash}'"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["form-action"] == "'self'"
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    # Pages about a person must not stay in a shared phone's cache.
    assert response.headers["cache-control"] == "no-store"


def test_error_pages_carry_the_policy_too(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert _csp(response)["frame-ancestors"] == "'none'"
    assert response.headers["referrer-policy"] == "no-referrer"


def test_no_hsts_outside_production(client):
    assert "strict-transport-security" not in client.get("/login").headers


def test_hsts_in_production(engine, settings):
    production = dataclasses.replace(settings, env="production")
    with TestClient(create_app(production), base_url="https://testserver") as secure_client:
        hsts = secure_client.get("/login").headers["strict-transport-security"]
    assert "max-age=" in hsts and int(re.search(r"max-age=(\d+)", hsts).group(1)) >= 31536000


def _every_participant_page(client, person, db) -> dict[str, str]:
    hold(person.org, person.external_ref, "phone", purpose="housing")
    hold(
        person.org,
        person.external_ref,
        "hiv",
        label="HIV status",
        value="Positive",
        purpose="food",
        sensitive=True,
    )
    person.org.post(
        f"/api/v1/participants/{person.external_ref}/disclosures",
        {"recipient": {"name": "Hennepin County"}, "purpose": "housing", "field_keys": ["phone"]},
    )
    hiv = db.exec(select(Holding).where(Holding.field_key == "hiv")).one()
    pages = {
        "home": client.get("/").text,
        "home shown": client.get(f"/?show={hiv.id}").text,
        "show fragment": client.get(
            f"/holdings/{hiv.id}/value", headers={"HX-Request": "true"}
        ).text,
        "home es": client.get("/?lang=es").text,
        "home en": client.get("/?lang=en").text,  # back to English for the checks below
        "claim add": client.get(f"/claim/{enroll(person.org, 'A-2')}").text,
        "not found": client.get("/nowhere").text,
        "csrf refused": client.post("/logout").text,
    }
    logout(client)
    pages |= {
        "login": client.get("/login").text,
        "login error": login(client, person.username, "999888").text,
        "claim": client.get(f"/claim/{enroll(person.org, 'A-3')}").text,
        "claim error": claim(client, enroll(person.org, "A-4"), pin="1").text,
        "claim invalid": client.get("/claim/NOPE-NOPE-NOPE").text,
        "claim code": client.get("/claim").text,
    }
    for _ in range(5):
        pages["locked"] = login(client, person.username, "999888").text
    return pages


def test_no_page_needs_inline_script_or_style(client, person, db):
    pages = _every_participant_page(client, person, db)
    assert "paused until" in pages["locked"]  # the pages are the ones meant
    for name, html in pages.items():
        assert not INLINE_SCRIPT.search(html), f"{name}: inline <script>"
        styles = STYLE_ELEMENT.findall(html)
        assert len(styles) <= 1, f"{name}: a second <style> element"
        assert not styles or styles[0] == STYLESHEET, f"{name}: a <style> of its own"
        assert not STYLE_ATTRIBUTE.search(html), f"{name}: style= attribute"
        assert not HANDLER_ATTRIBUTE.search(html), f"{name}: on...= handler attribute"
        assert not JS_URL.search(html), f"{name}: javascript: URL"


@pytest.mark.parametrize("name", ["portal.js", "htmx-2.0.11.min.js"])
def test_static_files_are_served_from_self_with_long_caching(client, name):
    html = client.get("/login").text
    url = re.search(rf'"(/static/{re.escape(name)}\?v=[0-9a-f]+)"', html).group(1)
    response = client.get(url)
    assert response.status_code == 200
    assert "immutable" in response.headers["cache-control"]


def test_pages_are_compressed_and_their_csrf_token_changes_every_time(client):
    first = client.get("/login", headers={"accept-encoding": "gzip"})
    assert first.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in first.headers["vary"].lower()
    assert int(first.headers["content-length"]) < len(first.text)  # httpx decoded it
    tokens = {
        re.search(r'name="csrf_token" value="([0-9a-f]+)"', client.get("/login").text).group(1)
        for _ in range(3)
    }
    assert len(tokens) == 3  # masked afresh: nothing for a BREACH attack to converge on
    # Each of them is still accepted, and a token with one changed character is not.
    for token in tokens:
        r = client.post("/login", data={"csrf_token": token, "username": "x", "pin": "000000"})
        assert r.status_code != 403 and "The username or PIN is not right" in r.text
    token = tokens.pop()
    broken = token[:-1] + ("0" if token[-1] != "0" else "1")
    for bad in (broken, token[:64], "", "z" * 128):
        assert client.post("/login", data={"csrf_token": bad, "username": "x"}).status_code == 403


def test_small_and_api_responses_stay_readable_without_gzip(client):
    plain = client.get("/login", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert gzip.decompress(gzip.compress(plain.content)) == plain.content
