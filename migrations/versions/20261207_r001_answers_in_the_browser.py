"""answers in the browser: who answered, and the staff digest

An event's acknowledgement and a correction's resolution name the staff member who gave it in
the browser (NULL when an organization's system answered through the API). Staff may opt in to
one email a day of waiting requests.

Revision ID: r001
Revises: l001
Create Date: 2026-12-07 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "r001"
down_revision: str | None = "l001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("event") as batch:
        batch.add_column(sa.Column("acked_by", sa.String(length=200), nullable=True))
    with op.batch_alter_table("correction") as batch:
        batch.add_column(sa.Column("resolved_by", sa.String(length=200), nullable=True))
    with op.batch_alter_table("staff") as batch:
        batch.add_column(
            sa.Column("digest_opt_in", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("digest_sent_at", app.db.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.drop_column("digest_sent_at")
        batch.drop_column("digest_opt_in")
    with op.batch_alter_table("correction") as batch:
        batch.drop_column("resolved_by")
    with op.batch_alter_table("event") as batch:
        batch.drop_column("acked_by")
