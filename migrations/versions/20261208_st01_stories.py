"""stories: words about a participant for a named use, and the deficit words to watch for

The title, the text and the participant's "what to change" are encrypted at rest (AES-256-GCM
ciphertext, as app/security/fields.py writes it; associated data "story.title", "story.text",
"story.change_request"). The use is the organization's own words per language, plain JSON.

Revision ID: st01
Revises: rp01
Create Date: 2026-12-08 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.db

revision: str = "st01"
down_revision: str | None = "rp01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "story",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("enrollment_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("use", sa.JSON(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("text_version", sa.Integer(), nullable=False),
        sa.Column("approved_version", sa.Integer(), nullable=True),
        sa.Column("change_request", sa.Text(), nullable=True),
        sa.Column("published_where", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("published_at", app.db.UTCDateTime(), nullable=True),
        sa.Column("drafted_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(), nullable=False),
        sa.Column("decided_at", app.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["enrollment_id"], ["enrollment.id"]),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("story", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_story_enrollment_id"), ["enrollment_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_story_organization_id"), ["organization_id"], unique=False
        )
    op.create_table(
        "story_word_list",
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("locale", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("words", sa.JSON(), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"]),
        sa.PrimaryKeyConstraint("organization_id", "locale"),
    )


def downgrade() -> None:
    op.drop_table("story_word_list")
    with op.batch_alter_table("story", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_story_organization_id"))
        batch_op.drop_index(batch_op.f("ix_story_enrollment_id"))
    op.drop_table("story")
