"""The plan editor's form: one purpose as HTML fields, read back into the API's own `PurposeIn`.

Going through `PurposeIn` (and then `upsert_purpose`) is the point: a purpose saved in the
browser is exactly what `PUT /api/v1/purposes/{key}` would have saved, and it is refused for
exactly the same reasons. Each field has a stable id (`title-es`, `recipient-0-reason`, ...):
the error summary and the data-justice review link to them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError

from app.i18n import SUPPORTED_LOCALES
from app.i18n import gettext as _
from app.organizations.categories import CATEGORY_WORDS
from app.organizations.models import DEFAULT_CONSENT_VALID_DAYS, Purpose
from app.organizations.schemas import PurposeIn
from app.schemas import Key
from app.web.forms import FormErrors

LOCALIZED_FIELDS = ("title", "description", "refusal_consequence", "legal_recipients")
# Blank recipient rows offered below the filled ones; more after saving (no JavaScript needed).
BLANK_RECIPIENT_ROWS = 2
KNOWN_CATEGORIES = tuple(CATEGORY_WORDS)
_KEY = TypeAdapter(Key)


def editor_languages(purpose: Purpose | None, participant_languages: Iterable[str]) -> list[str]:
    """The portal's languages, the participants' languages, and any the purpose is written in:
    a text in a language the portal does not offer must still be editable (and removable)."""
    languages = set(participant_languages)
    if purpose is not None:
        for name in LOCALIZED_FIELDS:
            languages.update(getattr(purpose, name) or {})
    rest = sorted(languages - set(SUPPORTED_LOCALES))
    return [*SUPPORTED_LOCALES, *rest]


@dataclass
class PurposeForm:
    """The answers as typed (kept on an error) for one purpose."""

    languages: list[str]
    key: str = ""
    texts: dict[str, dict[str, str]] = field(default_factory=dict)  # field -> language -> text
    basis: str = ""
    categories: list[str] = field(default_factory=list)  # the ticked known categories
    other_categories: str = ""
    recipients: list[dict[str, str]] = field(default_factory=list)
    retention_days: str = ""
    sensitive: bool = False
    consent_valid_days: str = str(DEFAULT_CONSENT_VALID_DAYS)

    def text(self, name: str, language: str) -> str:
        return self.texts.get(name, {}).get(language, "")

    @property
    def recipient_rows(self) -> list[dict[str, str]]:
        blank = {"name": "", "organization": "", "reason": ""}
        return [*self.recipients, *(dict(blank) for _ in range(BLANK_RECIPIENT_ROWS))]

    @classmethod
    def from_purpose(cls, purpose: Purpose, languages: list[str]) -> PurposeForm:
        return cls(
            languages=languages,
            key=purpose.key,
            texts={name: dict(getattr(purpose, name) or {}) for name in LOCALIZED_FIELDS},
            basis=purpose.basis,
            categories=[c for c in purpose.categories if c in KNOWN_CATEGORIES],
            other_categories=", ".join(c for c in purpose.categories if c not in KNOWN_CATEGORIES),
            recipients=[
                {
                    "name": r.get("name") or "",
                    "organization": r.get("organization") or "",
                    "reason": r.get("reason") or "",
                }
                for r in purpose.recipients
            ],
            retention_days=str(purpose.retention_days or ""),
            sensitive=purpose.sensitive,
            consent_valid_days=str(purpose.consent_valid_days),
        )

    @classmethod
    def from_form(cls, form: Any, languages: list[str], *, key: str = "") -> PurposeForm:
        """`form` is the request's form data (anything with .get and .getlist)."""

        def value(name: str) -> str:
            raw = form.get(name)
            return raw.strip() if isinstance(raw, str) else ""

        recipients = []
        for index in range(_recipient_row_count(form)):
            row = {
                part: value(f"recipient-{index}-{part}")
                for part in ("name", "organization", "reason")
            }
            if any(row.values()):
                recipients.append(row)
        ticked = [c for c in form.getlist("categories") if c in KNOWN_CATEGORIES]
        return cls(
            languages=languages,
            key=key or value("key"),
            texts={
                name: {lang: value(f"{name}-{lang}") for lang in languages}
                for name in LOCALIZED_FIELDS
            },
            basis=value("basis"),
            categories=[c for c in KNOWN_CATEGORIES if c in ticked],
            other_categories=value("other_categories"),
            recipients=recipients,
            retention_days=value("retention_days"),
            sensitive=value("sensitive") == "yes",
            consent_valid_days=value("consent_valid_days"),
        )

    def all_categories(self) -> list[str]:
        others = [c for c in re.split(r"[,\s]+", self.other_categories) if c]
        return list(dict.fromkeys([*self.categories, *others]))

    def validate(self, *, new: bool) -> tuple[PurposeIn | None, FormErrors]:
        """The purpose as the API would receive it, or the errors by field id."""
        errors = FormErrors()
        if new:
            try:
                _KEY.validate_python(self.key)
            except ValidationError:
                errors.add(
                    "key",
                    _(
                        "Enter a key of lower-case letters, digits, '_', '.' or '-', such as "
                        "housing_referral."
                    ),
                )
        body: dict[str, Any] = {
            name: {lang: text for lang, text in self.texts.get(name, {}).items() if text}
            for name in LOCALIZED_FIELDS
        }
        body.update(
            basis=self.basis,
            categories=self.all_categories(),
            recipients=[{k: v for k, v in r.items() if v} for r in self.recipients],
            retention_days=self.retention_days or None,
            sensitive=self.sensitive,
        )
        if self.consent_valid_days:  # empty: the API's default
            body["consent_valid_days"] = self.consent_valid_days
        body["recipients"] = [{"name": "", **r} for r in body["recipients"]]
        try:
            purpose_in = PurposeIn.model_validate(body)
        except ValidationError as exc:
            for error in exc.errors():
                anchor, message = self._explain(error)
                errors.add(anchor, message)
            return None, errors
        return (None, errors) if errors else (purpose_in, errors)

    def _explain(self, error: Mapping[str, Any]) -> tuple[str, str]:
        """A pydantic error as (field id, one plain sentence)."""
        loc = tuple(error.get("loc", ()))
        kind = str(error.get("type", ""))
        name = str(loc[0]) if loc else ""
        if name in LOCALIZED_FIELDS:
            language = str(loc[1]) if len(loc) > 1 else self.languages[0]
            if name == "title" and len(loc) == 1:
                return "title-" + language, _("Enter a title in at least one language.")
            if kind == "string_too_long":
                limit = error.get("ctx", {}).get("max_length", 0)
                return f"{name}-{language}", _(
                    "This text must be %(limit)d characters or fewer.", limit=limit
                )
            return f"{name}-{language}", _("This text contains characters that are not allowed.")
        if name == "basis":
            return "basis", _("Choose the basis for this purpose.")
        if name == "categories":
            return "other_categories", _(
                "Write categories in lower-case letters, digits, '_', '.' or '-', separated by "
                "commas."
            )
        if name == "recipients" and len(loc) > 2:
            row, part = int(loc[1]), str(loc[2])
            anchor = f"recipient-{row}-{part}"
            if part == "name":
                return anchor, _("Enter the recipient's name.")
            if part == "organization":
                return anchor, _(
                    "Enter the network organization's slug (lower-case letters, digits, '_', "
                    "'.' or '-'), or leave it empty."
                )
            return anchor, _("The reason must be 200 characters or fewer.")
        if name == "retention_days":
            return name, _("Enter the retention as a whole number of days, from 1 to 36500.")
        if name == "consent_valid_days":
            return name, _("Enter how many days consent lasts, from 1 to 3650.")
        return name or "key", _("Check this answer.")


def _recipient_row_count(form: Any) -> int:
    rows = -1
    for name in form.keys():
        match = re.fullmatch(r"recipient-(\d{1,2})-(?:name|organization|reason)", name)
        if match:
            rows = max(rows, int(match.group(1)))
    return rows + 1
