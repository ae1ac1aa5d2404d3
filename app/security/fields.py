"""Field encryption at rest: participants' values are stored as AES-256-GCM ciphertext.

A column typed `EncryptedText` or `EncryptedJSON` encrypts on the way in and decrypts on the
way out, so the ORM and Core `select(table)` both see plaintext while the database, its
backups and its replicas hold only

    enc1:<key id>:<urlsafe base64 of a 96-bit nonce + ciphertext + tag>

The key id says which of `PORTAL_FIELD_KEYS` encrypted the value, so keys can rotate: the
first key encrypts, all of them decrypt, and `consent-portal keys reencrypt` moves old values
to the current key. Each column's name (`"holding.value"`) is bound to its ciphertext as
associated data, so a value copied into another column does not decrypt. (A value moved to
another *row* of the same column still does: the row is not known when a value is bound.)

Values written before encryption (no `enc1:` prefix) read back as they are; the migration
that introduced encryption encrypted them. A value under an unknown key id, or one that was
altered, raises `FieldDecryptionError` rather than returning garbage.

Encrypted columns can't be searched or compared in SQL (every encryption of the same value
differs); nothing in the portal does.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import MetaData, Table, select, type_coerce, update
from sqlalchemy.engine import Connection
from sqlalchemy.types import Text, TypeDecorator

from app.config import FieldKey, Settings, get_settings

VERSION = "enc1"
PREFIX = VERSION + ":"
NONCE_BYTES = 12


class FieldDecryptionError(RuntimeError):
    """A stored value can't be decrypted: its key is not configured, or it was altered."""


class UnknownFieldKey(FieldDecryptionError):
    """The value names a key id that PORTAL_FIELD_KEYS does not hold."""


class TamperedField(FieldDecryptionError):
    """The ciphertext does not authenticate: altered, moved between columns, or the key under
    that id is not the one that encrypted it."""


class FieldKeys:
    """The configured keys: the first encrypts; every one decrypts the values under its id."""

    def __init__(self, keys: Sequence[FieldKey]) -> None:
        if not keys:
            raise ValueError("field encryption needs at least one key")
        self.current_id = keys[0][0]
        self._ciphers = {kid: AESGCM(key) for kid, key in keys}
        self.ids = tuple(kid for kid, _key in keys)

    def encrypt(self, plaintext: str, *, column: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self.current_id].encrypt(
            nonce, plaintext.encode(), _associated_data(self.current_id, column)
        )
        return f"{PREFIX}{self.current_id}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def decrypt(self, stored: str, *, column: str) -> str:
        if not is_encrypted(stored):
            return stored  # written before encryption: read it as it is
        kid, _sep, encoded = stored[len(PREFIX) :].partition(":")
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise UnknownFieldKey(
                f"a value in {column} is encrypted with key id {kid!r}, which "
                f"PORTAL_FIELD_KEYS does not hold (it holds {', '.join(self.ids)}); put that "
                "key back after the current one, then run `consent-portal keys reencrypt`"
            )
        try:
            # base64.urlsafe_b64decode, without its Python wrappers: a page decrypts hundreds.
            raw = binascii.a2b_base64(encoded.encode("ascii").translate(_FROM_URLSAFE))
            plaintext = cipher.decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], _associated_data(kid, column)
            )
        except (InvalidTag, binascii.Error, ValueError) as exc:
            raise TamperedField(
                f"a value in {column} does not decrypt with key {kid!r}: it was altered, "
                f"copied from another column, or {kid!r} is not the key that encrypted it"
            ) from exc
        return plaintext.decode()

    def is_current(self, stored: str) -> bool:
        return stored.startswith(f"{PREFIX}{self.current_id}:")


def is_encrypted(stored: str) -> bool:
    return stored.startswith(PREFIX)


@cache
def _associated_data(kid: str, column: str) -> bytes:
    return f"{VERSION}:{kid}:{column}".encode()


_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")


# --- the keys in use ------------------------------------------------------------------------
# Column types have no way to reach the app's settings, so they take the keys of the process's
# settings (get_settings(), from the environment); tests may put others in use for a while.

_in_use: FieldKeys | None = None
_from_settings: tuple[Settings, FieldKeys] | None = None


def field_keys() -> FieldKeys:
    global _from_settings
    if _in_use is not None:
        return _in_use
    settings = get_settings()
    if _from_settings is None or _from_settings[0] is not settings:
        _from_settings = (settings, FieldKeys(settings.field_keys))
    return _from_settings[1]


@contextmanager
def field_keys_in_use(keys: FieldKeys) -> Iterator[FieldKeys]:
    global _in_use
    before = _in_use
    _in_use = keys
    try:
        yield keys
    finally:
        _in_use = before


# --- the column types -----------------------------------------------------------------------


class EncryptedText(TypeDecorator[str]):
    """A text column stored encrypted. `column` ("table.column") is bound to the ciphertext.

    Length limits belong to the forms and API schemas (on the plaintext): ciphertext is about
    a third longer, so the column is unbounded Text."""

    impl = Text
    cache_ok = True

    def __init__(self, column: str) -> None:
        super().__init__()
        self.column = column

    def __repr__(self) -> str:  # what Alembic's autogenerate writes into a migration
        return f"{type(self).__name__}({self.column!r})"

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        if value is None:
            return None
        return field_keys().encrypt(value, column=self.column)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        if value is None:
            return None
        return field_keys().decrypt(value, column=self.column)


class EncryptedJSON(EncryptedText):
    """A JSON document stored encrypted (as text: the database can't look inside it)."""

    cache_ok = True  # SQLAlchemy reads it from each class itself, not from the parent

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        document = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        return super().process_bind_param(document, dialect)

    def process_result_value(self, value: str | None, dialect: Any) -> Any:
        document = super().process_result_value(value, dialect)
        return None if document is None else json.loads(document)


# --- re-encrypting after a rotation ---------------------------------------------------------


@dataclass
class ReencryptCount:
    column: str
    reencrypted: int = 0
    already_current: int = 0
    changed_meanwhile: int = 0


def encrypted_columns(metadata: MetaData) -> list[tuple[Table, str, str]]:
    """(table, column name, associated-data name) of every encrypted column."""
    found = []
    for table in metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, EncryptedText):  # EncryptedJSON too
                found.append((table, column.name, column.type.column))
    return found


def reencrypt_column(
    connection: Connection,
    table: Table,
    column_name: str,
    associated: str,
    *,
    keys: FieldKeys,
    batch_size: int = 500,
) -> ReencryptCount:
    """Re-encrypt every value of one column that is not under the current key (or not
    encrypted at all), one batch per transaction, walking the primary key."""
    (key_column,) = table.primary_key.columns
    raw = type_coerce(table.c[column_name], Text)  # the stored text, not decrypted
    count = ReencryptCount(associated)
    last: Any = None
    while True:
        query = select(key_column, raw).where(raw.is_not(None)).order_by(key_column)
        if last is not None:
            query = query.where(key_column > last)
        with connection.begin():
            rows = connection.execute(query.limit(batch_size)).all()
            for row_key, stored in rows:
                if keys.is_current(stored):
                    count.already_current += 1
                    continue
                plaintext = keys.decrypt(stored, column=associated)
                fresh = keys.encrypt(plaintext, column=associated)
                # Only if nobody changed it since it was read (the app writes under the
                # current key anyway).
                result = connection.execute(
                    update(table)
                    .where(key_column == row_key, raw == stored)
                    .values({column_name: type_coerce(fresh, Text)})
                )
                if result.rowcount:
                    count.reencrypted += 1
                else:
                    count.changed_meanwhile += 1
        if len(rows) < batch_size:
            return count
        last = rows[-1][0]
