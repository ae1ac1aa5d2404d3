"""Disclosures: who an organization shared a participant's data with."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, new_id, utcnow
from app.security.fields import EncryptedText


class Disclosure(SQLModel, table=True):
    """Always recorded, even when it should not have happened: the truth is kept, and a
    disclosure that consent did not cover is flagged (`flag_reasons` says why)."""

    id: str = Field(default_factory=lambda: new_id("dsc"), primary_key=True, max_length=40)
    enrollment_id: str = Field(foreign_key="enrollment.id", index=True, max_length=40)
    purpose_id: int = Field(foreign_key="purpose.id", index=True)
    # Encrypted at rest (it can name a person: a landlord, a relative); the limit is on the
    # plaintext (app/disclosures/schemas.py). It is compared with the plan's recipients in
    # Python (app/disclosures/service.py), never in SQL.
    recipient_name: str = Field(sa_type=EncryptedText("disclosure.recipient_name"))
    recipient_organization_id: int | None = Field(
        default=None, foreign_key="organization.id", index=True
    )
    field_keys: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    disclosed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    consent_id: str | None = Field(default=None, max_length=40)
    consent_state: str = Field(max_length=20)
    flagged: bool = False
    flag_reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
