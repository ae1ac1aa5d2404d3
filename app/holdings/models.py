"""Holdings: what an organization holds about a participant, and why."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, new_id, utcnow
from app.security.fields import EncryptedText


class Holding(SQLModel, table=True):
    """One item of data. A deleted holding keeps its row (without its value) so the
    participant can see that it was deleted, and when."""

    __table_args__ = (UniqueConstraint("enrollment_id", "field_key"),)
    id: str = Field(default_factory=lambda: new_id("hld"), primary_key=True, max_length=40)
    enrollment_id: str = Field(foreign_key="enrollment.id", index=True, max_length=40)
    field_key: str = Field(max_length=64)
    label: str = Field(max_length=200)
    category: str = Field(max_length=64)
    # Encrypted at rest; its length limit is on the plaintext (app/schemas.py ValueText).
    value: str | None = Field(default=None, sa_type=EncryptedText("holding.value"))
    purpose_id: int = Field(foreign_key="purpose.id", index=True)
    source: str | None = Field(default=None, max_length=200)
    collected_at: date | None = None
    retain_until: date | None = None
    sensitive: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
