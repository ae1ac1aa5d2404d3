"""What every browser request needs: the visitor, the session, the language, CSRF checks.

`web_context` runs on every HTML route (it is the web routers' dependency), so no page can
forget CSRF protection or the language.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request

from app import i18n
from app.config import Settings
from app.db import SessionDep
from app.participants.models import Participant
from app.security.csrf import FORM_FIELD, HEADER, SAFE_METHODS, csrf_token, csrf_valid
from app.security.models import WebSession
from app.security.sessions import load_session
from app.web.cookies import queue_cookie

SESSION_COOKIE = "portal_session"
VISITOR_COOKIE = "portal_visitor"
LANG_COOKIE = "portal_lang"


class LoginRequired(Exception):
    def __init__(self, next_path: str, kind: str = "participant") -> None:
        super().__init__(next_path)
        self.next_path = next_path
        self.kind = kind


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


async def web_context(request: Request, db: SessionDep) -> WebContext:
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
        web_session = load_session(db, token, idle_minutes=settings.session_idle_minutes)
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

    if request.method not in SAFE_METHODS:
        submitted = request.headers.get(HEADER)
        if not submitted and "form" in request.headers.get("content-type", ""):
            form = await request.form()
            value = form.get(FORM_FIELD)
            submitted = value if isinstance(value, str) else None
        if not csrf_valid(settings.secret_key, ctx.csrf_binding, submitted):
            raise CsrfFailed()

    request.state.template_context = {
        "ctx": ctx,
        "csrf_token": csrf_token(settings.secret_key, ctx.csrf_binding),
        "locale": ctx.locale,
        "participant": participant,
        "quick_exit_url": settings.quick_exit_url,
        "idle_minutes": settings.session_idle_minutes,
    }
    return ctx


def _choose_locale(request: Request, ctx: WebContext, db: SessionDep) -> str:
    state = request.scope.setdefault("state", {})
    asked = request.query_params.get("lang")
    if asked in i18n.SUPPORTED_LOCALES:
        queue_cookie(state, LANG_COOKIE, asked, secure=ctx.settings.production)
        if ctx.participant is not None and ctx.participant.preferred_language != asked:
            ctx.participant.preferred_language = asked
            db.add(ctx.participant)
            db.commit()
        return asked
    if ctx.participant is not None and ctx.participant.preferred_language in i18n.SUPPORTED_LOCALES:
        return ctx.participant.preferred_language
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in i18n.SUPPORTED_LOCALES:
        return cookie
    return i18n.negotiate(request.headers.get("accept-language"))


WebContextDep = Annotated[WebContext, Depends(web_context)]


async def require_participant(request: Request, ctx: WebContextDep) -> Participant:
    if ctx.participant is None:
        raise LoginRequired(request.url.path)
    return ctx.participant


CurrentParticipant = Annotated[Participant, Depends(require_participant)]


def not_found() -> HTTPException:
    return HTTPException(status_code=404, detail="not found")
