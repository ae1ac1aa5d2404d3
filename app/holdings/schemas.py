from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from app.schemas import Key, ShortText, ValueText


class HoldingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: ShortText  # type: ignore[valid-type]
    category: Key
    value: ValueText  # type: ignore[valid-type]
    purpose: Key = Field(description="the key of a purpose in the organization's plan")
    source: ShortText | None = None  # type: ignore[valid-type]
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
