"""ledger checkpoints: chain heads and signed Merkle roots

Every event's feed item and webhook carry the participant's chain head (computed, not
stored). The portal signs a checkpoint now and then: the Merkle root over every chain's head,
kept in ledger_checkpoint; ledger_checkpoint_head keeps the heads each checkpoint saw (only
those that changed since the one before), so that `ledger verify --checkpoint` can name a
chain that no longer matches.

Revision ID: l001
Revises: e002
Create Date: 2026-12-07 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.db

revision: str = "l001"
down_revision: str | None = "e002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ledger_checkpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(), nullable=False),
        sa.Column("chains", sa.Integer(), nullable=False),
        sa.Column("root", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("public_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("signature", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("ledger_checkpoint", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_checkpoint_created_at"), ["created_at"], unique=False
        )

    op.create_table(
        "ledger_checkpoint_head",
        sa.Column("checkpoint_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("chain_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.Column("head", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(["checkpoint_id"], ["ledger_checkpoint.id"]),
        sa.PrimaryKeyConstraint("checkpoint_id", "chain_id"),
    )
    with op.batch_alter_table("ledger_checkpoint_head", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ledger_checkpoint_head_chain", ["chain_id", "checkpoint_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("ledger_checkpoint_head", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_checkpoint_head_chain")
    op.drop_table("ledger_checkpoint_head")
    with op.batch_alter_table("ledger_checkpoint", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_checkpoint_created_at"))
    op.drop_table("ledger_checkpoint")
