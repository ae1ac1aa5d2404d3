"""Every session ends PORTAL_SESSION_MAX_HOURS (12 by default) after it started, however
busy: the idle timeout alone let a session used every day live for ever."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from app.config import ConfigError, load_settings
from app.db import utcnow
from app.organizations.service import create_network_admin
from app.security.models import WebSession
from app.security.sessions import load_session, start_session
from tests.factories import PASSWORD, csrf_from, make_staff, staff_log_in


def _only_session(db: Session) -> WebSession:
    db.expire_all()
    return db.exec(select(WebSession).where(WebSession.revoked_at.is_(None))).one()  # type: ignore[union-attr]


def _started_ago(db: Session, age: timedelta) -> WebSession:
    """The signed-in session, started `age` ago and used just now."""
    row = _only_session(db)
    row.created_at = utcnow() - age
    row.last_seen_at = utcnow()
    db.add(row)
    db.commit()
    return row


def test_a_session_kept_active_by_use_ends_twelve_hours_after_it_started(db, settings):
    assert settings.session_max_hours == 12
    start = utcnow()
    token = start_session(db, kind="participant")
    db.commit()
    db.get(WebSession, _only_session(db).token_hash).created_at = start  # type: ignore[union-attr]
    db.commit()
    now = start
    # Used every ten minutes, so the 15-minute idle timeout never ends it.
    while now < start + timedelta(hours=12) - timedelta(minutes=10):
        now += timedelta(minutes=10)
        row = load_session(db, token, idle_minutes=15, max_hours=12, now=now)
        assert row is not None, f"refused after {now - start}"
    now = start + timedelta(hours=12)
    assert load_session(db, token, idle_minutes=15, max_hours=12, now=now) is None
    db.expire_all()
    assert db.exec(select(WebSession)).one().revoked_at == now
    # Ended for good: a minute later it is still refused.
    later = now + timedelta(minutes=1)
    assert load_session(db, token, idle_minutes=15, max_hours=12, now=later) is None


def test_a_participant_session_older_than_the_limit_is_refused_and_revoked(
    client, person, db, settings
):
    _started_ago(db, timedelta(hours=settings.session_max_hours) - timedelta(minutes=1))
    assert client.get("/").status_code == 200
    row = _started_ago(db, timedelta(hours=settings.session_max_hours, minutes=1))
    response = client.get("/")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=/")
    db.expire_all()
    assert db.get(WebSession, row.token_hash).revoked_at is not None  # type: ignore[union-attr]


def test_staff_sessions_end_after_the_limit_too(client, org, db, settings):
    staff = make_staff(db, org)
    assert staff_log_in(client, staff.email).status_code == 303
    assert client.get("/staff").status_code == 200
    row = _started_ago(db, timedelta(hours=settings.session_max_hours, minutes=1))
    response = client.get("/staff")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/staff/login?next=/staff")
    db.expire_all()
    assert db.get(WebSession, row.token_hash).revoked_at is not None  # type: ignore[union-attr]


def test_admin_sessions_end_after_the_limit_too(client, db, settings):
    create_network_admin(db, email="admin@network.example", password=PASSWORD)
    db.commit()
    page = client.get("/admin/login")
    response = client.post(
        "/admin/login",
        data={
            "email": "admin@network.example",
            "password": PASSWORD,
            "csrf_token": csrf_from(page.text),
        },
    )
    assert response.status_code == 303
    assert client.get("/admin").status_code == 200
    row = _started_ago(db, timedelta(hours=settings.session_max_hours, minutes=1))
    response = client.get("/admin")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/admin/login?next=/admin")
    db.expire_all()
    assert db.get(WebSession, row.token_hash).revoked_at is not None  # type: ignore[union-attr]


def test_the_limit_and_the_hash_concurrency_come_from_the_environment():
    settings = load_settings({"PORTAL_SESSION_MAX_HOURS": "8", "PORTAL_HASH_CONCURRENCY": "3"})
    assert settings.session_max_hours == 8
    assert settings.hash_concurrency == 3
    defaults = load_settings({})
    assert defaults.session_max_hours == 12
    assert defaults.hash_concurrency >= 1
    for name in ("PORTAL_SESSION_MAX_HOURS", "PORTAL_HASH_CONCURRENCY"):
        for bad in ("0", "-1", "twelve", ""):
            with pytest.raises(ConfigError, match=name):
                load_settings({name: bad})
