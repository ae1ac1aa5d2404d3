"""The ledger: every event, per enrollment, in an append-only hash chain.

Each event stores a digest of its data and the hash of the event before it. Erasing a closed
account's values later keeps the digests, so the chain still proves what happened and when.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, new_id, utcnow
from app.security.fields import EncryptedJSON, EncryptedText


class Event(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("enrollment_id", "seq"),
        # The pull feed reads an organization's events in the order they were committed.
        Index("ix_event_feed", "organization_id", "feed_position"),
    )
    id: str = Field(default_factory=lambda: new_id("evt"), primary_key=True, max_length=40)
    enrollment_id: str = Field(foreign_key="enrollment.id", index=True, max_length=40)
    seq: int
    # The organization this event is for (the holder, or a recipient of a disclosure).
    organization_id: int = Field(foreign_key="organization.id", index=True)
    type: str = Field(max_length=40)
    role: str = Field(default="holder", max_length=20)
    # The webhook's data (values, the participant's words): encrypted at rest. The digest is
    # of the plaintext, so the chain verifies whatever key the data is under.
    data: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(EncryptedJSON("event.data"), nullable=False)
    )
    data_digest: str = Field(max_length=64)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Its place in the organization's pull feed, given as its transaction commits (app/events/
    # feed.py): a later position is always a later commit, so a reader never skips one.
    feed_position: int | None = Field(default=None, sa_type=BigInteger)
    # Events that ask the organization to act wait for its acknowledgement.
    ack_due_by: datetime | None = Field(default=None, sa_type=UTCDateTime)
    acked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ack_outcome: str | None = Field(default=None, max_length=20)
    # The organization's answer may repeat the values it acted on: encrypted like `data`
    # (the API limits it to 2000 characters of plaintext).
    ack_note: str | None = Field(default=None, sa_type=EncryptedText("event.ack_note"))


class FeedCounter(SQLModel, table=True):
    """The last feed position given to each organization's events."""

    __tablename__ = "feed_counter"
    organization_id: int = Field(
        foreign_key="organization.id", primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    position: int = Field(default=0, sa_type=BigInteger)


# Registers the listeners that give events their feed positions as they commit.
from app.events import feed  # noqa: E402,F401
