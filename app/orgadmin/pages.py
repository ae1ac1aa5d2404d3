"""The frame every org admin page shares: `org_admin_router` (under /staff/org, with the web
context), `page` (who is signed in, where they are) and `confirm_page` (the "are you sure?"
step before revoking a key or changing an endpoint).

Its own file so the dashboard, plan, key, endpoint and import pages draw the same frame
from one place.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from app.orgadmin.deps import AdminDesk
from app.web.deps import web_context
from app.web.templating import render

PREFIX = "/staff/org"


def org_admin_router() -> APIRouter:
    """A feature's router: its paths under /staff/org, each page given the web context
    (language, session, CSRF). The prefix is the router's own, so a route's path is the whole
    URL wherever it is read."""
    return APIRouter(prefix=PREFIX, dependencies=[Depends(web_context)])


def page(
    request: Request,
    template: str,
    desk: AdminDesk,
    context: dict[str, Any] | None = None,
    *,
    section: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """Every org admin page shows who is signed in and where they are. `section` is the
    navigation entry marked current; by default the template's own name."""
    base = {
        "staff": desk.staff,
        "organization": desk.organization,
        "section": section or template.split("/")[-1],
    }
    return render(request, template, {**base, **(context or {})}, status_code=status_code)


def confirm_page(
    request: Request,
    desk: AdminDesk,
    *,
    question: str,
    subject: str,
    explanation: list[str],
    action: str,
    button: str,
    cancel_url: str,
    button_class: str = "warning",
    hidden: dict[str, str] | None = None,
) -> HTMLResponse:
    return page(
        request,
        "orgadmin/confirm.html",
        desk,
        {
            "question": question,
            "subject": subject,
            "explanation": explanation,
            "action": action,
            "button": button,
            "button_class": button_class,
            "cancel_url": cancel_url,
            "hidden": hidden or {},
        },
    )
