"""An organization without developers (no webhook endpoint) runs the whole loop in the browser
(CONTRACT §5), on a small phone and on a desktop: a case manager adds data on the participant's
record; the participant, in their own browser, asks for a correction; the case manager answers
it from **Requests to answer**, and the participant sees the new value and who answered. Then a
withdrawn consent marked as done, a correction denied and the participant's statement seen by
staff, and a disclosure without consent, warned about before it is saved and shown flagged."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD, Org, enroll, make_staff, purpose_body

pytestmark = pytest.mark.browser

PIN = "482913"
HOUSING = "Share with the county for housing help"  # purpose_body()'s title
VIEWPORTS = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1280, "height": 800}}
ANSWERED = "Your answer is saved. The participant can see it."


def _requests_to_answer(staff: Page, count: int) -> None:
    """Follow the staff bar's link to the list; its name carries the count, as it is now."""
    staff.get_by_role("link", name=re.compile(r"^Requests to answer")).click()
    expect(staff.get_by_role("heading", level=1)).to_have_text("Requests to answer")
    expect(staff.get_by_role("link", name=f"Requests to answer ({count})")).to_be_visible()
    expect(staff.locator("li.request")).to_have_count(count)


def _holding(participant: Page, label: str) -> Any:
    return participant.locator("li.holding", has_text=label)


@pytest.mark.parametrize("viewport", VIEWPORTS.values(), ids=VIEWPORTS.keys())
def test_staff_answer_requests_in_the_browser(
    db: Any, org: Org, live_server: Any, browser: Any, viewport: dict[str, int]
) -> None:
    base = live_server.url
    assert org.put("/api/v1/purposes/housing", purpose_body()).status_code == 201
    code = enroll(org, "N-1")
    make_staff(db, org, email="ana@northside.example", name="Ana Ruiz")
    contexts = [browser.new_context(viewport=viewport, locale="en-US") for _ in range(2)]
    try:
        for context in contexts:
            context.set_default_timeout(5_000)
        staff, me = (context.new_page() for context in contexts)

        # The participant claims the enrollment and gives the consent.
        me.goto(f"{base}/claim/{code}")
        me.get_by_label("Username").fill("maria")
        me.get_by_label("PIN", exact=True).fill(PIN)
        me.get_by_label("Confirm PIN").fill(PIN)
        me.get_by_role("button", name="Create account").click()
        me.get_by_role("link", name="Continue to your data").click()
        me.get_by_role("button", name="Give consent", exact=True).click()
        me.get_by_role("button", name="Give consent", exact=True).click()
        expect(me.get_by_role("status")).to_contain_text("You gave consent")

        # The case manager logs in and adds a holding through Add data.
        staff.goto(f"{base}/staff/login")
        staff.get_by_label("Email address").fill("ana@northside.example")
        staff.get_by_label("Password").fill(PASSWORD)
        staff.get_by_role("button", name="Log in").click()
        staff.get_by_role("link", name="N-1", exact=True).click()
        staff.get_by_role("link", name="Add data", exact=True).click()
        staff.get_by_label("Label").fill("Phone number")
        staff.get_by_label("Category").fill("contact")
        staff.get_by_label("Value").fill("612-555-0100")
        staff.get_by_label("Purpose").select_option(label=HOUSING)
        staff.get_by_label("Source").fill("Intake form")
        staff.get_by_role("button", name="Save", exact=True).click()
        expect(staff.get_by_role("status")).to_have_text(
            "Saved. The participant can now see this data."
        )

        # The participant sees it and asks for a correction.
        me.goto(f"{base}/")
        phone = _holding(me, "Phone number")
        expect(phone.get_by_text("612-555-0100")).to_be_visible()
        phone.get_by_role("link", name="Request a correction", exact=True).click()
        me.get_by_label("What it should say").fill("612-555-0199")
        me.get_by_label("Why").fill("I changed my number in May.")
        me.get_by_role("button", name="Send request").click()
        expect(_holding(me, "Phone number").get_by_text("Correction requested")).to_be_visible()

        # Staff accept it from Requests to answer, the new value prefilled.
        _requests_to_answer(staff, 1)
        staff.get_by_role("link", name=re.compile("Phone number to say 612-555-0199")).click()
        expect(staff.get_by_label("New value")).to_have_value("612-555-0199")
        staff.get_by_role("button", name="Accept", exact=True).click()
        expect(staff.get_by_role("status")).to_have_text(ANSWERED)
        # What is left: checking every copy says the new value (data.corrected).
        expect(staff.locator("li.request")).to_have_text(
            re.compile("Phone number was corrected to 612-555-0199")
        )

        me.reload()
        phone = _holding(me, "Phone number")
        expect(phone.get_by_text("612-555-0199")).to_be_visible()
        expect(phone.get_by_text("612-555-0100")).to_have_count(0)
        expect(
            phone.get_by_text(re.compile(r"^Answered by Ana Ruiz of Northside Food Shelf on "))
        ).to_be_visible()

        # The participant withdraws the consent; staff mark it as done.
        me.get_by_role("button", name="Withdraw consent", exact=True).click()
        me.get_by_role("button", name="Withdraw consent", exact=True).click()
        expect(me.get_by_role("status")).to_contain_text("You withdrew consent")
        staff.get_by_role("link", name="Participants", exact=True).click()
        _requests_to_answer(staff, 2)
        staff.get_by_role("link", name=re.compile("They withdrew their consent")).click()
        staff.get_by_label("Note").fill("We told Hennepin County.")
        staff.get_by_role("button", name="Mark as done", exact=True).click()
        expect(staff.get_by_role("status")).to_have_text(ANSWERED)
        me.reload()
        expect(
            me.locator("#history-section").get_by_text(
                re.compile("answered by Ana Ruiz of Northside Food Shelf")
            )
        ).to_be_visible()

        # A second correction, denied with a reason; the participant adds a statement.
        me.goto(f"{base}/")
        _holding(me, "Phone number").get_by_role(
            "link", name="Request a correction", exact=True
        ).click()
        me.get_by_label("What it should say").fill("612-555-0111")
        me.get_by_label("Why").fill("A typo.")
        me.get_by_role("button", name="Send request").click()
        _requests_to_answer(staff, 2)
        staff.get_by_role("link", name=re.compile("Phone number to say 612-555-0111")).click()
        staff.get_by_label("Reason").fill("You gave us 0199 last week.")
        staff.get_by_role("button", name="Deny", exact=True).click()
        expect(staff.get_by_role("status")).to_have_text(ANSWERED)

        me.reload()
        phone = _holding(me, "Phone number")
        expect(phone.get_by_text("You gave us 0199 last week.")).to_be_visible()
        phone.get_by_role("link", name="Add a statement").click()
        me.get_by_label("Your statement").fill("0111 is my number.")
        me.get_by_role("button", name="Add statement").click()
        expect(_holding(me, "Phone number").get_by_text("0111 is my number.")).to_be_visible()

        _requests_to_answer(staff, 2)
        statement = staff.locator("li.request", has_text="added a statement")
        expect(statement.get_by_text("0111 is my number.")).to_be_visible()

        # A disclosure without consent: warned before saving, then confirmed.
        staff.get_by_role("link", name="Participants", exact=True).click()
        staff.get_by_role("link", name="N-1", exact=True).click()
        staff.get_by_role("link", name="Record a disclosure", exact=True).click()
        staff.get_by_label("Recipient").fill("Hennepin County")
        staff.get_by_label("Purpose").select_option(label=HOUSING)
        staff.get_by_label("Phone number").check()
        staff.get_by_role("button", name="Save", exact=True).click()
        warning = staff.get_by_role("alert")
        expect(warning.get_by_role("heading")).to_have_text("This disclosure will be flagged")
        expect(staff.get_by_role("status")).to_have_count(0)  # nothing saved yet
        warning.get_by_role("button", name="Save", exact=True).click()
        expect(staff.get_by_role("status")).to_have_text(
            "The disclosure is recorded and flagged. The participant can see it."
        )

        me.reload()
        flagged = me.locator("li.disclosure.flagged", has_text="Hennepin County")
        expect(flagged.get_by_text("Shared without your consent.")).to_be_visible()
    finally:
        for context in contexts:
            context.close()
