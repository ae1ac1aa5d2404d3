"""What the staff forms for holdings and disclosures need beyond the API's services: the
plan's purposes, a field_key made from a label, and form fields read into the API's bodies.

The saving itself is app/holdings/service.py and app/disclosures/service.py, as for the API,
so a holding or disclosure made in the browser is the same as one made through the API.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, col, select

from app.disclosures.schemas import DisclosureIn
from app.holdings.models import Holding
from app.holdings.schemas import HoldingIn
from app.i18n import DEFAULT_LOCALE, SUPPORTED_LOCALES
from app.i18n import gettext as _
from app.organizations.categories import SENSITIVE_CATEGORIES
from app.organizations.models import Purpose
from app.participants.models import Enrollment

MAX_KEY = 64  # as app/schemas.py Key
# The label and source may be given in the portal's other languages too ("label-es"…), as the
# plan editor takes a purpose's title per language; the plain field is the English one.
OTHER_LANGUAGES = tuple(code for code in SUPPORTED_LOCALES if code != DEFAULT_LOCALE)


def plan_purposes(session: Session, organization_id: int) -> list[Purpose]:
    return list(
        session.exec(
            select(Purpose)
            .where(Purpose.organization_id == organization_id)
            .order_by(col(Purpose.key))
        )
    )


def plan_categories(purposes: list[Purpose]) -> list[str]:
    return sorted({c for p in purposes for c in p.categories})


def _slug(label: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[: MAX_KEY - 4].strip("-") or "item"


def new_field_key(session: Session, enrollment: Enrollment, label: str) -> str:
    """A slug of the label, unique within the enrollment. Deleted holdings keep their key:
    reusing it would bring the deleted row back, and the participant would lose the record
    that it was deleted."""
    taken = set(
        session.exec(select(Holding.field_key).where(Holding.enrollment_id == enrollment.id))
    )
    base = _slug(label)
    key, n = base, 1
    while key in taken:
        n += 1
        key = f"{base}-{n}"
    return key


def _messages(exc: ValidationError, names: dict[str, str]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in exc.errors():
        loc = error["loc"][0] if error["loc"] else ""
        field = names.get(str(loc), str(loc))
        if error["loc"][1:2] == ("per_language",) and error["loc"][2:3] != (DEFAULT_LOCALE,):
            # A text in one language: the error goes on that language's field ("label-es").
            field = f"{field}-{error['loc'][2]}" if len(error["loc"]) > 2 else field
        errors.setdefault(field, _("Check this field: %(detail)s", detail=error["msg"]))
    return errors


def _per_language(form: dict[str, str], name: str, text: str) -> str | dict[str, str]:
    """The plain text, or, when the form gives it in other languages too, the texts by
    language (the plain one as English)."""
    others = {code: form.get(f"{name}-{code}", "").strip() for code in OTHER_LANGUAGES}
    others = {code: words for code, words in others.items() if words}
    if not others:
        return text
    return {DEFAULT_LOCALE: text, **others} if text else others


def form_texts(name: str, text: str | None, texts: dict[str, str] | None) -> dict[str, str]:
    """A holding's label or source as the form's fields: "label", "label-es"…"""
    if not texts:
        return {name: text or ""}
    fields = {f"{name}-{code}": texts.get(code, "") for code in OTHER_LANGUAGES}
    return {name: texts.get(DEFAULT_LOCALE, ""), **fields}


def holding_from_form(
    form: dict[str, str], purposes: list[Purpose]
) -> tuple[HoldingIn | None, dict[str, str]]:
    """The API's body from the form, or the errors by field. Nothing is saved here."""
    errors: dict[str, str] = {}
    label = form.get("label", "").strip()
    category = form.get("category", "").strip().lower()
    value = form.get("value", "").strip()
    purpose = form.get("purpose", "").strip()
    if not label and not any(form.get(f"label-{code}", "").strip() for code in OTHER_LANGUAGES):
        errors["label"] = _("Enter a label, such as “Phone number”.")
    if not category:
        errors["category"] = _("Enter a category, such as “contact”.")
    if not value:
        errors["value"] = _("Enter the value you hold.")
    if not purpose:
        errors["purpose"] = _("Choose the purpose this data serves.")
    elif purpose not in {p.key for p in purposes}:
        errors["purpose"] = _("Choose a purpose from your data collection plan.")
    if errors:
        return None, errors
    # Sensitive categories are always sensitive, whatever the box says: the form cannot
    # tick the box when the category is typed (no script), so the rule is kept here.
    # Otherwise the box decides; a form without the box leaves it to the purpose's flag.
    sensitive: bool | None
    if category in SENSITIVE_CATEGORIES or form.get("sensitive"):
        sensitive = True
    elif form.get("sensitive_shown"):
        sensitive = False
    else:
        sensitive = None
    body: dict[str, Any] = {
        "label": _per_language(form, "label", label),
        "category": category,
        "value": value,
        "purpose": purpose,
        "source": _per_language(form, "source", form.get("source", "").strip()) or None,
        "sensitive": sensitive,
    }
    try:
        return HoldingIn.model_validate(body), {}
    except ValidationError as exc:
        return None, _messages(exc, {})


def disclosure_from_form(
    form: dict[str, str], field_keys: list[str], purposes: list[Purpose], held: set[str]
) -> tuple[DisclosureIn | None, dict[str, str]]:
    errors: dict[str, str] = {}
    recipient = form.get("recipient", "").strip()
    purpose = form.get("purpose", "").strip()
    if not recipient:
        errors["recipient"] = _("Enter who received the data.")
    if not purpose:
        errors["purpose"] = _("Choose the purpose it was shared for.")
    elif purpose not in {p.key for p in purposes}:
        errors["purpose"] = _("Choose a purpose from your data collection plan.")
    chosen = [k for k in dict.fromkeys(field_keys) if k in held]
    if not chosen:
        errors["field_keys"] = _("Choose at least one item that was shared.")
    if errors:
        return None, errors
    body = {"recipient": {"name": recipient}, "purpose": purpose, "field_keys": chosen}
    try:
        return DisclosureIn.model_validate(body), {}
    except ValidationError as exc:
        return None, _messages(exc, {"field_keys": "field_keys"})


def flag_reason_words(reasons: list[str]) -> list[str]:
    words = {
        "consent_not_given": _(
            "This purpose rests on consent, and the participant has not given it."
        ),
        "recipient_not_in_plan": _(
            "The recipient is not among this purpose's recipients in your plan."
        ),
    }
    return [words.get(r, r) for r in reasons]
