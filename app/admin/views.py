"""The network administrators' pages: log in and out, the delivery dashboard, redelivery.

Every page but the login form needs an admin session; a participant's session never counts.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.admin.service import AdminLockedOut, authenticate_admin, build_dashboard
from app.concerns.service import open_concerns
from app.db import SessionDep
from app.organizations.models import NetworkAdmin
from app.web.deps import LoginRequired, WebContextDep, web_context
from app.web.login import email_password_login, email_password_login_page, sign_out
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


# --- log in and out --------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, ctx: WebContextDep) -> Response:
    return email_password_login_page(
        request, ctx, kind="admin", template="admin/login.html", home="/admin"
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
    return await email_password_login(
        request,
        ctx,
        db,
        email=email,
        password=password,
        next=next,
        authenticate=authenticate_admin,
        locked_out=AdminLockedOut,
        kind="admin",
        account_id_field="admin_id",
        template="admin/login.html",
        home="/admin",
    )


@router.post("/logout")
async def logout(request: Request, ctx: WebContextDep, db: SessionDep) -> Response:
    sign_out(request, ctx, db)
    return RedirectResponse("/admin/login?logged_out=1", status_code=303)


# --- the dashboard ---------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
async def dashboard(request: Request, admin: CurrentAdmin, db: SessionDep) -> Response:
    return render(
        request,
        "admin/dashboard.html",
        {"admin": admin, "dashboard": build_dashboard(db), "open_concerns": open_concerns(db)},
    )


@router.post("/events/{event_id}/redeliver")
async def redeliver(event_id: str, admin: CurrentAdmin, db: SessionDep) -> Response:
    """Put a dead-lettered event back in the outbox (see redeliver_event for exactly which
    deliveries)."""
    count = redeliver_event(db, event_id=event_id[:40])
    db.commit()
    return RedirectResponse(f"/admin?redelivered={count}#dead-letters", status_code=303)
