"""Error responses carry the same security headers as every page: an unhandled error (our own
500 page, not Starlette's bare one outside the middleware), 404, 405, 422, and the 503 that a
database outage gets, as HTML in the visitor's language or as the API's JSON with Retry-After."""

from __future__ import annotations

import dataclasses
import logging
import socket

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, exc, text

from app.db import database_unavailable
from app.main import create_app
from app.security.headers import content_security_policy
from app.web.deps import LANG_COOKIE, SESSION_COOKIE
from app.web.stylesheet import CSP_SOURCE

CSP = content_security_policy(CSP_SOURCE)

STATIC_CACHE = "public, max-age=31536000, immutable"


def _assert_headers(response, *, hsts: bool = False) -> None:
    h = response.headers
    assert h["content-security-policy"] == CSP
    assert h["x-content-type-options"] == "nosniff"
    assert h["referrer-policy"] == "no-referrer"
    assert h["x-frame-options"] == "DENY"
    assert h["cross-origin-opener-policy"] == "same-origin"
    assert h["cache-control"] == "no-store"
    assert ("strict-transport-security" in h) is hsts


def _dead_database_url() -> str:
    """A PostgreSQL URL where nothing listens: connecting fails at once, as in a restart."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/portal"


def _add_failing_routes(app) -> None:
    """Test-only routes on this app instance: a bug, and a query on an unreachable server."""
    dead = create_engine(_dead_database_url())

    async def boom() -> None:
        raise RuntimeError("a bug")

    async def query_dead_database() -> None:
        with dead.connect() as conn:
            conn.execute(text("SELECT 1"))

    for path, endpoint in (("/test-only/boom", boom), ("/test-only/db", query_dead_database)):
        app.add_api_route(path, endpoint, methods=["GET", "POST"])
        app.add_api_route(f"/api{path}", endpoint, methods=["GET", "POST"])


@pytest.fixture
def failing_client(app):
    _add_failing_routes(app)
    with TestClient(
        app, base_url="http://testserver", follow_redirects=False, raise_server_exceptions=False
    ) as c:
        yield c


def test_an_unhandled_error_is_our_500_page_with_every_header(failing_client):
    page = failing_client.get("/test-only/boom")
    assert page.status_code == 500
    assert page.headers["content-type"].startswith("text/html")
    assert "Something was not right" in page.text and "a bug" not in page.text
    _assert_headers(page)

    spanish = failing_client.get("/test-only/boom?lang=es")
    assert '<html lang="es">' in spanish.text and "Algo no salió bien" in spanish.text
    _assert_headers(spanish)

    api = failing_client.post("/api/test-only/boom")
    assert api.status_code == 500
    assert api.json() == {"detail": "internal server error"}
    _assert_headers(api)


def test_the_500_still_reaches_the_server_log_with_its_traceback(app):
    """The exception is raised again after the page went out: uvicorn logs it, and the test
    client (by default) raises it."""
    _add_failing_routes(app)
    with TestClient(app) as c, pytest.raises(RuntimeError, match="a bug"):
        c.get("/test-only/boom")


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/no-such-page", 404),
        ("GET", "/api/v1/no-such-thing", 404),
        ("DELETE", "/login", 405),
        ("PATCH", "/api/v1/participants", 405),
    ],
)
def test_404_and_405_carry_every_header(client, method, path, status):
    response = client.request(method, path)
    assert response.status_code == status
    _assert_headers(response)
    if path.startswith("/api/"):
        assert "detail" in response.json()
    else:
        assert response.headers["content-type"].startswith("text/html")
    if status == 405:
        assert response.headers["allow"]


def test_422_and_a_refused_form_carry_every_header(client, org):
    invalid = org.post("/api/v1/participants", {"external_ref": ""})
    assert invalid.status_code == 422
    _assert_headers(invalid)
    refused = client.post("/logout")  # no CSRF token
    assert refused.status_code == 403
    _assert_headers(refused)


def test_a_missing_static_file_is_not_cached_for_a_year(client):
    response = client.get("/static/no-such-file.js")
    assert response.status_code == 404
    assert response.headers["cache-control"] == "no-store"
    found = client.get("/static/portal.js")
    assert found.headers["cache-control"] == STATIC_CACHE


def test_errors_carry_hsts_in_production(engine, settings):
    production = create_app(dataclasses.replace(settings, env="production"))
    _add_failing_routes(production)
    with TestClient(production, base_url="https://testserver", raise_server_exceptions=False) as c:
        for path, status in (
            ("/test-only/boom", 500),
            ("/test-only/db", 503),
            ("/api/test-only/db", 503),
            ("/nowhere", 404),
        ):
            response = c.get(path)
            assert response.status_code == status
            _assert_headers(response, hsts=True)
        assert c.delete("/login").status_code == 405
        _assert_headers(c.delete("/login"), hsts=True)


def test_a_database_outage_is_a_503_page_in_the_visitors_language(failing_client, caplog):
    caplog.set_level(logging.WARNING, logger="app.main")
    failing_client.cookies.set(LANG_COOKIE, "es")
    page = failing_client.get("/test-only/db")
    assert page.status_code == 503
    assert page.headers["retry-after"] == "5"
    assert page.headers["content-type"].startswith("text/html")
    assert '<html lang="es">' in page.text
    assert "El portal no funciona en este momento" in page.text
    assert "No se perdió nada" in page.text
    assert "psycopg" not in page.text and "Traceback" not in page.text
    _assert_headers(page)

    failing_client.cookies.clear()
    somali = failing_client.get("/test-only/db", headers={"accept-language": "so,en;q=0.5"})
    assert '<html lang="so">' in somali.text and "Portal-ku hadda ma shaqaynayo" in somali.text

    # An outage is logged in one line, not as a bug with a traceback.
    (record, *_) = [r for r in caplog.records if "answered 503" in r.getMessage()]
    assert "GET /test-only/db" in record.getMessage() and record.exc_info is None


def test_a_database_outage_is_a_503_with_retry_after_for_the_api(failing_client):
    response = failing_client.post("/api/test-only/db")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"detail": "the service is unavailable for a moment; try again"}
    _assert_headers(response)


def test_the_whole_app_on_an_unreachable_database(engine, settings):
    """The app's own database is unreachable: signed-in pages, the API and even a missing
    page answer at once, with no 500."""
    down = create_app(dataclasses.replace(settings, database_url=_dead_database_url()))
    with TestClient(down, base_url="http://testserver", follow_redirects=False) as c:
        c.cookies.set(SESSION_COOKIE, "a-session-the-database-would-know")
        c.cookies.set(LANG_COOKIE, "hmn")
        home = c.get("/")
        assert home.status_code == 503
        assert '<html lang="hmn">' in home.text and "Lub portal tam sim no" in home.text
        _assert_headers(home)

        # A form the route never got to read (the session lookup failed first) is read before
        # the answer, so the connection is not reset under the client (the fault test).
        form = c.post("/consents/e/housing", data={"decision": "give", "csrf_token": "x" * 64})
        assert form.status_code == 503 and "Lub portal tam sim no" in form.text
        _assert_headers(form)

        api = c.get("/api/v1/purposes", headers={"Authorization": "Bearer cpk_whatever"})
        assert api.status_code == 503 and api.headers["retry-after"] == "5"
        assert "detail" in api.json()
        _assert_headers(api)

        missing = c.get("/no-such-page")  # still a 404, in the visitor's language
        assert missing.status_code == 404 and '<html lang="hmn">' in missing.text
        _assert_headers(missing)


def test_which_errors_mean_the_database_is_unavailable():
    lost = psycopg.OperationalError("server closed the connection unexpectedly")
    assert database_unavailable(exc.OperationalError("SELECT 1", {}, lost))
    assert database_unavailable(lost)
    assert database_unavailable(
        exc.DBAPIError("SELECT 1", {}, Exception("gone"), connection_invalidated=True)
    )
    assert database_unavailable(exc.TimeoutError("QueuePool limit reached"))
    assert not database_unavailable(exc.IntegrityError("INSERT", {}, Exception("duplicate")))
    assert not database_unavailable(exc.ProgrammingError("SELEC", {}, Exception("syntax")))
    assert not database_unavailable(RuntimeError("a bug"))
