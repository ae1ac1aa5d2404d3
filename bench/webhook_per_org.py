"""Webhook delivery in the shape real traffic has: many participants' events, each to its own
organization's one endpoint, ten organizations, each with a small receiver of its own.

A small nonprofit's receiver is a plain Python server (http.server, threads, the default
listen queue of 5), so each organization here gets one in its own process. The events are
recorded one organization after another (as an import or a busy intake day makes them), in
one transaction; one `python -m app worker` process delivers them. Printed: first to last
delivery in events per second, when the last one arrived, and beside it a plain loop of
signed httpx posts to the same receivers (no database), the floor, with the ratio.

On PostgreSQL when TEST_DATABASE_URL (or DATABASE_URL) names one, else on a fresh SQLite file.

    .venv/bin/python bench/webhook_per_org.py [--organizations 10] [--events 60]
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from sqlmodel import Session  # noqa: E402

import app.models  # noqa: E402,F401
from app.db import make_engine  # noqa: E402
from app.events.models import Event  # noqa: E402
from app.events.service import envelope_bytes, event_envelope, record_event  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from app.organizations.service import create_organization  # noqa: E402
from app.participants.service import enroll  # noqa: E402
from app.webhooks.models import WebhookDelivery, WebhookEndpoint  # noqa: E402
from app.webhooks.signing import new_secret, webhook_headers  # noqa: E402
from bench.webhook_fanout import database_url, delete_organization_rows  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

# A small receiver: Python's own threaded HTTP server, as a nonprofit's volunteer would write.
SMALL_RECEIVER = """
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass

ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_receivers(count: int) -> tuple[list[subprocess.Popen[bytes]], list[str]]:
    processes, urls = [], []
    for _ in range(count):
        port = free_port()
        processes.append(subprocess.Popen([sys.executable, "-c", SMALL_RECEIVER, str(port)]))
        urls.append(f"http://127.0.0.1:{port}/hook")
    for url in urls:
        deadline = time.monotonic() + 10
        while True:
            try:
                httpx.post(url, content=b"{}", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
    return processes, urls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--organizations", type=int, default=10)
    parser.add_argument("--events", type=int, default=60, help="per organization")
    args = parser.parse_args()
    url, folder = database_url()
    upgrade(url)
    engine = make_engine(url)
    receivers, urls = start_receivers(args.organizations)
    organizations: list[tuple[int, list[tuple[str, str]], WebhookEndpoint]] = []
    log_dir = Path(tempfile.mkdtemp(prefix="webhook-per-org-"))
    try:
        with Session(engine, expire_on_commit=False) as session:
            for n, receiver_url in enumerate(urls):
                organization, _ = create_organization(
                    session, name=f"Bench {n}", slug=f"bench-{secrets.token_hex(4)}"
                )
                endpoint = WebhookEndpoint(
                    organization_id=organization.id, url=receiver_url, secret=new_secret()
                )
                session.add(endpoint)
                people = [
                    (e.id, e.external_ref)
                    for e, _code in (
                        enroll(
                            session,
                            organization=organization,
                            external_ref=f"P-{i}",
                            preferred_language=None,
                        )
                        for i in range(args.events)
                    )
                ]
                organizations.append((organization.id or 0, people, endpoint))
            session.commit()

        env = {**os.environ, "DATABASE_URL": url, "PORTAL_ENV": "development"}
        log = log_dir / "worker.log"
        worker = subprocess.Popen(
            [sys.executable, "-m", "app", "worker"],
            cwd=ROOT,
            env=env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while "worker started" not in log.read_text():
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the worker did not start; see {log}")
                time.sleep(0.05)
            time.sleep(1.0)
            with Session(engine, expire_on_commit=False) as session:
                first_id = (session.scalar(select(func.max(WebhookDelivery.id))) or 0) + 1
                for organization_id, people, _endpoint in organizations:
                    for enrollment_id, ref in people:
                        record_event(
                            session,
                            enrollment_id=enrollment_id,
                            organization_id=organization_id,
                            type="consent.withdrawn",
                            data={
                                "participant": {"external_ref": ref},
                                "consent": {"purpose": "housing", "state": "withdrawn"},
                            },
                        )
                session.commit()
                committed = time.monotonic()
            expected = args.organizations * args.events
            marks: dict[int, float] = {}
            deadline = time.monotonic() + 300
            while True:
                with Session(engine) as session:
                    done = session.scalar(
                        select(func.count()).where(
                            WebhookDelivery.id >= first_id,  # type: ignore[operator]
                            WebhookDelivery.status == "delivered",
                        )
                    )
                done = done or 0
                for share in (0.5, 0.9, 0.975, 1.0):
                    if done >= share * expected and share not in marks:
                        marks[share] = time.monotonic() - committed  # type: ignore[index]
                if done >= expected:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"only {done} of {expected} delivered; see {log}")
                time.sleep(0.02)
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
        total = marks[1.0]  # type: ignore[index]
        worker_rate = expected / total

        # The floor: the same signed bodies posted one after another, no database.
        with Session(engine) as session:
            event = session.scalars(
                select(Event).where(Event.organization_id == organizations[0][0]).limit(1)  # type: ignore[arg-type]
            ).one()
            body = envelope_bytes(event_envelope(event))
        with httpx.Client(trust_env=False, timeout=15) as client:
            started = time.monotonic()
            for n in range(expected):
                endpoint = organizations[n % len(organizations)][2]
                headers = webhook_headers(
                    [endpoint.secret], msg_id=event.id, timestamp=int(time.time()), body=body
                )
                assert client.post(endpoint.url, content=body, headers=headers).status_code == 204
            loop_rate = expected / (time.monotonic() - started)

        database = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        print(
            f"{expected} events, {args.events} to each of {args.organizations} organizations' own"
        )
        print(
            f"small receivers (http.server), recorded one organization after another ({database})"
        )
        for share, at in sorted(marks.items()):  # type: ignore[arg-type]
            print(f"  {share:>6.1%} delivered after {at:6.2f} s")
        print(f"one worker, first to last: {worker_rate:7.0f} events/s")
        print(f"plain loop of signed posts: {loop_rate:7.0f} events/s (the floor)")
        print(f"ratio worker / plain loop: {worker_rate / loop_rate:5.2f}")
    finally:
        for organization_id, _people, _endpoint in organizations:
            delete_organization_rows(engine, organization_id)
        engine.dispose()
        for process in receivers:
            process.terminate()
        for process in receivers:
            process.wait(timeout=10)
        shutil.rmtree(log_dir, ignore_errors=True)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
