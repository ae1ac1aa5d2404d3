"""encrypt participant values at rest

Participants' values and words (holdings, corrections, statements, their own context, the
ledger's event data and acknowledgement notes) become AES-256-GCM ciphertext under the first
key of PORTAL_FIELD_KEYS (app/security/fields.py). Columns that held them as bounded strings
or JSON become Text: ciphertext is longer than its plaintext, and the limits stay on the
plaintext in the API schemas and forms. Downgrading decrypts them again.

Revision ID: f001
Revises: s001
Create Date: 2026-11-25 02:20:00.000000
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from app.security.fields import field_keys

revision: str = "f001"
down_revision: str | None = "s001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column): fixed here, not read from the models, so that this revision always does
# the same thing. The associated data bound to each value is "table.column".
ENCRYPTED = (
    ("holding", "value"),
    ("correction", "current_value"),
    ("correction", "requested_value"),
    ("correction", "reason"),
    ("correction", "resolution_reason"),
    ("correction", "corrected_value"),
    ("statement", "text"),
    ("context_note", "text"),
    ("event", "data"),
    ("event", "ack_note"),
)
BATCH = 1000


def _rewrite(table_name: str, column_name: str, change: Callable[[str], str]) -> None:
    """Rewrite every non-NULL value of one column, a batch at a time in primary key order."""
    connection = op.get_bind()
    table = sa.table(table_name, sa.column("id", sa.Text()), sa.column(column_name, sa.Text()))
    key, column = table.c.id, table.c[column_name]
    last = None
    while True:
        query = sa.select(key, column).where(column.is_not(None)).order_by(key).limit(BATCH)
        if last is not None:
            query = query.where(key > last)
        rows = connection.execute(query).all()
        if rows:
            connection.execute(
                sa.update(table)
                .where(key == sa.bindparam("row_id"))
                .values({column_name: sa.bindparam("new_value")}),
                [{"row_id": row_id, "new_value": change(value)} for row_id, value in rows],
            )
        if len(rows) < BATCH:
            return
        last = rows[-1][0]


def _alter_types(to_text: bool) -> None:
    text = sa.Text()
    value_before = sqlmodel.sql.sqltypes.AutoString(length=10000)
    note_before = sqlmodel.sql.sqltypes.AutoString(length=2000)
    with op.batch_alter_table("holding", schema=None) as batch_op:
        batch_op.alter_column(
            "value",
            existing_type=value_before if to_text else text,
            type_=text if to_text else value_before,
            existing_nullable=True,
        )
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.alter_column(
            "data",
            existing_type=sa.JSON() if to_text else text,
            type_=text if to_text else sa.JSON(),
            existing_nullable=False,
            postgresql_using="data::text" if to_text else "data::json",
        )
        batch_op.alter_column(
            "ack_note",
            existing_type=note_before if to_text else text,
            type_=text if to_text else note_before,
            existing_nullable=True,
        )


def upgrade() -> None:
    # Types first: ciphertext would not fit the old bounded columns on PostgreSQL.
    _alter_types(to_text=True)
    keys = field_keys()
    for table_name, column_name in ENCRYPTED:
        associated = f"{table_name}.{column_name}"
        # Everything here was written before encryption: encrypt it all, whatever it says.
        _rewrite(
            table_name,
            column_name,
            lambda plain, associated=associated: keys.encrypt(plain, column=associated),
        )


def downgrade() -> None:
    keys = field_keys()
    for table_name, column_name in ENCRYPTED:
        associated = f"{table_name}.{column_name}"
        _rewrite(
            table_name,
            column_name,
            lambda stored, associated=associated: keys.decrypt(stored, column=associated),
        )
    _alter_types(to_text=False)
