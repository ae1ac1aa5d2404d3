"""Webhook latency: from a consent withdrawal being committed to its webhook arriving.

The real app with its in-process worker (`create_app(settings, run_worker=True)`, as
`consent-portal serve` runs it) is served by uvicorn on loopback. An organization subscribes
a receiver (bench/webhook_receiver.py, its own process) to `consent.withdrawn`, enrolls
participants and records their consent; then the bench withdraws, one after another, over
the API. Each latency is the receiver's arrival time minus the event's `created_at`, which
is set just before the transaction commits: a slight overestimate, never an underestimate.

On PostgreSQL when TEST_DATABASE_URL (or DATABASE_URL) names one, else on a fresh SQLite
file. Nothing is asserted; p50/p99/max are printed beside the target (p99 < 500 ms).

    .venv/bin/python bench/webhook_latency.py [--withdrawals 200] [--gap-ms 20]
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
import uvicorn  # noqa: E402
from sqlalchemy import select  # noqa: E402
from sqlmodel import Session  # noqa: E402

import app.models  # noqa: E402,F401
from app.config import load_settings  # noqa: E402
from app.db import make_engine  # noqa: E402
from app.events.models import Event  # noqa: E402
from app.main import create_app  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from app.organizations.service import create_organization  # noqa: E402
from bench.database import database_url, delete_organization_rows  # noqa: E402
from bench.webhook_receiver import ReceiverProcess, free_port  # noqa: E402

TARGET_P99_MS = 500
PURPOSE = {
    "title": {"en": "Share with the county for housing help"},
    "description": {"en": "So the county can find you housing."},
    "basis": "consent",
    "categories": ["contact"],
    "recipients": [{"name": "Hennepin County"}],
    "retention_days": 365,
    "refusal_consequence": {"en": "You still get food from us."},
}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def serve(application: object) -> tuple[uvicorn.Server, threading.Thread, str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning", lifespan="on")  # type: ignore[arg-type]
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the app did not start")
        time.sleep(0.02)
    return server, thread, f"http://127.0.0.1:{port}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--withdrawals", type=int, default=200)
    parser.add_argument("--gap-ms", type=float, default=20.0)
    args = parser.parse_args()

    url, temporary = database_url()
    upgrade(url)
    settings = load_settings(
        {"DATABASE_URL": url, "PORTAL_ENV": "development", "PORTAL_ARGON2_MEMORY_KIB": "1024"}
    )
    application = create_app(settings, run_worker=True)
    receiver = ReceiverProcess()
    server, thread, base = serve(application)
    engine = application.state.engine
    organization_id = None
    try:
        with Session(engine) as session:
            slug = f"bench-{secrets.token_hex(4)}"
            organization, key = create_organization(session, name="Latency bench", slug=slug)
            session.commit()
            organization_id = organization.id or 0
        api = httpx.Client(
            base_url=f"{base}/api/v1",
            headers={"Authorization": f"Bearer {key}"},
            trust_env=False,
            timeout=30,
        )
        api.put("/purposes/housing", json=PURPOSE).raise_for_status()
        api.post(
            "/webhook-endpoints",
            json={"url": receiver.url("/hook"), "event_types": ["consent.withdrawn"]},
        ).raise_for_status()
        refs = [f"L-{i}" for i in range(args.withdrawals)]
        for ref in refs:
            api.post("/participants", json={"external_ref": ref}).raise_for_status()
            api.post(
                f"/participants/{ref}/consents",
                json={"purpose": "housing", "state": "given", "method": "paper"},
            ).raise_for_status()

        poll = settings.webhook_poll_seconds
        if engine.dialect.name == "postgresql":
            poll = max(poll, 1.0)  # the worker listens for NOTIFY and polls less
        print(
            f"webhook latency: {args.withdrawals} withdrawals over the API, in-process worker, "
            f"on {engine.dialect.name}; the worker would poll every {poll:g} s, a commit wakes "
            f"it at once; load average {os.getloadavg()[0]:.2f}"
        )
        for ref in refs:
            api.post(
                f"/participants/{ref}/consents",
                json={"purpose": "housing", "state": "withdrawn", "method": "paper"},
            ).raise_for_status()
            time.sleep(args.gap_ms / 1000)

        deadline = time.monotonic() + 60
        while receiver.stats()["count"] < args.withdrawals:
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {receiver.stats()['count']} webhooks arrived")
            time.sleep(0.05)
        arrivals = receiver.stats()["arrivals"]
        with Session(engine) as session:
            events = session.scalars(
                select(Event).where(Event.id.in_(list(arrivals)))  # type: ignore[attr-defined]
            ).all()
        latencies = [(arrivals[e.id] - e.created_at.timestamp()) * 1000 for e in events]
        if len(latencies) != args.withdrawals:
            raise RuntimeError("some webhooks did not match a withdrawal")
        p99 = percentile(latencies, 0.99)
        print(f"  p50 {percentile(latencies, 0.50):7.1f} ms")
        print(f"  p90 {percentile(latencies, 0.90):7.1f} ms")
        print(
            f"  p99 {p99:7.1f} ms   (target < {TARGET_P99_MS} ms: {'met' if p99 < TARGET_P99_MS else 'NOT met'})"
        )
        print(f"  max {max(latencies):7.1f} ms   mean {statistics.fmean(latencies):.1f} ms")
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        receiver.stop()
        if organization_id is not None:
            delete_organization_rows(make_engine(url), organization_id)
        if temporary is not None:
            for path in temporary.iterdir():
                path.unlink()
            temporary.rmdir()


if __name__ == "__main__":
    main()
