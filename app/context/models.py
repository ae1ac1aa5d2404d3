"""The participant's own context (asset-based): what they want their record to say about them,
in their own words, and which of their organizations may see it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, new_id, utcnow
from app.security.fields import EncryptedText

# strength: something they are good at; goal: something they are working towards;
# know: something they want case managers to know.
CONTEXT_KINDS = ("strength", "goal", "know")
MAX_CONTEXT_TEXT = 2000


class ContextNote(SQLModel, table=True):
    __tablename__ = "context_note"
    id: str = Field(default_factory=lambda: new_id("ctx"), primary_key=True, max_length=40)
    participant_id: str = Field(foreign_key="participant.id", index=True, max_length=40)
    kind: str = Field(max_length=20)
    text: str = Field(sa_type=EncryptedText("context_note.text"))  # encrypted at rest
    # The enrollments (one per organization) whose organization may see it.
    shared_with: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
