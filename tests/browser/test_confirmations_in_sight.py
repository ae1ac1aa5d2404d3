"""Without JavaScript, on a small phone (360×740): after a form is sent, the page the redirect
lands on shows its confirmation in sight, next to what changed, not at the top of a page
scrolled away to the changed item's fragment."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from app.disclosures.models import Disclosure
from tests.factories import PIN, add_purpose, disclose, enroll, hold

pytestmark = pytest.mark.browser

LONG = "I am good with numbers and I keep the books for my aunt's shop every week. " * 6


def _in_sight(page, locator) -> None:
    box = locator.bounding_box()
    assert box is not None, "no confirmation"
    assert box["y"] >= 0 and box["y"] + box["height"] <= 740, box
    assert 0 <= box["x"] and box["x"] + box["width"] <= 360, box


@pytest.fixture
def no_script_phone(browser):
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, locale="en-US", java_script_enabled=False
    )
    page = context.new_page()
    yield page
    context.close()


def test_confirmations_are_in_sight_without_javascript(db, make_org, live_server, no_script_phone):
    phone, url = no_script_phone, live_server.url
    org = make_org("northside", "Northside Food Shelf")
    add_purpose(org)
    code = enroll(org, "N-1")
    hold(org, "N-1", "phone", label="Phone number", value="612-555-0100")
    disclose(org, "N-1", {"name": "Hennepin County"}, ["phone"])  # no consent: flagged

    phone.goto(f"{url}/claim/{code}")
    phone.get_by_label("Username").fill("maria")
    phone.get_by_label("PIN", exact=True).fill(PIN)
    phone.get_by_label("Confirm PIN").fill(PIN)
    phone.get_by_role("button", name="Create account").click()

    # Your own words: the third note saved lands at #note-ID, below the first two.
    for _ in range(3):
        phone.goto(f"{url}/context/new")
        phone.get_by_label("A strength").check()
        phone.get_by_label("In your own words").fill(LONG)
        phone.get_by_label("Northside Food Shelf").check()
        phone.get_by_role("button", name="Save").click()
    expect(phone).to_have_url(re.compile(r"/context\?saved=ctx[^#]*#note-"))
    _in_sight(phone, phone.get_by_role("status").filter(has_text="Saved."))

    # A concern: the second one lands at #concern-ID, below the first.
    disclosure = db.exec(select(Disclosure)).one()
    for text in (LONG, "They shared my phone number again."):
        phone.goto(f"{url}/disclosures/{disclosure.id}/concern")
        phone.get_by_label("What happened").fill(text)
        phone.get_by_role("button", name="Raise a concern").click()
    expect(phone).to_have_url(re.compile(r"\?raised=cnc[^#]*#concern-"))
    _in_sight(phone, phone.get_by_role("status").filter(has_text="Your concern was sent"))

    # The account's PIN: the page opens at its top, where the Log in section is.
    phone.goto(f"{url}/account/pin")
    phone.get_by_label("Current PIN").fill(PIN)
    phone.get_by_label("New PIN", exact=True).fill("739164")
    phone.get_by_label("Confirm new PIN").fill("739164")
    phone.get_by_role("button", name=re.compile("PIN")).click()
    expect(phone).to_have_url(re.compile(r"/account\?changed=pin"))
    _in_sight(phone, phone.get_by_role("status").filter(has_text="Your new PIN is saved"))
