from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field, Tag

from app.i18n import DEFAULT_LOCALE, SUPPORTED_LOCALES
from app.schemas import Key, ShortText, ValueText


def _known_languages(texts: dict[str, str]) -> dict[str, str]:
    unknown = sorted(set(texts) - set(SUPPORTED_LOCALES))
    if unknown:
        raise ValueError(
            f"unknown language code {', '.join(map(repr, unknown))}: give the text under the "
            f"codes of the portal's languages ({', '.join(SUPPORTED_LOCALES)})"
        )
    return texts


# A text the organization wrote per language, {"en": "Phone number", "es": "Teléfono"}: the
# portal's language codes only, each text as long as a plain one may be.
PerLanguage = Annotated[
    dict[str, ShortText],  # type: ignore[valid-type]
    Field(min_length=1, max_length=len(SUPPORTED_LOCALES)),
    AfterValidator(_known_languages),
]


def _form(value: Any) -> str:
    # Validate as one form or the other, so a bad per-language text gets its own error only.
    return "per_language" if isinstance(value, dict) else "text"


OwnText = Annotated[
    Annotated[ShortText, Tag("text")] | Annotated[PerLanguage, Tag("per_language")],  # type: ignore[valid-type]
    Discriminator(_form),
    Field(description='a plain string, or one per language: {"en": "...", "es": "..."}'),
]


def default_text(text: str | dict[str, str]) -> str:
    """The organization's text for everything that reads one (sorting, search, exports,
    webhooks): the plain string, or English, else the first of the portal's languages given."""
    if isinstance(text, str):
        return text
    for code in (DEFAULT_LOCALE, *SUPPORTED_LOCALES):
        if text.get(code):
            return text[code]
    return next(iter(text.values()))


def per_language(text: str | dict[str, str] | None) -> dict[str, str] | None:
    """What is kept besides the default text: the per-language texts, or None for a string."""
    return text if isinstance(text, dict) else None


class HoldingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: OwnText
    category: Key
    value: ValueText  # type: ignore[valid-type]
    purpose: Key = Field(description="the key of a purpose in the organization's plan")
    source: OwnText | None = None
    collected_at: date | None = None
    retain_until: date | None = None
    sensitive: bool | None = Field(
        default=None, description="defaults to the purpose's sensitive flag"
    )


class HoldingItem(HoldingIn):
    field_key: Key


class HoldingsReplace(BaseModel):
    model_config = ConfigDict(extra="forbid")
    holdings: list[HoldingItem] = Field(max_length=2000)
