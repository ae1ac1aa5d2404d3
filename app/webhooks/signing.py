"""Standard Webhooks 1.0 signatures.

A receiver checks `webhook-signature` against HMAC-SHA256 of "id.timestamp.body" with the
endpoint's secret, so it knows the portal sent the body and that nobody replayed an old one
(the timestamp is part of what is signed). Any Standard Webhooks library verifies these.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime

from app.webhooks.models import WebhookEndpoint

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
SECRET_BYTES = 32


def new_secret() -> str:
    """`whsec_` + base64 of 32 random bytes, the form every Standard Webhooks library reads."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    raw = secret.removeprefix(SECRET_PREFIX)
    return base64.b64decode(raw + "=" * (-len(raw) % 4))


def sign(secret: str, *, msg_id: str, timestamp: int, body: bytes) -> str:
    """One signature: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def live_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The current secret, and the previous one while its 24 hours after a rotation last."""
    live = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > now:
        live.append(endpoint.previous_secret)
    return live


def signature_header(
    secrets_: list[str] | tuple[str, ...], *, msg_id: str, timestamp: int, body: bytes
) -> str:
    """Space-separated signatures, one per live secret: a receiver that still holds the old
    secret and one that already switched both find a match."""
    return " ".join(sign(s, msg_id=msg_id, timestamp=timestamp, body=body) for s in secrets_)


def webhook_headers(
    secrets_: list[str] | tuple[str, ...], *, msg_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(
            secrets_, msg_id=msg_id, timestamp=timestamp, body=body
        ),
    }
