"""Periodic jobs: the domains' work that runs on a timer beside webhook delivery.

Each job is a (name, interval, function) entry of JOBS; the function takes the engine, the
settings and the time, runs in a thread of its own (they block: SQL, SMTP) and opens its own
transaction. Every job runs at start, then every `every_seconds`, on a task of its own, so a
slow one (a mail server that never answers) holds up neither the others nor delivery.

Layering: this module sits above the domains it calls (consent, events, staff) and beside
webhook delivery, which knows nothing of it; app/worker.py, the process runner, starts both.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.config import Settings
from app.consent.expiry import expire_consents
from app.db import database_unavailable, utcnow
from app.events.checkpoints import make_checkpoint_if_due
from app.staff.digest import send_due_digests

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

STOP_GRACE_SECONDS = 5.0  # on shutdown, how long a job still running may finish


@dataclass(frozen=True)
class Job:
    name: str
    every_seconds: float
    run: Callable[[Engine, Settings, datetime], object]


def checkpoint_ledger(engine: Engine, settings: Settings, now: datetime) -> bool:
    """Sign a ledger checkpoint when PORTAL_LEDGER_CHECKPOINT_MINUTES have passed."""
    with Session(engine, expire_on_commit=False) as session:
        made = make_checkpoint_if_due(session, now, settings=settings)
        session.commit()
        return made is not None


def send_staff_digests(engine: Engine, settings: Settings, now: datetime) -> int:
    """Email the staff digests that are due (none without PORTAL_SMTP_URL); returns how many
    went out. Never raises: a mail server that is down (or a bug here) is logged and tried
    again next time, as nothing was marked sent."""
    try:
        return send_due_digests(engine, settings, now=now)
    except Exception as exc:
        if isinstance(exc, OSError) or type(exc).__module__ == "smtplib":
            log.warning("staff digests not sent, trying again later: %s", exc)
        else:
            log.exception("staff digests failed, trying again later")
        return 0


JOBS: tuple[Job, ...] = (
    Job("consent expiry", 60.0, expire_consents),
    Job("ledger checkpoints", 60.0, checkpoint_ledger),  # how often to look whether one is due
    Job("staff digests", 300.0, send_staff_digests),  # and to retry those that failed
)


class JobRunner:
    """Runs `jobs` until stopped, each on its own timer."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        jobs: Sequence[Job] = JOBS,
        *,
        clock: Clock = utcnow,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.jobs = tuple(jobs)
        self.clock = clock
        self._stop = asyncio.Event()  # bound to a loop only once awaited (Python 3.10+)

    def request_stop(self) -> None:
        self._stop.set()

    def run_once(self, job: Job) -> None:
        """One run of `job`. A failure is logged and the job tried again at its next turn
        (the database being unreachable is an outage, not a bug: no traceback for it)."""
        try:
            job.run(self.engine, self.settings, self.clock())
        except Exception as exc:
            if database_unavailable(exc):
                log.warning("%s: the database is unavailable, trying again later", job.name)
            else:
                log.exception("%s failed, trying again later", job.name)

    async def _every(self, job: Job) -> None:
        loop = asyncio.get_running_loop()
        while not self._stop.is_set():
            next_run = loop.time() + job.every_seconds
            await asyncio.to_thread(self.run_once, job)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=next_run - loop.time())

    async def run(self) -> None:
        tasks = [asyncio.create_task(self._every(job), name=job.name) for job in self.jobs]
        try:
            await self._stop.wait()
        finally:
            self._stop.set()
            if tasks:
                # A job's thread cannot be cancelled (a mail server's timeout ends it); it
                # gets a moment to finish, then the process goes on stopping.
                _, pending = await asyncio.wait(tasks, timeout=STOP_GRACE_SECONDS)
                for task in pending:
                    task.cancel()
