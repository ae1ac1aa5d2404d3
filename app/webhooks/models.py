"""Webhook endpoints, the outbox (one delivery per event × endpoint) and delivery attempts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, new_id, utcnow
from app.security.fields import EncryptedText


class WebhookEndpoint(SQLModel, table=True):
    __tablename__ = "webhook_endpoint"
    id: str = Field(default_factory=lambda: new_id("we"), primary_key=True, max_length=40)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    url: str = Field(max_length=2000)
    # None means every event type.
    event_types: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    secret: str = Field(max_length=200)
    # After a rotation the old secret keeps signing for 24 h, so receivers can switch over.
    previous_secret: str | None = Field(default=None, max_length=200)
    previous_secret_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    disabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    disabled_reason: str | None = Field(default=None, max_length=200)
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebhookDelivery(SQLModel, table=True):
    """An outbox row, written in the same transaction as the event it delivers.

    status: pending → delivered, or pending → dead (after the last retry; redeliverable).
    A worker claims a row by setting `lease_until`; a killed worker's lease simply runs out and
    another worker picks the row up again, so nothing is lost.
    """

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("event_id", "endpoint_id"),
        Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
        # A worker's claim reads each endpoint's oldest due deliveries (app/webhooks/claims.py).
        Index("ix_webhook_delivery_endpoint_due", "endpoint_id", "status", "next_attempt_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(foreign_key="event.id", index=True, max_length=40)
    endpoint_id: str = Field(foreign_key="webhook_endpoint.id", index=True, max_length=40)
    status: str = Field(default="pending", max_length=20)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    dead_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WebhookAttempt(SQLModel, table=True):
    __tablename__ = "webhook_attempt"
    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="webhook_delivery.id", index=True)
    endpoint_id: str = Field(foreign_key="webhook_endpoint.id", index=True, max_length=40)
    event_id: str = Field(max_length=40)
    attempted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    status_code: int | None = None
    duration_ms: int = 0
    # The first 4 KB of the receiver's answer (app/webhooks/attempts.py): it may echo the
    # participant's data, so it is encrypted at rest.
    response_excerpt: str | None = Field(
        default=None, sa_type=EncryptedText("webhook_attempt.response_excerpt")
    )
    error: str | None = Field(default=None, max_length=500)
