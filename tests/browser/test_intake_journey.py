"""A case manager's assisted intake in a real Chromium the size of a small phone (360×740):
in Spanish, one consent given, one refused, one left for later; the device handed to the
client, who can't reach staff pages; then the claim card, whose link the client opens on
their own phone to create the account and see the consents marked as assisted."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from app.consent.models import Consent
from tests.factories import PASSWORD, Org, make_staff, purpose_body

pytestmark = pytest.mark.browser

PIN = "482913"


@pytest.fixture
def plan(org: Org) -> Org:
    """Three purposes that rest on consent (asked in key order) and one that doesn't."""
    for key, en, es in (
        ("a-housing", "Share with the county for housing", "Compartir con el condado"),
        ("b-food", "Share with the food bank", "Compartir con el banco de alimentos"),
        ("c-health", "Share with the clinic", "Compartir con la clínica"),
    ):
        body = purpose_body(title={"en": en, "es": es})
        assert org.put(f"/api/v1/purposes/{key}", body).status_code == 201
    assert (
        org.put("/api/v1/purposes/audit", purpose_body(basis="legal_obligation")).status_code == 201
    )
    return org


def _watch_console(page: Page) -> list[str]:
    """Collects console errors: a CSP violation (inline script or style) shows up here."""
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    return problems


def _staff_log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/staff/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{base}/staff")


def _decide(page: Page, decision: str) -> None:
    # By value, not by name: the button's words are in the client's language.
    page.locator(f'button[name="decision"][value="{decision}"]').click()


def test_assisted_intake_in_spanish_hand_over_and_claim_card(
    db: Any, plan: Org, live_server: Any, phone: Page, browser: Any
) -> None:
    base = live_server.url
    staff = make_staff(db, plan, name="Maria")
    problems = _watch_console(phone)
    _staff_log_in(phone, base, staff.email)

    # Steps 1 and 2: the reference and the client's language.
    phone.get_by_role("link", name="Start an intake").first.click()
    expect(phone.get_by_text("Step 1 of 6")).to_be_visible()
    phone.get_by_label(re.compile("reference for this person")).fill("C-77")
    phone.get_by_role("button", name="Continue").click()
    expect(phone.get_by_text("Step 2 of 6")).to_be_visible()
    phone.get_by_role("button", name="Español").click()

    # Steps 3 to 5: one notice per page, in Spanish.
    # The client's screen is in Spanish; the case manager's page around it stays in English.
    expect(phone.locator("html")).to_have_attribute("lang", "en")
    expect(phone.locator(".client-screen")).to_have_attribute("lang", "es")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Compartir con el condado")
    expect(phone.locator(".step")).to_contain_text("3")
    _decide(phone, "given")
    expect(phone.get_by_role("heading", level=1)).to_have_text(
        "Compartir con el banco de alimentos"
    )
    # The back link returns to the previous question, with its answer shown.
    phone.locator("a.back-link").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Compartir con el condado")
    _decide(phone, "given")  # the same answer again changes nothing
    _decide(phone, "refused")

    # The last purpose: hand the device to the client, who decides later.
    expect(phone.get_by_role("heading", level=1)).to_have_text("Compartir con la clínica")
    phone.locator('form[action$="/handover"] button').click()
    expect(phone.locator(".staff-bar")).to_have_count(0)
    expect(phone.locator('form[action$="/handover"]')).to_have_count(0)
    for url in ("/staff", "/staff/intake", "/staff/participants/C-77"):
        phone.goto(base + url)
        expect(phone).to_have_url(re.compile(r"/staff/intake/ptp_[^/]+/finish$"))
        expect(phone.locator('input[name="password"]')).to_be_visible()
    phone.go_back()
    phone.goto(phone.url.replace("/finish", "/consent/3"))
    _decide(phone, "later")

    # Taking the device back needs the staff password.
    phone.locator('input[name="password"]').fill("not it")
    phone.locator('form[action$="/take-back"] button').click()
    expect(phone.locator(".error-summary")).to_be_visible()
    phone.locator('input[name="password"]').fill(PASSWORD)
    phone.locator('form[action$="/take-back"] button').click()
    expect(phone.locator(".staff-bar")).to_be_visible()

    consents = db.exec(select(Consent).order_by(Consent.created_at)).all()
    assert [(c.state, c.method, c.recorded_by, c.notice_language) for c in consents] == [
        ("given", "assisted", "Maria", "es"),
        ("refused", "assisted", "Maria", "es"),
    ]

    # The claim card with its QR code, drawn on the server (no CSP complaint).
    phone.locator('form[action$="/claim-card"] button').click()
    expect(phone.locator("svg.qr")).to_be_visible()
    claim_link = phone.locator("#claim-link").get_attribute("href")
    assert claim_link and "/claim/" in claim_link
    # (The wrong password's 400 is logged too; only policy violations count here.)
    assert [p for p in problems if "Content Security Policy" in p or "Refused" in p] == []

    # The client opens the link on their own phone and creates the account.
    own = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-US")
    try:
        mine = own.new_page()
        # The card links to PORTAL_BASE_URL (http://testserver in tests): same path, live host.
        mine.goto(claim_link.replace("http://testserver", base))
        mine.get_by_label("Username").fill("carmen")
        mine.get_by_label("PIN", exact=True).fill(PIN)
        mine.get_by_label("Confirm PIN").fill(PIN)
        mine.get_by_role("button", name="Create account").click()
        mine.get_by_role("link", name="Continue to your data").click()
        expect(mine).to_have_url(re.compile(r"/\?added="))
        expect(mine.get_by_text("Northside Food Shelf").first).to_be_visible()
        # Later, alone, on the home page: each answer given with help is marked so.
        expect(mine.get_by_text("with help from a case manager, Maria")).to_have_count(2)
        mine.goto(f"{base}/activity")
        expect(mine.get_by_text("With help from a case manager").first).to_be_visible()
        mine.goto(f"{base}/access")
        expect(
            mine.get_by_text("Maria at Northside Food Shelf gave you a new code")
        ).to_be_visible()
    finally:
        own.close()
