"""Devices that have signed in before: the right PIN still works there while a username is
locked, so that a stranger's five wrong guesses don't lock the owner out of their own phone.

The device keeps a token in a cookie: a random nonce and an HMAC binding it to the account.
Nothing is stored on the server; wrong tries from the device count against the nonce, so a
trusted device is still stopped from guessing.
"""

from __future__ import annotations

import hmac
import secrets

from app.security.tokens import sign

DEVICE_COOKIE = "portal_device"
DEVICE_DAYS = 180


def device_token(secret_key: str, participant_id: str) -> str:
    nonce = secrets.token_urlsafe(12)
    return f"{nonce}.{sign(secret_key, f'device:{participant_id}:{nonce}')[:32]}"


def known_device(secret_key: str, token: str | None, participant_id: str) -> str | None:
    """The device's nonce when `token` was given to this account at a sign-in, else None."""
    if not token or token.count(".") != 1 or len(token) > 100:
        return None
    nonce, mac = token.split(".")
    expected = sign(secret_key, f"device:{participant_id}:{nonce}")[:32]
    return nonce if hmac.compare_digest(mac, expected) else None
