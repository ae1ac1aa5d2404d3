"""A participant on a small phone gives consent, says no, and withdraws, two taps each from
the home page (the decision first, the notice below), and sees the receipt and the
organization's acknowledgement."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.factories import enroll_and_claim, purpose_body

pytestmark = pytest.mark.browser


def _tap(page, name):
    """The home page offers each choice as a button-styled link; a form button works too."""
    target = page.get_by_role("link", name=name, exact=True).or_(
        page.get_by_role("button", name=name, exact=True)
    )
    box = target.first.bounding_box()
    assert box is not None and box["height"] >= 44 and box["width"] >= 44  # a thumb can hit it
    target.first.click()


def test_give_and_withdraw_consent_on_a_phone(db, org, live_server, phone):
    assert org.put("/api/v1/purposes/housing", purpose_body()).status_code == 201
    maria = enroll_and_claim(db, org, external_ref="A-1", username="maria")

    phone.goto(live_server.url + "/login")
    phone.get_by_label("Username").fill(maria.username)
    phone.get_by_label("PIN", exact=True).fill(maria.pin)
    phone.get_by_role("button", name="Log in").click()
    expect(phone).to_have_url(re.compile(r"/$"))

    # Give: tap 1 on the home page, then tap 2 (the notice below it).
    _tap(phone, "Give consent")
    expect(phone.get_by_role("heading", level=1)).to_have_text(
        "Share with the county for housing help"
    )
    expect(phone.locator("#decision-button")).to_be_in_viewport()  # no scrolling to decide
    for words in (
        "How to reach you, Household",
        "Hennepin County",
        "1 year",
        "You may say no.",
        "If you say no: You still get food from us.",
    ):
        expect(phone.get_by_text(words, exact=False).first).to_be_visible()
    # Saying no first is a choice of its own; the history below updates with it.
    _tap(phone, "Don't give consent")
    expect(phone.get_by_role("status")).to_contain_text("You did not give consent")
    expect(phone.locator("#history-section .state-refused")).to_have_count(1)
    _tap(phone, "Give consent")
    expect(phone.get_by_role("status")).to_contain_text("You gave consent")
    expect(phone.locator("#history-section .state-given")).to_have_count(1)

    # Withdraw: the same two taps from the home page.
    phone.goto(live_server.url + "/")
    _tap(phone, "Withdraw consent")
    expect(phone.locator("#decision-button")).to_be_in_viewport()
    _tap(phone, "Withdraw consent")
    expect(phone.get_by_role("status")).to_contain_text("must stop using and sharing")

    # The organization was asked to stop, and has not answered yet: the history says so too.
    history = phone.locator("#history-section")
    expect(history.get_by_text("You withdrew consent").first).to_be_visible()
    expect(history.get_by_text(re.compile(r"Waiting, due by")).first).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scroll

    # The newest change's receipt.
    phone.get_by_role("link", name=re.compile(r"^Receipt")).first.click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Consent receipt")
    expect(phone.get_by_role("heading", name="You withdrew consent")).to_be_visible()
    expect(phone.get_by_text("Waiting, due by", exact=False).first).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
