"""A participant's concern, and the network administrators' replies to it.

The organization's answer is its acknowledgement of the concern's `concern.raised` event
(`event_id`): done or declined, with a note, in the browser or through the API.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, new_id, utcnow
from app.security.fields import EncryptedText

# What a concern can be about: a flagged disclosure, an overdue correction, or any other
# request the organization did not answer by its due date (a withdrawal, a deletion...).
CONCERN_SUBJECTS = ("disclosure", "correction", "request")
MAX_CONCERN_TEXT = 2000
MAX_REPLY_TEXT = 2000


class Concern(SQLModel, table=True):
    id: str = Field(default_factory=lambda: new_id("cnc"), primary_key=True, max_length=40)
    enrollment_id: str = Field(foreign_key="enrollment.id", index=True, max_length=40)
    # The organization that must answer: the enrollment's organization.
    organization_id: int = Field(foreign_key="organization.id", index=True)
    subject_type: str = Field(max_length=20)
    subject_id: str = Field(max_length=40, index=True)
    # The participant's words: encrypted at rest.
    text: str = Field(sa_type=EncryptedText("concern.text"))
    # The concern.raised event: the organization's answer is its acknowledgement.
    event_id: str | None = Field(default=None, max_length=40)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ConcernReply(SQLModel, table=True):
    """A network administrator's reply, shown to the participant with the admin's name."""

    __tablename__ = "concern_reply"
    id: str = Field(default_factory=lambda: new_id("cnr"), primary_key=True, max_length=40)
    concern_id: str = Field(foreign_key="concern.id", index=True, max_length=40)
    admin_id: int | None = Field(default=None, foreign_key="network_admin.id")
    admin_name: str = Field(max_length=254)
    text: str = Field(sa_type=EncryptedText("concern_reply.text"))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
