"""concerns: a participant's complaint, and the network administrators' replies

A concern is about a flagged disclosure or an overdue correction; the participant's words and
the replies are encrypted at rest (app/security/fields.py). The organization's answer is the
acknowledgement of the concern's `concern.raised` event.

Revision ID: r002
Revises: r001
Create Date: 2026-12-07 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.db

revision: str = "r002"
down_revision: str | None = "r001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "concern",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("enrollment_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("subject_type", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("subject_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("event_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["enrollment_id"], ["enrollment.id"]),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("concern", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_concern_enrollment_id"), ["enrollment_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_concern_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_concern_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "concern_reply",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("concern_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("admin_id", sa.Integer(), nullable=True),
        sa.Column("admin_name", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["admin_id"], ["network_admin.id"]),
        sa.ForeignKeyConstraint(["concern_id"], ["concern.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("concern_reply", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_concern_reply_concern_id"), ["concern_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("concern_reply", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_concern_reply_concern_id"))
    op.drop_table("concern_reply")
    with op.batch_alter_table("concern", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_concern_subject_id"))
        batch_op.drop_index(batch_op.f("ix_concern_organization_id"))
        batch_op.drop_index(batch_op.f("ix_concern_enrollment_id"))
    op.drop_table("concern")
