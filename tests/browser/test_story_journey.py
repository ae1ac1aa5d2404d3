"""A participant on a small phone reads the exact words of a story about them, asks for a
change (the field is required, the error shows in place), approves the changed words, and later
withdraws the approval; the organization can publish only in between."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.factories import enroll_and_claim, purpose_body

pytestmark = pytest.mark.browser

FIRST = "Maria fixes bikes for the whole block."
SECOND = "Maria runs the block's repair club and teaches kids to fix their bikes."


def _tap(page, name):
    button = page.get_by_role("button", name=name, exact=True)
    box = button.bounding_box()
    assert box is not None and box["height"] >= 44 and box["width"] >= 44  # a thumb can hit it
    button.click()


def test_ask_for_changes_approve_and_withdraw_on_a_phone(db, org, live_server, phone):
    assert org.put("/api/v1/purposes/housing", purpose_body()).status_code == 201
    maria = enroll_and_claim(db, org, external_ref="A-1", username="maria")
    story = org.post(
        "/api/v1/participants/A-1/stories",
        {"title": "Bikes on our block", "text": FIRST, "use": {"en": "Our 2026 annual report"}},
    ).json()
    story_url = f"{live_server.url}/stories/{story['story_id']}"

    phone.goto(live_server.url + "/login")
    phone.get_by_label("Username").fill(maria.username)
    phone.get_by_label("PIN", exact=True).fill(maria.pin)
    phone.get_by_role("button", name="Log in").click()
    expect(phone).to_have_url(re.compile(r"/$"))

    phone.goto(story_url)
    expect(phone.get_by_role("heading", level=1)).to_have_text("Bikes on our block")
    expect(phone.locator(".story-text")).to_have_text(FIRST)
    expect(phone.get_by_text("Our 2026 annual report")).to_be_visible()

    # Ask for changes: the field is required, and the error sits by it.
    _tap(phone, "Ask for changes")
    expect(phone).to_have_title(re.compile(r"^Error:"))
    expect(phone.locator("#what_to_change-error")).to_contain_text("Say what to change.")
    phone.get_by_label("What to change").fill("Say I run the repair club.")
    _tap(phone, "Ask for changes")
    expect(phone.get_by_role("status")).to_contain_text("told what to change")
    expect(phone.get_by_role("status")).to_be_in_viewport()  # the confirmation is in sight

    # The organization changes the words; the participant reads them again and approves.
    changed = org.put(f"/api/v1/stories/{story['story_id']}", {"text": SECOND})
    assert changed.json()["state"] == "awaiting"
    assert (
        org.post(f"/api/v1/stories/{story['story_id']}/publish", {"where": "x"}).status_code == 409
    )
    phone.goto(story_url)
    expect(phone.locator(".story-text")).to_have_text(SECOND)
    _tap(phone, "Approve")
    expect(phone.get_by_role("status")).to_contain_text("may publish these exact words")
    published = org.post(
        f"/api/v1/stories/{story['story_id']}/publish", {"where": "Annual report, page 4"}
    )
    assert published.status_code == 200

    # Later: withdraw the approval.
    phone.goto(story_url)
    expect(phone.get_by_text("Published in Annual report, page 4")).to_be_visible()
    _tap(phone, "Withdraw approval")
    expect(phone.get_by_role("status")).to_contain_text("asked to take it down")
    expect(phone.get_by_role("button", name="Approve")).to_have_count(0)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scroll
    assert (
        org.post(f"/api/v1/stories/{story['story_id']}/publish", {"where": "x"}).status_code == 409
    )
    assert org.get(f"/api/v1/stories/{story['story_id']}").json()["state"] == "withdrawn"


def test_the_staff_story_pages_pass_the_audit_on_a_phone(db, org, live_server, phone):
    """English only (the participant's story page is audited in every language with the
    others, in test_accessibility.py): the list, the draft form with errors, the review with
    deficit words, and the org admin's list of words."""
    from tests.browser.a11y import Audit
    from tests.factories import PASSWORD, make_staff

    assert org.put("/api/v1/purposes/housing", purpose_body()).status_code == 201
    enroll_and_claim(db, org, external_ref="A-1", username="maria")
    make_staff(db, org, email="admin@northside.example", name="Ana", role="org_admin")
    audit = Audit(page=phone, locale="en")
    base = live_server.url
    phone.goto(f"{base}/staff/login")
    phone.get_by_label("Email").fill("admin@northside.example")
    phone.get_by_label("Password").fill(PASSWORD)
    phone.locator("main form[method=post] button[type=submit]").first.click()
    expect(phone).to_have_url(re.compile(r"/staff$"))

    phone.goto(f"{base}/staff/participants/A-1/stories")
    audit.check("staff: stories")
    phone.get_by_role("button", name="Ask the participant").click()
    expect(phone).to_have_title(re.compile(r"^Error:"))
    audit.check("staff: stories, with errors")
    phone.get_by_label("Title").fill("Maria at the food shelf")
    phone.get_by_label("What it is for").fill("Our grant application")
    phone.get_by_label("The exact words").fill("Maria was a victim of the flood.")
    phone.get_by_role("button", name="Ask the participant").click()
    expect(phone.locator("#deficit-words")).to_contain_text("victim")
    audit.check("staff: review a story")
    phone.goto(f"{base}/staff/org/story-words")
    audit.check("staff: words to watch for")
    audit.assert_clean()
