"""The application: middleware, routers, error pages, and the webhook worker's lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from app import i18n
from app.account.views import router as account_router
from app.admin.views import router as admin_router
from app.api import api_router
from app.config import Settings, get_settings
from app.consent.views import router as consent_router
from app.context.views import router as context_router
from app.corrections.views import TEMPLATE_GLOBALS as correction_template_globals
from app.corrections.views import router as corrections_router
from app.db import make_engine
from app.orgadmin.views import router as orgadmin_router
from app.participants.home_cache import SectionCache
from app.participants.views import router as participant_router
from app.security.headers import SecurityHeadersMiddleware
from app.staff.deps import InParticipantMode
from app.staff.views import router as staff_router
from app.web.cookies import PendingCookiesMiddleware
from app.web.deps import CsrfFailed, LoginRequired, context_for_unrouted_page
from app.web.templating import STATIC_DIR, is_htmx, make_environment, render

API_PREFIX = "/api/"


def create_app(settings: Settings | None = None, *, run_worker: bool = False) -> FastAPI:
    settings = settings or get_settings()
    engine = make_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        worker = None
        if run_worker:
            from app.webhooks.worker import start_in_process_worker

            worker = await start_in_process_worker(app)
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
    app.state.home_sections = SectionCache(max_bytes=settings.home_sections_mb * 1024 * 1024)

    app.add_middleware(PendingCookiesMiddleware)
    app.add_middleware(SecurityHeadersMiddleware, production=settings.production)
    # Pages are compressed here, not left to a proxy: the home page is ~270 KB of HTML and ~20 KB
    # gzipped, the difference between 5 s and 0.4 s on a slow phone network. CSRF tokens are
    # masked per response (app/security/csrf.py), so compression can't leak them (BREACH).
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=6)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    app.include_router(api_router)
    app.include_router(participant_router)
    app.include_router(consent_router)
    app.include_router(corrections_router)
    app.include_router(context_router)
    app.include_router(account_router)
    app.include_router(admin_router)
    app.include_router(staff_router)
    app.include_router(orgadmin_router)
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
            context_for_unrouted_page(request)
        template = "errors/not_found.html" if exc.status_code == 404 else "errors/error.html"
        return render(request, template, {"status": exc.status_code}, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        if _wants_json(request):
            errors = [
                {k: v for k, v in e.items() if k in ("type", "loc", "msg")} for e in exc.errors()
            ]
            return JSONResponse({"detail": errors}, status_code=422)
        request.state.locale = getattr(request.state, "locale", i18n.DEFAULT_LOCALE)
        return render(request, "errors/error.html", {"status": 400}, status_code=400)
