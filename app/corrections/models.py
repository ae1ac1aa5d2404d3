"""Corrections, statements of disagreement and deletion requests.

A holding has at most one *open* correction and one open deletion request at a time. The
database enforces it with a nullable unique `open_key` (the holding's id while the request is
open, NULL once it is resolved): a form sent twice, even at the same instant, makes one row.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, new_id, utcnow
from app.security.fields import EncryptedJSON, EncryptedText

CORRECTION_STATES = ("requested", "accepted", "denied")
CORRECTION_DUE_DAYS = 30
# What a participant may type: a value as long as a holding's may be, and an explanation long
# enough to say what matters while the event still fits a webhook body (under 20 KB).
MAX_REQUESTED_VALUE = 10000
MAX_EXPLANATION = 5000


class CorrectionConflict(ValueError):
    """The request does not fit the correction's state (already answered another way, the
    holding was deleted meanwhile, ...). Here beside the states, so the corrections and the
    statements that answer them raise the same one."""


class Correction(SQLModel, table=True):
    """A participant's request to change a holding, answered by the organization by `due_by`."""

    id: str = Field(default_factory=lambda: new_id("cor"), primary_key=True, max_length=40)
    holding_id: str = Field(foreign_key="holding.id", index=True, max_length=40)
    enrollment_id: str = Field(foreign_key="enrollment.id", index=True, max_length=40)
    # What the holding said when the participant asked (it may change before the answer).
    field_key: str = Field(max_length=64)
    # The holding's label, the participant's values and words and the recipients' names are
    # encrypted at rest (app/security/fields.py).
    label: str = Field(sa_type=EncryptedText("correction.label"))
    current_value: str | None = Field(
        default=None, sa_type=EncryptedText("correction.current_value")
    )
    requested_value: str = Field(sa_type=EncryptedText("correction.requested_value"))
    reason: str = Field(sa_type=EncryptedText("correction.reason"))
    status: str = Field(default="requested", max_length=20)
    due_by: datetime = Field(sa_type=UTCDateTime)
    open_key: str | None = Field(default=None, max_length=40, unique=True)
    requested_event_id: str | None = Field(default=None, max_length=40)
    # The organization's answer.
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Who answered: a staff member's name when answered in the browser, NULL through the API.
    resolved_by: str | None = Field(default=None, max_length=200)
    resolution_reason: str | None = Field(
        default=None, sa_type=EncryptedText("correction.resolution_reason")
    )
    corrected_value: str | None = Field(
        default=None, sa_type=EncryptedText("correction.corrected_value")
    )
    # After an accepted correction: the holder's data.corrected event, whose acknowledgement
    # says the organization told the recipients outside the network (`tell_recipients`).
    corrected_event_id: str | None = Field(default=None, max_length=40)
    tell_recipients: list[str] = Field(
        default_factory=list,
        sa_column=Column(EncryptedJSON("correction.tell_recipients"), nullable=False),
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Statement(SQLModel, table=True):
    """A statement of disagreement: the participant's own words attached to a holding after a
    denied correction. It travels with the data: every later consent check and every later
    event about the holding carries it."""

    id: str = Field(default_factory=lambda: new_id("stm"), primary_key=True, max_length=40)
    holding_id: str = Field(foreign_key="holding.id", index=True, max_length=40)
    enrollment_id: str = Field(foreign_key="enrollment.id", index=True, max_length=40)
    # One statement per denied correction: a second send of the form adds nothing.
    correction_id: str = Field(foreign_key="correction.id", unique=True, max_length=40)
    text: str = Field(sa_type=EncryptedText("statement.text"))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DeletionRequest(SQLModel, table=True):
    """A participant asks the organization to delete a holding that rests on consent. The
    organization answers by acknowledging the deletion.requested event (done or declined)."""

    __tablename__ = "deletion_request"
    id: str = Field(default_factory=lambda: new_id("dlr"), primary_key=True, max_length=40)
    holding_id: str = Field(foreign_key="holding.id", index=True, max_length=40)
    enrollment_id: str = Field(foreign_key="enrollment.id", index=True, max_length=40)
    field_key: str = Field(max_length=64)
    label: str = Field(sa_type=EncryptedText("deletion_request.label"))  # the holding's, encrypted
    open_key: str | None = Field(default=None, max_length=40, unique=True)
    event_id: str | None = Field(default=None, max_length=40)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
