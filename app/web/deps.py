"""What every browser request needs: the visitor, the session, the language, CSRF checks.

`web_context` runs on every HTML route (it is the web routers' dependency), so no page can
forget CSRF protection or the language.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from sqlmodel import Session

from app import i18n
from app.config import Settings
from app.db import SessionDep
from app.participants.models import Participant  # kept: every page reads the session's owner
from app.security.csrf import FORM_FIELD, HEADER, SAFE_METHODS, csrf_token, csrf_valid
from app.security.models import WebSession
from app.security.sessions import load_session
from app.web.cookies import queue_cookie

SESSION_COOKIE = "portal_session"
VISITOR_COOKIE = "portal_visitor"
LANG_COOKIE = "portal_lang"
# The case manager's own language while an intake shows the pages in the client's.
STAFF_LANG_COOKIE = "portal_staff_lang"


class LoginRequired(Exception):
    """Raised for a signed-out visitor on a signed-in page; `idle` when their session just
    ended for being left alone, so the login page can say why."""

    def __init__(self, next_path: str, kind: str = "participant", *, idle: bool = False) -> None:
        super().__init__(next_path)
        self.next_path = next_path
        self.kind = kind
        self.idle = idle


class CsrfFailed(Exception):
    pass


@dataclass
class WebContext:
    settings: Settings
    locale: str
    visitor: str
    session_token: str | None
    web_session: WebSession | None
    participant: Participant | None = None
    idle_logged_out: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def csrf_binding(self) -> str:
        return self.web_session.csrf_secret if self.web_session else self.visitor


def _read_context(request: Request, db: Session) -> WebContext:
    """The visitor, their session and language, and what every template needs."""
    settings: Settings = request.app.state.settings
    state = request.scope.setdefault("state", {})
    visitor = request.cookies.get(VISITOR_COOKIE, "")
    if len(visitor) != 32 or not visitor.isalnum():
        visitor = secrets.token_hex(16)
        queue_cookie(state, VISITOR_COOKIE, visitor, secure=settings.production)

    token = request.cookies.get(SESSION_COOKIE)
    web_session = None
    idle_logged_out = False
    if token:
        web_session = load_session(
            db,
            token,
            idle_minutes=settings.session_idle_minutes,
            max_hours=settings.session_max_hours,
        )
        if web_session is None:
            idle_logged_out = True
            queue_cookie(state, SESSION_COOKIE, "", secure=settings.production, max_age=0)
    participant = None
    if web_session is not None and web_session.kind == "participant" and web_session.participant_id:
        participant = db.get(Participant, web_session.participant_id)
        if participant is None or participant.closed_at is not None:
            participant, web_session = None, None

    ctx = WebContext(
        settings=settings,
        locale=i18n.DEFAULT_LOCALE,
        visitor=visitor,
        session_token=token if web_session else None,
        web_session=web_session,
        participant=participant,
        idle_logged_out=idle_logged_out,
    )
    ctx.locale = _choose_locale(request, ctx, db)
    i18n.set_locale(ctx.locale)
    request.state.locale = ctx.locale
    request.state.web_context = ctx
    request.state.template_context = {
        "ctx": ctx,
        "csrf_token": csrf_token(settings.secret_key, ctx.csrf_binding),
        "locale": ctx.locale,
        "participant": participant,
        "quick_exit_url": settings.quick_exit_url,
        "idle_minutes": settings.session_idle_minutes,
    }
    return ctx


async def web_context(request: Request, db: SessionDep) -> WebContext:
    ctx = _read_context(request, db)
    if request.method not in SAFE_METHODS:
        submitted = request.headers.get(HEADER)
        if not submitted and "form" in request.headers.get("content-type", ""):
            form = await request.form()
            value = form.get(FORM_FIELD)
            submitted = value if isinstance(value, str) else None
        if not csrf_valid(ctx.settings.secret_key, ctx.csrf_binding, submitted):
            if ctx.idle_logged_out:
                # The form was signed with a session that has since timed out: nothing is
                # done, and the person is asked to log in again rather than shown an error.
                raise LoginRequired("/", idle=True)
            raise CsrfFailed()
    return ctx


def context_for_unrouted_page(request: Request) -> None:
    """A page no route handled (a 404) still has the visitor's language, and Log out when
    they are signed in."""
    with Session(request.app.state.engine, expire_on_commit=False) as db:
        _read_context(request, db)


def _choose_locale(request: Request, ctx: WebContext, db: SessionDep) -> str:
    """?lang= (remembered for the visit and, signed in, in the account), else this visit's
    earlier choice, else the account's language, else Accept-Language."""
    state = request.scope.setdefault("state", {})
    asked = request.query_params.get("lang")
    if asked in i18n.SUPPORTED_LOCALES:
        # No Max-Age: the choice lasts for the visit, and leaves no trace on a shared phone.
        queue_cookie(state, LANG_COOKIE, asked, secure=ctx.settings.production)
        if ctx.participant is not None and ctx.participant.preferred_language != asked:
            ctx.participant.preferred_language = asked
            db.add(ctx.participant)
            db.commit()
        return asked
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in i18n.SUPPORTED_LOCALES:
        return cookie
    if ctx.participant is not None and ctx.participant.preferred_language in i18n.SUPPORTED_LOCALES:
        return ctx.participant.preferred_language
    return i18n.negotiate(request.headers.get("accept-language"))


def staff_home_url(request: Request, locale: str) -> str:
    """Where a case manager goes when they leave an intake: the staff home, back in their own
    language when the intake switched the pages to the client's."""
    own = request.cookies.get(STAFF_LANG_COOKIE)
    if own in i18n.SUPPORTED_LOCALES and own != locale:
        return f"/staff?lang={own}"
    return "/staff"


WebContextDep = Annotated[WebContext, Depends(web_context)]


def not_found() -> HTTPException:
    return HTTPException(status_code=404, detail="not found")
