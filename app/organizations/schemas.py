"""The data collection plan as the API reads and writes it."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from app.i18n import known_language
from app.organizations.models import (
    PROFILE_ADDRESS_MAX,
    PROFILE_HOURS_MAX,
    PROFILE_LANGUAGES_MAX,
    PROFILE_PHONE_MAX,
)
from app.schemas import Key, LocaleCode, LocalizedText, LocalizedTitle, ShortText, text

Basis = Literal["consent", "service", "legal_obligation", "funder_contract"]


class RecipientIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: ShortText  # type: ignore[valid-type]
    organization: Key | None = Field(
        default=None, description="the recipient's slug when it is a network organization"
    )
    reason: ShortText | None = None  # type: ignore[valid-type]


# A recipient as a disclosure or a consent check names it: a name, and the organization's slug
# when it is a network organization. Kept beside the plan's recipients (it is matched against
# them), so consent and disclosures both read it from this lower layer. (A comment, not a
# docstring: a docstring would change the published OpenAPI schema.)
class RecipientRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: ShortText  # type: ignore[valid-type]
    organization: Key | None = None


class PurposeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: LocalizedTitle  # type: ignore[valid-type]
    description: LocalizedText = Field(default_factory=dict)  # type: ignore[valid-type]
    basis: Basis
    categories: list[Key] = Field(default_factory=list, max_length=50)
    recipients: list[RecipientIn] = Field(default_factory=list, max_length=50)
    retention_days: int | None = Field(default=None, ge=1, le=36500)
    refusal_consequence: LocalizedText = Field(default_factory=dict)  # type: ignore[valid-type]
    legal_recipients: LocalizedText = Field(default_factory=dict)  # type: ignore[valid-type]
    sensitive: bool = False
    consent_valid_days: int = Field(default=365, ge=1, le=3650)


class PurposeOut(PurposeIn):
    key: str
    version: int
    updated_at: str


def _phone(value: str) -> str:
    if not _PHONE.fullmatch(value) or sum(ch.isdigit() for ch in value) < 3:
        raise ValueError(
            "a phone number has digits, spaces and + ( ) - . only, such as +1 612 555 0100"
        )
    return value


def _languages(codes: list[str]) -> list[str]:
    unknown = [code for code in codes if not known_language(code)]
    if unknown:
        raise ValueError("unknown language codes: " + ", ".join(unknown))
    return list(dict.fromkeys(codes))  # each once, in the order given


_PHONE = re.compile(r"\+?[0-9][0-9 ().\-]*")
PhoneText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=PROFILE_PHONE_MAX),
    AfterValidator(_phone),
    Field(description="as participants dial it, such as +1 612 555 0100"),
]
AddressText = text(PROFILE_ADDRESS_MAX)
HoursText = text(PROFILE_HOURS_MAX)


class OrganizationProfileIn(BaseModel):
    """How participants reach the organization. A PUT replaces all of it: a field left out
    (or null) is cleared."""

    model_config = ConfigDict(extra="forbid")
    name: ShortText  # type: ignore[valid-type]
    phone: PhoneText | None = None
    address: AddressText | None = Field(  # type: ignore[valid-type]
        default=None, description="where to come in person; line breaks are kept"
    )
    opening_hours: HoursText | None = Field(  # type: ignore[valid-type]
        default=None, description="when someone answers the phone or the door, in plain words"
    )
    languages: Annotated[
        list[LocaleCode], Field(max_length=PROFILE_LANGUAGES_MAX), AfterValidator(_languages)
    ] = Field(
        default_factory=list,
        description="languages staff speak with participants, as codes: en, es, so, hmn",
    )

    @model_validator(mode="before")
    @classmethod
    def _blank_is_none(cls, data: Any) -> Any:
        # An empty phone, address or hours clears it, as null does.
        if isinstance(data, dict):
            for name in ("phone", "address", "opening_hours"):
                value = data.get(name)
                if isinstance(value, str) and not value.strip():
                    data = {**data, name: None}
        return data


class OrganizationProfileOut(OrganizationProfileIn):
    slug: str
    updated_at: str | None
