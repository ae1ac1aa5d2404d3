"""Standard Webhooks signatures: the specification's test vector, secrets, rotation."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from app.webhooks.models import WebhookEndpoint
from app.webhooks.signing import live_secrets, new_secret, sign, signature_header, webhook_headers

# Published with the Standard Webhooks specification (and used by every official library).
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_reproduces_the_specification_test_vector():
    assert sign(SPEC_SECRET, msg_id=SPEC_ID, timestamp=SPEC_TIMESTAMP, body=SPEC_BODY) == (
        SPEC_SIGNATURE
    )


def test_a_changed_body_or_id_gives_another_signature():
    assert sign(SPEC_SECRET, msg_id=SPEC_ID, timestamp=SPEC_TIMESTAMP, body=b"{}") != SPEC_SIGNATURE
    assert sign(SPEC_SECRET, msg_id="msg_x", timestamp=SPEC_TIMESTAMP, body=SPEC_BODY) != (
        SPEC_SIGNATURE
    )


def test_new_secrets_are_whsec_and_32_random_bytes():
    first, second = new_secret(), new_secret()
    assert first != second
    for secret in (first, second):
        assert secret.startswith("whsec_")
        assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32


def test_the_official_library_verifies_our_headers():
    secret = new_secret()
    body = b'{"type":"consent.withdrawn","timestamp":"2026-11-24T10:00:00+00:00","data":{}}'
    headers = webhook_headers([secret], msg_id="evt_1", timestamp=int(time.time()), body=body)
    assert Webhook(secret).verify(body, headers)["type"] == "consent.withdrawn"
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace(b"withdrawn", b"given"), headers)


def test_two_live_secrets_give_two_signatures_that_each_verify():
    old, new = new_secret(), new_secret()
    body = b'{"type":"consent.given"}'
    now = int(time.time())
    header = signature_header([new, old], msg_id="evt_2", timestamp=now, body=body)
    assert len(header.split(" ")) == 2
    headers = {"webhook-id": "evt_2", "webhook-timestamp": str(now), "webhook-signature": header}
    Webhook(old).verify(body, headers)
    Webhook(new).verify(body, headers)


def test_the_previous_secret_signs_for_24_hours_only():
    now = datetime(2026, 11, 24, 12, tzinfo=UTC)
    endpoint = WebhookEndpoint(
        organization_id=1,
        url="http://127.0.0.1/hook",
        secret="whsec_new",
        previous_secret="whsec_old",
        previous_secret_expires_at=now + timedelta(hours=24),
    )
    assert live_secrets(endpoint, now) == ["whsec_new", "whsec_old"]
    assert live_secrets(endpoint, now + timedelta(hours=24)) == ["whsec_new"]
