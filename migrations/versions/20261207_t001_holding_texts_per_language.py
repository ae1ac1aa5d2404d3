"""holdings: the label and source per language, as the organization gave them

Two encrypted JSON columns (AES-256-GCM ciphertext, as app/security/fields.py writes it; the
associated data is "holding.label_texts" / "holding.source_texts"): NULL when the label or
source was given as one plain string, as every existing holding was, so nothing is rewritten.
`label` and `source` keep the organization's default text.

Revision ID: t001
Revises: v002
Create Date: 2026-12-07 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "t001"
down_revision: str | None = "v002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Text, as every encrypted column: the database holds only ciphertext.
    with op.batch_alter_table("holding", schema=None) as batch_op:
        batch_op.add_column(sa.Column("label_texts", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("source_texts", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("holding", schema=None) as batch_op:
        batch_op.drop_column("source_texts")
        batch_op.drop_column("label_texts")
