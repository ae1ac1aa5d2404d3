"""An org admin on a small phone defines a report in the browser, runs it and reads the
published table (no sideways scroll, thumb-sized buttons); the API reads the same run."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.organizations.service import create_staff, get_organization
from tests.factories import PASSWORD
from tests.reports.thirty import thirty  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser


def _thumb_sized(locator):
    box = locator.bounding_box()
    assert box is not None and box["height"] >= 44 and box["width"] >= 44, box


def test_define_run_and_read_a_report_on_a_phone(
    db,
    thirty,  # noqa: F811
    live_server,
    phone,
):
    create_staff(
        db,
        organization=get_organization(db, thirty.org.slug),
        email="grants@northside.example",
        role="org_admin",
        password=PASSWORD,
        name="Gail",
    )
    db.commit()
    phone.goto(live_server.url + "/staff/org/reports")
    expect(phone).to_have_url(re.compile(r"/staff/login"))
    phone.get_by_label("Email address").fill("grants@northside.example")
    phone.get_by_label("Password").fill(PASSWORD)
    phone.get_by_role("button", name="Log in").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Reports")

    phone.get_by_role("link", name="Define a report").click()
    phone.get_by_label("Short name", exact=True).fill("county")
    phone.get_by_role("group", name="Title").get_by_label("English").fill("Housing by age")
    phone.get_by_label("Who receives it").fill("Hennepin County")
    phone.get_by_label("Purpose it serves").select_option("housing")
    phone.get_by_label("Count by", exact=True).select_option("housing_situation")
    phone.get_by_label("And by (optional)").select_option("age_band")
    phone.get_by_label("From", exact=True).fill("2027-01-01")
    phone.get_by_label("To", exact=True).fill("2026-01-01")
    phone.get_by_role("button", name="Save report").click()
    # A period that ends before it starts: said in place, the answers kept.
    expect(phone).to_have_title(re.compile("^Error:"))
    expect(phone.locator("#period_from-error")).to_be_visible()
    expect(phone.get_by_label("Short name", exact=True)).to_have_value("county")
    phone.get_by_label("From", exact=True).fill("")
    phone.get_by_label("To", exact=True).fill("")
    phone.get_by_role("button", name="Save report").click()
    expect(phone.get_by_role("status")).to_contain_text("The report was saved.")

    run = phone.get_by_role("button", name="Run and publish")
    _thumb_sized(run)
    run.click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Housing by age")
    expect(phone.locator("#included")).to_have_text("20")
    expect(phone.locator("svg.chart")).to_be_visible()
    table = phone.locator("table")
    expect(table).to_contain_text("Housed")
    expect(table).to_contain_text("hidden")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scroll

    run_id = phone.url.rsplit("/", 1)[1]
    published = thirty.org.get(f"/api/v1/reports/county/runs/{run_id}").json()
    assert published["included"] == 20 and published["count_by"] == [
        "housing_situation",
        "age_band",
    ]
