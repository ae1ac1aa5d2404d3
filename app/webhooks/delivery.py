"""The delivery loop: claims what is due, keeps requests in flight, records the outcomes.

The loop sleeps until a commit queues deliveries (an in-process hook, and PostgreSQL's
LISTEN/NOTIFY across processes) or a short poll comes round. Claims and records run in
threads (app/webhooks/claims.py), requests on the event loop (app/webhooks/attempts.py), so
neither waits for the other. Time comes from `clock`, so tests walk the retry schedule
without sleeping.

While the database is unreachable (a restart, a failover) every step fails: the loop logs it
once, backs off (up to MAX_BACKOFF_SECONDS), and carries on by itself when the database is
back. Outcomes it could not record meanwhile are kept and written then, so what was delivered
is not sent again; leases cover everything else (tests/faults/test_db_restart.py).

Its own file because this is delivery's only moving part; it knows nothing of other domains'
periodic work (consent expiry, ledger checkpoints, staff digests run in app/jobs.py), and it
is started by app/worker.py, the process runner above it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import Counter
from collections.abc import Mapping

from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from app.config import Settings
from app.db import database_unavailable, utcnow
from app.webhooks import LOG_NAME, outbox
from app.webhooks.attempts import Clock, attempt_delivery
from app.webhooks.claims import AttemptOutcome, Claim, claim_due, record_outcomes, release_leases
from app.webhooks.connections import EndpointConnections

log = logging.getLogger(LOG_NAME)

STOP_GRACE_SECONDS = 5.0  # on shutdown, how long in-flight requests may finish
# While requests are in flight, a freed slot waits this long for others before the next claim
# (and a finished request for others before they are recorded): one claim and one record per
# handful of deliveries, not one each. New work with nothing in flight is claimed at once.
GATHER_SECONDS = 0.004
MAX_BACKOFF_SECONDS = 5.0  # the longest wait between tries while the database is unreachable


class Backoff:
    """Database steps while the database is unreachable (a restart, a failover): the wait
    between tries doubles from `first` up to MAX_BACKOFF_SECONDS, the outage is logged once
    when it starts and once when it ends, not at every try. Anything else that fails is a bug
    and logged with its traceback every time."""

    def __init__(self, what: str, first: float) -> None:
        self.what = what
        self.first = first
        self.failures = 0
        self._since = 0.0

    def failed(self, exc: BaseException) -> float:
        """Log as needed; returns how long to wait before the next try."""
        self.failures += 1
        if not database_unavailable(exc):
            log.error("webhook worker: %s failed; retrying", self.what, exc_info=exc)
        elif self.failures == 1:
            self._since = time.monotonic()
            first_line = (str(exc).strip().splitlines() or [""])[0][:200]
            log.warning(
                "webhook worker: %s: the database is unavailable (%s: %s); retrying",
                self.what,
                type(exc).__name__,
                first_line,
            )
        return min(self.first * 2 ** min(self.failures - 1, 16), MAX_BACKOFF_SECONDS)

    def succeeded(self) -> None:
        if self.failures:
            log.info(
                "webhook worker: %s works again after %.1f s (%d tries failed)",
                self.what,
                time.monotonic() - self._since,
                self.failures,
            )
            self.failures = 0


class DeliveryWorker:
    """Delivers the outbox with up to `concurrency` requests in flight."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        clock: Clock = utcnow,
        rng: random.Random | None = None,
        concurrency: int | None = None,
        per_endpoint: int | None = None,
        timeout: float | None = None,
        lease_seconds: float | None = None,
        poll_seconds: float | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self.concurrency = concurrency or settings.webhook_concurrency
        self.per_endpoint = per_endpoint or settings.webhook_per_endpoint
        self.timeout = timeout if timeout is not None else settings.webhook_timeout_seconds
        self.lease_seconds = (
            lease_seconds if lease_seconds is not None else settings.webhook_lease_seconds
        )
        if self.lease_seconds <= self.timeout:
            raise ValueError("the lease must outlast the request timeout")
        self.poll_seconds = poll_seconds or settings.webhook_poll_seconds
        self.postgresql = engine.dialect.name == "postgresql"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._stopping = False
        self._to_record: asyncio.Event | None = None
        self._drained = False
        self._in_flight: dict[asyncio.Task[AttemptOutcome], Claim] = {}
        self._finished: list[AttemptOutcome] = []
        self._abandoned: list[Claim] = []
        self._claim_backoff = Backoff("claiming deliveries", self.poll_seconds)
        self._record_backoff = Backoff("recording outcomes", self.poll_seconds)

    # Database work runs in a thread so that requests in flight keep moving meanwhile.
    def _claim(self, limit: int, busy: Mapping[str, int] | None = None) -> list[Claim]:
        with Session(self.engine, expire_on_commit=False) as session:
            return claim_due(
                session,
                now=self.clock(),
                lease_seconds=self.lease_seconds,
                limit=limit,
                per_endpoint=self.per_endpoint,
                busy=busy,
            )

    def _busy(self) -> dict[str, int]:
        """Requests this worker has in flight, per endpoint."""
        return dict(Counter(claim.endpoint_id for claim in self._in_flight.values()))

    def _record(self, outcomes: list[AttemptOutcome]) -> None:
        with Session(self.engine, expire_on_commit=False) as session:
            record_outcomes(session, outcomes, rng=self.rng)

    def _release(self, claims: list[Claim]) -> None:
        with Session(self.engine, expire_on_commit=False) as session:
            release_leases(session, claims)

    def _clients(self) -> EndpointConnections:
        return EndpointConnections(max_connections=self.per_endpoint)

    async def _attempt(self, clients: EndpointConnections, claim: Claim) -> AttemptOutcome:
        return await attempt_delivery(
            clients,
            claim,
            clock=self.clock,
            timeout=self.timeout,
            production=self.settings.production,
        )

    async def run_once(self, *, limit: int | None = None) -> int:
        """Claim what is due now, deliver it, record the outcomes; returns how many were
        attempted. For tests and benchmarks: the real path, one batch at a time."""
        claims = await asyncio.to_thread(self._claim, limit or self.concurrency)
        if not claims:
            return 0
        async with self._clients() as clients:
            outcomes = await asyncio.gather(*(self._attempt(clients, c) for c in claims))
        await asyncio.to_thread(self._record, list(outcomes))
        return len(claims)

    def run_once_sync(self, *, limit: int | None = None) -> int:
        return asyncio.run(self.run_once(limit=limit))

    # --- running until stopped -----------------------------------------------------------

    def request_stop(self) -> None:
        """Stop claiming, let requests in flight finish (briefly), record, return from run()."""
        self._stopping = True
        if self._wake is not None:
            self._wake.set()

    def request_stop_threadsafe(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                self._loop.call_soon_threadsafe(self.request_stop)

    def _wake_threadsafe(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(wake.set)

    def _on_done(self, task: asyncio.Task[AttemptOutcome]) -> None:
        claim = self._in_flight.pop(task)
        if task.cancelled():
            self._abandoned.append(claim)
        elif task.exception() is not None:
            log.error(
                "delivery %s failed unexpectedly", claim.delivery_id, exc_info=task.exception()
            )
            self._abandoned.append(claim)
        else:
            self._finished.append(task.result())
        assert self._wake is not None and self._to_record is not None
        self._wake.set()  # a slot is free
        self._to_record.set()

    async def _flush_finished(self) -> None:
        outcomes: list[AttemptOutcome] = []
        try:
            if self._finished:
                outcomes, self._finished = self._finished, []
                await asyncio.to_thread(self._record, outcomes)
                outcomes = []
            if self._abandoned:
                claims, self._abandoned = self._abandoned, []
                await asyncio.to_thread(self._release, claims)
            self._record_backoff.succeeded()
        except Exception as exc:
            delay = self._record_backoff.failed(exc)
            if outcomes and database_unavailable(exc) and not self._drained:
                # Kept and written once the database is back, so that what was delivered is
                # not sent again. (Recording only applies while the lease is still this
                # worker's; if it ran out meanwhile, the row was, or will be, sent again.)
                self._finished[:0] = outcomes
                assert self._to_record is not None
                self._to_record.set()
            # Otherwise not lost either: the leases run out and the deliveries are sent again.
            await asyncio.sleep(delay)

    async def _record_continuously(self) -> None:
        """Outcomes are written while the claims and the requests go on, so that neither
        waits for the other's transaction."""
        assert self._to_record is not None
        while True:
            await self._to_record.wait()
            if not self._drained:
                await asyncio.sleep(GATHER_SECONDS)
            self._to_record.clear()
            await self._flush_finished()
            if self._drained:
                return

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._to_record = asyncio.Event()
        self._drained = False
        unsubscribe = outbox.subscribe(self._wake_threadsafe)
        listener = asyncio.create_task(self._listen()) if self.postgresql else None
        recorder = asyncio.create_task(self._record_continuously())
        # With NOTIFY waking us, polling is only a safety net (and catches retries coming due).
        poll = max(self.poll_seconds, 1.0) if self.postgresql else self.poll_seconds
        try:
            async with self._clients() as clients:
                while not self._stopping:
                    if self._in_flight:
                        await asyncio.sleep(GATHER_SECONDS)
                    self._wake.clear()
                    try:
                        free = self.concurrency - len(self._in_flight)
                        if free > 0:
                            claimed = await asyncio.to_thread(self._claim, free, self._busy())
                            for claim in claimed:
                                task = asyncio.create_task(self._attempt(clients, claim))
                                self._in_flight[task] = claim
                                task.add_done_callback(self._on_done)
                    except Exception as exc:
                        # The database may be restarting: leases keep everything safe. Back
                        # off, and try again sooner when woken (a commit, NOTIFY, a stop).
                        delay = self._claim_backoff.failed(exc)
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._wake.wait(), timeout=delay)
                        continue
                    self._claim_backoff.succeeded()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), timeout=poll)
                await self._drain()
        finally:
            self._drained = True
            self._to_record.set()
            await recorder
            unsubscribe()
            if listener is not None:
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listener

    async def _drain(self) -> None:
        """On stop: give requests in flight a moment to finish, hand back the rest."""
        if self._in_flight:
            _, pending = await asyncio.wait(
                list(self._in_flight), timeout=min(STOP_GRACE_SECONDS, self.timeout)
            )
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)

    async def _listen(self) -> None:
        """PostgreSQL LISTEN: wake as soon as another process commits new deliveries."""
        import psycopg

        conninfo = make_url(self.engine.url).set(drivername="postgresql")
        dsn = conninfo.render_as_string(hide_password=False)
        backoff = Backoff("LISTEN (polling meanwhile)", self.poll_seconds * 4)
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    dsn, autocommit=True, connect_timeout=5
                ) as conn:
                    await conn.execute(f"LISTEN {outbox.NOTIFY_CHANNEL}")
                    backoff.succeeded()
                    assert self._wake is not None
                    self._wake.set()  # what was committed while not listening
                    async for _ in conn.notifies():
                        self._wake.set()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                await asyncio.sleep(backoff.failed(exc))
