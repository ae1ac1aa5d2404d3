"""Fixtures for webhook tests: a real receiver on loopback, a clock the test moves by hand,
and a worker built on the real engine."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from app.db import utcnow
from app.webhooks.delivery import DeliveryWorker
from app.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests.conftest import Org, purpose_body
from tests.webhooks.receiver import Receiver


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: takes several seconds (deselect with -m 'not slow')")


class ManualClock:
    """Real time until the test moves it by hand; from then on, time stands still between
    moves. The worker reads it for claims, retry times and signature timestamps."""

    def __init__(self) -> None:
        self._now: datetime | None = None

    def __call__(self) -> datetime:
        return self._now or utcnow()

    def advance(self, delta: timedelta) -> None:
        self._now = self() + delta

    def set(self, when: datetime) -> None:
        self._now = when


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def make_worker(engine: Any, settings: Any, clock: ManualClock) -> Any:
    def _make(**overrides: Any) -> DeliveryWorker:
        options: dict[str, Any] = {
            "clock": clock,
            "rng": random.Random(1234),
            "timeout": 2.0,
        }
        options.update(overrides)
        worker_settings = options.pop("settings", settings)
        return DeliveryWorker(engine, worker_settings, **options)

    return _make


@pytest.fixture
def production_settings(settings: Any) -> Any:
    return replace(settings, env="production")


def add_endpoint(org: Org, url: str, event_types: list[str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"url": url}
    if event_types is not None:
        body["event_types"] = event_types
    response = org.post("/api/v1/webhook-endpoints", body)
    assert response.status_code == 201, response.text
    return response.json()


def enroll_with_purpose(org: Org, external_ref: str = "A-1", purpose: str = "housing") -> None:
    if org.get("/api/v1/purposes").json().get("purposes") in (None, []):
        assert org.put(f"/api/v1/purposes/{purpose}", purpose_body()).status_code in (200, 201)
    response = org.post("/api/v1/participants", {"external_ref": external_ref})
    assert response.status_code == 201, response.text


def record_consent(
    org: Org, state: str, external_ref: str = "A-1", purpose: str = "housing"
) -> None:
    response = org.post(
        f"/api/v1/participants/{external_ref}/consents",
        {"purpose": purpose, "state": state, "method": "paper"},
    )
    assert response.status_code == 201, response.text


def deliveries(engine: Any) -> list[WebhookDelivery]:
    with Session(engine) as session:
        return list(session.exec(select(WebhookDelivery).order_by(WebhookDelivery.id)))  # type: ignore[arg-type]


def only_delivery(engine: Any) -> WebhookDelivery:
    (delivery,) = deliveries(engine)
    return delivery


def attempts(engine: Any) -> list[WebhookAttempt]:
    with Session(engine) as session:
        return list(session.exec(select(WebhookAttempt).order_by(WebhookAttempt.id)))  # type: ignore[arg-type]


def endpoint_row(engine: Any, endpoint_id: str) -> WebhookEndpoint:
    with Session(engine) as session:
        endpoint = session.get(WebhookEndpoint, endpoint_id)
        assert endpoint is not None
        return endpoint
