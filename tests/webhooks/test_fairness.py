"""Delivery is fair across organizations: one organization's burst never takes every
connection while another's event waits, and no receiver gets more than a few requests at once
(a small nonprofit's receiver has a short listen queue)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlmodel import Session

from app.db import utcnow
from app.webhooks.claims import claim_due
from tests.factories import add_endpoint, consent, enroll_with_purpose


def _burst(org: Any, prefix: str, count: int) -> None:
    for n in range(count):
        enroll_with_purpose(org, f"{prefix}-{n}")
        consent(org, state="given", ref=f"{prefix}-{n}")


def test_a_later_organizations_event_is_claimed_beside_an_earlier_burst(
    org, make_org, receiver, engine
):
    busy_org = add_endpoint(org, receiver.url("/northside"))
    _burst(org, "N", 12)  # twelve events first, all to Northside's one endpoint
    cedar = make_org("cedar", "Cedar Housing")
    quiet_org = add_endpoint(cedar, receiver.url("/cedar"))
    _burst(cedar, "C", 1)  # then one to Cedar

    with Session(engine, expire_on_commit=False) as session:
        claims = claim_due(session, now=utcnow(), lease_seconds=60, limit=8, per_endpoint=4)
    per_endpoint = Counter(c.endpoint_id for c in claims)
    # In order of creation the eight would all be Northside's; in turns, Cedar's is among them.
    assert per_endpoint == {busy_org["id"]: 4, quiet_org["id"]: 1}


def test_an_endpoint_with_requests_in_flight_gets_only_what_is_left_of_its_share(
    org, receiver, engine
):
    endpoint = add_endpoint(org, receiver.url("/hook"))
    _burst(org, "N", 6)
    with Session(engine, expire_on_commit=False) as session:
        first = claim_due(session, now=utcnow(), lease_seconds=60, limit=32, per_endpoint=4)
    assert len(first) == 4
    with Session(engine, expire_on_commit=False) as session:
        more = claim_due(
            session,
            now=utcnow(),
            lease_seconds=60,
            limit=32,
            per_endpoint=4,
            busy={endpoint["id"]: 3},
        )
    assert len(more) == 1  # three still in flight: room for one
    with Session(engine, expire_on_commit=False) as session:
        full = claim_due(
            session,
            now=utcnow(),
            lease_seconds=60,
            limit=32,
            per_endpoint=4,
            busy={endpoint["id"]: 4},
        )
    assert full == []


def test_the_worker_still_delivers_a_burst_to_one_endpoint_completely(org, receiver, make_worker):
    add_endpoint(org, receiver.url("/hook"))
    _burst(org, "N", 10)
    worker = make_worker(per_endpoint=4)
    delivered = 0
    while (batch := worker.run_once_sync()) > 0:
        assert batch <= 4
        delivered += batch
    assert delivered == 10 and len(receiver.received) == 10
