"""Argon2 runs off the event loop, at most PORTAL_HASH_CONCURRENCY hashes at once.

A hash costs ~0.25 s of CPU at the production cost. Run on the event loop it stalls every
other request of the process (and the in-process webhook worker) for that long; run in an
unbounded thread pool, twenty at once hold twenty times its memory and finish late together."""

from __future__ import annotations

import asyncio
import dataclasses
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlmodel import Session

from app.config import Settings
from app.db import make_engine
from app.organizations.service import create_network_admin, create_organization
from app.participants.models import Participant
from app.security import passwords
from tests.factories import (
    PASSWORD,
    PIN,
    claim,
    csrf_from,
    enroll,
    fresh_code,
    login,
    make_staff,
    page_csrf,
    staff_log_in,
)
from tests.staff.test_intake import _start

PRODUCTION_COST = {"argon2_memory_kib": 65536, "argon2_time_cost": 3}


def _forget_cached() -> None:
    for cached in (passwords._context, passwords._dummy_hash, passwords._slots):
        cached.cache_clear()


class CountingHasher:
    """Wraps the real CryptContext: how many hashes run at once (at most), and whether any
    ran on a thread that is running an event loop."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.lock = threading.Lock()
        self.running = 0
        self.most = 0
        self.calls = 0
        self.on_loop = 0
        self.started = threading.Event()

    def _run(self, work: Callable[[], Any]) -> Any:
        try:
            asyncio.get_running_loop()
            on_loop = True
        except RuntimeError:
            on_loop = False
        with self.lock:
            self.running += 1
            self.calls += 1
            self.on_loop += on_loop
            self.most = max(self.most, self.running)
        self.started.set()
        try:
            return work()
        finally:
            with self.lock:
                self.running -= 1

    def hash(self, secret: str) -> str:
        return self._run(lambda: self.inner.hash(secret))

    def verify(self, secret: str, hashed: str) -> bool:
        return self._run(lambda: self.inner.verify(secret, hashed))


@pytest.fixture
def hashing(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Iterator[Any]:
    """`hashing(**settings_changes)` sets the cost and concurrency the hashing sees and
    returns a CountingHasher wrapped around the real argon2."""

    def configure(**changes: Any) -> CountingHasher:
        patched = dataclasses.replace(settings, **changes)
        monkeypatch.setattr(passwords, "get_settings", lambda: patched)
        _forget_cached()
        counting = CountingHasher(passwords._context())
        _forget_cached()
        monkeypatch.setattr(passwords, "_context", lambda: counting)
        return counting

    yield configure
    monkeypatch.undo()
    _forget_cached()


# --- the limiter -----------------------------------------------------------------------------


def test_no_more_hashes_run_at_once_than_the_setting_allows(hashing):
    counting = hashing(argon2_memory_kib=8192, argon2_time_cost=2, hash_concurrency=2)
    stored = passwords.hash_secret("482913")
    barrier = threading.Barrier(8)

    def work(i: int) -> None:
        barrier.wait()
        for _ in range(3):
            if i % 2:
                passwords.hash_secret("482913")
            else:
                passwords.verify_secret("482913", stored if i % 4 else None)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert counting.calls >= 1 + 8 * 3
    assert counting.most == 2  # never more, and the two slots are used together


def test_a_held_slot_counts_for_the_hashes_inside_it(hashing):
    """Services hash inside a slot their caller reserved (`off_loop`): no second slot, so
    one slot is enough and nothing deadlocks."""
    counting = hashing(hash_concurrency=1)
    done = threading.Event()

    def work() -> None:
        with passwords.hash_slot():
            stored = passwords.hash_secret("482913")
            assert passwords.verify_secret("482913", stored)
        done.set()

    thread = threading.Thread(target=work)
    thread.start()
    assert done.wait(timeout=10)
    thread.join()
    assert counting.calls == 2


def test_waiting_for_a_slot_holds_no_database_connection(hashing, engine, settings):
    """A login waiting for a hash slot gives its pooled connection back first: twenty
    waiting logins would otherwise empty the pool, and the event loop would block on it."""
    hashing(hash_concurrency=1)
    private = make_engine(settings.database_url)  # a pool of our own, to count its connections
    pool = private.pool
    entered = threading.Event()
    release = threading.Event()

    def hold_the_only_slot() -> None:
        with passwords.hash_slot():
            entered.set()
            release.wait(timeout=30)

    holder = threading.Thread(target=hold_the_only_slot)
    holder.start()
    assert entered.wait(timeout=10)

    def verify_in_service(db: Session, *, pin: str) -> bool:
        db.exec(Participant.__table__.select().limit(1))  # type: ignore[attr-defined]
        return passwords.verify_secret(pin, None)

    outcome: dict[str, Any] = {}

    def request() -> None:
        async def handler() -> bool:
            with Session(private) as db:
                db.exec(Participant.__table__.select().limit(1))  # type: ignore[attr-defined]
                assert pool.checkedout() == 1  # type: ignore[attr-defined]
                return await passwords.off_loop(verify_in_service, db, pin="482913")

        outcome["result"] = asyncio.run(handler())

    waiter = threading.Thread(target=request)
    waiter.start()
    time.sleep(0.3)  # the request is waiting for the slot the holder keeps
    assert waiter.is_alive()
    assert pool.checkedout() == 0  # type: ignore[attr-defined]
    release.set()
    waiter.join(timeout=30)
    holder.join(timeout=30)
    assert outcome == {"result": False}
    private.dispose()


# --- every route that checks a secret does it off the event loop -------------------------------


def test_every_route_that_checks_a_secret_hashes_off_the_event_loop(
    hashing, db, client, housing_org
):
    counting = hashing()

    def step(name: str, send: Callable[[], Any], *statuses: int) -> None:
        before = counting.calls
        response = send()
        assert response.status_code in (statuses or (303,)), (name, response.text[:500])
        assert counting.calls > before, f"{name}: no secret checked"
        assert counting.on_loop == 0, f"{name}: hashed on the event loop"

    # 200: the page that shows the new account's recovery code.
    step("claim: create the account", lambda: claim(client, enroll(housing_org, "A-1")), 200, 303)
    client.cookies.clear()
    step("participant login", lambda: login(client))
    token = page_csrf(client, "/account/close")
    step(
        "close the account (wrong PIN)",
        lambda: client.post("/account/close", data={"csrf_token": token, "pin": "000000"}),
        400,
    )
    client.cookies.clear()  # another device: a lost PIN, and a fresh code
    code = fresh_code(housing_org, "A-1")
    step("claim: reset the PIN", lambda: claim(client, code, pin="735102"))

    client.cookies.clear()
    staff = make_staff(db, housing_org, name="Maria")
    step("staff login", lambda: staff_log_in(client, staff.email))
    first = _start(client, "C-200", "en")
    page = client.get(first)
    base = first.rsplit("/consent", 1)[0]
    client.post(base + "/handover", data={"step": "1", "csrf_token": csrf_from(page.text)})
    token = csrf_from(client.get(base + "/finish").text)
    step(
        "take the device back",
        lambda: client.post(base + "/take-back", data={"password": PASSWORD, "csrf_token": token}),
    )

    client.cookies.clear()
    create_network_admin(db, email="admin@network.example", password=PASSWORD)
    db.commit()
    token = csrf_from(client.get("/admin/login").text)
    form = {"email": "admin@network.example", "password": PASSWORD, "csrf_token": token}
    step("admin login", lambda: client.post("/admin/login", data=form))


# --- the whole process stays responsive ------------------------------------------------------

LOGINS = 12
SAMPLES = 5


def test_an_unrelated_request_is_answered_while_logins_hash(live_server, db, hashing):
    counting = hashing(**PRODUCTION_COST, hash_concurrency=2)
    stored = passwords.hash_secret(PIN)
    for i in range(LOGINS):
        db.add(Participant(username=f"burst{i}", pin_hash=stored))
    _organization, key = create_organization(db, name="Northside", slug="northside")
    db.commit()
    single = []
    for _ in range(3):
        started = time.perf_counter()
        passwords.verify_secret(PIN, stored)
        single.append(time.perf_counter() - started)
    one_hash = min(single)

    api = httpx.Client(
        base_url=live_server.url, headers={"Authorization": f"Bearer {key}"}, trust_env=False
    )
    assert api.get("/api/v1/purposes").status_code == 200
    browsers = []
    for _ in range(LOGINS):
        browser = httpx.Client(base_url=live_server.url, trust_env=False, timeout=120)
        browsers.append((browser, csrf_from(browser.get("/login").text)))
    counting.started.clear()

    statuses: list[int] = []
    login_ends: list[float] = []

    def log_in(i: int) -> None:
        browser, token = browsers[i]
        response = browser.post(
            "/login", data={"csrf_token": token, "username": f"burst{i}", "pin": PIN}
        )
        statuses.append(response.status_code)
        login_ends.append(time.perf_counter())

    threads = [threading.Thread(target=log_in, args=(i,)) for i in range(LOGINS)]
    for thread in threads:
        thread.start()
    assert counting.started.wait(timeout=30)  # the logins are hashing

    latencies, api_ends = [], []
    for _ in range(SAMPLES):
        started = time.perf_counter()
        assert api.get("/api/v1/purposes").status_code == 200
        api_ends.append(time.perf_counter())
        latencies.append(api_ends[-1] - started)
    for thread in threads:
        thread.join(timeout=120)
    for browser, _token in browsers:
        browser.close()
    api.close()

    assert statuses == [303] * LOGINS
    assert max(api_ends) < max(login_ends), "the API calls were answered only after the logins"
    assert statistics.median(latencies) < one_hash / 2, (
        f"API call p50 {statistics.median(latencies) * 1000:.0f} ms during {LOGINS} logins; "
        f"one hash takes {one_hash * 1000:.0f} ms"
    )
