"""The network administrators' pages: log in and out, the delivery dashboard, redelivery.

Every page but the login form needs an admin session; a participant's session never counts.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.admin.service import AdminLockedOut, authenticate_admin, build_dashboard
from app.db import SessionDep
from app.i18n import format_datetime
from app.i18n import gettext as _
from app.organizations.models import NetworkAdmin
from app.security.sessions import end_session, start_session
from app.web.cookies import queue_cookie
from app.web.deps import SESSION_COOKIE, LoginRequired, WebContextDep, web_context
from app.web.forms import FormErrors, safe_next
from app.web.templating import render
from app.webhooks.service import redeliver_event

router = APIRouter(prefix="/admin", dependencies=[Depends(web_context)])


async def require_admin(request: Request, ctx: WebContextDep, db: SessionDep) -> NetworkAdmin:
    session = ctx.web_session
    admin = None
    if session is not None and session.kind == "admin" and session.admin_id is not None:
        admin = db.get(NetworkAdmin, session.admin_id)
    if admin is None:
        raise LoginRequired(request.url.path, kind="admin", idle=ctx.idle_logged_out)
    return admin


CurrentAdmin = Annotated[NetworkAdmin, Depends(require_admin)]


def _set_session_cookie(request: Request, ctx: WebContextDep, token: str, **kw: int) -> None:
    queue_cookie(
        request.scope.setdefault("state", {}),
        SESSION_COOKIE,
        token,
        secure=ctx.settings.production,
        **kw,
    )


# --- log in and out --------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, ctx: WebContextDep) -> Response:
    if ctx.web_session is not None and ctx.web_session.kind == "admin":
        return RedirectResponse("/admin", status_code=303)
    return render(
        request,
        "admin/login.html",
        {
            "errors": FormErrors(),
            "email": "",
            "next": safe_next(request.query_params.get("next"), "/admin"),
        },
    )


@router.post("/login", response_class=HTMLResponse)
async def login_submit(
    request: Request,
    ctx: WebContextDep,
    db: SessionDep,
    email: str = Form(""),
    password: str = Form(""),
    next: str = Form("/admin"),
) -> Response:
    errors = FormErrors()
    locked_until = None
    if not email.strip():
        errors.add("email", _("Enter your email address."))
    if not password:
        errors.add("password", _("Enter your password."))
    if not errors:
        try:
            admin = authenticate_admin(db, email=email[:254], password=password[:200])
        except AdminLockedOut as locked:
            admin = None
            locked_until = locked.until
            errors.add(
                "password",
                _(
                    "Too many wrong passwords. Logging in with this email is paused until "
                    "%(time)s.",
                    time=format_datetime(locked.until, "short"),
                ),
            )
        else:
            if admin is None:
                errors.add("password", _("The email or password is not right."))
        if admin is not None:
            if ctx.session_token:
                end_session(db, ctx.session_token)  # a fresh token at login: no fixation
            token = start_session(db, kind="admin", admin_id=admin.id)
            db.commit()
            _set_session_cookie(request, ctx, token)
            return RedirectResponse(safe_next(next, "/admin"), status_code=303)
    return render(
        request,
        "admin/login.html",
        {
            "errors": errors,
            "email": email[:254],
            "next": safe_next(next, "/admin"),
            "locked_until": locked_until,
        },
        status_code=429 if locked_until else 400,
    )


@router.post("/logout")
async def logout(request: Request, ctx: WebContextDep, db: SessionDep) -> Response:
    if ctx.session_token:
        end_session(db, ctx.session_token)
        db.commit()
    _set_session_cookie(request, ctx, "", max_age=0)
    return RedirectResponse("/admin/login?logged_out=1", status_code=303)


# --- the dashboard ---------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
async def dashboard(request: Request, admin: CurrentAdmin, db: SessionDep) -> Response:
    return render(
        request,
        "admin/dashboard.html",
        {"admin": admin, "dashboard": build_dashboard(db)},
    )


@router.post("/events/{event_id}/redeliver")
async def redeliver(event_id: str, admin: CurrentAdmin, db: SessionDep) -> Response:
    """Put a dead-lettered event back in the outbox (see redeliver_event for exactly which
    deliveries)."""
    count = redeliver_event(db, event_id=event_id[:40])
    db.commit()
    return RedirectResponse(f"/admin?redelivered={count}#dead-letters", status_code=303)
