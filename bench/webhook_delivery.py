"""Webhook delivery throughput in both shapes of traffic, and withdrawal-to-arrival latency.

One run on the database it is given (PostgreSQL when TEST_DATABASE_URL or DATABASE_URL names
one, else a fresh SQLite file), real `python -m app worker` processes (cwd and PYTHONPATH set
to this checkout), receivers in processes of their own (bench/webhook_receiver.py, one per
organization, as each organization runs its own receiver). For each

- shape: *per-org*, N organizations × M events, each to its organization's one endpoint,
  recorded one organization after another in one transaction (an import or a busy intake
  day); *fanout*, E events of one organization to each of its 10 endpoints;
- worker count: 1, and 2 on PostgreSQL (SQLite allows one writer: two workers only queue);
- receiver kind: *instant* (answers at once) and *slow* (answers after 100 ms),

it prints deliveries per second from the commit of the burst to the last answer, the floor
beside it and the ratio, and whether any delivery was being received twice at the same time
(the receivers keep every request's arrival and answer times per endpoint and webhook-id:
"overlaps" must be 0; "repeats" counts deliveries received more than once at all).

The floor is a plain loop of signed httpx posts (the same envelope, signature and headers,
no database) to the same receivers in the same run, as many posts as the worker delivered.
For instant receivers it is sequential (one client, keep-alive). For slow receivers a
sequential loop would measure only the 100 ms, so there it is concurrent with the worker's
own cap: at most PORTAL_WEBHOOK_PER_ENDPOINT requests in flight to each endpoint (4 unless
set), no cap in total.

Then latency: with the workers idle-waiting, events are recorded one at a time (one commit
each) at a steady rate, and each one's arrival minus its `created_at` is taken (created_at is
set before the commit: a slight overestimate, never an underestimate). On SQLite the worker,
in another process, learns of a commit by polling (PORTAL_WEBHOOK_POLL_SECONDS); on
PostgreSQL through NOTIFY. bench/webhook_latency.py measures the same through the API with
the in-process worker.

Nothing is asserted; the targets are printed beside the figures (≥ 300 deliveries/s and
≥ 0.6 of the floor with one worker; two workers ≥ 1.4 × one on slow receivers; overlaps 0;
p99 < 500 ms). The bench rows are deleted afterwards (on SQLite the whole file).

    .venv/bin/python bench/webhook_delivery.py [--organizations 10] [--events-per-org 100]
        [--fanout-events 200] [--endpoints 10] [--delay-ms 100] [--latency-events 150]
        [--latency-gap-ms 20] [--workers 1,2]
    TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_pg \\
        .venv/bin/python bench/webhook_delivery.py
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from sqlmodel import Session, col  # noqa: E402

import app.models  # noqa: E402,F401
from app.db import make_engine  # noqa: E402
from app.events.models import Event  # noqa: E402
from app.events.service import envelope_bytes, event_envelope, record_event  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from app.organizations.service import create_organization  # noqa: E402
from app.participants.service import enroll  # noqa: E402
from app.webhooks.models import WebhookDelivery, WebhookEndpoint  # noqa: E402
from app.webhooks.signing import new_secret, webhook_headers  # noqa: E402
from bench.database import database_url, delete_organization_rows  # noqa: E402
from bench.webhook_receiver import ReceiverProcess, overlapping  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TARGET_PER_SECOND = 300
TARGET_RATIO = 0.6
TARGET_SCALING = 1.4
TARGET_P99_MS = 500
ENROLLMENTS_PER_ORGANIZATION = 20  # events take turns over these (each keeps its own chain)


@dataclass
class Organization:
    id: int
    enrollments: list[tuple[str, str]]  # (enrollment id, external_ref)
    endpoints: list[WebhookEndpoint] = field(default_factory=list)


@dataclass
class Scenario:
    """One shape × receiver kind: its organizations, endpoints and the receivers behind them."""

    shape: str  # "per-org" or "fanout"
    kind: str  # "instant" or "slow"
    organizations: list[Organization]
    events_per_organization: int
    receivers: list[ReceiverProcess]
    floor: float = 0.0  # posts/s of the plain loop, measured beside the first worker run

    @property
    def expected(self) -> int:
        return sum(self.events_per_organization * len(o.endpoints) for o in self.organizations)

    @property
    def endpoint_ids(self) -> list[str]:
        return [e.id for o in self.organizations for e in o.endpoints]


@dataclass
class Outcome:
    rate: float
    seconds: float
    overlaps: int
    repeats: int


# --- setting up --------------------------------------------------------------------------


def add_organization(
    session: Session, name: str, urls: list[str], participants: int
) -> Organization:
    organization, _key = create_organization(
        session, name=name, slug=f"bench-{secrets.token_hex(4)}"
    )
    endpoints = [
        WebhookEndpoint(organization_id=organization.id or 0, url=url, secret=new_secret())
        for url in urls
    ]
    session.add_all(endpoints)
    enrollments = [
        enroll(session, organization=organization, external_ref=f"B-{i}", preferred_language=None)[
            0
        ]
        for i in range(participants)
    ]
    return Organization(
        id=organization.id or 0,
        enrollments=[(e.id, e.external_ref) for e in enrollments],
        endpoints=endpoints,
    )


def set_up(
    engine: Engine, receivers: list[ReceiverProcess], args: argparse.Namespace
) -> tuple[list[Scenario], Organization]:
    scenarios = []
    with Session(engine, expire_on_commit=False) as session:
        for kind, prefix in (("instant", ""), ("slow", f"/delay/{args.delay_ms:g}")):
            per_org = [
                add_organization(
                    session,
                    f"Bench per-org {kind} {n}",
                    [receiver.url(f"{prefix}/hook")],
                    ENROLLMENTS_PER_ORGANIZATION,
                )
                for n, receiver in enumerate(receivers)
            ]
            scenarios.append(Scenario("per-org", kind, per_org, args.events_per_org, receivers))
            fanout = add_organization(
                session,
                f"Bench fanout {kind}",
                [receivers[0].url(f"{prefix}/e{n}") for n in range(args.endpoints)],
                ENROLLMENTS_PER_ORGANIZATION,
            )
            scenarios.append(Scenario("fanout", kind, [fanout], args.fanout_events, receivers[:1]))
        latency = add_organization(session, "Bench latency", [receivers[0].url("/latency")], 1)
        session.commit()
    return scenarios, latency


def record(session: Session, organization: Organization, n: int, *, ref_prefix: str = "") -> Event:
    enrollment_id, ref = organization.enrollments[n % len(organization.enrollments)]
    return record_event(
        session,
        enrollment_id=enrollment_id,
        organization_id=organization.id,
        type="consent.withdrawn",
        data={
            "participant": {"external_ref": f"{ref_prefix}{ref}"},
            "consent": {"purpose": "housing", "state": "withdrawn"},
        },
    )


# --- the workers -------------------------------------------------------------------------


class Workers:
    """`python -m app worker` processes, started and stopped together."""

    def __init__(self, url: str, count: int, log_dir: Path) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "PORTAL_ENV": "development",
            "PYTHONPATH": str(ROOT),
        }
        self.logs = [log_dir / f"worker-{count}-{n}.log" for n in range(count)]
        self.processes = [
            subprocess.Popen(
                [sys.executable, "-m", "app", "worker"],
                cwd=ROOT,
                env=env,
                stdout=log.open("wb"),
                stderr=subprocess.STDOUT,
            )
            for log in self.logs
        ]
        deadline = time.monotonic() + 30
        while not all("worker started" in log.read_text() for log in self.logs):
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.processes):
                self.stop()
                raise RuntimeError(f"the workers did not start; see {log_dir}")
            time.sleep(0.05)
        time.sleep(1.0)  # past their first round (consent expiry, a checkpoint, an empty claim)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            process.wait(timeout=30)


def delivered(engine: Engine, scenario: Scenario, first_id: int) -> int:
    with Session(engine) as session:
        return (
            session.scalar(
                select(func.count()).where(
                    col(WebhookDelivery.id) >= first_id,
                    col(WebhookDelivery.endpoint_id).in_(scenario.endpoint_ids),
                    col(WebhookDelivery.status) == "delivered",
                )
            )
            or 0
        )


def run_burst(engine: Engine, scenario: Scenario) -> Outcome:
    """Record the scenario's burst in one transaction; time it until the receivers have
    answered every delivery; wait until the workers have recorded them all too."""
    for receiver in scenario.receivers:
        receiver.reset()
    with Session(engine, expire_on_commit=False) as session:
        first_id = (session.scalar(select(func.max(WebhookDelivery.id))) or 0) + 1
        for organization in scenario.organizations:  # one organization after another
            for n in range(scenario.events_per_organization):
                record(session, organization, n)
        session.commit()
        committed = time.time()
    expected = scenario.expected
    deadline = time.monotonic() + 300
    while sum(r.stats()["deliveries"] for r in scenario.receivers) < expected:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{scenario.shape} {scenario.kind}: not all {expected} arrived")
        # Seldom: the receivers' own clocks time the run, and polling ten of them often would
        # take CPU from the worker on a small machine.
        time.sleep(0.2)
    visits: dict[str, list[list[float]]] = {}
    for receiver in scenario.receivers:
        for key, spans in receiver.stats(full=True)["visits"].items():
            visits[f"{receiver.port} {key}"] = spans
    last = max(span[1] for spans in visits.values() for span in spans)
    while delivered(engine, scenario, first_id) < expected:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{scenario.shape} {scenario.kind}: not all were recorded")
        time.sleep(0.1)
    return Outcome(
        rate=expected / (last - committed),
        seconds=last - committed,
        overlaps=overlapping(visits),
        repeats=sum(len(spans) - 1 for spans in visits.values()),
    )


# --- the floor ---------------------------------------------------------------------------


def floor_posts(engine: Engine, scenario: Scenario) -> list[tuple[WebhookEndpoint, Event]]:
    """What the worker sent, in the order it was recorded: every event to every endpoint."""
    posts = []
    with Session(engine) as session:
        for organization in scenario.organizations:
            events = session.scalars(
                select(Event)
                .where(col(Event.organization_id) == organization.id)
                .order_by(col(Event.created_at).desc())
                .limit(scenario.events_per_organization)
            ).all()
            posts += [(endpoint, event) for event in events for endpoint in organization.endpoints]
    return posts


def signed(endpoint: WebhookEndpoint, event: Event) -> tuple[bytes, dict[str, str]]:
    body = envelope_bytes(event_envelope(event))
    headers = webhook_headers(
        [endpoint.secret], msg_id=event.id, timestamp=int(time.time()), body=body
    )
    return body, headers


def sequential_loop(posts: list[tuple[WebhookEndpoint, Event]]) -> float:
    with httpx.Client(trust_env=False, timeout=15) as client:
        started = time.monotonic()
        for endpoint, event in posts:
            body, headers = signed(endpoint, event)
            response = client.post(endpoint.url, content=body, headers=headers)
            assert response.status_code == 204, response.status_code
        return len(posts) / (time.monotonic() - started)


async def concurrent_loop(posts: list[tuple[WebhookEndpoint, Event]], per_endpoint: int) -> float:
    """At most `per_endpoint` posts in flight to each endpoint, one pool per endpoint (as the
    worker has), every endpoint at once."""
    queues: dict[str, list[tuple[WebhookEndpoint, Event]]] = defaultdict(list)
    for endpoint, event in posts:
        queues[endpoint.id].append((endpoint, event))
    limits = httpx.Limits(max_connections=per_endpoint, max_keepalive_connections=per_endpoint)
    clients = {
        endpoint_id: httpx.AsyncClient(trust_env=False, timeout=15, limits=limits)
        for endpoint_id in queues
    }

    async def sender(client: httpx.AsyncClient, queue: list[tuple[WebhookEndpoint, Event]]) -> None:
        while queue:
            endpoint, event = queue.pop()
            body, headers = signed(endpoint, event)
            response = await client.post(endpoint.url, content=body, headers=headers)
            assert response.status_code == 204, response.status_code

    started = time.monotonic()
    await asyncio.gather(
        *(
            sender(clients[endpoint_id], queue)
            for endpoint_id, queue in queues.items()
            for _ in range(per_endpoint)
        )
    )
    elapsed = time.monotonic() - started
    for client in clients.values():
        await client.aclose()
    return len(posts) / elapsed


def measure_floor(engine: Engine, scenario: Scenario, per_endpoint: int) -> float:
    posts = floor_posts(engine, scenario)
    if scenario.kind == "instant":
        rate = sequential_loop(posts)
    else:
        rate = asyncio.run(concurrent_loop(posts, per_endpoint))
    for receiver in scenario.receivers:
        receiver.reset()
    return rate


# --- latency -----------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure_latency(
    engine: Engine, organization: Organization, receiver: ReceiverProcess, count: int, gap: float
) -> list[float]:
    """Events one at a time, a commit each, `gap` seconds apart, while the workers wait."""
    receiver.reset()
    created: dict[str, float] = {}
    with Session(engine, expire_on_commit=False) as session:
        for n in range(count):
            event = record(session, organization, n)
            session.commit()
            created[event.id] = event.created_at.timestamp()
            time.sleep(gap)
    deadline = time.monotonic() + 60
    while receiver.stats()["deliveries"] < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {receiver.stats()['deliveries']} of {count} arrived")
        time.sleep(0.2)
    arrivals = receiver.stats(full=True)["arrivals"]
    return [(arrivals[event_id] - at) * 1000 for event_id, at in created.items()]


# --- the run -----------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--organizations", type=int, default=10, help="per-org shape")
    parser.add_argument("--events-per-org", type=int, default=100, help="per-org shape")
    parser.add_argument("--fanout-events", type=int, default=200, help="fanout shape")
    parser.add_argument("--endpoints", type=int, default=10, help="fanout shape")
    parser.add_argument("--delay-ms", type=float, default=100.0, help="the slow receivers")
    parser.add_argument("--latency-events", type=int, default=150)
    parser.add_argument("--latency-gap-ms", type=float, default=20.0)
    parser.add_argument("--workers", default="1,2", help="worker counts (2+ on PostgreSQL only)")
    args = parser.parse_args()

    url, temporary = database_url()
    upgrade(url)
    engine = make_engine(url)
    postgresql = engine.dialect.name == "postgresql"
    worker_counts = [int(n) for n in args.workers.split(",") if postgresql or int(n) == 1]
    per_endpoint = int(os.environ.get("PORTAL_WEBHOOK_PER_ENDPOINT", "4"))
    log_dir = Path(tempfile.mkdtemp(prefix="webhook-delivery-logs-"))
    receivers = [ReceiverProcess() for _ in range(args.organizations)]
    scenarios: list[Scenario] = []
    latency_org: Organization | None = None
    rows: list[tuple[Scenario, int, Outcome]] = []
    latencies: dict[int, list[float]] = {}
    print(
        f"webhook delivery on {engine.dialect.name}: per-org {args.organizations} "
        f"organizations × {args.events_per_org} events; fanout {args.fanout_events} events × "
        f"{args.endpoints} endpoints; slow receivers answer after {args.delay_ms:g} ms; "
        f"PORTAL_WEBHOOK_PER_ENDPOINT={per_endpoint}; load average {os.getloadavg()[0]:.2f}, "
        f"{os.cpu_count()} CPUs",
        flush=True,
    )
    try:
        scenarios, latency_org = set_up(engine, receivers, args)
        for count in worker_counts:
            workers = Workers(url, count, log_dir)
            try:
                for scenario in scenarios:
                    outcome = run_burst(engine, scenario)
                    rows.append((scenario, count, outcome))
                    if not scenario.floor:  # beside the first worker run, workers idle
                        scenario.floor = measure_floor(engine, scenario, per_endpoint)
                    print(
                        f"  {scenario.shape} {scenario.kind}, {count} worker(s): "
                        f"{outcome.rate:.0f}/s, floor {scenario.floor:.0f}/s",
                        flush=True,
                    )
                latencies[count] = measure_latency(
                    engine,
                    latency_org,
                    receivers[0],
                    args.latency_events,
                    args.latency_gap_ms / 1000,
                )
            finally:
                workers.stop()
        print_table(rows, latencies, engine.dialect.name)
        shutil.rmtree(log_dir)  # kept only when a run fails, for its worker logs
    finally:
        for organization in [o for s in scenarios for o in s.organizations] + (
            [latency_org] if latency_org else []
        ):
            delete_organization_rows(engine, organization.id)
        engine.dispose()
        for receiver in receivers:
            receiver.stop()
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)


def print_table(
    rows: list[tuple[Scenario, int, Outcome]], latencies: dict[int, list[float]], database: str
) -> None:
    print()
    print(
        f"{'shape':<8} {'receiver':<8} {'workers':>7} {'deliveries':>10} {'seconds':>8} "
        f"{'per s':>7} {'floor/s':>8} {'ratio':>6} {'repeats':>7} {'overlaps':>8}"
    )
    for scenario, count, outcome in rows:
        print(
            f"{scenario.shape:<8} {scenario.kind:<8} {count:>7} {scenario.expected:>10} "
            f"{outcome.seconds:>8.2f} {outcome.rate:>7.0f} {scenario.floor:>8.0f} "
            f"{outcome.rate / scenario.floor:>6.2f} {outcome.repeats:>7} {outcome.overlaps:>8}"
        )
    print()
    by_key = {(s.shape, s.kind, count): o for s, count, o in rows}
    for shape in ("per-org", "fanout"):
        two, one = by_key.get((shape, "slow", 2)), by_key.get((shape, "slow", 1))
        if two and one:
            scaling = two.rate / one.rate
            print(
                f"  {shape}, slow receivers: two workers / one = {scaling:.2f} "
                f"(target ≥ {TARGET_SCALING})"
            )
    for count, values in latencies.items():
        p99 = percentile(values, 0.99)
        print(
            f"  withdrawal to arrival, {count} worker(s) idle-waiting, {len(values)} events: "
            f"p50 {percentile(values, 0.5):.0f} ms, p99 {p99:.0f} ms, max {max(values):.0f} ms, "
            f"mean {statistics.fmean(values):.0f} ms (target p99 < {TARGET_P99_MS} ms: "
            f"{'met' if p99 < TARGET_P99_MS else 'NOT met'})"
        )
    print(
        f"  targets with one worker ({database}): ≥ {TARGET_PER_SECOND} deliveries/s and "
        f"≥ {TARGET_RATIO} of the floor in both shapes; overlaps 0"
    )


if __name__ == "__main__":
    main()
