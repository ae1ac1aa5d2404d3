"""A claim code proves a person to its own organization only (CONTRACT.md section 7).

A fresh code from one organization resets a lost PIN, but opens that organization's records
alone: the others stay sealed until the participant's recovery code, or each organization's
own fresh code, opens them. The code never shows the username; every reset is on the access
page. (Found in a review: a food shelf's key could open a shelter's records this way.)"""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.factories import PIN, Org, csrf_from, enroll, fresh_code, hold, login, page_csrf

NEW_PIN = "739164"
RECOVERY = re.compile(r'<strong class="code">([A-Z0-9-]+)</strong>')


def _sign_up(client: TestClient, code: str, username: str = "maria") -> str:
    """Create the account with the first code; returns the recovery code it shows once."""
    page = client.post(
        f"/claim/{code}",
        data={
            "csrf_token": page_csrf(client, f"/claim/{code}"),
            "username": username,
            "pin": PIN,
            "confirm_pin": PIN,
        },
    )
    assert page.status_code == 200, page.text
    found = RECOVERY.search(page.text)
    assert found, "the new account's page shows its recovery code"
    assert username in page.text  # on the same paper as the username
    return found.group(1)


def _add(client: TestClient, code: str) -> None:
    r = client.post(f"/claim/{code}", data={"csrf_token": page_csrf(client, f"/claim/{code}")})
    assert r.status_code == 303, r.text


def _reset(client: TestClient, code: str, username: str = "maria") -> object:
    return client.post(
        f"/claim/{code}",
        data={
            "csrf_token": page_csrf(client, "/claim"),
            "username": username,
            "pin": NEW_PIN,
            "confirm_pin": NEW_PIN,
        },
    )


def _two_organizations(client: TestClient, make_org, housing_org: Org) -> tuple[Org, str]:
    """Maria holds records at the food shelf (A-1) and at a shelter (S-9)."""
    shelter = make_org("safe-harbor", "Safe Harbor Shelter")
    from tests.factories import purpose_body

    assert shelter.put("/api/v1/purposes/housing", purpose_body()).status_code == 201
    recovery_code = _sign_up(client, enroll(housing_org, "A-1"))
    _add(client, enroll(shelter, "S-9"))
    hold(housing_org, "A-1", "phone", value="612-555-0100")
    hold(shelter, "S-9", "safety_plan", label="Safety plan", value="Stay at my sister's")
    return shelter, recovery_code


def test_a_reset_opens_only_the_codes_organization(client, make_org, housing_org, app):
    shelter, _recovery = _two_organizations(client, make_org, housing_org)
    code = fresh_code(housing_org, "A-1")  # e.g. a leaked key of the food shelf
    with TestClient(app, follow_redirects=False) as stranger:
        page = stranger.get(f"/claim/{code}")
        assert page.status_code == 200 and "Choose a new PIN" in page.text
        assert "maria" not in page.text  # the code alone never shows the username
        assert _reset(stranger, code).status_code == 303
        home = stranger.get("/")
        assert home.status_code == 200
        assert housing_org.name in home.text and "612-555-0100" in home.text
        assert shelter.name not in home.text and "sister" not in home.text
        download = stranger.get("/download")
        assert download.status_code == 200
        assert "safe-harbor" not in download.text and "sister" not in download.text
        printable = stranger.get("/download/print").text
        assert shelter.name not in printable and "sister" not in printable
        # The reset is on the access page, naming the organization whose code was used.
        access = stranger.get("/access").text
        assert f"Your PIN was reset with a code from {housing_org.name}" in access
        assert shelter.name not in access
        # Pages over the whole account wait until it is opened.
        assert stranger.get("/context").headers["location"] == "/account/recovery"
        assert stranger.get("/account/close").headers["location"] == "/account/recovery"
        made = stranger.post(
            "/account/recovery-code", data={"csrf_token": page_csrf(stranger, "/account")}
        )
        assert made.status_code == 303 and made.headers["location"] == "/account/recovery"


def test_an_earlier_reset_with_a_closed_organizations_code_is_not_shown(
    client, make_org, housing_org
):
    """Maria once reset her PIN with the shelter's code; then someone resets it with the food
    shelf's. The access page must not name the shelter through that earlier reset."""
    shelter, _recovery = _two_organizations(client, make_org, housing_org)
    client.cookies.clear()
    assert _reset(client, fresh_code(shelter, "S-9")).status_code == 303
    assert shelter.name in client.get("/access").text  # hers, and open
    client.cookies.clear()
    assert _reset(client, fresh_code(housing_org, "A-1")).status_code == 303
    access = client.get("/access").text
    assert f"Your PIN was reset with a code from {housing_org.name}" in access
    assert shelter.name not in access


def test_the_recovery_code_opens_the_rest_and_is_replaced(client, make_org, housing_org):
    shelter, recovery_code = _two_organizations(client, make_org, housing_org)
    client.cookies.clear()
    assert _reset(client, fresh_code(housing_org, "A-1")).status_code == 303
    assert shelter.name not in client.get("/").text
    notice = client.get("/").text
    assert "Open them with your recovery code" in notice

    token = page_csrf(client, "/account/recovery")
    wrong = client.post(
        "/account/recovery", data={"csrf_token": token, "recovery_code": "AAAA-BBBB-CCCC-DDDD"}
    )
    assert wrong.status_code == 400 and "not right" in wrong.text
    typed = recovery_code.lower().replace("-", " ")  # read forgivingly, like claim codes
    opened = client.post("/account/recovery", data={"csrf_token": token, "recovery_code": typed})
    assert opened.status_code == 200
    new_code = RECOVERY.search(opened.text)
    assert new_code and new_code.group(1) != recovery_code
    home = client.get("/").text
    assert shelter.name in home and "sister" in home
    assert "Open them with your recovery code" not in home
    assert "opened again with your recovery code" in client.get("/access").text

    # The used code stops working; the new one works the next time.
    client.cookies.clear()
    assert _reset(client, fresh_code(housing_org, "A-1")).status_code == 303
    token = page_csrf(client, "/account/recovery")
    again = client.post(
        "/account/recovery", data={"csrf_token": token, "recovery_code": recovery_code}
    )
    assert again.status_code == 400
    ok = client.post(
        "/account/recovery", data={"csrf_token": token, "recovery_code": new_code.group(1)}
    )
    assert ok.status_code == 200 and shelter.name in client.get("/").text


def test_each_organizations_own_fresh_code_opens_its_records(client, make_org, housing_org):
    shelter, _recovery = _two_organizations(client, make_org, housing_org)
    client.cookies.clear()
    assert _reset(client, fresh_code(housing_org, "A-1")).status_code == 303
    code = fresh_code(shelter, "S-9")
    page = client.get(f"/claim/{code}")
    assert page.status_code == 200 and "Open these records" in page.text
    opened = client.post(f"/claim/{code}", data={"csrf_token": csrf_from(page.text)})
    assert opened.status_code == 303 and "opened=" in opened.headers["location"]
    assert "sister" in client.get("/").text
    assert f"The records of {shelter.name} were opened again" in client.get("/access").text


def test_a_wrong_username_on_a_reset_changes_nothing_and_is_counted(client, housing_org, app):
    _sign_up(client, enroll(housing_org, "A-1"))
    code = fresh_code(housing_org, "A-1")
    with TestClient(app, follow_redirects=False) as stranger:
        for i in range(9):
            r = _reset(stranger, code, username=f"guess{i}")
            assert r.status_code == 400 and "not the username of this account" in r.text
        paused = _reset(stranger, code, username="guess9")
        assert paused.status_code == 429 and "Too many tries" in paused.text
        # The code itself is paused now, even with the right username.
        assert _reset(stranger, code).status_code == 429
    client.cookies.clear()
    assert login(client, "maria", PIN).status_code == 303  # the PIN was not changed


def test_recovery_code_guesses_are_paused(client, make_org, housing_org):
    _two_organizations(client, make_org, housing_org)
    client.cookies.clear()
    assert _reset(client, fresh_code(housing_org, "A-1")).status_code == 303
    token = page_csrf(client, "/account/recovery")
    for _ in range(4):
        r = client.post(
            "/account/recovery", data={"csrf_token": token, "recovery_code": "AAAA-BBBB-CCCC-DDDD"}
        )
        assert r.status_code == 400 and "not right" in r.text
    r = client.post(
        "/account/recovery", data={"csrf_token": token, "recovery_code": "AAAA-BBBB-CCCC-DDDD"}
    )
    assert r.status_code == 400 and "paused until" in r.text


def test_an_open_account_can_make_a_new_recovery_code(client, housing_org):
    first = _sign_up(client, enroll(housing_org, "A-1"))
    account = client.get("/account/recovery")
    assert "Make a new recovery code" in account.text
    made = client.post("/account/recovery-code", data={"csrf_token": csrf_from(account.text)})
    assert made.status_code == 200
    second = RECOVERY.search(made.text)
    assert second and second.group(1) != first
    assert "A new recovery code was made" in client.get("/access").text
