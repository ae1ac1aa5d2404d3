"""CSRF protection for every state-changing browser request.

The token is an HMAC of a per-browser secret: the session's own secret when signed in, else
the visitor cookie. Forms carry it in `csrf_token`; HTMX sends it in `X-CSRF-Token` (set once
on <body hx-headers>). The API uses bearer keys, not cookies, so it needs none.
"""

from __future__ import annotations

from app.security.tokens import same, sign

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
FORM_FIELD = "csrf_token"
HEADER = "x-csrf-token"


def csrf_token(secret_key: str, binding: str) -> str:
    return sign(secret_key, "csrf:" + binding)


def csrf_valid(secret_key: str, binding: str, submitted: str | None) -> bool:
    return bool(submitted) and same(csrf_token(secret_key, binding), submitted or "")
