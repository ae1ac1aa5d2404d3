"""Organizations, their API keys, staff and data collection plan (purposes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow

BASES = ("consent", "service", "legal_obligation", "funder_contract")
STAFF_ROLES = ("case_manager", "org_admin")
DEFAULT_CONSENT_VALID_DAYS = 365
# How participants reach an organization (its profile): plain text, the organization's own words.
PROFILE_PHONE_MAX = 40
PROFILE_ADDRESS_MAX = 500
PROFILE_HOURS_MAX = 1000
PROFILE_LANGUAGES_MAX = 20


class Organization(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # The profile: how participants reach it. Every page that sends a participant to "ask the
    # organization" shows these (templates/includes/contact.html). Not participant data, so
    # plain text. `languages` are locale codes ("es", "so", "hmn"), shown in the reader's own
    # language.
    phone: str | None = Field(default=None, max_length=PROFILE_PHONE_MAX)
    address: str | None = Field(default=None, max_length=PROFILE_ADDRESS_MAX)
    opening_hours: str | None = Field(default=None, max_length=PROFILE_HOURS_MAX)
    languages: list[str] = Field(
        default_factory=list,
        sa_column=Column(JSON, nullable=False, server_default=sa.text("'[]'")),
    )
    profile_updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ApiKey(SQLModel, table=True):
    """An organization's key for /api/v1. Only a SHA-256 of the key is stored: the key is
    long and random, so a slow hash would add cost without adding safety."""

    __tablename__ = "api_key"
    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    name: str = Field(default="default", max_length=100)
    prefix: str = Field(max_length=16)
    key_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Staff(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    email: str = Field(max_length=254, unique=True, index=True)
    name: str = Field(default="", max_length=200)
    role: str = Field(max_length=20)
    password_hash: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    disabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The daily email of waiting requests (app/staff/digest.py): only for those who opted in.
    digest_opt_in: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    digest_sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class NetworkAdmin(SQLModel, table=True):
    __tablename__ = "network_admin"
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    password_hash: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Purpose(SQLModel, table=True):
    """One entry of an organization's data collection plan.

    Texts are dicts keyed by locale (`{"en": ..., "es": ...}`). `version` grows whenever the
    notice a participant would read changes, so a consent can say which notice it answered.
    """

    __table_args__ = (UniqueConstraint("organization_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    key: str = Field(max_length=64)
    title: dict[str, str] = Field(sa_column=Column(JSON, nullable=False))
    description: dict[str, str] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    basis: str = Field(max_length=20)
    categories: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    recipients: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    retention_days: int | None = None
    refusal_consequence: dict[str, str] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    legal_recipients: dict[str, str] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    sensitive: bool = False
    consent_valid_days: int = DEFAULT_CONSENT_VALID_DAYS
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
