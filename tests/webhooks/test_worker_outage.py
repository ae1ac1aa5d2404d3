"""The worker while the database is unreachable: its loop keeps going (logging the outage
once, backing off), and an outcome it could not record is written later rather than dropped,
so a delivered event is not sent again. (tests/faults/test_db_restart.py does the same with a
real PostgreSQL restart.)"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy.exc import OperationalError

from app.webhooks.delivery import DeliveryWorker
from tests.factories import add_endpoint, attempts, consent, enroll_with_purpose, only_delivery


def _lost_connection() -> OperationalError:
    return OperationalError(
        "SELECT 1", {}, psycopg.OperationalError("server closed the connection unexpectedly")
    )


class Running:
    """worker.run() on a thread of its own, as `consent-portal worker` runs it."""

    def __init__(self, worker: DeliveryWorker) -> None:
        self.worker = worker
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            asyncio.run(self.worker.run())
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            self.error = exc

    def __enter__(self) -> Running:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.worker.request_stop_threadsafe()
        self._thread.join(timeout=20)
        assert not self._thread.is_alive(), "the worker did not stop"
        assert self.error is None, self.error


def _fail_first(calls: int, real: Any, error: Any) -> Any:
    count = {"n": 0}

    def wrapped(*args: Any) -> Any:
        count["n"] += 1
        if count["n"] <= calls:
            raise error()
        return real(*args)

    wrapped.count = count  # type: ignore[attr-defined]
    return wrapped


def _wait(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("timed out")


@pytest.fixture
def delivering(org: Any, receiver: Any) -> Iterator[None]:
    add_endpoint(org, receiver.url("/hook"))
    enroll_with_purpose(org)
    yield


def test_the_loop_survives_an_outage_logs_it_once_and_carries_on(
    delivering, org, receiver, make_worker, engine, caplog
):
    worker = make_worker(poll_seconds=0.02)
    worker._claim = _fail_first(4, worker._claim, _lost_connection)  # type: ignore[method-assign]
    caplog.set_level(logging.INFO, logger="app.webhooks.worker")
    consent(org, state="given")
    with Running(worker):
        _wait(lambda: only_delivery(engine).status == "delivered")
    assert worker._claim.count["n"] > 4  # type: ignore[attr-defined]
    assert len(receiver.received) == 1
    messages = [r.getMessage() for r in caplog.records if r.name == "app.webhooks.worker"]
    down = [m for m in messages if "the database is unavailable" in m]
    back = [m for m in messages if "works again" in m]
    assert len(down) == 1 and "server closed the connection unexpectedly" in down[0]
    assert len(back) == 1 and "4 tries failed" in back[0]
    # An outage is not a bug: no traceback for it.
    assert not any(r.exc_info for r in caplog.records if r.name == "app.webhooks.worker")


def test_a_bug_in_a_step_is_logged_with_its_traceback_and_the_loop_goes_on(
    delivering, org, receiver, make_worker, engine, caplog
):
    worker = make_worker(poll_seconds=0.02)
    worker._claim = _fail_first(2, worker._claim, lambda: KeyError("oops"))  # type: ignore[method-assign]
    consent(org, state="given")
    with Running(worker):
        _wait(lambda: only_delivery(engine).status == "delivered")
    bugs = [r for r in caplog.records if r.name == "app.webhooks.worker" and r.exc_info]
    assert len(bugs) == 2 and "claiming deliveries failed" in bugs[0].getMessage()


def test_an_outcome_that_could_not_be_recorded_is_written_later_not_sent_again(
    delivering, org, receiver, make_worker, engine
):
    # A short lease: were the outcome dropped, the lease would run out and the event would go
    # out a second time within the wait below.
    worker = make_worker(poll_seconds=0.05, timeout=1.0, lease_seconds=1.5)
    worker._record = _fail_first(3, worker._record, _lost_connection)  # type: ignore[method-assign]
    consent(org, state="given")
    with Running(worker):
        _wait(lambda: only_delivery(engine).status == "delivered")
        time.sleep(2.0)  # past the lease: nothing more goes out
    assert worker._record.count["n"] == 4  # type: ignore[attr-defined]
    assert len(receiver.received) == 1
    delivery = only_delivery(engine)
    assert delivery.attempts == 1 and delivery.lease_until is None
    (attempt,) = attempts(engine)
    assert attempt.status_code == 200
