"""Logins under load: their throughput, and what they do to an unrelated API call.

The real app (`create_app(settings, run_worker=True)`, as `consent-portal serve` runs it,
webhook worker and all) is served by uvicorn in its own process on a free loopback port,
with the production argon2 cost (the defaults in app/config.py: 64 MiB, 3 passes). A fresh
SQLite file in a temporary folder holds 20 participants and one organization with an API
key; it is deleted afterwards.

1. **Alone**: GET /api/v1/purposes with the organization's key, one after another; p50/p99.
2. **During logins**: 20 clients log in over and over (POST /login with the right PIN, each
   its own visitor), while the same API call is made one after another beside them; the
   logins per second, their p50/p99, and the API call's p50/p99.

Nothing is asserted on timings. It stops with an error when a login or an API call does not
answer what it should (a login must redirect home, the API call must be 200), because the
figures would then measure the wrong thing.

    .venv/bin/python bench/login_concurrency.py [--clients 20] [--duration 15] [--warmup 3]
        [--hash-concurrency N]   # PORTAL_HASH_CONCURRENCY for the server (default: its cores)

See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# The server's and this process's settings: production-like hashing, a development secret.
for _name in ("PORTAL_ARGON2_MEMORY_KIB", "PORTAL_ARGON2_TIME_COST", "PORTAL_HASH_CONCURRENCY"):
    os.environ.pop(_name, None)

import httpx  # noqa: E402
import uvicorn  # noqa: E402
from sqlmodel import Session  # noqa: E402

import app.models  # noqa: E402,F401
from app.config import get_settings, load_settings  # noqa: E402
from app.db import make_engine  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from app.organizations.service import create_organization  # noqa: E402
from app.participants.models import Participant  # noqa: E402
from app.security import passwords  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PIN = "482913"
VISITOR_COOKIE = "portal_visitor"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- serving ---------------------------------------------------------------------------------


def serve(port: int) -> None:
    """Runs in the child process: the app as `consent-portal serve` runs it, no access log."""
    from app.main import create_app

    application = create_app(get_settings(), run_worker=True)
    uvicorn.run(application, host="127.0.0.1", port=port, log_level="warning", access_log=False)


@contextmanager
def running_server(env: dict[str, str], folder: Path) -> Iterator[str]:
    port = free_port()
    log_path = folder / "server.log"  # a file, not a pipe: a full pipe blocks
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, __file__, "serve", str(port)],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=log,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise SystemExit(f"the server exited at start:\n{log_path.read_text()}")
            try:
                httpx.get(f"{url}/static/none", timeout=1, trust_env=False)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise SystemExit("the server did not start within 30 s") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        if log_path.stat().st_size:
            print(f"the server said:\n{log_path.read_text()[-2000:]}", file=sys.stderr)


# --- measuring -------------------------------------------------------------------------------


async def api_latencies(api: httpx.AsyncClient, *, until: float) -> list[float]:
    latencies = []
    while time.perf_counter() < until:
        started = time.perf_counter()
        response = await api.get("/api/v1/purposes")
        if response.status_code != 200:
            raise SystemExit(f"the API call answered {response.status_code}: {response.text}")
        latencies.append(time.perf_counter() - started)
    return latencies


async def log_in_again_and_again(
    url: str, username: str, *, start_counting: float, until: float
) -> list[float]:
    """One client (its own visitor cookie and CSRF token) logging in until `until`; the
    times of the logins that started after `start_counting`."""
    async with httpx.AsyncClient(base_url=url, trust_env=False, timeout=120) as client:
        page = await client.get("/login")
        match = CSRF_FIELD.search(page.text)
        if not match:
            raise SystemExit("the login page has no CSRF field")
        token, visitor = match.group(1), client.cookies[VISITOR_COOKIE]
        form = {"csrf_token": token, "username": username, "pin": PIN}
        times = []
        while time.perf_counter() < until:
            client.cookies.clear()  # signed out again: the token is bound to the visitor
            client.cookies.set(VISITOR_COOKIE, visitor)
            started = time.perf_counter()
            response = await client.post("/login", data=form)
            if response.status_code != 303 or response.headers.get("location") != "/":
                raise SystemExit(f"a login answered {response.status_code}: {response.text[:300]}")
            if started >= start_counting:
                times.append(time.perf_counter() - started)
        return times


async def measure(url: str, key: str, clients: int, warmup: float, duration: float) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, trust_env=False) as api:
        await api_latencies(api, until=time.perf_counter() + 1)  # warm
        alone = await api_latencies(api, until=time.perf_counter() + min(duration, 5))

        now = time.perf_counter()
        start_counting, until = now + warmup, now + warmup + duration
        logins = [
            log_in_again_and_again(url, f"bench{i}", start_counting=start_counting, until=until)
            for i in range(clients)
        ]
        await asyncio.sleep(warmup)
        during, *per_client = await asyncio.gather(api_latencies(api, until=until), *logins)
    login_times = [t for times in per_client for t in times]

    def row(name: str, values: list[float], rate: str = "") -> str:
        return (
            f"  {name:<34}{len(values):>6}{rate:>10}"
            f"{statistics.median(values) * 1000:>9.1f}{percentile(values, 0.99) * 1000:>9.1f}"
        )

    print(f"  {'':<34}{'count':>6}{'per s':>10}{'p50 ms':>9}{'p99 ms':>9}")
    print(row("API call alone", alone, f"{len(alone) / min(duration, 5):.1f}"))
    print(row(f"API call during {clients} logins", during, f"{len(during) / duration:.1f}"))
    print(row(f"logins ({clients} clients)", login_times, f"{len(login_times) / duration:.1f}"))
    ratio = statistics.median(during) / statistics.median(alone)
    print(f"\n  API call p50 during logins / alone: {ratio:.1f}x")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        serve(int(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20, help="clients logging in (20)")
    parser.add_argument("--duration", type=float, default=15, help="seconds measured (15)")
    parser.add_argument("--warmup", type=float, default=3, help="seconds discarded first (3)")
    parser.add_argument(
        "--hash-concurrency", type=int, default=None, help="PORTAL_HASH_CONCURRENCY (the cores)"
    )
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="login-bench-"))
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{folder / 'bench.db'}",
        "PORTAL_ENV": "development",
        "PORTAL_BASE_URL": "http://127.0.0.1",
    }
    if args.hash_concurrency:
        env["PORTAL_HASH_CONCURRENCY"] = str(args.hash_concurrency)
    settings = load_settings(env)
    try:
        upgrade(settings.database_url)
        os.environ.update(env)  # this process hashes the PINs at the server's cost
        get_settings.cache_clear()
        stored = passwords.hash_secret(PIN)
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            passwords.verify_secret(PIN, stored)
            timings.append(time.perf_counter() - started)
        one_hash = min(timings)
        engine = make_engine(settings.database_url)
        with Session(engine) as session:
            _organization, key = create_organization(session, name="Login bench", slug="bench")
            for i in range(args.clients):
                session.add(Participant(username=f"bench{i}", pin_hash=stored))
            session.commit()
        engine.dispose()

        print(
            f"Logins under load (argon2 {settings.argon2_memory_kib // 1024} MiB × "
            f"{settings.argon2_time_cost} passes: {one_hash * 1000:.0f} ms per hash here; "
            f"PORTAL_HASH_CONCURRENCY={settings.hash_concurrency}; "
            f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f} before the run)\n"
        )
        with running_server(env, folder) as url:
            asyncio.run(measure(url, key, args.clients, args.warmup, args.duration))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
