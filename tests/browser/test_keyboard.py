"""Every participant journey done with the keyboard alone, on a small phone's screen: claim,
log in, give and withdraw consent, request a correction. Tab moves from control to control,
Enter acts; no mouse, no click(). Every control that takes focus on the way shows it, an error
summary takes focus when a form comes back with errors, and its links lead to the fields."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.factories import PIN, Org, add_purpose, enroll, enroll_and_claim, hold

pytestmark = pytest.mark.browser

# What makes focus visible in portal.css: an outline, a box-shadow ring, or both.
FOCUS_SHOWN = """e => {
  const s = getComputedStyle(e);
  return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2) || s.boxShadow !== 'none';
}"""
IS_FOCUSED = "e => e === document.activeElement"


def tab_to(page: Page, target: Locator, *, backwards: bool = False, limit: int = 250) -> None:
    """Press Tab (or Shift+Tab) until `target` has focus; every stop on the way must show it."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(limit):
        page.keyboard.press(key)
        focused = page.locator(":focus")
        if focused.count() == 1:
            shown = focused.evaluate(FOCUS_SHOWN)
            assert shown, "no visible focus on " + focused.evaluate(
                "e => e.outerHTML.slice(0, 120)"
            )
        if target.evaluate(IS_FOCUSED):
            return
    raise AssertionError(f"{key} never reached {target}")


def type_into(page: Page, field: Locator, text: str) -> None:
    """Tab to a field and type, as a keyboard does (no fill())."""
    tab_to(page, field)
    page.keyboard.type(text)


def expect_error_summary_focused(page: Page) -> None:
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.locator("#error-summary")).to_be_focused()


def follow_error_link(page: Page, field: str) -> None:
    """From the focused error summary, Tab to the message's link, Enter: the field has focus."""
    tab_to(page, page.locator(f'#error-summary a[href="#{field}"]'))
    page.keyboard.press("Enter")
    expect(page.locator(f"#{field}")).to_be_focused()


@pytest.fixture
def northside(org: Org) -> Org:
    add_purpose(org)
    return org


def test_skip_link_comes_first_and_moves_focus_to_the_content(
    live_server: Any, phone: Page
) -> None:
    phone.goto(f"{live_server.url}/login")
    phone.keyboard.press("Tab")
    skip = phone.locator(".skip-link")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box and box["x"] >= 0 and box["y"] >= 0 and box["height"] >= 44  # on screen
    phone.keyboard.press("Enter")
    expect(phone.locator("#main")).to_be_focused()
    phone.keyboard.press("Tab")
    expect(phone.locator("#username")).to_be_focused()  # the first field, not the header


def test_claim_by_keyboard(live_server: Any, phone: Page, northside: Org) -> None:
    code = enroll(northside, "N-1")
    phone.goto(f"{live_server.url}/claim")
    type_into(phone, phone.locator("#code"), code)
    phone.keyboard.press("Enter")
    expect(phone).to_have_url(f"{live_server.url}/claim/{code}")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Create your account")

    # Sent with no username: the summary takes focus and leads to the field.
    type_into(phone, phone.locator("#pin"), PIN)
    type_into(phone, phone.locator("#confirm_pin"), PIN)
    tab_to(phone, phone.get_by_role("button", name="Create account"))
    phone.keyboard.press("Enter")
    expect_error_summary_focused(phone)
    follow_error_link(phone, "username")
    phone.keyboard.type("maria")
    type_into(phone, phone.locator("#pin"), PIN)
    type_into(phone, phone.locator("#confirm_pin"), PIN)
    phone.keyboard.press("Enter")
    # The recovery code is shown once; the way on is reached by keyboard too.
    expect(phone.get_by_role("heading", level=1)).to_have_text("Your recovery code")
    tab_to(phone, phone.get_by_role("link", name="Continue to your data"))
    phone.keyboard.press("Enter")
    expect(phone).to_have_url(re.compile(r"/\?added="))
    expect(phone.get_by_role("status")).to_contain_text(
        f"{northside.name} was added to your account."
    )


def test_log_in_by_keyboard(live_server: Any, phone: Page, db: Any, northside: Org) -> None:
    maria = enroll_and_claim(db, northside, external_ref="N-1", username="maria")
    phone.goto(f"{live_server.url}/login")
    type_into(phone, phone.locator("#username"), maria.username)
    tab_to(phone, phone.get_by_role("button", name="Log in"))
    phone.keyboard.press("Enter")
    expect_error_summary_focused(phone)
    expect(phone.locator("#username")).to_have_value("maria")  # the answer is kept
    follow_error_link(phone, "pin")
    phone.keyboard.type(maria.pin)
    phone.keyboard.press("Enter")
    expect(phone).to_have_url(f"{live_server.url}/")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Your data")


def _logged_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    type_into(page, page.locator("#username"), username)
    type_into(page, page.locator("#pin"), PIN)
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{base}/")


def test_give_and_withdraw_consent_by_keyboard(
    live_server: Any, phone: Page, db: Any, northside: Org
) -> None:
    maria = enroll_and_claim(db, northside, external_ref="N-1", username="maria")
    _logged_in(phone, live_server.url, maria.username)
    consent = phone.locator("#consent-northside-housing")

    # Give: the home page's button, then the notice's button.
    tab_to(phone, consent.get_by_role("button", name="Give consent"))
    phone.keyboard.press("Enter")
    expect(phone.get_by_role("heading", level=1)).to_have_text(
        "Share with the county for housing help"
    )
    tab_to(phone, phone.locator("#decision-button"))
    phone.keyboard.press("Enter")
    expect(phone.get_by_role("status")).to_contain_text("You gave consent")
    expect(phone.locator("#decision")).to_be_focused()  # the swap moved focus to the news

    # Back to the home page by keyboard, then withdraw the same way.
    tab_to(phone, phone.get_by_role("link", name="Back to your data"), backwards=True)
    phone.keyboard.press("Enter")
    expect(consent).to_contain_text("Given")
    tab_to(phone, consent.get_by_role("button", name="Withdraw consent"))
    phone.keyboard.press("Enter")
    tab_to(phone, phone.locator("#decision-button"))
    expect(phone.locator("#decision-button")).to_have_text("Withdraw consent")
    phone.keyboard.press("Enter")
    expect(phone.get_by_role("status")).to_contain_text("You withdrew consent")
    expect(phone.locator("#decision")).to_be_focused()


def test_request_a_correction_by_keyboard(
    live_server: Any, phone: Page, db: Any, northside: Org
) -> None:
    maria = enroll_and_claim(db, northside, external_ref="N-1", username="maria")
    hold(northside, "N-1", "phone", label="Phone number", value="612-555-0100")
    _logged_in(phone, live_server.url, maria.username)
    holding = phone.locator("li.holding", has_text="Phone number")

    tab_to(phone, holding.get_by_role("link", name="Request a correction"))
    phone.keyboard.press("Enter")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Request a correction")
    send = phone.get_by_role("button", name="Send request")
    tab_to(phone, send)
    phone.keyboard.press("Enter")  # nothing filled in
    expect_error_summary_focused(phone)
    follow_error_link(phone, "requested_value")
    phone.keyboard.type("612-555-0199")
    type_into(phone, phone.locator("#reason"), "I changed my number in May.")
    tab_to(phone, send)
    phone.keyboard.press("Enter")

    expect(phone).to_have_url(re.compile(r"/\?sent="))
    holding = phone.locator("li.holding", has_text="Phone number")
    expect(holding.get_by_role("status")).to_contain_text("Your request was sent")
    expect(holding.get_by_text("Correction requested")).to_be_visible()


def test_show_a_sensitive_value_by_keyboard(
    live_server: Any, phone: Page, db: Any, northside: Org
) -> None:
    """Show swaps the value in place (HTMX) and moves focus to it, so a screen reader reads it
    out at once; nothing else on the page moves."""
    maria = enroll_and_claim(db, northside, external_ref="N-1", username="maria")
    hold(northside, "N-1", "hiv", label="HIV status", category="health", value="Positive")
    _logged_in(phone, live_server.url, maria.username)
    holding = phone.locator("li.holding", has_text="HIV status")
    expect(holding).not_to_contain_text("Positive")
    url = phone.url

    tab_to(phone, holding.get_by_role("button", name="Show"))
    phone.keyboard.press("Enter")
    value = holding.locator(".value")
    expect(value).to_contain_text("Positive")
    expect(value).to_be_focused()
    assert phone.url == url  # swapped in place, no page load
    tab_to(phone, holding.get_by_role("link", name="Hide"))
