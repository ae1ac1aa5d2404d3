"""/docs, the organization API's interactive reference, runs from our own files under the
strict CSP: it draws every operation, asks no other host for anything, and the browser
reports no violation."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_the_api_reference_draws_itself_from_our_own_files(live_server: Any, phone: Page) -> None:
    problems: list[str] = []
    phone.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    phone.on("pageerror", lambda exc: problems.append(str(exc)))
    hosts: set[str] = set()
    phone.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))

    phone.goto(f"{live_server.url}/docs")
    expect(
        phone.locator(".opblock-summary-path", has_text="/api/v1/purposes").first
    ).to_be_visible()
    assert phone.locator(".opblock").count() > 20  # every operation of the API
    # An operation opens to show its parameters, as Swagger UI does when it runs unhindered.
    phone.locator(".opblock-summary", has_text="/api/v1/events").first.click()
    expect(phone.locator(".opblock-body").first).to_be_visible()

    assert hosts == {urlsplit(live_server.url).netloc}, hosts
    assert not problems, problems
