"""Stories and the organization's list of deficit words.

A story's text carries a version: every edit makes a new one, and an approval is of one
version only, so the organization can publish exactly the words the participant read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, new_id, utcnow
from app.security.fields import EncryptedText

# awaiting: the participant has not answered this version yet; approved: they approved this
# version (it may be published); changes_requested: they asked for changes; declined: they
# said no; withdrawn: they took back an approval (the organization takes it down).
STORY_STATES = ("awaiting", "approved", "changes_requested", "declined", "withdrawn")
MAX_STORY_TITLE = 200
MAX_STORY_TEXT = 5000
MAX_CHANGE_REQUEST = 2000
MAX_WHERE = 500


class Story(SQLModel, table=True):
    id: str = Field(default_factory=lambda: new_id("sty"), primary_key=True, max_length=40)
    enrollment_id: str = Field(foreign_key="enrollment.id", index=True, max_length=40)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    # Words about the participant, and their own words back: encrypted at rest.
    title: str = Field(sa_type=EncryptedText("story.title"))
    text: str = Field(sa_type=EncryptedText("story.text"))
    # The named use (an annual report, a grant application), per language: the organization's.
    use: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    state: str = Field(default="awaiting", max_length=20)
    text_version: int = Field(default=1)
    approved_version: int | None = Field(default=None)
    change_request: str | None = Field(default=None, sa_type=EncryptedText("story.change_request"))
    published_where: str | None = Field(default=None, max_length=MAX_WHERE)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Who drafted it: a staff member's name in the browser, NULL through the API.
    drafted_by: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class StoryWordList(SQLModel, table=True):
    """An organization's deficit words in one language: a prompt on the staff review page to
    tell the whole person, never a block."""

    __tablename__ = "story_word_list"
    organization_id: int = Field(foreign_key="organization.id", primary_key=True)
    locale: str = Field(primary_key=True, max_length=12)
    words: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
