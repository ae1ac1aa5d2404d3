"""An org admin on a small phone edits a purpose's Spanish title in the plan editor; the API
then reads exactly that (browser edit equals API read)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.organizations.service import create_staff, get_organization
from tests.factories import purpose_body

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
NEW_TITLE = "Compartir con el condado para encontrar vivienda"


def _assert_thumb_sized(locator):
    box = locator.bounding_box()
    assert box is not None and box["height"] >= 44 and box["width"] >= 44


def test_edit_a_spanish_title_in_the_browser_and_read_it_from_the_api(db, org, live_server, phone):
    assert org.put("/api/v1/purposes/housing", purpose_body()).status_code == 201
    version = org.get("/api/v1/purposes").json()["purposes"][0]["version"]
    create_staff(
        db,
        organization=get_organization(db, org.slug),
        email="ana@northside.example",
        role="org_admin",
        password=PASSWORD,
        name="Ana",
    )
    db.commit()

    phone.goto(live_server.url + "/staff/org/plan")
    expect(phone).to_have_url(re.compile(r"/staff/login"))
    phone.get_by_label("Email address").fill("ana@northside.example")
    phone.get_by_label("Password").fill(PASSWORD)
    phone.get_by_role("button", name="Log in").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Data collection plan")

    phone.get_by_role("link", name="Edit housing").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Edit purpose housing")
    title_es = phone.get_by_role("group", name="Title").get_by_label("Spanish")
    expect(title_es).to_have_value("Compartir con el condado para ayuda de vivienda")
    assert title_es.get_attribute("lang") == "es"  # read and spell-checked as Spanish
    title_es.fill(NEW_TITLE)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scroll

    save = phone.get_by_role("button", name="Save purpose")
    _assert_thumb_sized(save)
    save.click()
    expect(phone.get_by_role("status")).to_contain_text("Purpose housing saved.")

    purpose = org.get("/api/v1/purposes").json()["purposes"][0]
    assert purpose["title"] == {"en": purpose_body()["title"]["en"], "es": NEW_TITLE}
    assert purpose["version"] == version + 1
    assert purpose["recipients"][0]["reason"] == "housing referrals"  # the rest is kept

    # The other org admin pages fit the phone too.
    for path in ("/staff/org", "/staff/org/review", "/staff/org/keys", "/staff/org/endpoints"):
        phone.goto(live_server.url + path)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360, path
