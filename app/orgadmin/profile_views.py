"""The organization's profile (/staff/org/profile): how participants reach it, that is its
name, phone, address, opening hours and the languages its staff speak.

The form is read back into the API's own `OrganizationProfileIn` and saved by the same
`set_profile` as `PUT /api/v1/organization`, so the browser and the API accept and refuse
exactly the same profiles. On an error every answer is kept and each message sits by its field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from app.db import SessionDep
from app.i18n import SUPPORTED_LOCALES
from app.i18n import gettext as _
from app.orgadmin.deps import AdminDesk, AdminDeskDep
from app.orgadmin.pages import org_admin_router, page
from app.organizations.models import PROFILE_LANGUAGES_MAX, Organization
from app.organizations.schemas import OrganizationProfileIn
from app.organizations.service import set_profile
from app.web.forms import FormErrors

router = org_admin_router()


@dataclass
class ProfileForm:
    """The answers as typed (kept on an error)."""

    name: str = ""
    phone: str = ""
    address: str = ""
    opening_hours: str = ""
    languages: list[str] = field(default_factory=list)  # the ticked portal languages
    other_languages: str = ""

    @classmethod
    def from_organization(cls, organization: Organization) -> ProfileForm:
        codes = list(organization.languages or [])
        return cls(
            name=organization.name,
            phone=organization.phone or "",
            address=organization.address or "",
            opening_hours=organization.opening_hours or "",
            languages=[c for c in codes if c in SUPPORTED_LOCALES],
            other_languages=", ".join(c for c in codes if c not in SUPPORTED_LOCALES),
        )

    @classmethod
    def from_form(cls, form: Any) -> ProfileForm:
        def value(name: str) -> str:
            raw = form.get(name)
            return raw.strip() if isinstance(raw, str) else ""

        ticked = [c for c in form.getlist("languages") if c in SUPPORTED_LOCALES]
        return cls(
            name=value("name"),
            phone=value("phone"),
            address=value("address"),
            opening_hours=value("opening_hours"),
            languages=[c for c in SUPPORTED_LOCALES if c in ticked],
            other_languages=value("other_languages"),
        )

    def all_languages(self) -> list[str]:
        others = [c for c in re.split(r"[,\s]+", self.other_languages) if c]
        return list(dict.fromkeys([*self.languages, *others]))

    def validate(self) -> tuple[OrganizationProfileIn | None, FormErrors]:
        errors = FormErrors()
        body = {
            "name": self.name,
            "phone": self.phone,
            "address": self.address,
            "opening_hours": self.opening_hours,
            "languages": self.all_languages(),
        }
        try:
            return OrganizationProfileIn.model_validate(body), errors
        except ValidationError as exc:
            for error in exc.errors():
                errors.add(*_explain(error))
            return None, errors


def _explain(error: Mapping[str, Any]) -> tuple[str, str]:
    """A pydantic error as (field id, one plain sentence in the admin's language)."""
    loc = tuple(error.get("loc", ()))
    kind = str(error.get("type", ""))
    name = str(loc[0]) if loc else "name"
    limit = error.get("ctx", {}).get("max_length", 0)
    if name == "name":
        if kind == "string_too_short":
            return name, _("Enter your organization's name, as participants know it.")
        if kind == "string_too_long":
            return name, _("This text must be %(limit)d characters or fewer.", limit=limit)
        return name, _("This text contains characters that are not allowed.")
    if name == "phone":
        if kind == "string_too_long":
            return name, _("This text must be %(limit)d characters or fewer.", limit=limit)
        return name, _(
            "Enter the phone number as participants dial it, with digits, spaces and + ( ) - . "
            "only, such as +1 612 555 0100."
        )
    if name in ("address", "opening_hours"):
        if kind == "string_too_long":
            return name, _("This text must be %(limit)d characters or fewer.", limit=limit)
        return name, _("This text contains characters that are not allowed.")
    if name == "languages":
        if kind == "too_long":
            return "other_languages", _(
                "List at most %(limit)d languages.", limit=PROFILE_LANGUAGES_MAX
            )
        return "other_languages", _(
            "Write other languages as language codes separated by commas, such as vi, om, ti."
        )
    return "name", _("Check this answer.")


def _profile_page(
    request: Request, desk: AdminDesk, form: ProfileForm, **context: Any
) -> HTMLResponse:
    errors = context.get("errors") or FormErrors()
    return page(
        request,
        "orgadmin/profile.html",
        desk,
        {
            "form": form,
            "errors": errors,
            "portal_languages": SUPPORTED_LOCALES,
            **context,
        },
        status_code=400 if errors else 200,
    )


@router.get("/profile", response_class=HTMLResponse)
async def profile(request: Request, desk: AdminDeskDep) -> Response:
    """How participants reach the organization: the form, filled in with what is saved."""
    return _profile_page(
        request,
        desk,
        ProfileForm.from_organization(desk.organization),
        saved=request.query_params.get("saved") == "1",
    )


@router.post("/profile", response_class=HTMLResponse)
async def save_profile(request: Request, desk: AdminDeskDep, db: SessionDep) -> Response:
    form = ProfileForm.from_form(await request.form())
    data, errors = form.validate()
    if data is None:
        return _profile_page(request, desk, form, errors=errors)
    set_profile(db, organization=desk.organization, data=data)
    db.commit()
    return RedirectResponse("/staff/org/profile?saved=1", status_code=303)
