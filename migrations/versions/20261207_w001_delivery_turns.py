"""webhook deliveries: an index for claiming each endpoint's oldest due deliveries

A worker takes turns across endpoints; it reads, per endpoint, the few oldest due rows, so
the index leads with the endpoint.

Revision ID: w001
Revises: r002
Create Date: 2026-12-07 13:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "w001"
down_revision: str | None = "r002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.create_index(
            "ix_webhook_delivery_endpoint_due",
            ["endpoint_id", "status", "next_attempt_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_delivery_endpoint_due")
