"""The application: middleware, routers, error pages, and the webhook worker's lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import i18n
from app.account.views import router as account_router
from app.admin.concerns import router as admin_concerns_router
from app.admin.views import router as admin_router
from app.api import api_router
from app.concerns.my_requests_views import router as my_requests_router
from app.concerns.views import router as concerns_router
from app.config import Settings, get_settings
from app.consent.views import router as consent_router
from app.context.views import router as context_router
from app.corrections.deletion_views import router as deletion_router
from app.corrections.statement_views import router as statement_router
from app.corrections.views import TEMPLATE_GLOBALS as correction_template_globals
from app.corrections.views import router as corrections_router
from app.db import database_unavailable, make_engine
from app.home.rows import TEMPLATE_GLOBALS as home_template_globals
from app.home.views import router as home_router
from app.orgadmin import imports
from app.orgadmin.routes import router as orgadmin_router
from app.participants.deps import RecordsSealed
from app.participants.views import router as participant_router
from app.reports.participant_views import router as reports_and_stories_router
from app.reports.views import router as reports_router
from app.security.headers import SecurityHeadersMiddleware
from app.staff.deps import InParticipantMode
from app.staff.views import router as staff_router
from app.stories.staff_views import router as stories_staff_router
from app.stories.views import router as stories_router
from app.web.cookies import PendingCookiesMiddleware
from app.web.deps import LANG_COOKIE, CsrfFailed, LoginRequired, context_for_unrouted_page
from app.web.stylesheet import CSP_SOURCE as STYLESHEET_CSP_SOURCE
from app.web.templating import STATIC_DIR, is_htmx, make_environment, render

API_PREFIX = "/api/"
RETRY_AFTER_SECONDS = 5  # what a 503 asks clients to wait while the database is unreachable

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, *, run_worker: bool = False) -> FastAPI:
    settings = settings or get_settings()
    i18n.set_time_zone(settings.time_zone)
    # Every language offered is served in that language, or the portal does not start.
    i18n.check_catalogues()
    engine = make_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        worker = None
        if run_worker:
            from app.worker import start_in_process_worker

            worker = await start_in_process_worker(app)
        # Everything made at start (routes, templates, catalogues) lives as long as the
        # process: moved out of the collector's reach, each full collection during a request
        # no longer walks it (bench/home_page.py: about 2 ms of a large home page).
        gc.freeze()
        try:
            yield
        finally:
            if worker is not None:
                await worker.stop()
            engine.dispose()

    app = FastAPI(
        title="Consent Portal",
        summary="Organization API: the data collection plan, holdings, disclosures, consents, events.",
        version="1",
        lifespan=lifespan,
        redoc_url=None,
        docs_url=None,  # our own /docs below: Swagger UI from our files, not a CDN
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.templates = make_environment()
    app.state.templates.globals.update(correction_template_globals)
    app.state.templates.globals.update(home_template_globals)

    # Innermost: whatever error the routes and handlers let through becomes a page here, so it
    # passes through the middleware below like any page (security headers, no-store).
    app.add_middleware(ServerErrorPages)
    app.add_middleware(PendingCookiesMiddleware)
    app.add_middleware(
        SecurityHeadersMiddleware,
        production=settings.production,
        style_source=STYLESHEET_CSP_SOURCE,
        large_bodies=dict.fromkeys(imports.UPLOAD_PATHS, imports.UPLOAD_BODY_BYTES),
    )
    # Pages are compressed here, not left to a proxy: the home page is ~270 KB of HTML and ~20 KB
    # gzipped, the difference between 5 s and 0.4 s on a slow phone network. CSRF tokens are
    # masked per response (app/security/csrf.py), so compression can't leak them (BREACH).
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=6)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    app.include_router(api_router)
    # The pages are for people, not systems: /openapi.json and /docs document the
    # organization API alone.
    app.include_router(home_router, include_in_schema=False)
    app.include_router(participant_router, include_in_schema=False)
    app.include_router(consent_router, include_in_schema=False)
    app.include_router(corrections_router, include_in_schema=False)
    app.include_router(statement_router, include_in_schema=False)
    app.include_router(deletion_router, include_in_schema=False)
    app.include_router(context_router, include_in_schema=False)
    app.include_router(account_router, include_in_schema=False)
    app.include_router(admin_router, include_in_schema=False)
    app.include_router(concerns_router, include_in_schema=False)
    app.include_router(my_requests_router, include_in_schema=False)
    app.include_router(admin_concerns_router, include_in_schema=False)
    app.include_router(staff_router, include_in_schema=False)
    app.include_router(orgadmin_router, include_in_schema=False)
    app.include_router(reports_router, include_in_schema=False)
    app.include_router(reports_and_stories_router, include_in_schema=False)
    app.include_router(stories_router, include_in_schema=False)
    app.include_router(stories_staff_router, include_in_schema=False)
    _install_error_handlers(app)

    @app.get("/docs", include_in_schema=False)
    async def api_docs(request: Request) -> Response:
        """The organization API's interactive reference (public, like /openapi.json)."""
        return render(request, "api_docs.html", {"openapi_url": app.openapi_url})

    return app


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        login = {"admin": "/admin/login", "staff": "/staff/login"}.get(exc.kind, "/login")
        target = f"{login}?next={quote(exc.next_path)}" + ("&idle=1" if exc.idle else "")
        if is_htmx(request):
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(InParticipantMode)
    async def in_participant_mode(request: Request, exc: InParticipantMode) -> Response:
        # A device handed to a participant reaches no staff page: back to their own step.
        if is_htmx(request):
            return Response(status_code=204, headers={"HX-Redirect": "/staff/handover"})
        return RedirectResponse("/staff/handover", status_code=303)

    @app.exception_handler(RecordsSealed)
    async def records_sealed(request: Request, exc: RecordsSealed) -> Response:
        # After a PIN reset: the page for opening the sealed records says why.
        if is_htmx(request):
            return Response(status_code=204, headers={"HX-Redirect": "/account/recovery"})
        return RedirectResponse("/account/recovery", status_code=303)

    @app.exception_handler(CsrfFailed)
    async def csrf_failed(request: Request, exc: CsrfFailed) -> Response:
        return render(request, "errors/csrf.html", status_code=403)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _wants_json(request):
            return JSONResponse(
                {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
            )
        if not hasattr(request.state, "locale"):  # no route matched: no web context ran
            try:
                context_for_unrouted_page(request)
            except Exception as error:
                if not database_unavailable(error):
                    raise
                # The database is down, but a missing page is still a missing page.
                request.state.locale = _locale_without_database(request)
        template = "errors/not_found.html" if exc.status_code == 404 else "errors/error.html"
        page = render(request, template, {"status": exc.status_code}, status_code=exc.status_code)
        page.headers.update(exc.headers or {})  # a 405's Allow
        return page

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        if _wants_json(request):
            errors = [
                {k: v for k, v in e.items() if k in ("type", "loc", "msg")} for e in exc.errors()
            ]
            return JSONResponse({"detail": errors}, status_code=422)
        request.state.locale = getattr(request.state, "locale", i18n.DEFAULT_LOCALE)
        return render(request, "errors/error.html", {"status": 400}, status_code=400)


# --- the last resort: 500, and 503 while the database is unreachable -------------------------


def _locale_without_database(request: Request) -> str:
    """The visitor's language from the request alone (?lang=, this visit's choice, the
    browser's), for pages shown when the account can't be read."""
    asked = request.query_params.get("lang")
    if asked in i18n.SUPPORTED_LOCALES:
        return asked
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in i18n.SUPPORTED_LOCALES:
        return chosen
    return i18n.negotiate(request.headers.get("accept-language"))


def server_error_response(request: Request, status: int) -> Response:
    """The API's `{"detail": ...}` or the error page in the visitor's language; a 503 says
    when to try again."""
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 503 else {}
    if _wants_json(request):
        detail = (
            "the service is unavailable for a moment; try again"
            if status == 503
            else "internal server error"
        )
        return JSONResponse({"detail": detail}, status_code=status, headers=headers)
    if not hasattr(request.state, "locale"):
        request.state.locale = _locale_without_database(request)
    for keep_visit in (True, False):
        if not keep_visit:
            # Without the visit's own context (its session, Log out): all a page needs.
            request.state.template_context = {}
        try:
            response = render(request, "errors/error.html", {"status": status}, status_code=status)
        except Exception:
            log.exception("the %d page could not be rendered", status)
            continue
        response.headers.update(headers)
        return response
    return PlainTextResponse(
        "Service unavailable" if status == 503 else "Internal server error",
        status_code=status,
        headers=headers,
    )


DRAIN_MAX_BYTES = 1_048_576  # SecurityHeadersMiddleware refuses larger bodies anyway
DRAIN_SECONDS = 5.0


async def _drain(receive: Receive) -> None:
    received = 0
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(DRAIN_SECONDS):
            while received <= DRAIN_MAX_BYTES:
                message = await receive()
                if message["type"] != "http.request":
                    return
                received += len(message.get("body", b""))
                if not message.get("more_body", False):
                    return


class ServerErrorPages:
    """Turns any exception that reaches it into our own 500 page, or into a 503 when the
    database can't be reached (a restart, a failover): never Starlette's bare 500 with a
    trace in the log for an outage.

    Starlette's last-resort handler sits outside every middleware, so its 500s went out
    without the security headers; this sits inside them (see create_app). A 500's exception
    is raised again once the page is sent, so the server logs its traceback (and the test
    client raises it); a 503 is logged in one line.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        body_read = False

        async def receive_tracked() -> Message:
            nonlocal body_read
            message = await receive()
            if message["type"] == "http.disconnect" or not message.get("more_body", False):
                body_read = True
            return message

        async def send_tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive_tracked, send_tracked)
        except Exception as exc:
            if started:
                raise  # too late for a page of our own
            if not body_read:
                # A form the route never got to read (the database failed first): read it
                # now, or closing the connection over unread data resets it, and the client
                # may lose the answer below before reading it.
                await _drain(receive)
            request = Request(scope)
            if database_unavailable(exc):
                first_line = (str(exc).strip().splitlines() or [""])[0][:200]
                log.warning(
                    "database unavailable, answered 503: %s %s (%s: %s)",
                    request.method,
                    request.url.path,
                    type(exc).__name__,
                    first_line,
                )
                await server_error_response(request, 503)(scope, receive, send)
                return
            await server_error_response(request, 500)(scope, receive, send)
            raise
