"""Reports, their runs (published tables) and who each run counted."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, new_id, utcnow

MAX_COUNT_BY = 2  # one field, or two crossed (housing situation by age band)


class Report(SQLModel, table=True):
    """An organization's definition of counts for a recipient, tied to a purpose of its plan:
    only participants that purpose allows at the time of a run are counted."""

    __table_args__ = (UniqueConstraint("organization_id", "key"),)
    id: str = Field(default_factory=lambda: new_id("rpt"), primary_key=True, max_length=40)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    key: str = Field(max_length=64)
    title: dict[str, str] = Field(sa_column=Column(JSON, nullable=False))
    recipient: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    purpose_id: int = Field(foreign_key="purpose.id", index=True)
    count_by: list[str] = Field(sa_column=Column(JSON, nullable=False))
    period_from: date | None = None
    period_to: date | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ReportRun(SQLModel, table=True):
    """One published table. Everything it says is copied in when it runs (title, recipient,
    purpose, basis, cells), so a later edit of the report or the plan never rewrites what was
    already sent to the funder or shown to participants."""

    __tablename__ = "report_run"
    id: str = Field(default_factory=lambda: new_id("run"), primary_key=True, max_length=40)
    report_id: str = Field(foreign_key="report.id", index=True, max_length=40)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    title: dict[str, str] = Field(sa_column=Column(JSON, nullable=False))
    recipient: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    purpose_key: str = Field(max_length=64)
    purpose_title: dict[str, str] = Field(sa_column=Column(JSON, nullable=False))
    basis: str = Field(max_length=20)
    count_by: list[str] = Field(sa_column=Column(JSON, nullable=False))
    # Each field's label as the organization's holdings name it (for the table's headings).
    labels: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    period_from: date | None = None
    period_to: date | None = None
    included: int
    # [{"values": [...], "count": int | None}]; None is a suppressed cell.
    cells: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    # {"rows": [...], "columns": [...]} for two fields, each like a cell; {} for one.
    totals: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    suppressed_below: int
    run_by: str = Field(max_length=200)  # the staff member's name, or "API"
    run_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class ReportCounted(SQLModel, table=True):
    """Who a run counted: kept so each participant sees the reports that counted them, and
    only those. A withdrawal leaves these rows alone: the run was already published."""

    __tablename__ = "report_counted"
    __table_args__ = (UniqueConstraint("run_id", "enrollment_id"),)
    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(foreign_key="report_run.id", index=True, max_length=40)
    enrollment_id: str = Field(foreign_key="enrollment.id", index=True, max_length=40)
