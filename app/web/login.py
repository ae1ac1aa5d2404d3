"""Signing in and out from a form: what every kind of account shares.

A fresh session token at each login (no session fixation), the session cookie, and for the
email-and-password logins of staff and network admins the whole GOV.UK-style form handling:
errors kept together, the lockout message, the safe redirect afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from app.i18n import format_datetime
from app.i18n import gettext as _
from app.security.passwords import off_loop
from app.security.sessions import end_session, start_session
from app.web.cookies import queue_cookie
from app.web.deps import SESSION_COOKIE, WebContext
from app.web.forms import FormErrors, safe_next
from app.web.templating import render


def set_session_cookie(
    request: Request, ctx: WebContext, token: str, *, max_age: int | None = None
) -> None:
    queue_cookie(
        request.scope.setdefault("state", {}),
        SESSION_COOKIE,
        token,
        secure=ctx.settings.production,
        max_age=max_age,
    )


def sign_in(request: Request, ctx: WebContext, db: Session, *, kind: str, **account: Any) -> None:
    """Start a `kind` session (participant, staff, admin) for the account ids given."""
    if ctx.session_token:
        end_session(db, ctx.session_token)
    token = start_session(db, kind=kind, **account)
    db.commit()
    set_session_cookie(request, ctx, token)


def sign_out(request: Request, ctx: WebContext, db: Session) -> None:
    if ctx.session_token:
        end_session(db, ctx.session_token)
        db.commit()
    set_session_cookie(request, ctx, "", max_age=0)


def email_password_login_page(
    request: Request, ctx: WebContext, *, kind: str, template: str, home: str
) -> Response:
    """The empty email-and-password form; someone already signed in as `kind` goes home."""
    if ctx.web_session is not None and ctx.web_session.kind == kind:
        return RedirectResponse(home, status_code=303)
    next_path = safe_next(request.query_params.get("next"), home)
    return render(request, template, {"errors": FormErrors(), "email": "", "next": next_path})


async def email_password_login(
    request: Request,
    ctx: WebContext,
    db: Session,
    *,
    email: str,
    password: str,
    next: str,
    authenticate: Callable[..., Any],
    locked_out: type[Exception],
    kind: str,
    account_id_field: str,
    template: str,
    home: str,
) -> Response:
    """Handle a POSTed email-and-password form: `authenticate(db, email=..., password=...)`
    returns the account or None, or raises `locked_out` (with `.until`) while locked. It runs
    in a worker thread (`off_loop`): it checks a password."""
    errors = FormErrors()
    locked_until = None
    if not email.strip():
        errors.add("email", _("Enter your email address."))
    if not password:
        errors.add("password", _("Enter your password."))
    if not errors:
        try:
            account = await off_loop(authenticate, db, email=email[:254], password=password[:200])
        except locked_out as locked:
            account = None
            locked_until = locked.until  # type: ignore[attr-defined]
            errors.add(
                "password",
                _(
                    "Too many wrong passwords. Logging in with this email is paused until "
                    "%(time)s.",
                    time=format_datetime(locked_until, "short"),
                ),
            )
        else:
            if account is None:
                errors.add("password", _("The email or password is not right."))
        if account is not None:
            sign_in(request, ctx, db, kind=kind, **{account_id_field: account.id})
            return RedirectResponse(safe_next(next, home), status_code=303)
    return render(
        request,
        template,
        {
            "errors": errors,
            "email": email[:254],
            "next": safe_next(next, home),
            "locked_until": locked_until,
        },
        status_code=429 if locked_until else 400,
    )
