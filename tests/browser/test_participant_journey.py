"""The participant's journey in a real Chromium the size of a small phone (360×740): claim,
read what is held, add a second organization, reveal a sensitive value, switch language, log
out and in; the same without JavaScript; and Quick exit leaving no way back."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from tests.factories import Org, enroll, hold, purpose_body

pytestmark = pytest.mark.browser

PIN = "482913"
PHONE = {"width": 360, "height": 740}


@pytest.fixture
def northside(org: Org) -> Org:
    """An organization with a consent purpose, some holdings (one sensitive) and a disclosure
    that consent did not cover."""
    assert org.put("/api/v1/purposes/housing", purpose_body()).status_code == 201
    assert org.put("/api/v1/purposes/food", purpose_body(basis="service")).status_code == 201
    enroll(org, "A-1")
    hold(org, "A-1", "phone", purpose="food")
    hold(
        org,
        "A-1",
        "hiv",
        label="HIV status",
        category="health",
        value="Positive",
        purpose="food",
        sensitive=True,
    )
    shared = org.post(
        "/api/v1/participants/A-1/disclosures",
        {"recipient": {"name": "Hennepin County"}, "purpose": "housing", "field_keys": ["phone"]},
    )
    assert shared.status_code == 201
    return org


def _code(org: Org, ref: str) -> str:
    response = org.post(f"/api/v1/participants/{ref}/claim-codes")
    assert response.status_code == 201
    return response.json()["claim_code"]


def _watch_console(page: Page) -> list[str]:
    """Collects console errors: a CSP violation (inline script, inline style) shows up here."""
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    return problems


def _create_account(page: Page, base: str, code: str, username: str = "maria") -> None:
    page.goto(f"{base}/claim/{code}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("PIN", exact=True).fill(PIN)
    page.get_by_label("Confirm PIN").fill(PIN)
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("link", name="Continue to your data").click()
    expect(page).to_have_url(re.compile(r"/\?added="))


def _log_in(page: Page, base: str, username: str = "maria") -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("PIN", exact=True).fill(PIN)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{base}/")


def _fits_a_phone(page: Page) -> None:
    """Nothing scrolls sideways at 360 px, and every control is a 44 px touch target."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    small = page.evaluate(
        """() => [...document.querySelectorAll('button, .button, input:not([type=hidden]), .languages a')]
              .filter(e => e.offsetParent !== null)
              .map(e => [e.textContent.trim() || e.name, e.getBoundingClientRect().height])
              .filter(([, h]) => h < 44)"""
    )
    assert small == []


def test_participant_journey_on_a_phone(
    live_server: Any, phone: Page, northside: Org, make_org: Any
) -> None:
    base = live_server.url
    problems = _watch_console(phone)

    # Claim: a username and a PIN, nothing else.
    _create_account(phone, base, _code(northside, "A-1"))
    expect(phone.get_by_role("heading", level=1)).to_have_text("Your data")
    _fits_a_phone(phone)

    # Home: what is held, why, and who it was shared with.
    org = phone.locator("#org-northside")
    expect(org.get_by_role("heading", level=2)).to_have_text(northside.name)
    expect(org.get_by_text("612-555-0100")).to_be_visible()
    expect(org.locator(".disclosure.flagged")).to_contain_text("Warning:")
    consent = org.locator("#consent-northside-housing")
    expect(consent).to_contain_text("Requested")
    expect(consent.get_by_role("button", name="Give consent")).to_be_visible()

    # A second organization joins the same account.
    cedar = make_org("cedar", "Cedar Housing Partners")
    phone.goto(f"{base}/claim/{enroll(cedar, 'C-1')}")
    phone.get_by_role("button", name="Add to my account").click()
    expect(phone.get_by_role("heading", level=2, name="Cedar Housing Partners")).to_be_visible()
    expect(phone.get_by_role("heading", level=2, name=northside.name)).to_be_visible()

    # Show reveals a sensitive value in place (HTMX: no page load), and focus moves to it.
    hidden = org.locator(".holding", has_text="HIV status")
    expect(hidden).not_to_contain_text("Positive")
    url_before = phone.url
    hidden.get_by_role("button", name="Show").click()
    expect(hidden).to_contain_text("Positive")
    assert phone.url == url_before
    assert phone.evaluate("document.activeElement.id").startswith("value-")

    # Spanish, from the picker; it sticks on the next page.
    phone.get_by_role("navigation", name="Language").get_by_role("link", name="Español").click()
    expect(phone.locator("html")).to_have_attribute("lang", "es")
    phone.goto(f"{base}/")
    expect(phone.locator("html")).to_have_attribute("lang", "es")
    expect(phone.locator('.languages a[lang="es"]')).to_have_attribute("aria-current", "true")
    phone.locator('.languages a[lang="en"]').click()
    expect(phone.locator("html")).to_have_attribute("lang", "en")

    # Log out, then log in again.
    phone.get_by_role("button", name="Log out").click()
    expect(phone).to_have_url(re.compile(r"/login\?logged_out=1$"))
    expect(phone.get_by_text("You are logged out.")).to_be_visible()
    _fits_a_phone(phone)
    _log_in(phone, base)
    expect(phone.get_by_role("heading", level=2, name="Cedar Housing Partners")).to_be_visible()

    assert problems == []


def test_everything_works_without_javascript(
    live_server: Any, browser: Any, northside: Org
) -> None:
    base = live_server.url
    context = browser.new_context(viewport=PHONE, java_script_enabled=False, locale="en-US")
    page = context.new_page()
    try:
        _create_account(page, base, _code(northside, "A-1"))
        hidden = page.locator(".holding", has_text="HIV status")
        expect(hidden).not_to_contain_text("Positive")
        hidden.get_by_role("button", name="Show").click()
        expect(page).to_have_url(re.compile(r"/\?show=hld_\w+#holding-hld_\w+$"))
        expect(page.locator(".holding", has_text="HIV status")).to_contain_text("Positive")

        page.get_by_role("button", name="Log out").click()
        expect(page).to_have_url(re.compile(r"/login\?logged_out=1$"))
        _log_in(page, base)
        expect(page.get_by_role("heading", level=2, name=northside.name)).to_be_visible()

        # A form error without scripts: the summary links to the field, the answer is kept.
        page.get_by_role("button", name="Log out").click()
        page.get_by_label("Username").fill("maria")
        page.get_by_role("button", name="Log in").click()
        expect(page).to_have_title(re.compile(r"^Error: "))
        expect(
            page.get_by_role("alert").get_by_role("link", name="Enter your PIN.")
        ).to_have_attribute("href", "#pin")
        expect(page.get_by_label("Username")).to_have_value("maria")
    finally:
        context.close()


@pytest.fixture
def neutral_exit(live_server: Any) -> Iterator[str]:
    """Quick exit pointed at a page the live server serves, so the test needs no internet."""
    settings = live_server.app.state.settings
    neutral = live_server.url + "/static/portal.css"
    live_server.app.state.settings = dataclasses.replace(settings, quick_exit_url=neutral)
    yield neutral
    live_server.app.state.settings = settings


def _settled_content(page: Page) -> str:
    """The page's HTML once a navigation still under way (Back may commit late) has ended."""
    for _ in range(20):
        page.wait_for_load_state()
        try:
            return page.content()
        except PlaywrightError as exc:
            if "navigating" not in str(exc):
                raise
            page.wait_for_timeout(100)
    raise AssertionError("the page never stopped navigating")


def test_quick_exit_leaves_at_once_and_leaves_no_way_back(
    live_server: Any, phone: Page, northside: Org, neutral_exit: str
) -> None:
    base = live_server.url
    code = _code(northside, "A-1")
    _create_account(phone, base, code)  # history: the claim page, its answer, then home

    phone.get_by_role("link", name="Quick exit").click()
    expect(phone).to_have_url(neutral_exit)

    # Home was replaced in history: Back goes to the page before it (the answer to the account
    # form, with the recovery code), not to home (which, left in history, would be fetched
    # again and redirect to log in). Pages are never stored, so the browser won't show that
    # answer again without sending the form anew: the recovery code is not left behind.
    try:
        phone.go_back()
    except PlaywrightError as exc:
        assert "ERR_CACHE_MISS" in str(exc)
    assert "recovery-card" not in _settled_content(phone)
    # And the session is over: home now asks to log in.
    phone.goto(f"{base}/")
    expect(phone).to_have_url(re.compile(r"/login\?next=/"))
