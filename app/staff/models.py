"""The staff access log, and devices handed over to a participant mid-intake."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow

# What a staff member did with a participant's record; the participant sees every one.
# Staff acting in the browser are listed too, so the participant sees who answered or changed what.
ACCESS_ACTIONS = (
    "viewed",
    "claim_code_issued",
    "answered_request",
    "changed_data",
    "recorded_disclosure",
)


class StaffAccess(SQLModel, table=True):
    """One staff member opening (or acting on) one participant's record. The participant sees
    these, so every look at their data is accountable to them."""

    __tablename__ = "staff_access"
    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    enrollment_id: str = Field(foreign_key="enrollment.id", index=True, max_length=40)
    action: str = Field(default="viewed", max_length=30)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Handover(SQLModel, table=True):
    """A staff session whose device was handed to a participant ("participant mode").

    Kept on the server, keyed by the session, so the client holding the device cannot switch
    back by editing a cookie: only the staff password ends it. While it exists the session
    reaches this one enrollment's intake steps and nothing else."""

    __tablename__ = "staff_handover"
    session_hash: str = Field(primary_key=True, max_length=64)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    enrollment_id: str = Field(foreign_key="enrollment.id", index=True, max_length=40)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
