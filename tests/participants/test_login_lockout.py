"""Logging in, and the lock against PIN guessing: after 5 wrong PINs for a username, logging
in as it is refused for 15 minutes, even with the right PIN, and the page says until when."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from passlib.context import CryptContext
from sqlmodel import select

from app.db import utcnow
from app.participants.service import LOGIN_SCOPE
from app.security import passwords, throttle
from app.security.devices import DEVICE_COOKIE
from app.security.models import LoginThrottle, WebSession
from tests.factories import PIN, login, logout

WRONG_PIN = "000111"


def _stranger(client: TestClient) -> None:
    """Log out and forget that this browser signed in before: a stranger's device."""
    logout(client)
    client.cookies.delete(DEVICE_COOKIE)


def _throttle(db, key: str) -> LoginThrottle | None:
    db.expire_all()
    return db.exec(select(LoginThrottle).where(LoginThrottle.key == key)).first()


def test_login_page_has_username_pin_and_log_in(client):
    html = client.get("/login").text
    assert '<label for="username">Username</label>' in html
    assert '<label for="pin">PIN</label>' in html
    assert ">Log in</button>" in html


def test_right_pin_logs_in_and_goes_home(client, person):
    logout(client)
    response = login(client, person.username, person.pin)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert client.get("/").status_code == 200


def test_wrong_pin_and_unknown_username_get_the_same_answer(client, person):
    logout(client)
    wrong_pin = login(client, person.username, WRONG_PIN)
    unknown = login(client, "nobody-here", WRONG_PIN)
    assert wrong_pin.status_code == unknown.status_code == 400
    message = "The username or PIN is not right."
    assert message in wrong_pin.text and message in unknown.text
    assert 'value="maria"' in wrong_pin.text  # the username is kept, the PIN is not
    assert WRONG_PIN not in wrong_pin.text


def test_five_wrong_pins_lock_the_username_for_15_minutes(client, person, db):
    _stranger(client)
    for _ in range(4):
        assert login(client, person.username, WRONG_PIN).status_code == 400
    locked = login(client, person.username, WRONG_PIN)
    assert locked.status_code == 429
    row = _throttle(db, person.username)
    assert row is not None and row.failures == 5
    assert row.locked_until is not None
    assert timedelta(minutes=14) < row.locked_until - utcnow() <= timedelta(minutes=15)
    # The page says until when (in the network's time zone, labelled) and how long.
    until = row.locked_until.strftime("%Y-%m-%dT%H:%M")
    assert re.search(
        rf'<time datetime="{until}:\d\d\+00:00">[^<]+ \(Central Time\)</time>', locked.text
    )
    assert "in 15 minutes" in locked.text

    # Even the right PIN is refused while locked, and no session is started.
    refused = login(client, person.username, person.pin)
    assert refused.status_code == 429
    assert "paused until" in refused.text
    assert client.get("/").status_code == 303
    db.expire_all()
    assert db.exec(select(WebSession).where(WebSession.revoked_at.is_(None))).all() == []  # type: ignore[union-attr]


def test_the_lock_ends_after_15_minutes(client, person, db):
    _stranger(client)
    for _ in range(5):
        login(client, person.username, WRONG_PIN)
    row = _throttle(db, person.username)
    row.locked_until = utcnow() - timedelta(seconds=1)  # as if 15 minutes had passed
    db.add(row)
    db.commit()
    assert login(client, person.username, person.pin).status_code == 303
    assert _throttle(db, person.username) is None  # a right PIN clears the count


def test_a_right_pin_before_the_fifth_clears_the_count(client, person, db):
    _stranger(client)
    for _ in range(4):
        login(client, person.username, WRONG_PIN)
    assert login(client, person.username, person.pin).status_code == 303
    logout(client)
    for _ in range(4):
        assert login(client, person.username, WRONG_PIN).status_code == 400


def test_unknown_usernames_are_locked_the_same_way(client):
    # Otherwise the lock itself would tell which usernames exist.
    for _ in range(4):
        assert login(client, "nobody-here", WRONG_PIN).status_code == 400
    assert login(client, "nobody-here", WRONG_PIN).status_code == 429


def test_the_lock_lives_in_the_database_so_every_process_sees_it(client, person, settings):
    from app.main import create_app

    _stranger(client)
    for _ in range(5):
        login(client, person.username, WRONG_PIN)
    with TestClient(create_app(settings), follow_redirects=False) as another_process:
        assert login(another_process, person.username, person.pin).status_code == 429


def test_tries_sent_at_once_cannot_slip_past_the_limit(db):
    # Each try is counted before its PIN is checked: with 5 still being checked, a 6th waits.
    allowed = [throttle.begin_try(db, LOGIN_SCOPE, "burst") is None for _ in range(8)]
    assert allowed == [True] * 5 + [False] * 3
    assert throttle.locked_until(db, LOGIN_SCOPE, "burst") is not None


@pytest.fixture
def verify_calls(monkeypatch):
    """Records every hash passlib is asked to verify against (passlib is not our code)."""
    seen: list[str] = []
    real_verify = CryptContext.verify

    def spy(self, secret, hashed, *args, **kwargs):
        seen.append(hashed)
        return real_verify(self, secret, hashed, *args, **kwargs)

    monkeypatch.setattr(CryptContext, "verify", spy)
    return seen


def test_an_unknown_username_still_runs_the_slow_hash(client, person, verify_calls, db):
    """Timing must not reveal who has an account: an unknown username is verified against a
    dummy argon2 hash of the same cost as a real one."""
    logout(client)
    verify_calls.clear()
    assert login(client, "nobody-here", PIN).status_code == 400
    assert len(verify_calls) == 1
    dummy = verify_calls[0]
    assert dummy == passwords._dummy_hash()
    real = login(client, person.username, WRONG_PIN)
    assert real.status_code == 400
    assert len(verify_calls) == 2
    # Same algorithm and cost parameters, so the two take the same time.
    assert dummy.split("$")[1:4] == verify_calls[1].split("$")[1:4]
    assert dummy.startswith("$argon2")
