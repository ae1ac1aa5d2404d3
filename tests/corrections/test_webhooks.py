"""Corrections reach real receivers on loopback: the holder gets correction.requested, a
network recipient gets data.corrected, each verifiable with the standardwebhooks library."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator

import pytest
from standardwebhooks import Webhook

from app.webhooks.delivery import DeliveryWorker
from tests.factories import corrections, deliver, request_correction, resolve
from tests.webhooks.receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


def endpoint(org, url):
    response = org.post("/api/v1/webhook-endpoints", {"url": url})
    assert response.status_code == 201, response.text
    return response.json()["secret"]


def test_holder_and_recipient_receive_their_events(world, db, engine, settings, receiver):
    holder_secret = endpoint(world.holder, receiver.url("/northside"))
    recipient_secret = endpoint(world.recipient, receiver.url("/eastside"))
    worker = DeliveryWorker(engine, settings, rng=random.Random(1), timeout=2.0)

    request_correction(world.maria, world.phone, "612-555-0199", "I changed my number.")
    (correction,) = corrections(db)
    assert deliver(worker) == 1
    (requested,) = receiver.to("/northside")
    payload = Webhook(holder_secret).verify(requested.body, requested.headers)
    assert payload["type"] == "correction.requested"
    assert payload["data"]["correction"]["id"] == correction.id
    assert payload["data"]["correction"]["requested_value"] == "612-555-0199"
    assert receiver.to("/eastside") == []

    resolve(world.holder, correction.id, "accepted", reason="ok")
    assert deliver(worker) == 2
    (corrected,) = receiver.to("/eastside")
    payload = Webhook(recipient_secret).verify(corrected.body, corrected.headers)
    assert payload["type"] == "data.corrected"
    data = payload["data"]
    assert data["role"] == "recipient" and data["organization"] == "eastside"
    assert data["source"] == {"organization": "northside", "external_ref": "N-1"}
    assert data["holding"]["old_value"] == "612-555-0100"
    assert data["holding"]["new_value"] == "612-555-0199"
    holder_copy = json.loads(receiver.to("/northside")[1].body)
    assert holder_copy["type"] == "data.corrected" and holder_copy["data"]["role"] == "holder"
    assert holder_copy["data"]["event_id"] != data["event_id"]
