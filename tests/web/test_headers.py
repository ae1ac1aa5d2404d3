"""Security headers on every page, and pages that a strict CSP does not break: no inline
script, no inline style, no event-handler attributes."""

from __future__ import annotations

import dataclasses
import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from app.holdings.models import Holding
from app.main import create_app
from tests.web.conftest import claim, enroll, hold, login, logout

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style\b", re.IGNORECASE)
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
    assert csp["style-src"] == "'self'"
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
    hold(person.org, person.ref, "phone", purpose="housing")
    hold(
        person.org,
        person.ref,
        "hiv",
        label="HIV status",
        value="Positive",
        purpose="food",
        sensitive=True,
    )
    person.org.post(
        f"/api/v1/participants/{person.ref}/disclosures",
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
        assert not STYLE_ELEMENT.search(html), f"{name}: <style> element"
        assert not STYLE_ATTRIBUTE.search(html), f"{name}: style= attribute"
        assert not HANDLER_ATTRIBUTE.search(html), f"{name}: on...= handler attribute"
        assert not JS_URL.search(html), f"{name}: javascript: URL"


@pytest.mark.parametrize("name", ["portal.js", "portal.css"])
def test_static_files_are_served_from_self_with_long_caching(client, name):
    html = client.get("/login").text
    url = re.search(rf'"(/static/{re.escape(name)}\?v=[0-9a-f]+)"', html).group(1)
    response = client.get(url)
    assert response.status_code == 200
    assert "immutable" in response.headers["cache-control"]
