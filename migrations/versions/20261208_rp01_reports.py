"""reports: definitions, published runs, and who each run counted

Revision ID: rp01
Revises: t001
Create Date: 2026-12-08 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from app.db import UTCDateTime

revision: str = "rp01"
down_revision: str | None = "t001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report",
        sa.Column("id", sqlmodel.AutoString(length=40), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.AutoString(length=64), nullable=False),
        sa.Column("title", sa.JSON(), nullable=False),
        sa.Column("recipient", sa.JSON(), nullable=False),
        sa.Column("purpose_id", sa.Integer(), nullable=False),
        sa.Column("count_by", sa.JSON(), nullable=False),
        sa.Column("period_from", sa.Date(), nullable=True),
        sa.Column("period_to", sa.Date(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"]),
        sa.ForeignKeyConstraint(["purpose_id"], ["purpose.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organization_id", "key"),
    )
    op.create_index("ix_report_organization_id", "report", ["organization_id"])
    op.create_index("ix_report_purpose_id", "report", ["purpose_id"])
    op.create_table(
        "report_run",
        sa.Column("id", sqlmodel.AutoString(length=40), nullable=False),
        sa.Column("report_id", sqlmodel.AutoString(length=40), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.JSON(), nullable=False),
        sa.Column("recipient", sa.JSON(), nullable=False),
        sa.Column("purpose_key", sqlmodel.AutoString(length=64), nullable=False),
        sa.Column("purpose_title", sa.JSON(), nullable=False),
        sa.Column("basis", sqlmodel.AutoString(length=20), nullable=False),
        sa.Column("count_by", sa.JSON(), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("period_from", sa.Date(), nullable=True),
        sa.Column("period_to", sa.Date(), nullable=True),
        sa.Column("included", sa.Integer(), nullable=False),
        sa.Column("cells", sa.JSON(), nullable=False),
        sa.Column("totals", sa.JSON(), nullable=False),
        sa.Column("suppressed_below", sa.Integer(), nullable=False),
        sa.Column("run_by", sqlmodel.AutoString(length=200), nullable=False),
        sa.Column("run_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"]),
        sa.ForeignKeyConstraint(["report_id"], ["report.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_report_run_report_id", "report_run", ["report_id"])
    op.create_index("ix_report_run_organization_id", "report_run", ["organization_id"])
    op.create_index("ix_report_run_run_at", "report_run", ["run_at"])
    op.create_table(
        "report_counted",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sqlmodel.AutoString(length=40), nullable=False),
        sa.Column("enrollment_id", sqlmodel.AutoString(length=40), nullable=False),
        sa.ForeignKeyConstraint(["enrollment_id"], ["enrollment.id"]),
        sa.ForeignKeyConstraint(["run_id"], ["report_run.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("run_id", "enrollment_id"),
    )
    op.create_index("ix_report_counted_run_id", "report_counted", ["run_id"])
    op.create_index("ix_report_counted_enrollment_id", "report_counted", ["enrollment_id"])


def downgrade() -> None:
    op.drop_table("report_counted")
    op.drop_table("report_run")
    op.drop_table("report")
