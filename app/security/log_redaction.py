"""Secrets kept out of the access log.

Some URLs carry something no log should keep: a claim code (`/claim/{code}`) opens an account
to whoever reads it, and an organization's reference for a person
(`/staff/participants/{external_ref}`, `/api/v1/participants/{external_ref}/...`,
`/staff/intake/language?ref=...`) names them in the organization's own files. uvicorn's access
log writes every request's path and query string; the filter here replaces those parts with
`[redacted]` before any handler formats the line, wherever the log goes:

    127.0.0.1:50412 - "GET /claim/[redacted] HTTP/1.1" 200

The same parts are also redacted when they appear percent-encoded inside a query string
(`/staff/login?next=%2Fstaff%2Fparticipants%2F[redacted]`).

`install()` puts the filter on uvicorn's access logger. `consent-portal serve` and
`app/asgi.py` (for `uvicorn app.asgi:app`) call it; calling it again adds nothing. A filter on
the logger survives uvicorn's own logging set-up (dictConfig replaces handlers, not filters).
"""

from __future__ import annotations

import logging
import re

ACCESS_LOGGER = "uvicorn.access"
REDACTED = "[redacted]"

_SLASH = r"(?:/|%2[fF])"
# The path segment after /claim/ or /participants/, in a path or percent-encoded in a query.
_SECRET_SEGMENT = re.compile(
    rf"({_SLASH}(?:claim|participants){_SLASH})(?:(?!%2[fF])[^/?#&\s\"])+", re.IGNORECASE
)
# Query parameters that carry a reference or a code.
_SECRET_PARAMETER = re.compile(r"([?&](?:ref|external_ref|code)=)[^&#\s\"]*", re.IGNORECASE)


def redact(text: str) -> str:
    """`text` (a path with its query string, or a whole log line) without the secrets."""
    text = _SECRET_SEGMENT.sub(rf"\g<1>{REDACTED}", text)
    return _SECRET_PARAMETER.sub(rf"\g<1>{REDACTED}", text)


class AccessLogRedaction(logging.Filter):
    """Redacts uvicorn's access records: their args are (client address, method, path with
    query string, HTTP version, status). Any other record has its text arguments, or its
    message when it has none, redacted the same way."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and args:
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in args)
        elif not args and isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install(logger_name: str = ACCESS_LOGGER) -> AccessLogRedaction:
    """Put the filter on the access logger (once); returns the filter that is on it."""
    logger = logging.getLogger(logger_name)
    for existing in logger.filters:
        if isinstance(existing, AccessLogRedaction):
            return existing
    redaction = AccessLogRedaction()
    logger.addFilter(redaction)
    return redaction
