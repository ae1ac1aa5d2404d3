"""Holdings: what an organization holds about a participant, and why."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, new_id, utcnow
from app.i18n import pick_text
from app.security.fields import EncryptedJSON, EncryptedText


class Holding(SQLModel, table=True):
    """One item of data. A deleted holding keeps its row (without its value) so the
    participant can see that it was deleted, and when."""

    __table_args__ = (UniqueConstraint("enrollment_id", "field_key"),)
    id: str = Field(default_factory=lambda: new_id("hld"), primary_key=True, max_length=40)
    enrollment_id: str = Field(foreign_key="enrollment.id", index=True, max_length=40)
    field_key: str = Field(max_length=64)
    # The label, value and source are encrypted at rest (app/security/fields.py); their
    # length limits are on the plaintext (app/holdings/schemas.py). Sort by label in Python
    # (`display_order`): SQL sees only ciphertext.
    label: str = Field(sa_type=EncryptedText("holding.label"))
    category: str = Field(max_length=64)
    value: str | None = Field(default=None, sa_type=EncryptedText("holding.value"))
    purpose_id: int = Field(foreign_key="purpose.id", index=True)
    source: str | None = Field(default=None, sa_type=EncryptedText("holding.source"))
    # When the organization gave the label or source per language ({"en": ..., "es": ...}):
    # those texts, and `label`/`source` is the default one of them (app/holdings/schemas.py
    # `default_text`), so whatever reads one text keeps working. None for a plain string.
    label_texts: dict[str, str] | None = Field(
        default=None, sa_column=Column(EncryptedJSON("holding.label_texts"), nullable=True)
    )
    source_texts: dict[str, str] | None = Field(
        default=None, sa_column=Column(EncryptedJSON("holding.source_texts"), nullable=True)
    )
    collected_at: date | None = None
    retain_until: date | None = None
    sensitive: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


def label_text(holding: Any) -> tuple[str, str | None]:
    """The holding's label in the page's language: (text, the language it is in when that is
    not the page's, else None). A plain label is the organization's own: (label, None)."""
    return _in_page_language(holding.label, holding.label_texts)


def source_text(holding: Any) -> tuple[str, str | None]:
    return _in_page_language(holding.source or "", holding.source_texts)


def _in_page_language(text: str, texts: dict[str, str] | None) -> tuple[str, str | None]:
    if not texts:
        return text, None
    return pick_text(texts)


def display_order(holding: Any) -> tuple[str, str, str]:
    """How holdings are listed: by category, then label (a Holding or a row of its table).
    Sorted in Python, after decryption: in SQL the label is ciphertext."""
    return (holding.category, holding.label, holding.field_key)
