"""Form errors, GOV.UK style: a summary at the top linking to each field, the message by the
field, the answers kept."""

from __future__ import annotations

from dataclasses import dataclass, field


class FormError(ValueError):
    """Bad input on a form, found by the service that checks it: `field` names the field (its
    id, for the summary's link), the message is translated. The view adds it to FormErrors."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass
class FormErrors:
    errors: dict[str, str] = field(default_factory=dict)

    def add(self, field_name: str, message: str) -> None:
        self.errors.setdefault(field_name, message)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def get(self, field_name: str) -> str | None:
        return self.errors.get(field_name)

    def items(self) -> list[tuple[str, str]]:
        return list(self.errors.items())


def safe_next(path: str | None, default: str = "/") -> str:
    """Only local paths: never redirect somewhere an attacker chose. Browsers drop tabs and
    newlines from URLs and read a backslash as a slash, so a path like "/<tab>/evil.example"
    would become "//evil.example": refuse those characters too."""
    if (
        path
        and path.startswith("/")
        and not path.startswith("//")
        and "\\" not in path
        and not any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in path)
    ):
        return path
    return default
