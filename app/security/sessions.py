"""Server-side sessions: created at login, revocable, ended after an idle timeout and, however
busy, a fixed time after they started (`PORTAL_SESSION_MAX_HOURS`): a stolen or forgotten
session kept alive by use still ends."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlmodel import Session, col, select, update

from app.db import utcnow
from app.security.models import WebSession
from app.security.tokens import digest, new_session_token

# Writing last_seen_at on every request would turn each page view into a write; a minute's
# slack on a 15-minute timeout is harmless.
TOUCH_EVERY = timedelta(seconds=60)


def start_session(
    session: Session,
    *,
    kind: str,
    participant_id: str | None = None,
    staff_id: int | None = None,
    admin_id: int | None = None,
) -> str:
    """Returns the token for the cookie; only its digest is stored."""
    token = new_session_token()
    session.add(
        WebSession(
            token_hash=digest(token),
            kind=kind,
            participant_id=participant_id,
            staff_id=staff_id,
            admin_id=admin_id,
            csrf_secret=secrets.token_hex(16),
        )
    )
    return token


def load_session(
    session: Session,
    token: str,
    *,
    idle_minutes: int,
    max_hours: int,
    now: datetime | None = None,
) -> WebSession | None:
    """The live session of `token`, or None. A session left alone for `idle_minutes`, or
    started more than `max_hours` ago (used a minute ago or not), is revoked and refused."""
    now = now or utcnow()
    row = session.get(WebSession, digest(token))
    if row is None or row.revoked_at is not None:
        return None
    idle = row.last_seen_at + timedelta(minutes=idle_minutes) < now
    if idle or row.created_at + timedelta(hours=max_hours) <= now:
        row.revoked_at = now
        session.add(row)
        session.commit()
        return None
    if now - row.last_seen_at > TOUCH_EVERY:
        row.last_seen_at = now
        session.add(row)
        session.commit()
    return row


def end_session(session: Session, token: str) -> None:
    row = session.get(WebSession, digest(token))
    if row and row.revoked_at is None:
        row.revoked_at = utcnow()
        session.add(row)


def end_all_sessions(session: Session, *, participant_id: str) -> None:
    session.exec(  # type: ignore[call-overload]
        update(WebSession)
        .where(
            col(WebSession.participant_id) == participant_id, col(WebSession.revoked_at).is_(None)
        )
        .values(revoked_at=utcnow())
    )


def sessions_for(session: Session, participant_id: str) -> list[WebSession]:
    return list(session.exec(select(WebSession).where(WebSession.participant_id == participant_id)))
