"""record and plan versions: when what a participant sees of an organization changed

Revision ID: v001
Revises: f001
Create Date: 2026-11-25 03:00:00

Enrollment.record_version and Organization.plan_version grow with every change the home page
could show (app/participants/record_version.py); its sections are kept under them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "v001"
down_revision: str | None = "f001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("enrollment") as batch:
        batch.add_column(
            sa.Column("record_version", sa.Integer(), server_default="0", nullable=False)
        )
    with op.batch_alter_table("organization") as batch:
        batch.add_column(
            sa.Column("plan_version", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("organization") as batch:
        batch.drop_column("plan_version")
    with op.batch_alter_table("enrollment") as batch:
        batch.drop_column("record_version")
