"""The data-justice review of an organization's data collection plan.

Pure functions over the purposes and two facts about the organization (which categories it
actually holds, which languages its participants use), so every rule can be tested without a
database. Each flag says in one sentence what the principles ask for, and names the field of
the plan editor to change (`anchor`, an id on templates/orgadmin/purpose.html).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.i18n import gettext as _
from app.i18n import language_name
from app.organizations.categories import SENSITIVE_CATEGORIES, category_name

# Longer than this needs a stated reason: the network's default is three years.
DEFAULT_RETENTION_DAYS = 3 * 365
# A title shorter than this ("Misc", "Data") says nothing about the use.
MIN_TITLE_LENGTH = 8
# A description shorter than this cannot explain why the data is needed.
MIN_DESCRIPTION_LENGTH = 20
# Categories that describe needs and problems. A plan holding only these records what a
# person lacks; the asset-based principle asks for their strengths and goals too.
DEFICIT_CATEGORIES = frozenset(
    {
        "income",
        "benefits",
        "housing",
        "food",
        "health",
        "substance_use",
        "immigration",
        "violence",
        "criminal_legal",
    }
)
ASSET_CATEGORIES = frozenset({"strengths", "goals"})

# Every kind of flag, in the order the review lists them.
FLAG_KINDS = (
    "unclear_purpose",
    "uncovered_category",
    "no_retention",
    "long_retention",
    "sensitive_without_need",
    "sensitive_report_without_consent",
    "no_refusal_consequence",
    "recipient_without_reason",
    "missing_language",
    "deficit_only",
)


@dataclass(frozen=True)
class Flag:
    kind: str
    purpose_key: str
    anchor: str  # the id of the field to change on the purpose's editor page
    message: str

    @property
    def href(self) -> str:
        return f"/staff/org/plan/{self.purpose_key}#{self.anchor}"


@dataclass
class PurposeReview:
    key: str
    title: dict[str, str]
    flags: list[Flag] = field(default_factory=list)


@dataclass
class PlanReview:
    purposes: list[PurposeReview]

    @property
    def flags(self) -> list[Flag]:
        return [f for p in self.purposes for f in p.flags]

    def kinds(self) -> set[str]:
        return {f.kind for f in self.flags}


def _text(texts: Mapping[str, str] | None) -> str:
    """The longest of a purpose's texts: a short English title with a full Spanish one is
    still a clear purpose (the language flag catches the gap)."""
    return max((t.strip() for t in (texts or {}).values()), key=len, default="")


def _attr(purpose: Any, name: str, default: Any = None) -> Any:
    """Purposes come as models (the database) or dicts (a plan being drafted)."""
    if isinstance(purpose, Mapping):
        return purpose.get(name, default)
    return getattr(purpose, name, default)


def unclear_purpose(purpose: Any) -> Flag | None:
    key = _attr(purpose, "key")
    if len(_text(_attr(purpose, "title"))) < MIN_TITLE_LENGTH:
        return Flag(
            "unclear_purpose",
            key,
            "title-en",
            _("The title does not say what the data is used for; name the use in plain words."),
        )
    if len(_text(_attr(purpose, "description"))) < MIN_DESCRIPTION_LENGTH:
        return Flag(
            "unclear_purpose",
            key,
            "description-en",
            _(
                "There is no clear description; explain in a sentence or two why the data is needed."
            ),
        )
    return None


def retention(purpose: Any, default_days: int = DEFAULT_RETENTION_DAYS) -> Flag | None:
    key = _attr(purpose, "key")
    days = _attr(purpose, "retention_days")
    if not days:
        return Flag(
            "no_retention",
            key,
            "retention_days",
            _("No retention is set, so the data could be kept forever; set how long it is kept."),
        )
    if days > default_days:
        return Flag(
            "long_retention",
            key,
            "retention_days",
            _(
                "The data is kept %(days)d days, longer than the default of %(default)d; "
                "shorten it or explain why in the description.",
                days=days,
                default=default_days,
            ),
        )
    return None


def sensitive_without_need(purpose: Any) -> Flag | None:
    sensitive = sorted(set(_attr(purpose, "categories") or []) & SENSITIVE_CATEGORIES)
    if not sensitive or len(_text(_attr(purpose, "description"))) >= MIN_DESCRIPTION_LENGTH:
        return None
    return Flag(
        "sensitive_without_need",
        _attr(purpose, "key"),
        "description-en",
        _(
            "It collects sensitive data (%(categories)s) without saying why it is needed; "
            "state the need in the description.",
            categories=", ".join(category_name(c) for c in sensitive),
        ),
    )


def reports_without_consent(
    purposes: Sequence[Any], reports: Iterable[Mapping[str, Any]]
) -> list[Flag]:
    """A report that counts people by a sensitive category (app/holdings/sensitivity.py) for a
    purpose that does not rest on consent counts everyone by, say, their health: it should
    ask first. `reports` are {"key", "purpose", "sensitive_categories"}."""
    by_key = {_attr(p, "key"): p for p in purposes}
    flags = []
    for report in reports:
        purpose = by_key.get(report["purpose"])
        sensitive = sorted(report.get("sensitive_categories") or [])
        if purpose is None or not sensitive or _attr(purpose, "basis") == "consent":
            continue
        flags.append(
            Flag(
                "sensitive_report_without_consent",
                report["purpose"],
                "basis",
                _(
                    "The report %(report)s counts participants by sensitive data "
                    "(%(categories)s) without their consent; base it on a purpose that rests on "
                    "consent, or count by something else.",
                    report=report["key"],
                    categories=", ".join(category_name(c) for c in sensitive),
                ),
            )
        )
    return flags


def no_refusal_consequence(purpose: Any) -> Flag | None:
    if _attr(purpose, "basis") != "consent" or _text(_attr(purpose, "refusal_consequence")):
        return None
    return Flag(
        "no_refusal_consequence",
        _attr(purpose, "key"),
        "refusal_consequence-en",
        _("It rests on consent but does not say what happens if the person says no."),
    )


def recipients_without_reason(purpose: Any) -> list[Flag]:
    flags = []
    for index, recipient in enumerate(_attr(purpose, "recipients") or []):
        if (recipient.get("reason") or "").strip():
            continue
        flags.append(
            Flag(
                "recipient_without_reason",
                _attr(purpose, "key"),
                f"recipient-{index}-reason",
                _(
                    "The data goes to %(recipient)s without a stated reason; say why they "
                    "receive it.",
                    recipient=recipient.get("name") or "?",
                ),
            )
        )
    return flags


def missing_languages(purpose: Any, languages: Iterable[str]) -> list[Flag]:
    """A title in every language the organization's participants read; and the description
    and refusal consequence too when the purpose has them in some language."""
    flags = []
    for language in sorted(set(languages)):
        missing = [
            name
            for name in ("title", "description", "refusal_consequence")
            if (name == "title" or _text(_attr(purpose, name)))
            and not ((_attr(purpose, name) or {}).get(language) or "").strip()
        ]
        if missing:
            flags.append(
                Flag(
                    "missing_language",
                    _attr(purpose, "key"),
                    f"{missing[0]}-{language}",
                    _(
                        "Some of your participants read %(language)s, but this purpose has no "
                        "text in it; add the %(language)s wording.",
                        language=language_name(language),
                    ),
                )
            )
    return flags


def uncovered_categories(
    purposes: Sequence[Any], held_categories: Mapping[str, Iterable[str]]
) -> list[Flag]:
    """Categories the organization holds that no purpose lists: the data is collected for a
    use nobody wrote down. The flag goes on the purpose the holdings are filed under."""
    listed = {c for p in purposes for c in (_attr(p, "categories") or [])}
    keys = {_attr(p, "key") for p in purposes}
    flags = []
    for category in sorted(set(held_categories) - listed):
        holders = sorted(k for k in held_categories[category] if k in keys)
        if not holders:
            continue
        flags.append(
            Flag(
                "uncovered_category",
                holders[0],
                "categories",
                _(
                    "You hold %(category)s data but no purpose lists that category; add it to "
                    "the purpose it serves or stop collecting it.",
                    category=category_name(category),
                ),
            )
        )
    return flags


def deficit_only(purposes: Sequence[Any]) -> list[Flag]:
    """The plan records needs and problems but never a person's strengths or goals."""
    categories = {c for p in purposes for c in (_attr(p, "categories") or [])}
    if categories & ASSET_CATEGORIES or not categories & DEFICIT_CATEGORIES:
        return []
    first = next(p for p in purposes if set(_attr(p, "categories") or []) & DEFICIT_CATEGORIES)
    return [
        Flag(
            "deficit_only",
            _attr(first, "key"),
            "categories",
            _(
                "The plan records only needs and problems; add a strengths or goals field so "
                "people are seen whole."
            ),
        )
    ]


def review_plan(
    purposes: Sequence[Any],
    *,
    held_categories: Mapping[str, Iterable[str]] | None = None,
    participant_languages: Iterable[str] = (),
    default_retention_days: int = DEFAULT_RETENTION_DAYS,
    reports: Iterable[Mapping[str, Any]] = (),
) -> PlanReview:
    """Every flag for every purpose. `held_categories` maps each category the organization
    holds to the purpose keys its holdings are filed under; `participant_languages` are the
    languages its participants prefer; `reports` what each report counts by."""
    languages = set(participant_languages)
    reviews = {
        _attr(p, "key"): PurposeReview(key=_attr(p, "key"), title=_attr(p, "title") or {})
        for p in purposes
    }
    for purpose in purposes:
        flags = reviews[_attr(purpose, "key")].flags
        for single in (
            unclear_purpose(purpose),
            retention(purpose, default_retention_days),
            sensitive_without_need(purpose),
            no_refusal_consequence(purpose),
        ):
            if single is not None:
                flags.append(single)
        flags.extend(recipients_without_reason(purpose))
        flags.extend(missing_languages(purpose, languages))
    for flag in (
        uncovered_categories(purposes, held_categories or {})
        + deficit_only(purposes)
        + reports_without_consent(purposes, reports)
    ):
        reviews[flag.purpose_key].flags.append(flag)
    for review in reviews.values():
        review.flags.sort(key=lambda f: FLAG_KINDS.index(f.kind))
    return PlanReview(purposes=list(reviews.values()))
