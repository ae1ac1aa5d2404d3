"""No claim code and no organization's reference for a person reaches the access log: the
filter (app/security/log_redaction.py) on a record shaped like uvicorn's, and the real app
served by uvicorn in a process of its own, both ways the portal is served."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from uvicorn.logging import AccessFormatter

from app.config import ROOT
from app.security.log_redaction import ACCESS_LOGGER, AccessLogRedaction, install, redact


def _access_record(full_path: str) -> logging.LogRecord:
    """What uvicorn's HTTP protocols log for each request (uvicorn/protocols/http/*_impl.py)."""
    return logging.LogRecord(
        name=ACCESS_LOGGER,
        level=logging.INFO,
        pathname=__file__,
        lineno=1,
        msg='%s - "%s %s HTTP/%s" %d',
        args=("127.0.0.1:50412", "GET", full_path, "1.1", 200),
        exc_info=None,
    )


@pytest.mark.parametrize(
    ("full_path", "logged"),
    [
        ("/claim/K7QD-M2XP-9HTR", "/claim/[redacted]"),
        ("/claim/K7QD-M2XP-9HTR?lang=es", "/claim/[redacted]?lang=es"),
        ("/staff/participants/A-1001", "/staff/participants/[redacted]"),
        ("/staff/participants/A-1001/claim-card", "/staff/participants/[redacted]/claim-card"),
        ("/staff/participants/Maria%20Lopez", "/staff/participants/[redacted]"),
        (
            "/api/v1/participants/A-1001/holdings/phone",
            "/api/v1/participants/[redacted]/holdings/phone",
        ),
        ("/staff/intake/language?ref=A-1001", "/staff/intake/language?ref=[redacted]"),
        ("/staff/intake?lang=so&ref=A-1001", "/staff/intake?lang=so&ref=[redacted]"),
        (
            "/staff/login?next=%2Fstaff%2Fparticipants%2FA-1001%2Fclaim-card",
            "/staff/login?next=%2Fstaff%2Fparticipants%2F[redacted]%2Fclaim-card",
        ),
        ("/login?next=%2Fclaim%2FK7QD-M2XP-9HTR", "/login?next=%2Fclaim%2F[redacted]"),
        # Nothing secret: left as it is.
        ("/claim", "/claim"),
        ("/staff/participants", "/staff/participants"),
        ("/api/v1/participants", "/api/v1/participants"),
        ("/consents/enr_0191/housing?lang=es", "/consents/enr_0191/housing?lang=es"),
    ],
)
def test_the_filter_redacts_an_access_record_as_uvicorn_formats_it(full_path, logged):
    record = _access_record(full_path)
    assert AccessLogRedaction().filter(record) is True  # redacted, never dropped
    line = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s').format(record)
    assert line == f'127.0.0.1:50412 - "GET {logged} HTTP/1.1" 200 OK'
    for secret in ("K7QD-M2XP-9HTR", "A-1001", "Maria"):
        assert secret not in line


def test_install_puts_one_filter_on_uvicorns_access_logger():
    logger = logging.getLogger(ACCESS_LOGGER)
    first = install()
    assert install() is first
    assert [f for f in logger.filters if isinstance(f, AccessLogRedaction)] == [first]


def test_a_record_without_arguments_is_redacted_in_its_message():
    record = logging.LogRecord(
        ACCESS_LOGGER, logging.INFO, __file__, 1, "GET /claim/K7QD-M2XP-9HTR", None, None
    )
    AccessLogRedaction().filter(record)
    assert record.getMessage() == "GET /claim/[redacted]"
    assert redact("no secrets here") == "no secrets here"


# --- the real app, served as in production ------------------------------------------------

SECRETS = ["K7QD-M2XP-9HTR", "SECRET-REF-1", "SECRET-REF-2", "SECRET-REF-3"]
REQUESTS = [
    "/claim/K7QD-M2XP-9HTR",
    "/staff/participants/SECRET-REF-1",
    "/staff/intake/language?ref=SECRET-REF-2",
    "/api/v1/participants/SECRET-REF-3",
]


def _spare_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve_and_request(command: list[str], port: int, log_path: Path) -> str:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, *command], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log_path.read_text(errors="replace")
            try:
                httpx.get(f"{base}/login", timeout=2)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, log_path.read_text(errors="replace")
                time.sleep(0.1)
        with httpx.Client(base_url=base, timeout=10) as client:
            for path in REQUESTS:
                assert client.get(path).status_code < 500, path
        # Wait for the last request's line, then stop the server.
        deadline = time.monotonic() + 10
        while "/api/v1/participants/" not in log_path.read_text(errors="replace"):
            assert time.monotonic() < deadline, log_path.read_text(errors="replace")
            time.sleep(0.05)
    finally:
        process.terminate()
        process.wait(timeout=20)
    return log_path.read_text(errors="replace")


@pytest.mark.parametrize(
    "how",
    ["uvicorn app.asgi:app", "consent-portal serve"],
)
def test_served_for_real_the_access_log_has_no_code_and_no_reference(engine, tmp_path, how):
    port = _spare_port()
    command = {
        "uvicorn app.asgi:app": ["-m", "uvicorn", "app.asgi:app"],
        "consent-portal serve": ["-m", "app", "serve", "--no-worker"],
    }[how] + ["--host", "127.0.0.1", "--port", str(port)]
    log = _serve_and_request(command, port, tmp_path / "web.log")
    access = [line for line in log.splitlines() if '"GET ' in line]
    assert len(access) >= len(REQUESTS) + 1, log  # the access log is on, one line a request
    for secret in SECRETS:
        assert secret not in log, (secret, log)
    assert '"GET /claim/[redacted] HTTP/1.1" 404' in log, log
    assert "GET /staff/participants/[redacted] HTTP/1.1" in log, log
    assert "GET /staff/intake/language?ref=[redacted] HTTP/1.1" in log, log
    assert "GET /api/v1/participants/[redacted] HTTP/1.1" in log, log
