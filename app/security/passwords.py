"""PIN and password hashing (argon2 through passlib).

Unknown usernames are checked against a dummy hash, so that a wrong username takes as long as
a wrong PIN and timing does not reveal who has an account.

Argon2 is slow on purpose: ~0.25 s of CPU and 64 MiB per hash at the production cost. Two
rules keep that from stalling the process:

- **Never on the event loop.** One process serves every request (and the in-process webhook
  worker) from one event loop; a hash run there stops all of them for its whole time. Routes
  call the services that hash or check a secret through `off_loop`, which runs them in a
  worker thread.
- **No more at once than the cores can do** (`PORTAL_HASH_CONCURRENCY`, the cores by
  default). Every hash and check holds a slot of one process-wide semaphore; more hashes at
  once would only make each of them slower (and each holds its memory). The others wait,
  off the loop, holding no database connection (`off_loop` gives it back first).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache, partial
from typing import Concatenate, ParamSpec, TypeVar

import anyio
import anyio.to_thread
from anyio.lowlevel import RunVar
from passlib.context import CryptContext
from sqlmodel import Session

from app.config import get_settings

P = ParamSpec("P")
T = TypeVar("T")


@lru_cache(maxsize=1)
def _context() -> CryptContext:
    settings = get_settings()
    return CryptContext(
        schemes=["argon2"],
        argon2__memory_cost=settings.argon2_memory_kib,
        argon2__time_cost=settings.argon2_time_cost,
        argon2__parallelism=2,
    )


@lru_cache(maxsize=1)
def _slots() -> threading.BoundedSemaphore:
    return threading.BoundedSemaphore(get_settings().hash_concurrency)


_held = threading.local()


@contextmanager
def hash_slot() -> Iterator[None]:
    """Hold one of the process's hash slots; waits (in this thread) until one is free.

    Re-entrant within a thread: a service's hash inside a slot its caller already holds
    (`off_loop`) takes no second one."""
    if getattr(_held, "depth", 0):
        _held.depth += 1
        try:
            yield
        finally:
            _held.depth -= 1
        return
    with _slots():
        _held.depth = 1
        try:
            yield
        finally:
            _held.depth = 0


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_secret("not-a-real-pin-0000")


def hash_secret(secret: str) -> str:
    with hash_slot():
        return _context().hash(secret)


def verify_secret(secret: str, hashed: str | None) -> bool:
    """True when `secret` matches `hashed`. With no hash (unknown user) still spends the time."""
    with hash_slot():
        if hashed is None:
            _context().verify(secret, _dummy_hash())
            return False
        try:
            return _context().verify(secret, hashed)
        except (ValueError, TypeError):
            return False


# --- from async routes -------------------------------------------------------------------------

# Threads for hashing, per event loop: as many as there are slots, so a burst of logins waits
# here (a task, no thread) rather than filling the thread pool that files and sync code share.
_threads: RunVar[anyio.CapacityLimiter] = RunVar("hash_threads")


def _thread_limiter() -> anyio.CapacityLimiter:
    try:
        return _threads.get()
    except LookupError:
        limiter = anyio.CapacityLimiter(get_settings().hash_concurrency)
        _threads.set(limiter)
        return limiter


def _in_slot(func: Callable[[], T]) -> T:
    with hash_slot():
        return func()


async def off_loop(
    func: Callable[Concatenate[Session, P], T], db: Session, /, *args: P.args, **kwargs: P.kwargs
) -> T:
    """`func(db, ...)`, a service call that hashes or checks a secret, in a worker thread
    holding a hash slot (so the hashes inside it wait for none).

    While it waits for a slot it holds no pooled connection: the session's transaction, reads
    only at that point in every route that calls this, is committed first. (Changes still
    to be flushed keep it open, connection and all; changes already flushed would be
    committed, so don't call it with any.)"""
    if db.in_transaction() and not (db.new or db.dirty or db.deleted):
        db.commit()
    call = partial(func, db, *args, **kwargs)
    return await anyio.to_thread.run_sync(_in_slot, call, limiter=_thread_limiter())
