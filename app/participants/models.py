"""Participants (portal accounts), enrollments and claim codes.

An enrollment exists as soon as an organization registers someone; it is linked to an account
only when the person claims it with the organization's code. The portal never links
enrollments across organizations on its own.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, new_id, utcnow


class Participant(SQLModel, table=True):
    id: str = Field(default_factory=lambda: new_id("acct"), primary_key=True, max_length=40)
    username: str = Field(max_length=40, unique=True, index=True)
    pin_hash: str = Field(max_length=255)
    preferred_language: str | None = Field(default=None, max_length=10)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    pin_changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # SHA-256 of the recovery code the participant was given (shown once, printable); it
    # reopens every sealed organization after a PIN reset. None for accounts made before.
    recovery_code_hash: str | None = Field(default=None, max_length=64)


class Enrollment(SQLModel, table=True):
    """Participant × organization. Its id is the API's `participant_id`."""

    __table_args__ = (UniqueConstraint("organization_id", "external_ref"),)
    id: str = Field(default_factory=lambda: new_id("ptp"), primary_key=True, max_length=40)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    external_ref: str = Field(max_length=128)
    participant_id: str | None = Field(
        default=None, foreign_key="participant.id", index=True, max_length=40
    )
    preferred_language: str | None = Field(default=None, max_length=10)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Set when the account's PIN was reset with another organization's code: a code proves
    # the person to its own organization only, so this one's records stay closed to the
    # account until the participant proves themselves again (CONTRACT.md section 7).
    sealed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ClaimCode(SQLModel, table=True):
    """A one-time code an organization hands a person to link their enrollment.

    Only a hash is stored. Issuing a fresh code retires the older unused ones."""

    __tablename__ = "claim_code"
    id: int | None = Field(default=None, primary_key=True)
    enrollment_id: str = Field(foreign_key="enrollment.id", index=True, max_length=40)
    code_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    retired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AccountRecovery(SQLModel, table=True):
    """A PIN reset, or sealed records opened again: the participant sees each one on their
    access page, so a reset they did not make does not go unnoticed."""

    __tablename__ = "account_recovery"
    id: int | None = Field(default=None, primary_key=True)
    participant_id: str = Field(foreign_key="participant.id", index=True, max_length=40)
    # pin_reset | opened_by_code | opened_by_recovery_code | recovery_code_made |
    # pin_changed | username_changed (signed in, with the current PIN)
    kind: str = Field(max_length=30)
    # The organization whose code was used (none for the recovery code).
    organization_id: int | None = Field(default=None, foreign_key="organization.id")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
