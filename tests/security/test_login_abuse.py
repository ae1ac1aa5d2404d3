"""Guessers are stopped without locking the owner out.

Found in a review: one client tried one PIN on 500 usernames unchecked (password spraying); a
claim code answered "that username is taken" to 100 probes in 0.3 s; five wrong PINs from
anyone locked the real owner out; in participant mode the device could lock the case
manager's own login. Now: limits per client and overall beside the per-username one, claim
attempts per code and per client, a device that signed in before keeps working with the
right PIN, and taking a device back has its own limit."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.participants.service import OVERALL_LIMIT, LockedOut, authenticate
from app.security.devices import DEVICE_COOKIE
from tests.factories import PIN, claim, csrf_from, enroll, login, logout, page_csrf

WRONG_PIN = "000111"


def test_one_client_spraying_one_pin_over_many_usernames_is_stopped(client, housing_org, app):
    assert claim(client, enroll(housing_org, "A-1"), username="maria").status_code == 200
    with TestClient(app, follow_redirects=False) as sprayer:
        answers = [login(sprayer, f"user{i}", WRONG_PIN).status_code for i in range(25)]
        assert answers[:19] == [400] * 19  # each username tried once: no username lock
        assert set(answers[19:]) == {429}
        # This client is refused even a right PIN now, and told why.
        refused = login(sprayer, "maria", PIN)
        assert refused.status_code == 429 and "from this connection" in refused.text
    # Another client (here: the owner's own phone) is not affected.
    logout(client)
    assert login(client, "maria", PIN).status_code == 303


def test_spraying_from_many_clients_pauses_logins_from_new_devices(db, housing_org, client):
    assert claim(client, enroll(housing_org, "A-1"), username="maria").status_code == 200
    for i in range(OVERALL_LIMIT):
        try:
            authenticate(
                db, username=f"user{i}", pin=WRONG_PIN, client=f"10.0.{i // 250}.{i % 250}"
            )
        except LockedOut as locked:
            assert i == OVERALL_LIMIT - 1 and locked.reason == "overall"
    try:
        authenticate(db, username="maria", pin=PIN, client="10.9.9.9")
    except LockedOut as locked:
        assert locked.reason == "overall"
    else:
        raise AssertionError("logins from new devices should be paused")
    # The owner's phone, which signed in before, still gets in.
    device = client.cookies.get(DEVICE_COOKIE)
    from app.config import get_settings

    owner = authenticate(
        db,
        username="maria",
        pin=PIN,
        client="10.9.9.9",
        device=device,
        secret_key=get_settings().secret_key,
    )
    assert owner is not None and owner.username == "maria"


def test_a_strangers_guesses_do_not_lock_the_owners_phone(client, housing_org, app):
    assert claim(client, enroll(housing_org, "A-1"), username="maria").status_code == 200
    logout(client)  # the phone keeps its device cookie
    with TestClient(app, follow_redirects=False) as stranger:
        for _ in range(5):
            login(stranger, "maria", WRONG_PIN)
        assert login(stranger, "maria", PIN).status_code == 429  # locked for strangers
    assert login(client, "maria", PIN).status_code == 303  # the owner's phone works


def test_a_known_device_is_still_stopped_from_guessing(client, housing_org):
    assert claim(client, enroll(housing_org, "A-1"), username="maria").status_code == 200
    logout(client)
    for _ in range(4):
        assert login(client, "maria", WRONG_PIN).status_code == 400
    assert login(client, "maria", WRONG_PIN).status_code == 429
    refused = login(client, "maria", PIN)
    assert refused.status_code == 429 and "paused until" in refused.text


def test_a_device_cookie_for_another_account_counts_for_nothing(client, housing_org, app):
    assert claim(client, enroll(housing_org, "A-1"), username="maria").status_code == 200
    borrowed = client.cookies.get(DEVICE_COOKIE)
    with TestClient(app, follow_redirects=False) as other:
        assert claim(other, enroll(housing_org, "A-2"), username="jordan").status_code == 200
        logout(other)
        other.cookies.set(DEVICE_COOKIE, borrowed)  # maria's phone's token, tried for jordan
        for _ in range(5):
            login(other, "jordan", WRONG_PIN)
        assert login(other, "jordan", PIN).status_code == 429


def test_a_claim_code_cannot_probe_usernames_at_speed(client, housing_org, app):
    assert claim(client, enroll(housing_org, "A-1"), username="maria").status_code == 200
    code = enroll(housing_org, "A-2")
    with TestClient(app, follow_redirects=False) as prober:
        answers = []
        for _ in range(12):
            r = prober.post(
                f"/claim/{code}",
                data={
                    "csrf_token": page_csrf(prober, "/claim"),
                    "username": "maria",
                    "pin": "12",
                    "confirm_pin": "12",
                },
            )
            answers.append(r.status_code)
            if r.status_code == 400:
                assert "That username is taken" in r.text
        assert answers[:9] == [400] * 9 and set(answers[9:]) == {429}
    # The code is paused for everyone for a while, not used up.
    assert "Too many tries" in client.get(f"/claim/{code}").text


def test_unknown_codes_from_one_client_are_paused(client, app):
    answers = [client.get(f"/claim/AAAA-BBBB-{i:04d}").status_code for i in range(22)]
    assert answers[:19] == [404] * 19 and answers[-1] == 429
    assert "Too many tries" in client.get("/claim/AAAA-BBBB-CCCC").text


def test_taking_the_device_back_has_its_own_limit(db, org, client, app):
    from tests.factories import PASSWORD, make_staff, staff_log_in
    from tests.staff.test_intake import _plan, _start

    _plan(org)
    staff = make_staff(db, org)
    staff_log_in(client, staff.email)
    first = _start(client, "C-300", "en")
    page = client.get(first)
    base = first.rsplit("/consent", 1)[0]
    client.post(base + "/handover", data={"step": "1", "csrf_token": csrf_from(page.text)})
    token = csrf_from(client.get(base + "/finish").text)
    for _ in range(6):
        client.post(base + "/take-back", data={"password": "nope", "csrf_token": token})
    # The hand-over is paused; the case manager's own login is not.
    assert (
        client.post(
            base + "/take-back", data={"password": PASSWORD, "csrf_token": token}
        ).status_code
        == 400
    )
    with TestClient(app, follow_redirects=False) as desk:
        assert staff_log_in(desk, staff.email).status_code == 303
