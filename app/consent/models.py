"""Consents: participant × organization × purpose, one row per decision.

Rows are never overwritten: giving, withdrawing, refusing and expiring each add a row, so the
history (and each decision's receipt) is kept. The newest row is the current state.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, new_id, utcnow
from app.security.fields import EncryptedText

STATES = ("requested", "given", "refused", "withdrawn", "expired")
METHODS = ("self", "assisted", "paper", "verbal")


class Consent(SQLModel, table=True):
    id: str = Field(default_factory=lambda: new_id("cns"), primary_key=True, max_length=40)
    enrollment_id: str = Field(foreign_key="enrollment.id", index=True, max_length=40)
    purpose_id: int = Field(foreign_key="purpose.id", index=True)
    state: str = Field(max_length=20)
    method: str = Field(max_length=20)
    # Who recorded it when it was not the participant alone: a staff member's name, or
    # "API" for a paper form entered by the organization's system.
    recorded_by: str | None = Field(default=None, max_length=200)
    assisted_by_staff_id: int | None = Field(default=None, foreign_key="staff.id")
    # What the organization wrote about a paper or verbal consent: encrypted at rest, limited
    # to 2000 characters of plaintext by the API (app/consent/api.py).
    note: str | None = Field(default=None, sa_type=EncryptedText("consent.note"))
    notice_version: int
    notice_language: str = Field(max_length=10)
    notice_text: str = Field(sa_type=Text)
    given_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
