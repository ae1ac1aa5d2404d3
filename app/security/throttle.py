"""Login throttles, named per action and key (`participant.login` + username).

After MAX_FAILURES wrong tries the key is locked for LOCKOUT: every try is refused, even the
right PIN, until then. Counters live in the database so every process sees the same lock.

A try is counted *before* the PIN is checked (`begin_try`), with single UPDATE statements, so
that many tries sent at once cannot all slip past the limit while the slow hash runs; a right
PIN then clears the count (`clear`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from app.db import utcnow
from app.security.models import LoginThrottle

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)


def _ensure_row(session: Session, scope: str, key: str) -> None:
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(LoginThrottle)
        .values(scope=scope, key=key, failures=0)
        .on_conflict_do_nothing(index_elements=["scope", "key"])
    )


def _this(scope: str, key: str):  # type: ignore[no-untyped-def]
    return (col(LoginThrottle.scope) == scope) & (col(LoginThrottle.key) == key)


def locked_until(
    session: Session, scope: str, key: str, now: datetime | None = None
) -> datetime | None:
    now = now or utcnow()
    row = session.get(LoginThrottle, (scope, key), populate_existing=True)
    if row and row.locked_until and row.locked_until > now:
        return row.locked_until
    return None


def begin_try(
    session: Session, scope: str, key: str, now: datetime | None = None
) -> datetime | None:
    """Count a try before checking it. Returns the lock's end when the try is refused.

    Commits, so the count holds even if the caller's request dies while hashing."""
    now = now or utcnow()
    _ensure_row(session, scope, key)
    # A lock that has run out: start counting afresh.
    session.execute(
        update(LoginThrottle)
        .where(_this(scope, key), col(LoginThrottle.locked_until) <= now)
        .values(failures=0, locked_until=None)
    )
    counted = session.execute(
        update(LoginThrottle)
        .where(
            _this(scope, key),
            col(LoginThrottle.locked_until).is_(None),
            col(LoginThrottle.failures) < MAX_FAILURES,
        )
        .values(failures=LoginThrottle.failures + 1, last_failure_at=now)
    )
    if counted.rowcount == 0:  # type: ignore[attr-defined]
        # Locked, or MAX_FAILURES tries are already in flight: refuse, and make the lock
        # explicit if those tries have not set it yet.
        session.execute(
            update(LoginThrottle)
            .where(_this(scope, key), col(LoginThrottle.locked_until).is_(None))
            .values(locked_until=now + LOCKOUT)
        )
        session.commit()
        return locked_until(session, scope, key, now) or now + LOCKOUT
    session.commit()
    return None


def fail_try(
    session: Session, scope: str, key: str, now: datetime | None = None
) -> datetime | None:
    """The try counted by `begin_try` was wrong. Returns the lock's end when it locked the key."""
    return _lock_when_over(session, scope, key, MAX_FAILURES, LOCKOUT, now or utcnow())


def _lock_when_over(
    session: Session, scope: str, key: str, limit: int, lockout: timedelta, now: datetime
) -> datetime | None:
    """Lock the key once it has `limit` failures; commits and returns the lock's end."""
    session.execute(
        update(LoginThrottle)
        .where(
            _this(scope, key),
            col(LoginThrottle.locked_until).is_(None),
            col(LoginThrottle.failures) >= limit,
        )
        .values(locked_until=now + lockout)
    )
    session.commit()
    return locked_until(session, scope, key, now)


def clear(session: Session, scope: str, key: str) -> None:
    row = session.get(LoginThrottle, (scope, key))
    if row:
        session.delete(row)


# --- limits by client and overall -------------------------------------------------------------
# A per-username limit alone lets one client try one PIN on many usernames (password
# spraying) and lets a code probe which usernames exist. These counters only count failures
# within a window and are never cleared by a success (a guesser could clear them with an
# account of their own); a few tries in flight at once may slip past them, which the
# per-username limit above does not allow.


def record_failure(
    session: Session,
    scope: str,
    key: str,
    *,
    limit: int,
    window: timedelta,
    lockout: timedelta = LOCKOUT,
    now: datetime | None = None,
) -> datetime | None:
    """Count one failure; returns the lock's end once `limit` failures fell within `window`.

    Commits, so the count holds whatever the caller does next."""
    now = now or utcnow()
    _ensure_row(session, scope, key)
    # Failures older than the window, or a lock that has run out: start counting afresh.
    session.execute(
        update(LoginThrottle)
        .where(
            _this(scope, key),
            (col(LoginThrottle.locked_until) <= now)
            | (
                col(LoginThrottle.locked_until).is_(None)
                & (col(LoginThrottle.last_failure_at) < now - window)
            ),
        )
        .values(failures=0, locked_until=None)
    )
    session.execute(
        update(LoginThrottle)
        .where(_this(scope, key))
        .values(failures=LoginThrottle.failures + 1, last_failure_at=now)
    )
    return _lock_when_over(session, scope, key, limit, lockout, now)
