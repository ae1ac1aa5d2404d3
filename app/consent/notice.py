"""The notice a participant reads before deciding: built from the purpose, in one language.

The exact text shown is stored with each consent, so "consent to what?" always has an answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.i18n import get_locale, ngettext, pick_text, set_locale
from app.i18n import gettext as _
from app.organizations.categories import category_name
from app.organizations.models import Organization, Purpose


@dataclass
class Notice:
    language: str
    version: int
    title: str
    description: str
    categories: list[str]
    recipients: list[str]
    retention: str
    may_refuse: str
    refusal_consequence: str
    legal_recipients: str
    fallback_language: str | None

    def as_text(self, organization_name: str) -> str:
        lines = [
            f"{organization_name}: {self.title}",
            self.description,
            _("What data: %(categories)s", categories=", ".join(self.categories) or "-"),
            _("Who will receive it: %(recipients)s", recipients=", ".join(self.recipients) or "-"),
            _("How long it is kept: %(retention)s", retention=self.retention),
            self.may_refuse,
            self.refusal_consequence,
            self.legal_recipients,
        ]
        return "\n".join(line for line in lines if line)


def retention_text(purpose: Purpose) -> str:
    if purpose.retention_days is None:
        return _("No limit has been set.")
    if purpose.retention_days % 365 == 0:
        years = purpose.retention_days // 365
        return ngettext("%(num)d year", "%(num)d years", years)
    return _("%(num)d days", num=purpose.retention_days)


def build_notice(
    purpose: Purpose, organization: Organization, language: str | None = None
) -> Notice:
    previous = get_locale()
    if language:
        set_locale(language)
    try:
        title, fallback = pick_text(purpose.title)
        description, _fb = pick_text(purpose.description)
        consequence, _fb = pick_text(purpose.refusal_consequence)
        legal, _fb = pick_text(purpose.legal_recipients)
        may_refuse = (
            _("You may say no.")
            if purpose.basis == "consent"
            else _("This does not need your consent, but you have the right to know about it.")
        )
        return Notice(
            language=get_locale(),
            version=purpose.version,
            title=title,
            description=description,
            # Plain words, not codes: the stored text must be the text the participant read.
            categories=[category_name(c) for c in purpose.categories],
            recipients=[r.get("name", "") for r in purpose.recipients],
            retention=retention_text(purpose),
            may_refuse=may_refuse,
            refusal_consequence=(
                _("If you say no: %(consequence)s", consequence=consequence)
                if consequence
                else _("Saying no does not change the services you get.")
            ),
            legal_recipients=(
                _("The law may also require sharing with: %(who)s", who=legal) if legal else ""
            ),
            fallback_language=fallback,
        )
    finally:
        set_locale(previous)
