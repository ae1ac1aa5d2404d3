"""PIN and password hashing (argon2 through passlib).

Unknown usernames are checked against a dummy hash, so that a wrong username takes as long as
a wrong PIN and timing does not reveal who has an account.
"""

from __future__ import annotations

from functools import lru_cache

from passlib.context import CryptContext

from app.config import get_settings


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
def _dummy_hash() -> str:
    return _context().hash("not-a-real-pin-0000")


def hash_secret(secret: str) -> str:
    return _context().hash(secret)


def verify_secret(secret: str, hashed: str | None) -> bool:
    """True when `secret` matches `hashed`. With no hash (unknown user) still spends the time."""
    if hashed is None:
        _context().verify(secret, _dummy_hash())
        return False
    try:
        return _context().verify(secret, hashed)
    except (ValueError, TypeError):
        return False
