"""The data collection plan as the API reads and writes it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.schemas import Key, LocalizedText, LocalizedTitle, ShortText

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
