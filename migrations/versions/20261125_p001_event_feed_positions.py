"""event feed positions: the pull feed in commit order

Revision ID: p001
Revises: v001
Create Date: 2026-11-25 03:30:00

Events get a feed position as their transaction commits (app/events/feed.py), so a reader of
`GET /api/v1/events` can't skip an event that committed late. Existing events are numbered in
the order the feed showed them before (time, then id), and each organization's counter starts
after its last one.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "p001"
down_revision: str | None = "v001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000


def upgrade() -> None:
    op.create_table(
        "feed_counter",
        sa.Column("organization_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"]),
        sa.PrimaryKeyConstraint("organization_id"),
    )
    with op.batch_alter_table("event") as batch:
        batch.add_column(sa.Column("feed_position", sa.BigInteger(), nullable=True))
        batch.drop_index("ix_event_feed")
        batch.create_index("ix_event_feed", ["organization_id", "feed_position"], unique=False)

    connection = op.get_bind()
    event = sa.table(
        "event",
        sa.column("id"),
        sa.column("organization_id"),
        sa.column("created_at"),
        sa.column("feed_position"),
    )
    counter = sa.table("feed_counter", sa.column("organization_id"), sa.column("position"))
    rows = connection.execute(
        sa.select(event.c.id, event.c.organization_id).order_by(
            event.c.organization_id, event.c.created_at, event.c.id
        )
    ).all()
    last: dict[int, int] = {}
    numbered = []
    for event_id, organization_id in rows:
        last[organization_id] = last.get(organization_id, 0) + 1
        numbered.append({"event_id": event_id, "position": last[organization_id]})
    update = (
        sa.update(event)
        .where(event.c.id == sa.bindparam("event_id"))
        .values(feed_position=sa.bindparam("position"))
    )
    for start in range(0, len(numbered), BATCH):
        connection.execute(update, numbered[start : start + BATCH])
    if last:
        connection.execute(
            sa.insert(counter),
            [{"organization_id": org, "position": position} for org, position in last.items()],
        )


def downgrade() -> None:
    with op.batch_alter_table("event") as batch:
        batch.drop_index("ix_event_feed")
        batch.create_index("ix_event_feed", ["organization_id", "created_at", "id"], unique=False)
        batch.drop_column("feed_position")
    op.drop_table("feed_counter")
