"""Login throttles, named per action and key (`participant.login` + username).

After MAX_FAILURES wrong tries the key is locked for LOCKOUT: every try is refused, even the
right PIN, until then. Counters live in the database so every process sees the same lock.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from app.db import utcnow
from app.security.models import LoginThrottle

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)


def locked_until(
    session: Session, scope: str, key: str, now: datetime | None = None
) -> datetime | None:
    now = now or utcnow()
    row = session.get(LoginThrottle, (scope, key))
    if row and row.locked_until and row.locked_until > now:
        return row.locked_until
    return None


def record_failure(
    session: Session, scope: str, key: str, now: datetime | None = None
) -> datetime | None:
    """Count a wrong try; returns the lock's end when this try locked the key."""
    now = now or utcnow()
    row = session.get(LoginThrottle, (scope, key)) or LoginThrottle(scope=scope, key=key)
    if row.locked_until and row.locked_until <= now:
        row.failures = 0  # the previous lock has run out: start counting afresh
        row.locked_until = None
    row.failures += 1
    row.last_failure_at = now
    if row.failures >= MAX_FAILURES:
        row.locked_until = now + LOCKOUT
    session.add(row)
    session.commit()
    return row.locked_until


def clear(session: Session, scope: str, key: str) -> None:
    row = session.get(LoginThrottle, (scope, key))
    if row:
        session.delete(row)
