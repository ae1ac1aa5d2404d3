"""Test set-up: a real database (SQLite by default, PostgreSQL with TEST_DATABASE_URL),
migrated with Alembic once per run and emptied between tests; the real app on top. The
fixtures that more than one test folder uses are here; what they are made of (organizations,
participants, holdings, staff...) is in tests/factories.py."""

from __future__ import annotations

import os
import random
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
from app.webhooks.delivery import DeliveryWorker  # noqa: E402
from tests.factories import (  # noqa: E402
    PIN,
    ManualClock,
    Org,
    Person,
    World,
    add_purpose,
    another_browser,
    claim,
    enrollment,
    make_staff,
    make_world,
    staff_log_in,
)
from tests.webhooks.receiver import Receiver  # noqa: E402


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


@pytest.fixture
def housing_org(org: Org) -> Org:
    """Northside with a consent-based purpose ("housing") and a service one ("food")."""
    add_purpose(org, "housing")
    add_purpose(
        org,
        "food",
        basis="service",
        title={"en": "Giving you food each week"},
        description={"en": "We count your household to give the right amount."},
    )
    return org


@pytest.fixture
def person(client: TestClient, housing_org: Org) -> Person:
    """Maria, enrolled with Northside as A-1, signed up through the claim form and signed in."""
    enrolled = enrollment(housing_org, "A-1")
    response = claim(client, enrolled["claim_code"])
    assert response.status_code == 200 and "Your recovery code" in response.text, response.text
    return Person("maria", PIN, enrolled["participant_id"], "A-1", org=housing_org)


@pytest.fixture
def world(make_org: Any, client: TestClient, db: Session) -> World:
    return make_world(make_org, client, db)


@pytest.fixture
def other_browser(app: Any) -> Iterator[TestClient]:
    """A second browser, for a second participant (its own cookies)."""
    yield from another_browser(app)


@pytest.fixture
def desk(app: Any, db: Session, world: World) -> Iterator[TestClient]:
    """A case manager of Northside (the holder), signed in on a browser of their own."""
    make_staff(db, world.holder, email="ana@northside.example", name="Ana Reyes")
    for c in another_browser(app):
        assert staff_log_in(c, "ana@northside.example").status_code == 303
        yield c


@pytest.fixture
def eastside_desk(app: Any, db: Session, world: World) -> Iterator[TestClient]:
    """A case manager of Eastside (the recipient), signed in on a browser of their own."""
    make_staff(db, world.recipient, email="bo@eastside.example", name="Bo Lind")
    for c in another_browser(app):
        assert staff_log_in(c, "bo@eastside.example").status_code == 303
        yield c


# --- webhook delivery: a real receiver, a clock moved by hand, a worker --------------------


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def make_worker(engine: Any, settings: Settings, clock: ManualClock) -> Any:
    def _make(**overrides: Any) -> DeliveryWorker:
        options: dict[str, Any] = {
            "clock": clock,
            "rng": random.Random(1234),
            "timeout": 2.0,
        }
        options.update(overrides)
        worker_settings = options.pop("settings", settings)
        return DeliveryWorker(engine, worker_settings, **options)

    return _make


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
