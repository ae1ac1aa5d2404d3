"""The network administrators' concern pages: read one concern with its subject, and reply.

The participant raises a concern on their own pages (app/concerns/views.py); answering it is
an administrator's page, behind the administrator's session (app/admin/views.py), so it lives
with the other admin pages and concerns need not know who an administrator is.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from app.admin.views import CurrentAdmin
from app.concerns.models import MAX_CONCERN_TEXT, MAX_REPLY_TEXT, Concern
from app.concerns.service import ConcernView, concern_for_admin, reply_to_concern
from app.db import SessionDep
from app.web.deps import not_found, web_context
from app.web.forms import FormError, FormErrors
from app.web.templating import render

router = APIRouter(dependencies=[Depends(web_context)])

# Cut long pastes before checking: still "too long", but never echoed back in megabytes.
_FORM_CUT = 20 * max(MAX_CONCERN_TEXT, MAX_REPLY_TEXT)


def _admin_page(
    request: Request,
    admin: object,
    view: ConcernView,
    *,
    errors: FormErrors | None = None,
    text: str = "",
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "concerns/admin_concern.html",
        {"admin": admin, "item": view, "errors": errors or FormErrors(), "text": text},
        status_code=status_code,
    )


def _admin_concern_or_404(db: Session, concern_id: str) -> ConcernView:
    view = concern_for_admin(db, concern_id)
    if view is None:
        raise not_found()
    return view


@router.get("/admin/concerns/{concern_id}", response_class=HTMLResponse)
async def admin_concern(
    request: Request, concern_id: str, admin: CurrentAdmin, db: SessionDep
) -> Response:
    return _admin_page(request, admin, _admin_concern_or_404(db, concern_id))


@router.post("/admin/concerns/{concern_id}/reply", response_class=HTMLResponse)
async def admin_reply(
    request: Request,
    concern_id: str,
    admin: CurrentAdmin,
    db: SessionDep,
    reply: str = Form(""),
) -> Response:
    view = _admin_concern_or_404(db, concern_id)
    concern: Concern = view.concern
    text = reply[:_FORM_CUT]
    try:
        reply_to_concern(db, concern=concern, admin=admin, text=text)
    except FormError as exc:
        db.rollback()
        errors = FormErrors()
        errors.add(exc.field, exc.message)
        view = _admin_concern_or_404(db, concern_id)
        return _admin_page(request, admin, view, errors=errors, text=text, status_code=400)
    db.commit()
    return RedirectResponse(f"/admin/concerns/{concern.id}?replied=1", status_code=303)
