"""FAULT TEST: the database server restarts under load, then a web process is killed.

Everything is real and runs in its own processes: a PostgreSQL server of the test's own (in a
temporary folder, on a spare port; the shared server is never touched), the app under
uvicorn, a `python -m app worker`, and a webhook receiver on loopback. While an
organization's system writes through the API and participants look at and decide on their
consents in the HTML pages, the test stops the database server for 2 s and starts it again,
then kills the web process with SIGKILL and starts a new one.

What must hold:
- no request gets a 500: during the outage the API answers 503 JSON with Retry-After, the
  pages a 503 page in the participant's language, both with the security headers;
- the app recovers by itself when the server is back (no restart), and so does the worker;
- every request that was answered 2xx is in the database, the kill included;
- every committed event reaches the receiver, and no event is ever delivered twice at once.

It runs on every CI pass (it brings its own server, whatever TEST_DATABASE_URL says) and is
skipped, saying why, where no PostgreSQL server binaries are installed.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from app.config import ROOT
from app.db import make_engine
from app.migrate import upgrade
from tests.factories import holding_body, purpose_body
from tests.faults.postgres_server import PostgresServer, unavailable_reason
from tests.webhooks.receiver import Receiver

pytestmark = [pytest.mark.fault, pytest.mark.slow]

PIN = "482913"
API_WRITERS = 3
PARTICIPANTS = 2  # the first reads the pages in Spanish
OUTAGE_SECONDS = 2.0
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
NOTICE_VERSION = re.compile(r'name="notice_version" value="(\d+)"')
# The 503 page's heading in Spanish (templates/errors/error.html, locales/es).
SPANISH_UNAVAILABLE = "El portal no funciona en este momento"


@dataclass
class Outcome:
    kind: str  # api-holding, api-consent, page, decide
    started: float
    ended: float
    status: int | None  # None: no HTTP answer at all (the web process was down)
    error: str | None = None
    key: str | None = None  # what to look for in the database afterwards
    headers: httpx.Headers | None = None
    body: str = ""
    spanish: bool = False


def _spare_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Processes:
    """The web process (uvicorn, as in production) and a worker, with their logs."""

    def __init__(self, log_dir: Path, env: dict[str, str], port: int) -> None:
        self.log_dir = log_dir
        self.env = env
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.web: subprocess.Popen[bytes] | None = None
        self.worker: subprocess.Popen[bytes] | None = None
        self._all: list[subprocess.Popen[bytes]] = []

    def _start(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        log = open(self.log_dir / f"{name}-{len(self._all)}.log", "wb")  # noqa: SIM115
        process = subprocess.Popen(
            [sys.executable, *args], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        self._all.append(process)
        return process

    def start_web(self) -> None:
        self.web = self._start(
            "web",
            ["-m", "uvicorn", "app.asgi:app", "--host", "127.0.0.1", "--port", str(self.port)],
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.web.poll() is None, self.logs()
            try:
                if httpx.get(f"{self.base_url}/login", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"the web process did not start\n{self.logs()}")

    def start_worker(self) -> None:
        self.worker = self._start("worker", ["-m", "app", "worker"])

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "app", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return done.stdout

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name} ---\n{p.read_text(errors='replace')[-4000:]}"
            for p in sorted(self.log_dir.glob("*.log"))
        )

    def stop_all(self) -> None:
        for process in self._all:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)


class Load:
    """Writers and readers in threads, each outcome timed and kept."""

    def __init__(self, base_url: str, api_key: str) -> None:
        self.base_url = base_url
        self.api_key = api_key
        self.outcomes: list[Outcome] = []
        self._lock = threading.Lock()
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []

    def _keep(self, outcome: Outcome) -> None:
        with self._lock:
            self.outcomes.append(outcome)

    def _call(self, client: httpx.Client, kind: str, method: str, url: str, **kw: Any) -> Any:
        started = time.monotonic()
        try:
            response = client.request(method, url, **kw)
        except httpx.HTTPError as exc:
            self._keep(Outcome(kind, started, time.monotonic(), None, type(exc).__name__))
            time.sleep(0.05)  # the web process is down: no point hammering its port
            return None
        outcome = Outcome(kind, started, time.monotonic(), response.status_code)
        if response.status_code >= 500:
            outcome.headers = response.headers
            outcome.body = response.text[:20000]
        self._keep(outcome)
        response.outcome = outcome  # type: ignore[attr-defined]
        return response

    def api_writer(self, ref: str) -> None:
        headers = {"Authorization": f"Bearer {self.api_key}"}
        with httpx.Client(base_url=self.base_url, headers=headers, timeout=15) as client:
            n = 0
            while not self.stop.is_set():
                n += 1
                key = f"{ref.lower().replace('-', '_')}_{n}"
                r = self._call(
                    client,
                    "api-holding",
                    "PUT",
                    f"/api/v1/participants/{ref}/holdings/{key}",
                    json=holding_body(),
                )
                if r is not None:
                    r.outcome.key = f"{ref}/{key}"
                state = "given" if n % 2 else "withdrawn"
                r = self._call(
                    client,
                    "api-consent",
                    "POST",
                    f"/api/v1/participants/{ref}/consents",
                    json={"purpose": "housing", "state": state, "method": "paper"},
                )
                if r is not None and r.status_code == 201:
                    r.outcome.key = r.json()["id"]
                time.sleep(0.01)

    def participant(self, client: httpx.Client, enrollment_id: str, spanish: bool) -> None:
        url = f"/consents/{enrollment_id}/housing"
        n = 0
        while not self.stop.is_set():
            n += 1
            page = self._call(client, "page", "GET", url)
            if page is not None:
                page.outcome.spanish = spanish
            if page is not None and page.status_code == 200:
                r = self._call(
                    client,
                    "decide",
                    "POST",
                    url,
                    data={
                        "decision": "give" if n % 2 else "withdraw",
                        "notice_version": NOTICE_VERSION.search(page.text).group(1),
                        "csrf_token": CSRF.search(page.text).group(1),
                    },
                )
                if r is not None:
                    r.outcome.spanish = spanish
            time.sleep(0.02)

    def start(self, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self.threads.append(thread)

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)


def _claim(base_url: str, code: str, username: str, spanish: bool) -> httpx.Client:
    """An account made on the claim page; then signed in on a fresh client through the login
    form, whatever the claim page went on to show."""
    with httpx.Client(base_url=base_url, timeout=15) as client:
        page = client.get(f"/claim/{code}")
        assert page.status_code == 200, page.text
        r = client.post(
            f"/claim/{code}",
            data={
                "csrf_token": CSRF.search(page.text).group(1),
                "username": username,
                "pin": PIN,
                "confirm_pin": PIN,
            },
        )
        assert r.status_code in (200, 303), r.text
    client = httpx.Client(base_url=base_url, timeout=15)
    page = client.get("/login")
    r = client.post(
        "/login",
        data={"csrf_token": CSRF.search(page.text).group(1), "username": username, "pin": PIN},
    )
    assert r.status_code == 303, r.text
    if spanish:  # remembered for the visit and in the account
        assert client.get("/?lang=es").status_code == 200
    return client


def _wait_until(condition: Any, timeout: float, what: str, logs: Any) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}\n{logs()}")


def test_a_database_restart_and_a_killed_web_process_lose_nothing(tmp_path):
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    test_started = time.monotonic()
    pg = PostgresServer()
    receiver = Receiver().start()
    port = _spare_port()
    env = {
        **os.environ,
        "DATABASE_URL": pg.url,
        "PORTAL_ENV": "development",
        "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
        # Short leases, so that a delivery whose outcome could not be recorded is sent again
        # within the test's wait; the timeout stays well under the lease.
        "PORTAL_WEBHOOK_LEASE_SECONDS": "4",
        "PORTAL_WEBHOOK_TIMEOUT_SECONDS": "3",
        "PORTAL_WEBHOOK_POLL_SECONDS": "0.1",
        "PORTAL_WEBHOOK_CONCURRENCY": "8",
    }
    processes = Processes(tmp_path, env, port)
    participants: list[httpx.Client] = []
    engine = None
    try:
        pg.init()
        upgrade(pg.url)
        engine = make_engine(pg.url)
        api_key = json.loads(processes.cli("org", "create", "--name", "Northside", "--slug", "n"))[
            "api_key"
        ]
        processes.start_web()
        processes.start_worker()
        base = processes.base_url
        auth = {"Authorization": f"Bearer {api_key}"}
        r = httpx.put(f"{base}/api/v1/purposes/housing", json=purpose_body(), headers=auth)
        assert r.status_code == 201, r.text
        r = httpx.post(
            f"{base}/api/v1/webhook-endpoints", json={"url": receiver.url()}, headers=auth
        )
        assert r.status_code == 201, r.text
        refs = [f"A-{i}" for i in range(API_WRITERS)]
        enrolled = {}
        for ref in refs + [f"P-{i}" for i in range(PARTICIPANTS)]:
            r = httpx.post(f"{base}/api/v1/participants", json={"external_ref": ref}, headers=auth)
            assert r.status_code == 201, r.text
            enrolled[ref] = r.json()
        for i in range(PARTICIPANTS):
            body = enrolled[f"P-{i}"]
            participants.append(_claim(base, body["claim_code"], f"person{i}", spanish=i == 0))

        load = Load(base, api_key)
        for ref in refs:
            load.start(load.api_writer, ref)
        for i, client in enumerate(participants):
            load.start(load.participant, client, enrolled[f"P-{i}"]["participant_id"], i == 0)

        # 1. The database server goes away for OUTAGE_SECONDS, then comes back.
        time.sleep(1.5)
        db_down = time.monotonic()
        pg.stop("fast")
        time.sleep(OUTAGE_SECONDS)
        pg.start()
        db_up = time.monotonic()

        def api_success_since(since: float) -> bool:
            return any(
                o.kind.startswith("api") and o.started > since and o.status in (200, 201)
                for o in list(load.outcomes)
            )

        _wait_until(lambda: api_success_since(db_up), 20, "the API to recover", processes.logs)
        api_recovered = min(
            o.ended
            for o in list(load.outcomes)
            if o.kind.startswith("api") and o.started > db_up and o.status in (200, 201)
        )
        _wait_until(
            lambda: any(
                o.kind == "decide" and o.started > db_up and o.status == 303
                for o in list(load.outcomes)
            ),
            20,
            "the pages to recover",
            processes.logs,
        )
        time.sleep(1.0)

        # 2. The web process is killed in the middle of requests, and a new one started.
        web_killed = time.monotonic()
        assert processes.web is not None
        processes.web.send_signal(signal.SIGKILL)
        processes.web.wait(timeout=10)
        processes.start_web()
        web_up = time.monotonic()
        time.sleep(1.5)
        load.finish()
        load_ended = time.monotonic()

        outcomes = list(load.outcomes)
        statuses = Counter(o.status for o in outcomes)
        # --- no 500, only 2xx/3xx, 503, and the odd 409 (a consent withdrawn twice) ---
        server_errors = [o for o in outcomes if o.status is not None and o.status >= 500]
        not_503 = [o for o in server_errors if o.status != 503]
        assert not not_503, f"{statuses}: {not_503[0].body[:2000]}"
        assert set(statuses) <= {200, 201, 303, 409, 503, None}, statuses
        unavailable = [o for o in server_errors if o.status == 503]
        assert unavailable, f"the outage was not seen: {statuses}"
        # No answer at all only while the web process was down.
        no_answer = [o for o in outcomes if o.status is None]
        assert all(web_killed - 0.1 <= o.ended <= web_up + 0.5 for o in no_answer), [
            (o.kind, o.error, o.ended - web_killed) for o in no_answer
        ]
        # 503s only while the database was down, or had just come back.
        late = [o for o in unavailable if not db_down - 0.5 <= o.started <= db_up + 5]
        assert not late, [(o.kind, round(o.started - db_up, 2), o.body[:200]) for o in late] + [
            processes.logs()
        ]
        for o in unavailable:
            assert o.headers is not None
            assert "default-src 'none'" in o.headers["content-security-policy"]
            assert o.headers["x-content-type-options"] == "nosniff"
            assert o.headers["referrer-policy"] == "no-referrer"
            assert o.headers["cache-control"] == "no-store"
            assert int(o.headers["retry-after"]) > 0
            if o.kind.startswith("api"):
                assert o.headers["content-type"] == "application/json"
                assert json.loads(o.body)["detail"]
            else:
                assert o.headers["content-type"].startswith("text/html")
                assert "Traceback" not in o.body
                if o.spanish:
                    assert '<html lang="es">' in o.body and SPANISH_UNAVAILABLE in o.body
        assert any(o.kind in ("page", "decide") for o in unavailable)
        assert any(o.kind.startswith("api") for o in unavailable)
        # Recovered without a restart: requests between the database's return and the kill.
        assert any(
            o.status in (200, 201, 303) and db_up < o.started and o.ended < web_killed
            for o in outcomes
        )

        # --- every 2xx is in the database ---
        with engine.connect() as conn:
            holdings = {
                f"{ref}/{key}"
                for ref, key in conn.execute(
                    text(
                        "SELECT e.external_ref, h.field_key FROM holding h "
                        "JOIN enrollment e ON e.id = h.enrollment_id"
                    )
                )
            }
            consents = set(conn.execute(text("SELECT id FROM consent")).scalars())
        answered = [o for o in outcomes if o.status in (200, 201)]
        missing_holdings = {o.key for o in answered if o.kind == "api-holding"} - holdings
        missing_consents = {o.key for o in answered if o.kind == "api-consent"} - consents
        assert not missing_holdings and not missing_consents

        # --- every committed event reaches the receiver, never twice at once ---
        def event_ids() -> set[str]:
            with engine.connect() as conn:
                return set(conn.execute(text("SELECT id FROM event")).scalars())

        def all_arrived() -> bool:
            return event_ids() <= {r.webhook_id for r in list(receiver.received)}

        def undelivered() -> int:
            with engine.connect() as conn:
                return int(
                    conn.execute(
                        text("SELECT count(*) FROM webhook_delivery WHERE status <> 'delivered'")
                    ).scalar_one()
                )

        pending = undelivered()
        delivered_in = _wait_until(all_arrived, 30, "every event at the receiver", processes.logs)
        _wait_until(
            lambda: undelivered() == 0, 15, "every delivery recorded as delivered", processes.logs
        )
        committed = event_ids()
        assert receiver.overlaps == []
        arrivals = Counter(r.webhook_id for r in receiver.received)
        assert set(arrivals) == committed  # nothing arrived that was not committed

        # The worker lived through it all, and still stops cleanly.
        assert processes.worker is not None and processes.worker.poll() is None
        processes.worker.send_signal(signal.SIGTERM)
        assert processes.worker.wait(timeout=20) == 0, processes.logs()

        recovered = api_recovered - db_up
        print(
            "\nfault test figures:"
            f"\n  requests: {len(outcomes)}, statuses: {dict(statuses)}"
            f"\n  503 by kind: {dict(Counter(o.kind for o in unavailable))}"
            f"\n  no answer (web killed): {len(no_answer)}"
            f"\n  database down {db_up - db_down:.1f} s; API answering 2xx again "
            f"{recovered:.2f} s after it was back"
            f"\n  web restart: {web_up - web_killed:.1f} s"
            f"\n  events committed: {len(committed)}, arrivals: {sum(arrivals.values())}, "
            f"sent more than once: {sum(1 for n in arrivals.values() if n > 1)}, "
            f"overlapping: {len(receiver.overlaps)}, not yet delivered at load end: {pending}"
            f"\n  all events arrived {delivered_in:.1f} s after the check began "
            f"({time.monotonic() - load_ended:.1f} s after the load)"
            f"\n  whole test: {time.monotonic() - test_started:.1f} s"
        )
    except BaseException:
        print(processes.logs())
        raise
    finally:
        for client in participants:
            client.close()
        processes.stop_all()
        receiver.stop()
        if engine is not None:
            engine.dispose()
        pg.destroy()
