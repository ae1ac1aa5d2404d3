"""Field types shared by the API's request bodies.

Every string refuses NUL and other control characters (PostgreSQL cannot store NUL, and
nothing legitimate needs them) and has a length limit no longer than its column, so bad input
gets a 422, never a 500.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints


def printable(value: str) -> str:
    if any(ord(ch) < 32 and ch not in "\n\r\t" for ch in value) or "\x7f" in value:
        raise ValueError("control characters (such as NUL) are not allowed")
    return value


def text(max_length: int, min_length: int = 1) -> object:
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
        AfterValidator(printable),
    ]


def _utc(value: datetime) -> datetime:
    """Naive means UTC; aware is converted. Times at the very edge of the calendar cannot be
    converted (or stored), so they are refused here rather than failing in the database."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("date and time out of range") from None


Key = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$"),
    Field(description="lower-case letters, digits, '_', '.', '-'; at most 64"),
]
LocaleCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")]
ShortText = text(200)
NoteText = text(2000)
LongText = text(5000)
ValueText = text(10000, min_length=0)
UtcDateTime = Annotated[datetime, AfterValidator(_utc)]
LocalizedText = Annotated[dict[LocaleCode, LongText], Field(max_length=20)]  # type: ignore[valid-type]
LocalizedTitle = Annotated[dict[LocaleCode, ShortText], Field(min_length=1, max_length=20)]  # type: ignore[valid-type]
