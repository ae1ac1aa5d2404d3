"""The demo data meets a newcomer with every role: each printed login works, on every start."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.cli import main as cli_main
from app.config import Settings
from app.demo import (
    DEMO_NETWORK_ADMIN_EMAIL,
    DEMO_ORG_ADMIN_EMAIL,
    DEMO_PIN,
    DEMO_STAFF_EMAIL,
    DEMO_USERNAME,
    load_demo,
)
from tests.factories import login, page_csrf


def _log_in(client: TestClient, path: str, email: str, password: str) -> Any:
    token = page_csrf(client, path)
    return client.post(path, data={"email": email, "password": password, "csrf_token": token})


def _printed_logins(out: str) -> dict[str, tuple[str, str, str]]:
    """role → (login path, email, password) for every 'path  email / password' line printed."""
    found = {}
    for role, path, email, password in re.findall(
        r"^\s+(Case manager|Org admin|Network admin):\s+\S+?(/\S+)\s+(\S+@\S+) / (\S+)$",
        out,
        re.MULTILINE,
    ):
        found[role] = (path, email, password)
    return found


def test_every_demo_login_is_printed_and_works_on_every_start(
    engine: Any, settings: Settings, client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    assert load_demo(settings) is True
    first = capsys.readouterr().out
    assert load_demo(settings) is False  # the second start loads nothing, and says who is who
    again = capsys.readouterr().out
    assert "consent-portal org key --org northside" in again

    for out in (first, again):
        logins = _printed_logins(out)
        assert {role: email for role, (_, email, _) in logins.items()} == {
            "Case manager": DEMO_STAFF_EMAIL,
            "Org admin": DEMO_ORG_ADMIN_EMAIL,
            "Network admin": DEMO_NETWORK_ADMIN_EMAIL,
        }
        assert re.search(r"Participant:\s+\S+/login\s+username 'demo'\s+PIN '\d+'", out)

    homes = {"Case manager": "/staff", "Org admin": "/staff/org", "Network admin": "/admin"}
    for role, (path, email, password) in _printed_logins(again).items():
        response = _log_in(client, path, email, password)
        assert response.status_code == 303, (role, response.text[:300])
        assert client.get(homes[role]).status_code == 200, role
        client.cookies.clear()
    # A case manager is not an org admin.
    path, email, password = _printed_logins(again)["Case manager"]
    _log_in(client, path, email, password)
    assert client.get("/staff/org").status_code in (403, 404)


def test_org_key_makes_a_working_api_key(
    engine: Any, settings: Settings, client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    load_demo(settings)
    capsys.readouterr()
    assert cli_main(["org", "key", "--org", "northside"]) == 0
    key = re.search(r'"api_key": "([^"]+)"', capsys.readouterr().out)
    assert key is not None
    response = client.get("/api/v1/purposes", headers={"Authorization": f"Bearer {key[1]}"})
    assert response.status_code == 200
    assert response.json()["purposes"]
    assert cli_main(["org", "key", "--org", "nowhere"]) == 1


def test_the_demo_participant_meets_a_report_and_a_story(
    engine: Any, settings: Settings, client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    load_demo(settings)
    capsys.readouterr()
    assert login(client, DEMO_USERNAME, DEMO_PIN).status_code == 303
    home = client.get("/").text
    assert "Asks to tell your story: Cooking for four" in home
    page = client.get("/reports-and-stories").text
    counted = page.split('id="counted-you"', 1)[1].split("</section>", 1)[0]
    assert "Visits in 2026" in counted and "Second Harvest Heartland" in counted
    assert "Cooking for four" in page
