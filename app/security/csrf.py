"""CSRF protection for every state-changing browser request.

The token is an HMAC of a per-browser secret: the session's own secret when signed in, else
the visitor cookie. Forms carry it in `csrf_token`; HTMX sends it in `X-CSRF-Token` (set once
on <body data-hx-headers>). The API uses bearer keys, not cookies, so it needs none.

Pages are compressed (app/main.py), so the token is masked afresh for every response: a
one-time pad, then the token XORed with it. The same secret never appears twice in a
compressed body, which is what a BREACH attack needs to read it out byte by byte from the
size of the responses.
"""

from __future__ import annotations

import hmac
import secrets

from app.security.tokens import sign

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
FORM_FIELD = "csrf_token"
HEADER = "x-csrf-token"
_TOKEN_BYTES = 32  # an HMAC-SHA256


def _token(secret_key: str, binding: str) -> bytes:
    return bytes.fromhex(sign(secret_key, "csrf:" + binding))


def csrf_token(secret_key: str, binding: str) -> str:
    """A masked token: different in every response, valid for the same browser."""
    token = _token(secret_key, binding)
    pad = secrets.token_bytes(_TOKEN_BYTES)
    return (pad + bytes(p ^ t for p, t in zip(pad, token, strict=True))).hex()


def _unmask(submitted: str) -> bytes | None:
    if len(submitted) != 4 * _TOKEN_BYTES:
        return None
    try:
        raw = bytes.fromhex(submitted)
    except ValueError:
        return None
    pad, masked = raw[:_TOKEN_BYTES], raw[_TOKEN_BYTES:]
    return bytes(p ^ m for p, m in zip(pad, masked, strict=True))


def csrf_valid(secret_key: str, binding: str, submitted: str | None) -> bool:
    unmasked = _unmask(submitted or "")
    return unmasked is not None and hmac.compare_digest(unmasked, _token(secret_key, binding))
