"""Categories of data in an organization's plan, their words, and which are sensitive.

Which categories are sensitive is a rule of the plan (PRODUCT.md: hidden behind a gentle
warning, flagged in the data-justice review, marked sensitive when staff add a holding), not a
matter of presentation, so it lives here beside the plan rather than in app/web/. The words
are kept with it: a category's name is what the stored notice text says.
"""

from __future__ import annotations

from app.i18n import lazy_gettext as _l

CATEGORY_WORDS = {
    "identity": _l("Who you are"),
    "contact": _l("How to reach you"),
    "household": _l("Household"),
    "income": _l("Income"),
    "benefits": _l("Benefits"),
    "housing": _l("Housing"),
    "food": _l("Food"),
    "education": _l("Education"),
    "employment": _l("Work"),
    "services": _l("Services you received"),
    "health": _l("Health"),
    "substance_use": _l("Substance use"),
    "immigration": _l("Immigration"),
    "violence": _l("Violence and safety"),
    "criminal_legal": _l("Criminal legal matters"),
    "strengths": _l("Strengths"),
    "goals": _l("Goals"),
}

# The categories PRODUCT.md names as sensitive: hidden behind a gentle warning.
SENSITIVE_CATEGORIES = frozenset(
    {"health", "substance_use", "immigration", "violence", "criminal_legal"}
)


def category_name(key: str) -> str:
    """The category in plain words; a category the portal does not know, from its key."""
    word = CATEGORY_WORDS.get(key)
    return str(word) if word is not None else key.replace("_", " ").replace("-", " ").capitalize()
