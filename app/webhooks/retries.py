"""The retry schedule: how long a failed delivery waits before its next attempt.

Its own file because the schedule is a promise to receivers (documented, and walked by
tests/webhooks/test_delivery.py), read without the machinery that applies it.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

# After the first attempt fails, retry after these delays (each ±20%); after the last retry
# the delivery is dead-lettered.
RETRY_SCHEDULE = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=14),
    timedelta(hours=20),
    timedelta(hours=24),
)
MAX_ATTEMPTS = len(RETRY_SCHEDULE) + 1
JITTER = 0.2  # spreads retries out so that a receiver coming back is not hit all at once
MAX_RETRY_AFTER = timedelta(hours=24)


def retry_delay(
    attempts_made: int, *, retry_after: timedelta | None, rng: random.Random
) -> timedelta:
    """How long to wait after the `attempts_made`-th failed attempt. A receiver's Retry-After
    replaces the schedule (within 1 s to 24 h); the attempt still counts toward the limit."""
    if retry_after is not None:
        return min(max(retry_after, timedelta(seconds=1)), MAX_RETRY_AFTER)
    base = RETRY_SCHEDULE[attempts_made - 1]
    return base * rng.uniform(1 - JITTER, 1 + JITTER)


def parse_retry_after(value: str | None, *, now: datetime) -> timedelta | None:
    """Retry-After is either seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(when - now, timedelta(0))
