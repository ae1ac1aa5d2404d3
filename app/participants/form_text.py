"""What a person types into a form, cleaned and checked the same way everywhere.

Corrections, statements, concerns and context notes all take free text from a form. The
check raises `FormError` (app/participants/service.py), so it lives beside it, below every
package that takes typed text, rather than inside one of them.
"""

from __future__ import annotations

from app.i18n import format_number
from app.i18n import gettext as _
from app.web.forms import FormError


def clean_text(value: str) -> str:
    """Line breaks made uniform, control characters (NUL among them, which PostgreSQL cannot
    store) dropped, surrounding space trimmed."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(ch for ch in value if ch in "\n\t" or (ord(ch) >= 32 and ch != "\x7f")).strip()


def checked_text(field_name: str, value: str, *, limit: int, empty_message: str) -> str:
    """What the person typed, cleaned; a FormError when empty or over `limit`."""
    value = clean_text(value)
    if not value:
        raise FormError(field_name, empty_message)
    if len(value) > limit:
        raise FormError(
            field_name,
            _(
                "This is too long. Keep it under %(limit)s characters (it has %(count)s).",
                limit=format_number(limit),
                count=format_number(len(value)),
            ),
        )
    return value
