"""Webhook fan-out throughput: N events to 10 endpoints, delivered by real worker processes.

On PostgreSQL when TEST_DATABASE_URL (or DATABASE_URL) names one, else on a fresh SQLite
file. It migrates the database, creates a bench organization with 10 endpoints (10 paths on
one fast receiver, bench/webhook_receiver.py, in its own process), then for 1 and for 2
`python -m app worker` processes:

1. starts the workers and waits until they are idle;
2. records the events in one transaction (the outbox queues events × 10 deliveries);
3. times from that commit until every delivery is marked delivered in the database.

Beside it, a plain loop of signed httpx posts (one sync client, keep-alive, the same bodies,
no database) to the same receiver gives the floor to compare with. Nothing is asserted; the
figures are printed with the target (≥ 300 deliveries/s with one worker). The bench rows are
deleted afterwards (on SQLite the whole file).

    .venv/bin/python bench/webhook_fanout.py [--events 2000] [--endpoints 10] [--loop-posts 3000]
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
from sqlalchemy import delete, func, select  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from sqlmodel import Session, SQLModel  # noqa: E402

import app.models  # noqa: E402,F401
from app.db import make_engine  # noqa: E402
from app.events.models import Event  # noqa: E402
from app.events.service import envelope_bytes, event_envelope, record_event  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from app.organizations.service import create_organization  # noqa: E402
from app.participants.models import Enrollment  # noqa: E402
from app.participants.service import enroll  # noqa: E402
from app.webhooks.models import WebhookDelivery, WebhookEndpoint  # noqa: E402
from app.webhooks.signing import new_secret, webhook_headers  # noqa: E402
from bench.webhook_receiver import ReceiverProcess  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TARGET_PER_SECOND = 300


def database_url() -> tuple[str, Path | None]:
    for name in ("TEST_DATABASE_URL", "DATABASE_URL"):
        url = os.environ.get(name, "")
        if url.startswith("postgresql"):
            return url, None
    folder = Path(tempfile.mkdtemp(prefix="webhook-bench-"))
    return f"sqlite:///{folder / 'bench.db'}", folder


class Bench:
    def __init__(self, url: str, endpoints: int, receiver: ReceiverProcess) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.receiver = receiver
        with Session(self.engine, expire_on_commit=False) as session:
            slug = f"bench-{secrets.token_hex(4)}"
            organization, _ = create_organization(session, name="Webhook bench", slug=slug)
            self.organization_id = organization.id or 0
            self.endpoints = []
            for n in range(endpoints):
                endpoint = WebhookEndpoint(
                    organization_id=self.organization_id,
                    url=receiver.url(f"/e{n}"),
                    secret=new_secret(),
                )
                session.add(endpoint)
                self.endpoints.append(endpoint)
            self.enrollments = [
                enroll(
                    session,
                    organization=organization,
                    external_ref=f"B-{i}",
                    preferred_language=None,
                )[0]
                for i in range(20)
            ]
            session.commit()

    def queue_events(self, count: int) -> tuple[int, float]:
        """Record `count` events in one transaction; returns (the first new delivery id, the
        time the commit returned)."""
        with Session(self.engine, expire_on_commit=False) as session:
            first_id = (session.scalar(select(func.max(WebhookDelivery.id))) or 0) + 1
            for i in range(count):
                enrollment = self.enrollments[i % len(self.enrollments)]
                record_event(
                    session,
                    enrollment_id=enrollment.id,
                    organization_id=self.organization_id,
                    type="consent.withdrawn",
                    data={
                        "organization": "bench",
                        "participant": {"external_ref": enrollment.external_ref},
                        "consent": {"purpose": "housing", "state": "withdrawn"},
                    },
                )
            session.commit()
            return first_id, time.monotonic()

    def delivered_since(self, first_id: int) -> int:
        with Session(self.engine) as session:
            return (
                session.scalar(
                    select(func.count()).where(
                        WebhookDelivery.id >= first_id,  # type: ignore[operator]
                        WebhookDelivery.status == "delivered",
                    )
                )
                or 0
            )

    def run_workers(self, processes: int, events: int, log_dir: Path) -> float:
        env = {**os.environ, "DATABASE_URL": self.url, "PORTAL_ENV": "development"}
        logs = [log_dir / f"worker-{processes}-{n}.log" for n in range(processes)]
        workers = [
            subprocess.Popen(
                [sys.executable, "-m", "app", "worker"],
                cwd=ROOT,
                env=env,
                stdout=log.open("wb"),
                stderr=subprocess.STDOUT,
            )
            for log in logs
        ]
        try:
            deadline = time.monotonic() + 30
            while not all("worker started" in log.read_text() for log in logs):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"workers did not start; see {log_dir}")
                time.sleep(0.05)
            time.sleep(1.0)  # past their first round (consent expiry, an empty claim)
            expected = events * len(self.endpoints)
            first_id, committed = self.queue_events(events)
            deadline = time.monotonic() + 600
            while (done := self.delivered_since(first_id)) < expected:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"only {done} of {expected} delivered; see {log_dir}")
                time.sleep(0.05)
            return expected / (time.monotonic() - committed)
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            for worker in workers:
                worker.wait(timeout=30)

    def plain_loop(self, posts: int) -> float:
        """The floor: build, sign and POST the same bodies one after another, no database."""
        with Session(self.engine) as session:
            events = list(
                session.scalars(
                    select(Event).where(Event.organization_id == self.organization_id).limit(500)  # type: ignore[arg-type]
                )
            )
        with httpx.Client(trust_env=False, timeout=15) as client:
            started = time.monotonic()
            for n in range(posts):
                event = events[n % len(events)]
                endpoint = self.endpoints[n % len(self.endpoints)]
                body = envelope_bytes(event_envelope(event))
                headers = webhook_headers(
                    [endpoint.secret], msg_id=event.id, timestamp=int(time.time()), body=body
                )
                response = client.post(endpoint.url, content=body, headers=headers)
                assert response.status_code == 204
            return posts / (time.monotonic() - started)

    def clean_up(self) -> None:
        delete_organization_rows(self.engine, self.organization_id)
        self.engine.dispose()


def delete_organization_rows(engine: Engine, organization_id: int) -> None:
    """Remove what a bench created for its organization, children first, so benches can run
    against a shared database. Best effort: a table this does not know about is reported."""
    endpoints = select(WebhookEndpoint.id).where(
        WebhookEndpoint.organization_id == organization_id  # type: ignore[arg-type]
    )
    enrollments = select(Enrollment.id).where(Enrollment.organization_id == organization_id)  # type: ignore[arg-type]
    try:
        with engine.begin() as connection:
            for table in reversed(SQLModel.metadata.sorted_tables):
                columns = table.c
                if table.name == "organization":
                    connection.execute(delete(table).where(columns.id == organization_id))
                elif "endpoint_id" in columns:
                    connection.execute(delete(table).where(columns.endpoint_id.in_(endpoints)))
                elif "enrollment_id" in columns:
                    connection.execute(delete(table).where(columns.enrollment_id.in_(enrollments)))
                elif "organization_id" in columns:
                    connection.execute(
                        delete(table).where(columns.organization_id == organization_id)
                    )
    except Exception as exc:  # noqa: BLE001 - a bench should still print its figures
        print(f"  (could not remove the bench rows: {exc.__class__.__name__}: {exc})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--endpoints", type=int, default=10)
    parser.add_argument("--loop-posts", type=int, default=3000)
    args = parser.parse_args()

    url, temporary = database_url()
    upgrade(url)
    receiver = ReceiverProcess()
    bench = Bench(url, args.endpoints, receiver)
    dialect = bench.engine.dialect.name
    log_dir = Path(tempfile.mkdtemp(prefix="webhook-bench-logs-"))
    print(
        f"webhook fan-out: {args.events} events × {args.endpoints} endpoints = "
        f"{args.events * args.endpoints} deliveries per run, on {dialect}; "
        f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs"
    )
    try:
        one = bench.run_workers(1, args.events, log_dir)
        print(f"  1 worker process     {one:8.0f} deliveries/s")
        two = bench.run_workers(2, args.events, log_dir)
        print(f"  2 worker processes   {two:8.0f} deliveries/s")
        floor = bench.plain_loop(args.loop_posts)
        print(f"  plain httpx loop     {floor:8.0f} posts/s   (signed, sequential, no database)")
        print()
        print(f"  1 worker / plain loop:  {one / floor:.2f}×")
        print(f"  2 workers / plain loop: {two / floor:.2f}×")
        print(
            f"  target: ≥ {TARGET_PER_SECOND} deliveries/s with one worker — "
            f"{'met' if one >= TARGET_PER_SECOND else 'NOT met'}"
        )
        print(f"  receiver counted {receiver.stats()['count']} requests")
        shutil.rmtree(log_dir)  # kept only when a run fails, for its worker logs
    finally:
        bench.clean_up()
        receiver.stop()
        if temporary is not None:
            for path in temporary.iterdir():
                path.unlink()
            temporary.rmdir()


if __name__ == "__main__":
    main()
