"""The whole correction journey on a small phone (360 px) in Chromium: the participant asks for
a correction, the organization denies it through the API and the participant adds a statement
of disagreement (shown as text, never run); another correction is accepted and the new value
shows. Real webhook receivers on loopback get the holder's and the recipient's events."""

from __future__ import annotations

import json
import random
import re

import pytest
from playwright.sync_api import expect

from app.webhooks.delivery import DeliveryWorker
from tests.factories import (
    add_purpose,
    corrections,
    deliver,
    disclose,
    enroll,
    events,
    hold,
    resolve,
    shown_day,
)
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.browser

PIN = "482913"
HOSTILE = (
    '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2"> I never said that.'
)


def _tap(page, role, name):
    target = page.get_by_role(role, name=name, exact=True).first
    box = target.bounding_box()
    assert box is not None and box["height"] >= 44 and box["width"] >= 44  # a thumb can hit it
    target.click()


def _no_sideways_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


def test_correction_journey_on_a_phone(
    db, make_org, live_server, phone, engine, settings, receiver
):
    holder = make_org("northside", "Northside Food Shelf")
    recipient = make_org("eastside", "Eastside Housing")
    for org in (holder, recipient):
        assert (
            org.post("/api/v1/webhook-endpoints", {"url": receiver.url(f"/{org.slug}")}).status_code
            == 201
        )
    add_purpose(holder, recipients=[{"name": "Eastside Housing", "organization": "eastside"}])
    code = enroll(holder, "N-1")
    hold(holder, "N-1", "phone", label="Phone number", value="612-555-0100")
    hold(holder, "N-1", "address", label="Home address", value="12 Elm St")
    disclose(
        holder,
        "N-1",
        {"name": "Eastside Housing", "organization": "eastside"},
        ["phone", "address"],
    )
    worker = DeliveryWorker(engine, settings, rng=random.Random(1), timeout=2.0)
    dialogs: list[str] = []
    phone.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    # The participant makes an account with the organization's claim link.
    phone.goto(f"{live_server.url}/claim/{code}")
    phone.get_by_label("Username").fill("maria")
    phone.get_by_label("PIN", exact=True).fill(PIN)
    phone.get_by_label("Confirm PIN").fill(PIN)
    phone.get_by_role("button", name="Create account").click()
    phone.get_by_role("link", name="Continue to your data").click()
    expect(phone).to_have_url(re.compile(r"/\?added="))

    # 1. Request a correction of the phone number.
    phone_number = phone.locator("li.holding", has_text="Phone number")
    phone_number.get_by_role(
        "link", name="Request a correction", exact=True
    ).scroll_into_view_if_needed()
    box = phone_number.get_by_role("link", name="Request a correction", exact=True).bounding_box()
    assert box and box["height"] >= 44
    phone_number.get_by_role("link", name="Request a correction", exact=True).click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Request a correction")
    _no_sideways_scroll(phone)
    _tap(phone, "button", "Send request")  # empty: an error, in place
    expect(phone).to_have_title(re.compile(r"^Error:"))
    expect(phone.get_by_role("alert")).to_contain_text("Enter what it should say.")
    phone.get_by_label("What it should say").fill("612-555-0199")
    phone.get_by_label("Why").fill("I changed my number in May.")
    _tap(phone, "button", "Send request")
    phone_number = phone.locator("li.holding", has_text="Phone number")
    expect(phone_number.get_by_text("Correction requested")).to_be_visible()
    (requested,) = corrections(db)
    expect(phone_number.get_by_text(f"Due by {shown_day(requested.due_by)}")).to_be_visible()
    _no_sideways_scroll(phone)

    # The holder's receiver gets correction.requested.
    assert deliver(worker) == 1
    (sent,) = receiver.to("/northside")
    body = json.loads(sent.body)
    assert body["type"] == "correction.requested"
    assert body["data"]["correction"]["requested_value"] == "612-555-0199"

    # 2. The organization denies it; the participant sees why and adds a statement.
    assert (
        resolve(holder, requested.id, "denied", reason="Our intake form says 0100.").status_code
        == 200
    )
    phone.reload()
    phone_number = phone.locator("li.holding", has_text="Phone number")
    expect(phone_number.get_by_text("Our intake form says 0100.")).to_be_visible()
    _tap(phone_number, "link", "Add a statement")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Your statement")
    phone.get_by_label("Your statement").fill(HOSTILE)
    _tap(phone, "button", "Add statement")
    phone_number = phone.locator("li.holding", has_text="Phone number")
    expect(phone_number.get_by_text(HOSTILE)).to_be_visible()  # the markup, shown as text
    assert phone.evaluate("window.pwned") is None and dialogs == []
    _no_sideways_scroll(phone)

    assert deliver(worker) == 2  # statement.added to the holder and to Eastside
    (to_recipient,) = receiver.to("/eastside")
    body = json.loads(to_recipient.body)
    assert body["type"] == "statement.added" and body["data"]["statement"]["text"] == HOSTILE

    # 3. Another correction, accepted: the new value shows, and when.
    address = phone.locator("li.holding", has_text="Home address")
    _tap(address, "link", "Request a correction")
    phone.get_by_label("What it should say").fill("34 Oak Ave")
    phone.get_by_label("Why").fill("I moved.")
    _tap(phone, "button", "Send request")
    accepted = next(c for c in corrections(db) if c.status == "requested")
    assert resolve(holder, accepted.id, "accepted", reason="Thanks").status_code == 200
    phone.reload()
    address = phone.locator("li.holding", has_text="Home address")
    expect(address.get_by_text("34 Oak Ave")).to_be_visible()
    expect(address.get_by_text(re.compile(r"^Corrected on"))).to_be_visible()
    expect(phone.get_by_text("12 Elm St")).to_have_count(0)
    _no_sideways_scroll(phone)

    # The recipient's receiver gets data.corrected with the old and the new value.
    deliver(worker)
    corrected = [json.loads(r.body) for r in receiver.to("/eastside")]
    assert corrected[-1]["type"] == "data.corrected"
    assert corrected[-1]["data"]["holding"]["old_value"] == "12 Elm St"
    assert corrected[-1]["data"]["holding"]["new_value"] == "34 Oak Ave"
    assert len(events(db, type="data.corrected")) == 2
