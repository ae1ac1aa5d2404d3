"""organizations: a profile saying how participants reach them

Phone, address, opening hours and the languages spoken, all optional; set by org admins in
the browser (/staff/org/profile) or by the organization's system (PUT /api/v1/organization).

Revision ID: o001
Revises: w001
Create Date: 2026-12-07 16:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.db

revision: str = "o001"
down_revision: str | None = "w001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
        batch_op.add_column(sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))
        batch_op.add_column(sa.Column("opening_hours", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True))
        batch_op.add_column(
            sa.Column("languages", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch_op.add_column(
            sa.Column("profile_updated_at", app.db.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.drop_column("profile_updated_at")
        batch_op.drop_column("languages")
        batch_op.drop_column("opening_hours")
        batch_op.drop_column("address")
        batch_op.drop_column("phone")
