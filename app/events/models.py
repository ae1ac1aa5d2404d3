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
    # Who answered: a staff member's name when answered in the browser, NULL through the API
    # (the organization's system). The participant sees it.
    acked_by: str | None = Field(default=None, max_length=200)


class FeedCounter(SQLModel, table=True):
    """The last feed position given to each organization's events."""

    __tablename__ = "feed_counter"
    organization_id: int = Field(
        foreign_key="organization.id", primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    position: int = Field(default=0, sa_type=BigInteger)


class LedgerCheckpoint(SQLModel, table=True):
    """A signed checkpoint (app/events/checkpoints.py): the Merkle root over every chain's
    head at one moment. Organizations keep copies, so removing events afterwards shows."""

    __tablename__ = "ledger_checkpoint"
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)
    chains: int
    root: str = Field(max_length=64)
    public_key: str = Field(max_length=64)  # base64 of the Ed25519 public key
    signature: str = Field(max_length=128)  # base64 of the Ed25519 signature


class LedgerCheckpointHead(SQLModel, table=True):
    """A chain's head as a checkpoint saw it, kept only when it changed since the checkpoint
    before: a chain's head at checkpoint n is its row with the greatest checkpoint_id <= n.
    Never published (it names chains); `ledger verify --checkpoint` uses it to name the chain
    that no longer matches, and the signed root decides whether anything does."""

    __tablename__ = "ledger_checkpoint_head"
    __table_args__ = (Index("ix_ledger_checkpoint_head_chain", "chain_id", "checkpoint_id"),)
    checkpoint_id: int = Field(
        foreign_key="ledger_checkpoint.id",
        primary_key=True,
        sa_column_kwargs={"autoincrement": False},
    )
    # The enrollment whose chain it is; no foreign key, so the record outlives what it names.
    chain_id: str = Field(primary_key=True, max_length=40)
    length: int
    head: str = Field(max_length=64)


# Registers the listeners that give events their feed positions as they commit.
from app.events import feed  # noqa: E402,F401
