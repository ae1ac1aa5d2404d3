"""Recovering a lost PIN on a 360 px phone (CONTRACT.md section 7): the account is made and
its recovery code shown (printable); the PIN is lost; the food shelf's fresh code resets it
and opens only the food shelf's records; the recovery code opens the shelter's again; the
access page lists the reset."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_participant_journey import _fits_a_phone
from tests.factories import Org, enroll, fresh_code, hold, purpose_body

pytestmark = pytest.mark.browser

PIN, NEW_PIN = "482913", "739164"


def test_a_lost_pin_reopens_one_organization_then_the_recovery_code_the_rest(
    live_server: Any, browser: Any, phone: Page, org: Org, make_org: Any
) -> None:
    base = live_server.url
    shelter = make_org("safe-harbor", "Safe Harbor Shelter")
    for o in (org, shelter):
        assert o.put("/api/v1/purposes/housing", purpose_body()).status_code == 201
    first_code = enroll(org, "A-1")
    hold(org, "A-1", "phone", value="612-555-0100")

    # The account is made; its recovery code is shown once, with the username, to print.
    phone.goto(f"{base}/claim/{first_code}")
    phone.get_by_label("Username").fill("maria")
    phone.get_by_label("PIN", exact=True).fill(PIN)
    phone.get_by_label("Confirm PIN").fill(PIN)
    phone.get_by_role("button", name="Create account").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Your recovery code")
    recovery_code = phone.locator(".recovery-card .code").inner_text()
    assert len(recovery_code) == 19
    _fits_a_phone(phone)
    phone.emulate_media(media="print")  # printable: the code and username stay on the paper
    expect(phone.locator(".recovery-card")).to_contain_text("maria")
    expect(phone.locator(".recovery-card")).to_contain_text(recovery_code)
    phone.emulate_media(media="screen")
    phone.get_by_role("link", name="Continue to your data").click()
    phone.goto(f"{base}/claim/{enroll(shelter, 'S-9')}")
    phone.get_by_role("button", name="Add to my account").click()
    hold(shelter, "S-9", "plan", label="Safety plan", value="Stay at my sister's")
    phone.goto(f"{base}/")
    expect(phone.get_by_text("Stay at my sister's")).to_be_visible()

    # The PIN is lost. On a new phone, the food shelf's fresh code resets it.
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-US")
    page = context.new_page()
    page.goto(f"{base}/claim/{fresh_code(org, 'A-1')}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new PIN")
    expect(page.get_by_text("maria")).to_have_count(0)
    page.get_by_label("Username").fill("maria")
    page.get_by_label("PIN", exact=True).fill(NEW_PIN)
    page.get_by_label("Confirm PIN").fill(NEW_PIN)
    page.get_by_role("button", name="Save new PIN").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your data")
    expect(page.get_by_text("612-555-0100")).to_be_visible()
    expect(page.get_by_text(shelter.name)).to_have_count(0)
    _fits_a_phone(page)

    # The access page lists the reset.
    page.get_by_role("link", name="Who looked at your record").first.click()
    expect(page.get_by_text(f"Your PIN was reset with a code from {org.name}")).to_be_visible()

    # The recovery code opens the shelter's records again, and a new code replaces it.
    page.goto(f"{base}/")
    page.get_by_role("link", name="Open them with your recovery code").click()
    _fits_a_phone(page)
    page.get_by_label("Recovery code").fill(recovery_code)
    page.get_by_role("button", name="Open my records").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your recovery code")
    assert page.locator(".recovery-card .code").inner_text() != recovery_code
    page.get_by_role("link", name="Continue to your data").click()
    expect(page.get_by_text("Stay at my sister's")).to_be_visible()
    context.close()
