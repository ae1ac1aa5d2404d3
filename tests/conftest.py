"""Test set-up: a real database (SQLite by default, PostgreSQL with TEST_DATABASE_URL),
migrated with Alembic once per run and emptied between tests; the real app on top."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

_TMP = Path(tempfile.mkdtemp(prefix="portal-tests-"))
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{_TMP / 'test.db'}"
os.environ["DATABASE_URL"] = TEST_DATABASE_URL
os.environ.setdefault("PORTAL_ENV", "development")
os.environ["PORTAL_SECRET_KEY"] = "test-secret-key-that-is-long-enough-0123456789"
os.environ["PORTAL_BASE_URL"] = "http://testserver"
# Cheap argon2 for tests: the algorithm is the same, only the cost differs.
os.environ["PORTAL_ARGON2_MEMORY_KIB"] = "1024"
os.environ["PORTAL_ARGON2_TIME_COST"] = "1"

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlmodel import Session, SQLModel  # noqa: E402

import app.models  # noqa: E402,F401
from app.config import Settings, get_settings  # noqa: E402
from app.db import make_engine  # noqa: E402
from app.main import create_app  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from app.organizations.service import create_organization  # noqa: E402


def _reset_schema(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        else:
            for table in reversed(SQLModel.metadata.sorted_tables):
                conn.execute(text(f'DROP TABLE IF EXISTS "{table.name}"'))
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


@pytest.fixture(scope="session")
def settings() -> Settings:
    return get_settings()


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Any]:
    _reset_schema(settings.database_url)
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    yield engine
    engine.dispose()


@pytest.fixture(autouse=True)
def _empty_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "engine" in request.fixturenames:
        engine = request.getfixturevalue("engine")
        with engine.begin() as conn:
            for table in reversed(SQLModel.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture
def db(engine: Any) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def app(engine: Any, settings: Settings) -> Any:
    return create_app(settings)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as c:
        yield c


@dataclass
class Org:
    slug: str
    name: str
    api_key: str
    client: TestClient

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(path, headers=self.headers, **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> Any:
        return self.client.post(path, json=json, headers=self.headers, **kw)

    def put(self, path: str, json: Any = None, **kw: Any) -> Any:
        return self.client.put(path, json=json, headers=self.headers, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.client.delete(path, headers=self.headers, **kw)


@pytest.fixture
def make_org(db: Session, client: TestClient) -> Any:
    def _make(slug: str = "northside", name: str = "Northside Food Shelf") -> Org:
        organization, key = create_organization(db, name=name, slug=slug)
        db.commit()
        return Org(slug=slug, name=name, api_key=key, client=client)

    return _make


@pytest.fixture
def org(make_org: Any) -> Org:
    return make_org()


def purpose_body(basis: str = "consent", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": {
            "en": "Share with the county for housing help",
            "es": "Compartir con el condado para ayuda de vivienda",
        },
        "description": {
            "en": "So the county can find you housing.",
            "es": "Para que el condado le busque vivienda.",
        },
        "basis": basis,
        "categories": ["contact", "household"],
        "recipients": [{"name": "Hennepin County", "reason": "housing referrals"}],
        "retention_days": 365,
        "refusal_consequence": {"en": "You still get food from us.", "es": "Igual recibe comida."},
    }
    body.update(overrides)
    return body


def holding_body(purpose: str = "housing", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "label": "Phone number",
        "category": "contact",
        "value": "612-555-0100",
        "purpose": purpose,
        "source": "Intake form",
        "collected_at": "2026-10-01",
    }
    body.update(overrides)
    return body


# --- a live server and a real browser (tests/browser) ------------------------------------


@dataclass
class LiveServer:
    url: str
    app: Any


@pytest.fixture
def live_server(engine: Any, settings: Settings) -> Iterator[LiveServer]:
    """The real app served by uvicorn on a free loopback port, in a thread."""
    import socket
    import threading
    import time

    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    application = create_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield LiveServer(url=f"http://127.0.0.1:{port}", app=application)
    server.should_exit = True
    thread.join(timeout=10)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# Module scope, not session: while sync Playwright runs, its event loop counts as running in
# this thread, so a later test's asyncio.run() would fail ("cannot be called from a running
# event loop"). Stopping it after each browser module lets the other tests run after them.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: apt-get install -y chromium")
    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A fresh browser context the size of a small phone (360×740)."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-US")
    page = context.new_page()
    yield page
    context.close()
