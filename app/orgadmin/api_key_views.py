"""The organization's API keys (/staff/org/keys): the list, creating a key (shown once) and
revoking one after a confirmation.

The portal keeps only a key's hash (app/organizations/service.py `create_api_key`); the
lookups are by the admin's organization (app/orgadmin/service.py), so another
organization's keys are simply not found.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from app.db import SessionDep
from app.i18n import gettext as _
from app.orgadmin import service
from app.orgadmin.deps import AdminDesk, AdminDeskDep
from app.orgadmin.pages import confirm_page, org_admin_router, page
from app.organizations.service import create_api_key
from app.web.deps import not_found
from app.web.forms import FormErrors

router = org_admin_router()

MAX_KEY_NAME = 100


def _keys_page(request: Request, db: Session, desk: AdminDesk, **context: Any) -> HTMLResponse:
    errors = context.get("errors") or FormErrors()
    return page(
        request,
        "orgadmin/keys.html",
        desk,
        {
            "keys": service.list_api_keys(db, organization=desk.organization),
            "errors": errors,
            "name": "",
            **context,
        },
        status_code=400 if errors else 200,
    )


@router.get("/keys", response_class=HTMLResponse)
async def keys(request: Request, desk: AdminDeskDep, db: SessionDep) -> Response:
    return _keys_page(request, db, desk, revoked=request.query_params.get("revoked"))


@router.post("/keys", response_class=HTMLResponse)
async def create_key(request: Request, desk: AdminDeskDep, db: SessionDep) -> Response:
    organization = desk.organization
    form = await request.form()
    raw = form.get("name")
    name = raw.strip() if isinstance(raw, str) else ""
    errors = FormErrors()
    if not name:
        errors.add("name", _("Enter a name for the key, such as the system that will use it."))
    elif len(name) > MAX_KEY_NAME or any(ord(ch) < 32 for ch in name):
        errors.add("name", _("The name must be 100 characters or fewer, on one line."))
    if errors:
        return _keys_page(request, db, desk, errors=errors, name=name[:200])
    newest = form.get("newest")
    if isinstance(newest, str) and newest.isdigit():
        known = int(newest)
        if any(
            k.id is not None and k.id > known and k.name == name
            for k in service.list_api_keys(db, organization=organization)
        ):
            # The same form again (a reload): the key it made was shown once; make no second.
            return _keys_page(request, db, desk, already_created=name)
    key = create_api_key(db, organization=organization, name=name)
    db.commit()
    # Shown on this response only: the portal keeps a hash, never the key.
    return _keys_page(request, db, desk, new_key=key, new_key_name=name)


@router.get("/keys/{key_id}/revoke", response_class=HTMLResponse)
async def revoke_key_confirm(
    key_id: int, request: Request, desk: AdminDeskDep, db: SessionDep
) -> Response:
    key = service.own_api_key(db, organization=desk.organization, key_id=key_id)
    if key is None or key.revoked_at is not None:
        raise not_found()
    return confirm_page(
        request,
        desk,
        question=_("Revoke this API key?"),
        subject=f"{key.name} ({key.prefix}…)",
        explanation=[
            _("Systems using it can no longer reach the API, at once. This can't be undone."),
            _("Give those systems a new key first, or they will stop sending data to the portal."),
        ],
        action=f"/staff/org/keys/{key.id}/revoke",
        button=_("Revoke key"),
        cancel_url=f"/staff/org/keys#key-{key.id}",
    )


@router.post("/keys/{key_id}/revoke")
async def revoke_key(key_id: int, desk: AdminDeskDep, db: SessionDep) -> Response:
    if service.revoke_api_key(db, organization=desk.organization, key_id=key_id) is None:
        raise not_found()
    db.commit()
    return RedirectResponse(f"/staff/org/keys?revoked={key_id}", status_code=303)
