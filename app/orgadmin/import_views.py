"""Import a spreadsheet: check a CSV, then apply it in one transaction.

Only org admins (`AdminDeskDep`: a case manager gets 404, as on every /staff/org page), and
only into their own organization: the check and the import look up the plan, enrollments and
holdings by the admin's organization, and the signed file names that organization and the
admin (app/orgadmin/imports.py), so it can't be carried into another.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from app.db import SessionDep, utcnow
from app.i18n import gettext as _
from app.orgadmin import imports
from app.orgadmin.deps import AdminDesk, AdminDeskDep
from app.orgadmin.pages import org_admin_router, page
from app.participants.service import CLAIM_CODE_VALID, claim_url
from app.staff.qr import qr_svg
from app.web.deps import WebContextDep

router = org_admin_router()

FILE_FIELD = "file"
CHECKED_FIELD = "checked"


def _import_page(
    request: Request,
    template: str,
    desk: AdminDesk,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    # "import.html" for every step: the navigation marks Import a spreadsheet as current.
    columns = {"required_columns": imports.REQUIRED, "optional_columns": imports.OPTIONAL}
    return page(
        request,
        template,
        desk,
        {**columns, **(context or {})},
        section="import.html",
        status_code=status_code,
    )


@router.get("/import", response_class=HTMLResponse)
async def import_form(request: Request, desk: AdminDeskDep) -> Response:
    return _import_page(request, "orgadmin/import.html", desk, {"max_rows": imports.MAX_ROWS})


async def _uploaded(request: Request) -> bytes | None:
    form = await request.form()
    upload = form.get(FILE_FIELD)
    if not isinstance(upload, UploadFile):
        return None
    # One byte over the limit is enough to refuse it; the rest is never read.
    return await upload.read(imports.MAX_BYTES + 1)


@router.post("/import/check", response_class=HTMLResponse)
async def check_file(
    request: Request, desk: AdminDeskDep, ctx: WebContextDep, db: SessionDep
) -> Response:
    staff, organization = desk.staff, desk.organization
    assert organization.id is not None and staff.id is not None
    content = await _uploaded(request)
    if content is None:
        return _import_page(
            request,
            "orgadmin/import.html",
            desk,
            {"max_rows": imports.MAX_ROWS, "error": _("Choose a CSV file to check.")},
            status_code=422,
        )
    checked = imports.check(db, organization, content)
    db.rollback()  # the check writes nothing; end its read transaction
    context: dict[str, Any] = {"check": checked, "max_rows": imports.MAX_ROWS}
    if checked.ok:
        token = imports.sign_payload(
            ctx.settings.secret_key,
            organization_id=organization.id,
            staff_id=staff.id,
            content=content,
        )
        context["token_parts"] = imports.split_token(token)
    return _import_page(
        request,
        "orgadmin/import_check.html",
        desk,
        context,
        status_code=200 if checked.ok else 422,
    )


@router.post("/import", response_class=HTMLResponse)
async def run_import(
    request: Request, desk: AdminDeskDep, ctx: WebContextDep, db: SessionDep
) -> Response:
    staff, organization = desk.staff, desk.organization
    assert organization.id is not None and staff.id is not None
    form = await request.form()
    token = "".join(v for v in form.getlist(CHECKED_FIELD) if isinstance(v, str))
    content = imports.open_payload(
        ctx.settings.secret_key, token, organization_id=organization.id, staff_id=staff.id
    )
    if content is None:
        return _import_page(
            request,
            "orgadmin/import.html",
            desk,
            {
                "max_rows": imports.MAX_ROWS,
                "error": _(
                    "The checked file could not be used (it is more than an hour old, or was "
                    "changed). Check the file again."
                ),
            },
            status_code=422,
        )
    outcome = imports.apply(db, organization, content)
    if isinstance(outcome, imports.Check):
        # Something changed since the check (the plan, say): nothing was saved.
        db.rollback()
        return _import_page(
            request,
            "orgadmin/import_check.html",
            desk,
            {"check": outcome, "max_rows": imports.MAX_ROWS, "rechecked": True},
            status_code=422,
        )
    base_url = ctx.settings.base_url
    cards = []
    for person in outcome.new_participants:
        url = claim_url(base_url, person.claim_code)
        cards.append(
            {
                "external_ref": person.external_ref,
                "code": person.claim_code,
                "claim_url": url,
                "qr": qr_svg(url, title=_("QR code of the claim link"), batch=True),
            }
        )
    return _import_page(
        request,
        "orgadmin/import_done.html",
        desk,
        {
            "result": outcome,
            "cards": cards,
            "typed_url": f"{base_url}/claim",
            "expires_at": utcnow() + CLAIM_CODE_VALID,
        },
    )
