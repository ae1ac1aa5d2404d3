"""Engine, sessions and the column types every domain shares.

Times are stored as naive UTC (SQLite has no time zone) and handed back aware, so that the
same code compares times the same way on SQLite and PostgreSQL.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.types import DateTime, TypeDecorator
from sqlmodel import Session, create_engine


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id(prefix: str) -> str:
    """A public identifier: a readable prefix, then time-ordered, then random.

    Time-ordered so that lists sort by creation; random so that ids leak no counts.
    """
    return f"{prefix}_{int(time.time() * 1000):012x}{secrets.token_hex(8)}"


# The largest INTEGER primary key PostgreSQL holds (SQLite's go to 2**63 - 1). A number from a
# URL outside 1..MAX_INT_ID names no row, and the database could not even compare it with one.
MAX_INT_ID = 2**31 - 1


def is_int_id(value: int) -> bool:
    """Whether `value` could be an integer primary key; look it up only when it could."""
    return 1 <= value <= MAX_INT_ID


class UTCDateTime(TypeDecorator[datetime]):
    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; use an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def ensure_sqlite_dir(url: str) -> None:
    """SQLite creates the file but not its folder (var/ on a fresh clone)."""
    path = url.split("///", 1)[-1] if url.startswith("sqlite") else ""
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        ensure_sqlite_dir(url)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=20
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            # WAL lets readers work while the webhook worker writes.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    # A database server that restarts or fails over must not take the portal down with it:
    # pool_pre_ping tests each pooled connection as it is handed out and replaces a dead one;
    # a connection lost in the middle of a request fails that request (a 503, app/main.py),
    # and SQLAlchemy then invalidates the whole pool, so the next requests connect afresh.
    # A server that doesn't answer at all is given up on after connect_timeout, not after
    # the operating system's TCP timeout (minutes), so requests meanwhile get their 503 fast.
    connect_args = {} if "connect_timeout" in make_url(url).query else {"connect_timeout": 5}
    return create_engine(
        url, pool_size=10, max_overflow=20, pool_pre_ping=True, connect_args=connect_args
    )


def database_unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the database can't be used right now, rather than that a query is
    wrong: the connection was lost, the server is shutting down or starting up, the pool is
    exhausted. Such a request is answered 503 (try again), and the worker backs off."""
    if isinstance(exc, sa_exc.DBAPIError):
        return (
            exc.connection_invalidated
            or isinstance(exc, sa_exc.OperationalError)
            or _driver_operational_error(exc.orig)
        )
    if isinstance(exc, sa_exc.TimeoutError):  # no connection free in the pool in time
        return True
    return _driver_operational_error(exc)


def _driver_operational_error(exc: BaseException | None) -> bool:
    """psycopg's own OperationalError, raised where psycopg is used directly (LISTEN)."""
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return False
    return isinstance(exc, psycopg.OperationalError)


async def get_session(request: Request) -> AsyncIterator[Session]:
    # An async dependency: the session is used on the event loop, not a thread pool, which
    # keeps short queries cheap under concurrency (bench/home_page.py measures it).
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
