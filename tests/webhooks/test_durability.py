"""Nothing is lost when a worker dies: real `python -m app worker` processes, killed with
SIGKILL in the middle of deliveries, and (on PostgreSQL) two workers side by side."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, func, select
from standardwebhooks import Webhook

from app.config import ROOT
from app.events.service import record_event
from app.organizations.service import create_organization
from app.participants.models import Enrollment
from app.participants.service import enroll
from app.webhooks.models import WebhookDelivery, WebhookEndpoint
from app.webhooks.signing import new_secret
from tests.webhooks.receiver import Receiver, Reply

pytestmark = pytest.mark.slow


class WorkerProcesses:
    """`python -m app worker` subprocesses on the test database."""

    def __init__(self, log_dir: Path, **env: str) -> None:
        self.env = {**os.environ, **env}
        self.log_dir = log_dir
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        log = open(self.log_dir / f"worker-{len(self.processes)}.log", "wb")  # noqa: SIM115
        process = subprocess.Popen(
            [sys.executable, "-m", "app", "worker"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(process)
        return process

    def logs(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.log_dir.glob("worker-*.log")))

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Any]:
    started: list[WorkerProcesses] = []

    def _make(**env: str) -> WorkerProcesses:
        group = WorkerProcesses(tmp_path, **env)
        started.append(group)
        return group

    yield _make
    for group in started:
        group.stop_all()


def _queue_events(db: Session, url: str, count: int) -> tuple[str, list[str]]:
    organization, _ = create_organization(db, name="Northside", slug="northside")
    endpoint = WebhookEndpoint(organization_id=organization.id, url=url, secret=new_secret())
    db.add(endpoint)
    enrollment, _ = enroll(
        db, organization=organization, external_ref="A-1", preferred_language=None
    )
    event_ids = []
    for i in range(count):
        event = record_event(
            db,
            enrollment_id=enrollment.id,
            organization_id=organization.id,
            type="consent.withdrawn",
            data={"organization": "northside", "participant": {"external_ref": "A-1"}, "n": i},
        )
        event_ids.append(event.id)
        if i % 100 == 99:
            db.commit()
    db.commit()
    return endpoint.secret, event_ids


def _count_delivered(engine: Any) -> int:
    with Session(engine) as session:
        return session.exec(
            select(func.count()).where(WebhookDelivery.status == "delivered")  # type: ignore[arg-type]
        ).one()


def _wait_until(condition: Any, timeout: float, what: str, logs: Any) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}\n--- worker logs ---\n{logs()}")


def test_a_worker_killed_mid_delivery_loses_nothing(engine, db, workers):
    receiver = Receiver().start()
    try:
        receiver.always("/hook", Reply(delay=0.03))
        secret, event_ids = _queue_events(db, receiver.url("/hook"), 300)
        group = workers(
            # A timeout generous enough for a loaded CI machine: a delivery that timed out
            # twice would wait 5 minutes for its next retry and the test would time out.
            PORTAL_WEBHOOK_LEASE_SECONDS="4",
            PORTAL_WEBHOOK_TIMEOUT_SECONDS="3",
            PORTAL_WEBHOOK_CONCURRENCY="4",
            PORTAL_WEBHOOK_POLL_SECONDS="0.1",
        )

        worker = group.start()
        killed_mid_request = 0
        for threshold in (40, 110, 180):
            _wait_until(
                lambda t=threshold: len(receiver.received) >= t and receiver.in_flight_total > 0,
                30,
                f"{threshold} deliveries",
                group.logs,
            )
            killed_mid_request += receiver.in_flight_total > 0
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
            worker = group.start()
        assert killed_mid_request >= 2

        _wait_until(lambda: _count_delivered(engine) == 300, 60, "every delivery", group.logs)

        # SIGTERM stops the worker cleanly.
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=20) == 0, group.logs()
    finally:
        receiver.stop()

    received = Counter(r.webhook_id for r in receiver.received if r.path == "/hook")
    assert set(received) == set(event_ids)  # every event arrived, and nothing else did
    # Killed attempts may arrive twice; a receiver deduplicates by webhook-id.
    assert sum(received.values()) >= len(event_ids)
    for request in receiver.received:
        payload = Webhook(secret).verify(request.body, request.headers)
        assert payload["data"]["event_id"] == request.webhook_id


def test_two_workers_never_deliver_the_same_event_at_once(engine, db, workers):
    if engine.dialect.name != "postgresql":
        pytest.skip("several workers at once are supported on PostgreSQL")
    receiver = Receiver().start()
    try:
        receiver.always("/hook", Reply(delay=0.02))
        _, event_ids = _queue_events(db, receiver.url("/hook"), 300)
        group = workers(PORTAL_WEBHOOK_CONCURRENCY="8", PORTAL_WEBHOOK_POLL_SECONDS="0.05")
        first, second = group.start(), group.start()

        _wait_until(lambda: _count_delivered(engine) == 300, 60, "every delivery", group.logs)
        for process in (first, second):
            process.send_signal(signal.SIGTERM)
        assert [first.wait(timeout=20), second.wait(timeout=20)] == [0, 0], group.logs()
    finally:
        receiver.stop()

    assert receiver.overlaps == []
    received = Counter(r.webhook_id for r in receiver.received)
    assert set(received) == set(event_ids)
    # Nobody was killed, so no lease ran out: each event went out exactly once.
    assert set(received.values()) == {1}


def test_a_worker_process_wakes_on_notify(engine, db, workers):
    """Across processes PostgreSQL's NOTIFY wakes the worker: with polling set to 30 s, the
    delivery still arrives at once."""
    if engine.dialect.name != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    receiver = Receiver().start()
    try:
        _queue_events(db, receiver.url("/hook"), 0)
        group = workers(PORTAL_WEBHOOK_POLL_SECONDS="30")
        worker = group.start()
        _wait_until(lambda: "worker started" in group.logs(), 20, "the worker", group.logs)
        time.sleep(1.0)  # past its first round

        organization_id = db.exec(select(WebhookEndpoint.organization_id)).one()
        enrollment_id = db.exec(select(Enrollment.id)).one()
        record_event(
            db,
            enrollment_id=enrollment_id,
            organization_id=organization_id,
            type="consent.withdrawn",
            data={"organization": "northside", "participant": {"external_ref": "A-1"}},
        )
        db.commit()
        # Its next poll is 30 s away: arriving within a third of that is the wake-up's doing.
        receiver.wait_for(1, timeout=10)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=20) == 0
    finally:
        receiver.stop()
