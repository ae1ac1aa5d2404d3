"""Delivery to a real receiver on loopback: signatures, retries on the schedule, dead letters,
410, timeouts, redirects, rotation, and the in-process worker's prompt wake-up."""

from __future__ import annotations

import json
import random
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from fastapi.testclient import TestClient
from standardwebhooks import Webhook

from app.consent.expiry import expire_consents
from app.main import create_app
from app.webhooks.retries import JITTER, MAX_ATTEMPTS, RETRY_SCHEDULE, retry_delay
from tests.factories import (
    add_endpoint,
    attempts,
    consent,
    deliveries,
    endpoint_row,
    enroll_with_purpose,
    only_delivery,
)
from tests.webhooks.receiver import Reply


def _parse(received):
    return json.loads(received.body)


def test_a_delivery_is_signed_and_verifies_with_standardwebhooks(
    org, receiver, make_worker, engine
):
    endpoint = add_endpoint(org, receiver.url("/hook"))
    enroll_with_purpose(org)
    consent(org, state="given")

    assert make_worker().run_once_sync() == 1

    (received,) = receiver.received
    payload = Webhook(endpoint["secret"]).verify(received.body, received.headers)
    assert payload["type"] == "consent.given"
    datetime.fromisoformat(payload["timestamp"])
    data = payload["data"]
    assert data["event_id"] == received.webhook_id and received.webhook_id.startswith("evt_")
    assert data["organization"] == "northside"
    assert data["participant"] == {"external_ref": "A-1"}
    assert data["version"] == 1
    assert data["consent"]["purpose"] == "housing" and data["consent"]["state"] == "given"
    assert received.headers["content-type"] == "application/json"
    assert len(received.body) < 20 * 1024

    delivery = only_delivery(engine)
    assert delivery.status == "delivered" and delivery.attempts == 1
    (attempt,) = attempts(engine)
    assert attempt.status_code == 200 and attempt.response_excerpt == "ok"
    assert attempt.error is None and attempt.duration_ms >= 0


def test_an_event_that_asks_to_act_carries_its_ack_url(org, receiver, make_worker):
    add_endpoint(org, receiver.url("/hook"), event_types=["consent.withdrawn"])
    enroll_with_purpose(org)
    consent(org, state="given")
    consent(org, state="withdrawn")

    assert make_worker().run_once_sync() == 1  # consent.given was not subscribed

    data = _parse(receiver.received[0])["data"]
    assert data["ack_url"] == f"http://testserver/api/v1/events/{data['event_id']}/ack"
    assert datetime.fromisoformat(data["ack_due_by"]) > datetime.now(UTC)
    assert data["consent"]["state"] == "withdrawn" and data["version"] == 2


def test_retries_follow_the_schedule_with_the_same_id_and_a_fresh_timestamp(
    org, receiver, make_worker, engine, clock
):
    endpoint = add_endpoint(org, receiver.url("/hook"))
    receiver.always("/hook", Reply(status=500, body=b"database down"))
    enroll_with_purpose(org)
    consent(org, state="given")
    clock.set(datetime.now(UTC))
    worker = make_worker()

    for attempt_number in range(1, MAX_ATTEMPTS + 1):
        assert worker.run_once_sync() == 1
        delivery = only_delivery(engine)
        assert delivery.attempts == attempt_number
        if attempt_number == MAX_ATTEMPTS:
            break
        assert delivery.status == "pending"
        wait = delivery.next_attempt_at - clock()
        planned = RETRY_SCHEDULE[attempt_number - 1]
        assert planned * (1 - JITTER) <= wait <= planned * (1 + JITTER)
        # Not a moment early...
        clock.set(delivery.next_attempt_at - timedelta(milliseconds=1))
        assert worker.run_once_sync() == 0
        # ...and due on time.
        clock.set(delivery.next_attempt_at)

    delivery = only_delivery(engine)
    assert delivery.status == "dead" and delivery.dead_at == clock()
    assert clock() - delivery.created_at > timedelta(hours=60)  # the schedule adds up to ~3.3 days
    assert worker.run_once_sync() == 0  # a dead delivery is not retried by itself

    assert len(receiver.received) == MAX_ATTEMPTS
    assert {r.webhook_id for r in receiver.received} == {delivery.event_id}
    timestamps = [int(r.headers["webhook-timestamp"]) for r in receiver.received]
    assert timestamps == sorted(set(timestamps))  # fresh, and moving forward
    # Each attempt is signed over its own timestamp (checked with the official library's
    # signer: its verify() refuses timestamps that are not near the real clock).
    signer = Webhook(endpoint["secret"])
    for r in receiver.received:
        signed_at = datetime.fromtimestamp(int(r.headers["webhook-timestamp"]), tz=UTC)
        assert r.headers["webhook-signature"] == signer.sign(
            r.webhook_id, signed_at, r.body.decode()
        )
    logged = attempts(engine)
    assert len(logged) == MAX_ATTEMPTS
    assert all(a.status_code == 500 and a.response_excerpt == "database down" for a in logged)


def test_jitter_stays_within_20_percent_and_actually_varies():
    rng = random.Random(7)
    for attempt_number, planned in enumerate(RETRY_SCHEDULE, start=1):
        waits = [retry_delay(attempt_number, retry_after=None, rng=rng) for _ in range(200)]
        assert all(planned * 0.8 <= w <= planned * 1.2 for w in waits)
        assert max(waits) - min(waits) > planned * 0.3  # spread out, not a fixed offset


def test_retry_after_in_seconds_is_honored(org, receiver, make_worker, engine, clock):
    add_endpoint(org, receiver.url("/hook"))
    receiver.script("/hook", Reply(status=429, headers={"Retry-After": "120"}))
    enroll_with_purpose(org)
    consent(org, state="given")
    clock.set(datetime.now(UTC))

    make_worker().run_once_sync()

    delivery = only_delivery(engine)
    assert delivery.status == "pending"
    assert delivery.next_attempt_at == clock() + timedelta(seconds=120)


def test_retry_after_as_a_date_is_honored(org, receiver, make_worker, engine, clock):
    add_endpoint(org, receiver.url("/hook"))
    enroll_with_purpose(org)
    consent(org, state="given")
    clock.set(datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1))
    later = clock() + timedelta(hours=1)
    receiver.script(
        "/hook", Reply(status=503, headers={"Retry-After": format_datetime(later, usegmt=True)})
    )

    make_worker().run_once_sync()

    assert only_delivery(engine).next_attempt_at == later


def test_410_disables_the_endpoint_and_dead_letters_what_waits(org, receiver, make_worker, engine):
    endpoint = add_endpoint(org, receiver.url("/gone"))
    receiver.always("/gone", Reply(status=410, body=b"gone"))
    enroll_with_purpose(org)
    consent(org, state="given")
    consent(org, state="withdrawn")

    make_worker(concurrency=1).run_once_sync()

    row = endpoint_row(engine, endpoint["id"])
    assert row.disabled_at is not None and "410" in row.disabled_reason
    assert [d.status for d in deliveries(engine)] == ["dead", "dead"]
    assert len(receiver.received) == 1  # the second was dead-lettered, not sent
    listed = org.get("/api/v1/webhook-endpoints").json()["endpoints"]
    assert listed[0]["disabled_at"] is not None

    consent(org, state="given")
    assert len(deliveries(engine)) == 2  # a disabled endpoint gets nothing new
    assert make_worker().run_once_sync() == 0


def test_an_endpoint_back_from_410_is_turned_on_again_and_gets_what_died(
    org, receiver, make_worker, engine, make_org
):
    endpoint = add_endpoint(org, receiver.url("/gone"))
    receiver.script("/gone", Reply(status=410, body=b"gone"))
    enroll_with_purpose(org)
    consent(org, state="given")
    consent(org, state="withdrawn")
    make_worker(concurrency=1).run_once_sync()
    assert [d.status for d in deliveries(engine)] == ["dead", "dead"]
    died = {r.webhook_id for r in receiver.received}

    # Another organization's key can't turn it on; an unknown field is refused.
    other = make_org("eastside", "Eastside Housing")
    assert other.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/enable").status_code == 404
    bad = org.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/enable", {"redeliver": "lots"})
    assert bad.status_code == 422 and bad.json()["detail"]

    # The receiver is back (answers 200 from now on): on again, and what died is sent again.
    on = org.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/enable", {"redeliver": True})
    assert on.status_code == 200, on.text
    assert on.json()["disabled_at"] is None and on.json()["redelivered"] == 2
    assert make_worker().run_once_sync() == 2
    assert [d.status for d in deliveries(engine)] == ["delivered", "delivered"]
    assert endpoint_row(engine, endpoint["id"]).disabled_at is None
    # The same webhook-ids as before: a receiver that saw one of them deduplicates it.
    resent = [r.webhook_id for r in receiver.received[1:]]
    assert len(resent) == 2 and died <= set(resent)

    # From now on it gets new events too.
    consent(org, state="given")
    assert make_worker().run_once_sync() == 1


def test_enabling_without_redeliver_sends_only_new_events(org, receiver, make_worker, engine):
    endpoint = add_endpoint(org, receiver.url("/gone"))
    receiver.script("/gone", Reply(status=410, body=b"gone"))
    enroll_with_purpose(org)
    consent(org, state="given")
    make_worker(concurrency=1).run_once_sync()
    on = org.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/enable")
    assert on.status_code == 200 and on.json()["redelivered"] == 0
    assert [d.status for d in deliveries(engine)] == ["dead"]
    consent(org, state="withdrawn")
    assert make_worker().run_once_sync() == 1
    assert [d.status for d in deliveries(engine)] == ["dead", "delivered"]


def test_a_receiver_that_hangs_past_the_timeout_is_retried(
    org, receiver, make_worker, engine, clock
):
    add_endpoint(org, receiver.url("/slow"))
    receiver.script("/slow", Reply(delay=3.0))
    enroll_with_purpose(org)
    consent(org, state="given")
    worker = make_worker(timeout=0.3)

    assert worker.run_once_sync() == 1
    # Gave up at the timeout: the receiver is still sleeping on its 3 s answer, so it has not
    # finished one reply yet (a worker that waited the 3 s would find it finished).
    assert receiver.received == []

    delivery = only_delivery(engine)
    assert delivery.status == "pending" and delivery.attempts == 1
    (attempt,) = attempts(engine)
    assert attempt.status_code is None and "no complete answer within 0.3 s" in attempt.error

    clock.set(delivery.next_attempt_at)
    assert worker.run_once_sync() == 1
    assert only_delivery(engine).status == "delivered"


def test_redirects_are_failures_and_are_not_followed(org, receiver, make_worker, engine):
    add_endpoint(org, receiver.url("/old"))
    receiver.always("/old", Reply(status=308, headers={"Location": receiver.url("/new")}))
    enroll_with_purpose(org)
    consent(org, state="given")

    make_worker().run_once_sync()

    assert receiver.to("/new") == []
    delivery = only_delivery(engine)
    assert delivery.status == "pending" and delivery.last_status_code == 308
    (attempt,) = attempts(engine)
    assert attempt.status_code == 308 and "redirects are not followed" in attempt.error


def test_a_dead_letter_is_redelivered_with_the_same_id(org, receiver, make_worker, engine, clock):
    endpoint = add_endpoint(org, receiver.url("/hook"))
    receiver.always("/hook", Reply(status=500))
    enroll_with_purpose(org)
    consent(org, state="given")
    worker = make_worker()
    while only_delivery(engine).status == "pending":
        clock.set(only_delivery(engine).next_attempt_at)
        worker.run_once_sync()
    dead = only_delivery(engine)
    assert dead.status == "dead" and dead.attempts == MAX_ATTEMPTS

    receiver.always("/hook", Reply(status=204, body=b""))
    response = org.post(f"/api/v1/events/{dead.event_id}/redeliver")
    assert response.status_code == 202 and response.json()["queued"] == 1
    assert only_delivery(engine).status == "pending"
    clock.set(datetime.now(UTC))  # back to real time, so the library can verify the timestamp
    assert worker.run_once_sync() == 1

    last = receiver.received[-1]
    assert last.webhook_id == dead.event_id
    Webhook(endpoint["secret"]).verify(last.body, last.headers)
    delivered = only_delivery(engine)
    assert delivered.status == "delivered" and delivered.dead_at is None
    # Every attempt is on record, the dead ones too.
    assert len(
        org.get(f"/api/v1/webhook-endpoints/{endpoint['id']}/attempts").json()["attempts"]
    ) == (MAX_ATTEMPTS + 1)


def test_after_a_rotation_both_secrets_verify_for_24_hours(
    org, receiver, make_worker, engine, clock
):
    endpoint = add_endpoint(org, receiver.url("/hook"))
    rotated = org.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/rotate-secret")
    assert rotated.status_code == 200
    new_secret = rotated.json()["secret"]
    assert new_secret.startswith("whsec_") and new_secret != endpoint["secret"]
    enroll_with_purpose(org)
    consent(org, state="given")

    make_worker().run_once_sync()

    received = receiver.received[0]
    assert len(received.headers["webhook-signature"].split(" ")) == 2
    Webhook(endpoint["secret"]).verify(received.body, received.headers)
    Webhook(new_secret).verify(received.body, received.headers)

    # A day later only the new secret signs.
    clock.set(datetime.now(UTC) + timedelta(hours=24, minutes=1))
    consent(org, state="withdrawn")
    make_worker().run_once_sync()
    later = receiver.received[1]
    (signature,) = later.headers["webhook-signature"].split(" ")
    signed_at = datetime.fromtimestamp(int(later.headers["webhook-timestamp"]), tz=UTC)
    assert signature == Webhook(new_secret).sign(later.webhook_id, signed_at, later.body.decode())


def test_a_deleted_endpoint_gets_nothing_more(org, receiver, make_worker, engine):
    endpoint = add_endpoint(org, receiver.url("/hook"))
    enroll_with_purpose(org)
    consent(org, state="given")
    assert org.delete(f"/api/v1/webhook-endpoints/{endpoint['id']}").status_code == 204

    assert make_worker().run_once_sync() == 0
    assert receiver.received == []
    assert only_delivery(engine).status == "cancelled"


@pytest.mark.slow
def test_the_in_process_worker_delivers_right_after_the_commit(
    engine, settings, receiver, make_org
):
    """Polling is set to 30 s here: only the after-commit wake-up can make this prompt."""
    app = create_app(replace(settings, webhook_poll_seconds=30.0), run_worker=True)
    with TestClient(app, base_url="http://testserver") as client:
        org = make_org()
        org.client = client
        add_endpoint(org, receiver.url("/hook"))
        enroll_with_purpose(org)
        time.sleep(0.3)  # let the worker's first (empty) round pass
        consent(org, state="given")
        # Its next poll is 30 s away: arriving within a sixth of that is the wake-up's doing.
        receiver.wait_for(1, timeout=5)


def test_the_worker_records_expired_consents_and_delivers_them(
    org, receiver, make_worker, clock, engine, settings
):
    add_endpoint(org, receiver.url("/hook"), event_types=["consent.expired"])
    enroll_with_purpose(org)
    consent(org, state="given")
    worker = make_worker()
    assert expire_consents(engine, settings, clock()) == 0  # not yet

    clock.set(datetime.now(UTC) + timedelta(days=366))  # consents last a year by default
    assert expire_consents(engine, settings, clock()) == 1
    assert expire_consents(engine, settings, clock()) == 0  # recorded once
    assert worker.run_once_sync() == 1

    payload = _parse(receiver.received[0])
    assert payload["type"] == "consent.expired"
    assert payload["data"]["participant"] == {"external_ref": "A-1"}
    assert payload["data"]["ack_url"].endswith(f"/api/v1/events/{payload['data']['event_id']}/ack")
