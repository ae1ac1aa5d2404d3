"""encrypt more fields at rest: holding labels and sources, recipients, notes, answers

What f001 left in plain text although it can hold a participant's data becomes AES-256-GCM
ciphertext under the first key of PORTAL_FIELD_KEYS (app/security/fields.py), the same way:
holdings' labels and sources (and the copies of the label kept by corrections and deletion
requests), disclosure recipients' names (and the copies a correction keeps of those outside
the network), the organization's notes on paper and verbal consents, and the first 4 KB of a
webhook receiver's answer. Their columns become Text (ciphertext is longer; the limits stay
on the plaintext in the API schemas). Downgrading decrypts them again.

Revision ID: e002
Revises: a001
Create Date: 2026-12-07 03:00:00
"""

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
import sqlmodel
from alembic import op

from app.security.fields import field_keys

revision: str = "e002"
down_revision: str | None = "a001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, its type before, nullable): fixed here, not read from the models, so that
# this revision always does the same thing. The associated data of each value is
# "table.column", as in f001.
ENCRYPTED: tuple[tuple[str, str, Any, bool], ...] = (
    ("holding", "label", sqlmodel.sql.sqltypes.AutoString(length=200), False),
    ("holding", "source", sqlmodel.sql.sqltypes.AutoString(length=200), True),
    ("correction", "label", sqlmodel.sql.sqltypes.AutoString(length=200), False),
    ("correction", "tell_recipients", sa.JSON(), False),
    ("deletion_request", "label", sqlmodel.sql.sqltypes.AutoString(length=200), False),
    ("disclosure", "recipient_name", sqlmodel.sql.sqltypes.AutoString(length=200), False),
    ("consent", "note", sqlmodel.sql.sqltypes.AutoString(length=2000), True),
    ("webhook_attempt", "response_excerpt", sqlmodel.sql.sqltypes.AutoString(length=4096), True),
)


# webhook_attempt's primary key is an integer; the other tables' are text ids.
KEY_TYPES: dict[str, Any] = {"webhook_attempt": sa.Integer()}
BATCH = 1000


def _rewrite(table_name: str, column_name: str, change: Callable[[str], str]) -> None:
    """Rewrite every non-NULL value of one column, a batch at a time in primary key order.

    f001's `_rewrite`, but with the key's own type: f001 declares every key as text, and on
    PostgreSQL psycopg binds the key as VARCHAR, which an integer key can't be compared with."""
    connection = op.get_bind()
    table = sa.table(
        table_name,
        sa.column("id", KEY_TYPES.get(table_name, sa.Text())),
        sa.column(column_name, sa.Text()),
    )
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
    tables: dict[str, list[tuple[str, Any, bool]]] = {}
    for table_name, column_name, before, nullable in ENCRYPTED:
        tables.setdefault(table_name, []).append((column_name, before, nullable))
    for table_name, columns in tables.items():
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            for column_name, before, nullable in columns:
                is_json = isinstance(before, sa.JSON)
                batch_op.alter_column(
                    column_name,
                    existing_type=before if to_text else text,
                    type_=text if to_text else before,
                    existing_nullable=nullable,
                    postgresql_using=(
                        f"{column_name}::{'text' if to_text else 'json'}" if is_json else None
                    ),
                )


def upgrade() -> None:
    # Types first: ciphertext would not fit the old bounded columns on PostgreSQL.
    _alter_types(to_text=True)
    keys = field_keys()
    for table_name, column_name, _before, _nullable in ENCRYPTED:
        associated = f"{table_name}.{column_name}"
        # Everything here was written before this revision: encrypt it all, whatever it says.
        _rewrite(
            table_name,
            column_name,
            lambda plain, associated=associated: keys.encrypt(plain, column=associated),
        )


def downgrade() -> None:
    keys = field_keys()
    for table_name, column_name, _before, _nullable in ENCRYPTED:
        associated = f"{table_name}.{column_name}"
        _rewrite(
            table_name,
            column_name,
            lambda stored, associated=associated: keys.decrypt(stored, column=associated),
        )
    _alter_types(to_text=False)
