"""drop record and plan versions: the home page is rendered fresh at every visit

Revision ID: v002
Revises: o001
Create Date: 2026-12-07 21:00:00

Enrollment.record_version and Organization.plan_version kept the home page's rendered
sections in step with every write. The page now renders fresh fast enough
(bench/home_page.py), so the store is gone and so is the bookkeeping every write paid for.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "v002"
down_revision: str | None = "o001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("organization") as batch:
        batch.drop_column("plan_version")
    with op.batch_alter_table("enrollment") as batch:
        batch.drop_column("record_version")


def downgrade() -> None:
    with op.batch_alter_table("enrollment") as batch:
        batch.add_column(
            sa.Column("record_version", sa.Integer(), server_default="0", nullable=False)
        )
    with op.batch_alter_table("organization") as batch:
        batch.add_column(
            sa.Column("plan_version", sa.Integer(), server_default="0", nullable=False)
        )
