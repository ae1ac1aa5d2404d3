"""The background worker process: webhook delivery and the periodic jobs, on one event loop.

`consent-portal worker` runs it alone (`run_worker_forever`, stopped by SIGTERM or SIGINT);
`consent-portal serve` runs the same inside the web server's process, on a thread of its own
(`start_in_process_worker`). Either way it is the delivery loop (app/webhooks/delivery.py)
and the jobs (app/jobs.py: consent expiry, ledger checkpoints, staff digests).

Its own top-level module because it is the one place that starts both: webhooks stays below
the domains and knows nothing of the jobs, and the jobs know nothing of delivery.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from typing import Any

from sqlalchemy.engine import Engine

import app.models  # noqa: F401 - every table, and the outbox listeners
from app import i18n
from app.config import Settings
from app.db import make_engine
from app.jobs import JobRunner
from app.webhooks import LOG_NAME
from app.webhooks.delivery import DeliveryWorker

# The lines "webhook worker started/stopped" keep the log name they always had (scripts
# and bench/ wait for them).
log = logging.getLogger(LOG_NAME)


class Worker:
    """Delivery and jobs together: run() returns once both have stopped."""

    def __init__(self, delivery: DeliveryWorker, jobs: JobRunner) -> None:
        self.delivery = delivery
        self.jobs = jobs
        self._loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def for_settings(cls, engine: Engine, settings: Settings) -> Worker:
        return cls(DeliveryWorker(engine, settings), JobRunner(engine, settings))

    @property
    def timeout(self) -> float:
        return self.delivery.timeout

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        jobs = asyncio.create_task(self.jobs.run())
        try:
            await self.delivery.run()
        finally:
            self.jobs.request_stop()
            await jobs

    def request_stop(self) -> None:
        """Stop claiming and stop the jobs; what is in flight finishes (briefly)."""
        self.delivery.request_stop()
        self.jobs.request_stop()

    def request_stop_threadsafe(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                self._loop.call_soon_threadsafe(self.request_stop)


class InProcessWorker:
    """The worker on its own thread and event loop inside the web server's process, so its
    database calls never stall the server's loop."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self._thread = threading.Thread(target=self._run, name="webhook-worker", daemon=True)
        self._started = threading.Event()

    def _run(self) -> None:
        async def main() -> None:
            task = asyncio.create_task(self.worker.run())
            await asyncio.sleep(0)  # let run() set up its loop and wake-up hooks
            self._started.set()
            await task

        try:
            asyncio.run(main())
        except Exception:
            log.exception("the in-process webhook worker stopped with an error")
        finally:
            self._started.set()

    async def start(self) -> None:
        self._thread.start()
        await asyncio.to_thread(self._started.wait, 10)

    async def stop(self) -> None:
        self.worker.request_stop_threadsafe()
        await asyncio.to_thread(self._thread.join, self.worker.timeout + 10)


async def start_in_process_worker(app: Any) -> InProcessWorker:
    worker = Worker.for_settings(app.state.engine, app.state.settings)
    handle = InProcessWorker(worker)
    await handle.start()
    return handle


def run_worker_forever(settings: Settings) -> None:
    """`consent-portal worker`: deliver and run the jobs until SIGTERM or SIGINT, then stop
    cleanly."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    i18n.set_time_zone(settings.time_zone)  # the staff digests' dates
    engine = make_engine(settings.database_url)
    worker = Worker.for_settings(engine, settings)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, worker.request_stop)
        log.info("webhook worker started (%s)", engine.dialect.name)
        await worker.run()
        log.info("webhook worker stopped")

    try:
        asyncio.run(main())
    finally:
        engine.dispose()
