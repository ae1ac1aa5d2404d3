"""Sessions live in the database: the cookie holds a random token whose digest is the row's
key; logging out revokes the row; a session left alone past the idle timeout is refused."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import select

from app.db import utcnow
from app.main import create_app
from app.security.models import WebSession
from app.web.deps import SESSION_COOKIE
from tests.factories import claim, enroll, logout, page_csrf


def _only_session(db) -> WebSession:
    db.expire_all()
    return db.exec(select(WebSession)).one()


def _session_cookie_header(response) -> str:
    headers = [
        h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE + "=")
    ]
    assert len(headers) == 1, headers
    return headers[0]


def test_the_cookie_is_httponly_and_the_database_stores_only_its_digest(client, housing_org, db):
    response = claim(client, enroll(housing_org))
    header = _session_cookie_header(response)
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header
    assert "Max-Age" not in header  # ends with the browser: nothing lingers on a shared phone
    token = client.cookies[SESSION_COOKIE]
    row = _only_session(db)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in row.token_hash
    assert row.kind == "participant" and row.revoked_at is None


def test_the_cookie_is_secure_in_production(engine, settings, housing_org):
    production = dataclasses.replace(settings, env="production")
    with TestClient(
        create_app(production), base_url="https://testserver", follow_redirects=False
    ) as secure_client:
        code = enroll(housing_org)
        token = page_csrf(secure_client, f"/claim/{code}")
        response = secure_client.post(
            f"/claim/{code}",
            data={
                "csrf_token": token,
                "username": "maria",
                "pin": "482913",
                "confirm_pin": "482913",
            },
        )
        assert response.status_code == 200  # the recovery code, shown once
        assert "; Secure" in _session_cookie_header(response)


def test_logout_revokes_the_session_in_the_database(client, person, db):
    token = client.cookies[SESSION_COOKIE]
    response = logout(client)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?logged_out=1"
    assert "Max-Age=0" in _session_cookie_header(response)
    assert _only_session(db).revoked_at is not None
    # A copy of the old cookie (say, on another tab or stolen) no longer works.
    client.cookies.set(SESSION_COOKIE, token)
    assert client.get("/").status_code == 303


def test_an_idle_session_is_refused(client, person, db, settings):
    row = _only_session(db)
    row.last_seen_at = utcnow() - timedelta(minutes=settings.session_idle_minutes, seconds=5)
    db.add(row)
    db.commit()
    response = client.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/&idle=1"
    assert _only_session(db).revoked_at is not None
    page = client.get(response.headers["location"])
    assert "You were logged out because the page was left alone" in page.text


def test_a_session_used_within_the_idle_time_lives_on(client, person, db, settings):
    row = _only_session(db)
    row.last_seen_at = utcnow() - timedelta(minutes=settings.session_idle_minutes - 1)
    db.add(row)
    db.commit()
    assert client.get("/").status_code == 200
    row = _only_session(db)
    assert row.revoked_at is None
    assert utcnow() - row.last_seen_at < timedelta(minutes=1)  # the visit counted as activity


def test_a_form_left_open_past_the_idle_time_asks_to_log_in_again(client, person, db, settings):
    token = page_csrf(client, "/")
    row = _only_session(db)
    row.last_seen_at = utcnow() - timedelta(minutes=settings.session_idle_minutes + 1)
    db.add(row)
    db.commit()
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?")
    assert "idle=1" in response.headers["location"]


def test_logging_in_always_starts_a_fresh_session(client, person, db):
    first = client.cookies[SESSION_COOKIE]
    token = page_csrf(client, "/")
    response = client.post(
        "/login", data={"csrf_token": token, "username": person.username, "pin": person.pin}
    )
    assert response.status_code == 303
    second = client.cookies[SESSION_COOKIE]
    assert second != first  # a token known before login is never the signed-in one
    db.expire_all()
    rows = {r.token_hash: r for r in db.exec(select(WebSession))}
    assert rows[hashlib.sha256(first.encode()).hexdigest()].revoked_at is not None
    assert rows[hashlib.sha256(second.encode()).hexdigest()].revoked_at is None


def test_quick_exit_ends_the_session_and_leaves(client, person, db, settings):
    response = client.get("/exit")
    assert response.status_code == 303
    assert response.headers["location"] == settings.quick_exit_url
    assert response.headers["clear-site-data"] == '"cache", "cookies", "storage"'
    assert "Max-Age=0" in _session_cookie_header(response)
    assert _only_session(db).revoked_at is not None
    assert client.get("/").status_code == 303
