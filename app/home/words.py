"""The words every holding and disclosure of a purpose repeats on the home page, worked out
once per organization's section instead of once per row: with 300 rows, the same five
purposes' titles, bases and retention periods would otherwise be looked up and translated
300 times (bench/home_page.py measures the page)."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from app.corrections.deletions import can_ask_to_delete
from app.organizations.models import Purpose
from app.web import labels
from app.web.templating import OwnWords, localized


@dataclass(frozen=True)
class PurposeWords:
    title: Markup
    basis: str
    kept_after_collection: str
    href: str  # the purpose's place under "Why it holds data"
    may_delete: bool  # whether the participant may ask for its holdings to be deleted


def purpose_words(
    purposes: list[Purpose], organization_slug: str, own: OwnWords | None = None
) -> dict[int | None, PurposeWords]:
    """Purpose id → its words, in the page's language (set before rendering). With `own`
    (the section's `own_words`), a title not yet translated is marked by its lang only, and
    the section says so once."""
    title = localized if own is None else own
    return {
        p.id: PurposeWords(
            title=title(p.title),
            basis=labels.basis_words(p.basis),
            kept_after_collection=labels.retention_words(p.retention_days, after_collection=True),
            href=f"#purpose-{organization_slug}-{p.key}",
            may_delete=can_ask_to_delete(p),
        )
        for p in purposes
    }
