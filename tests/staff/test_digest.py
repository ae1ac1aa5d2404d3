"""The staff's daily digest, sent to a real SMTP server on loopback (aiosmtpd): counts and a
link only, once per 24 hours, only to those who opted in, retried when the server is down,
and never in the way of webhook deliveries."""

from __future__ import annotations

import asyncio
import email
import logging
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import Session

from app.config import ConfigError, load_settings
from app.db import utcnow
from app.events.service import record_event
from app.jobs import Job, JobRunner, send_staff_digests
from app.organizations.models import Staff
from app.organizations.service import get_organization
from app.staff.digest import send_due_digests
from app.webhooks.delivery import DeliveryWorker
from app.worker import Worker
from tests.factories import (
    add_endpoint,
    consent,
    csrf_from,
    enroll_with_purpose,
    holding_body,
    make_staff,
    only_delivery,
    purpose_body,
    staff_log_in,
)
from tests.webhooks.receiver import Receiver

REF = "ZQ-REF-58213"
VALUE = "VALUE-DISTINCT-77431"
LABEL = "Label-Distinct-Okapi"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Inbox:
    """What the SMTP server accepted: (recipients, raw bytes) per message."""

    messages: list[tuple[list[str], bytes]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append((list(envelope.rcpt_tos), bytes(envelope.original_content)))
        return "250 OK"

    def parsed(self, i: int) -> EmailMessage:
        message = email.message_from_bytes(self.messages[i][1], policy=default_policy)
        assert isinstance(message, EmailMessage)
        return message


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.inbox = Inbox()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(_free_port())
    yield server
    server.stop()


@pytest.fixture
def mail_settings(settings: Any, smtp: SmtpServer) -> Any:
    return replace(
        settings,
        smtp_url=f"smtp://127.0.0.1:{smtp.port}",
        smtp_from="portal@northside.example",
    )


def _org_id(db: Session, org: Any) -> int:
    organization = get_organization(db, org.slug)
    assert organization is not None and organization.id is not None
    return organization.id


def _participant_with_requests(db: Session, org: Any, *, overdue: int, waiting: int) -> None:
    """A participant with a holding of distinctive value, and requests that ask the
    organization to act, `overdue` of them past due; the events carry the reference and
    the value too, so a digest quoting any event would show them."""
    assert org.put("/api/v1/purposes/housing", purpose_body()).status_code in (200, 201)
    response = org.post("/api/v1/participants", {"external_ref": REF})
    assert response.status_code == 201, response.text
    enrollment_id = response.json()["participant_id"]
    put = org.put(
        f"/api/v1/participants/{REF}/holdings/phone", holding_body(value=VALUE, label=LABEL)
    )
    assert put.status_code == 201, put.text
    org_id = _org_id(db, org)
    now = utcnow()
    for i in range(waiting):
        record_event(
            db,
            enrollment_id=enrollment_id,
            organization_id=org_id,
            type="deletion.requested",
            data={"external_ref": REF, "note": f"please delete {VALUE}"},
            # The first `overdue` were due long ago.
            now=now - timedelta(days=400) if i < overdue else now,
        )
        db.commit()


def _opt_in(db: Session, staff: Staff, *, opted: bool = True) -> None:
    staff.digest_opt_in = opted
    db.add(staff)
    db.commit()


def _sent_at(db: Session, staff: Staff) -> Any:
    db.expire_all()
    row = db.get(Staff, staff.id)
    assert row is not None
    return row.digest_sent_at


def test_opted_in_staff_get_one_email_a_day_with_counts_and_link_and_nothing_else(
    db, org, engine, smtp, mail_settings
):
    _participant_with_requests(db, org, overdue=1, waiting=3)
    maria = make_staff(db, org, email="maria@northside.example")
    _opt_in(db, maria)
    quiet = make_staff(db, org, email="quiet@northside.example", name="Quiet")
    gone = make_staff(db, org, email="gone@northside.example", name="Gone")
    _opt_in(db, gone)
    gone.disabled_at = utcnow()
    db.add(gone)
    db.commit()
    smtp.start()

    now = utcnow()
    assert send_due_digests(engine, mail_settings, now=now) == 1
    assert len(smtp.inbox.messages) == 1
    recipients, raw = smtp.inbox.messages[0]
    assert recipients == ["maria@northside.example"]  # not the quiet one, not the disabled one
    message = smtp.inbox.parsed(0)
    body = message.get_content()
    assert message["From"] == "portal@northside.example"
    assert "Northside Food Shelf" in message["Subject"]
    assert "3 requests wait for Northside Food Shelf to answer." in body
    assert "1 of them is overdue." in body
    assert "http://testserver/staff/requests" in body
    # Minimum data: nothing about the participant, raw or decoded, anywhere in the message.
    whole = raw.decode("utf-8", "replace") + message.as_string() + body
    for secret in (REF, VALUE, LABEL, "deletion", "ptp_"):
        assert secret not in whole, secret
    assert _sent_at(db, maria) == now
    assert _sent_at(db, quiet) is None and _sent_at(db, gone) is None

    # Later the same day: nothing; a full day later: the next one.
    assert send_due_digests(engine, mail_settings, now=now + timedelta(hours=23)) == 0
    assert len(smtp.inbox.messages) == 1
    assert send_due_digests(engine, mail_settings, now=now + timedelta(hours=24, minutes=1)) == 1
    assert len(smtp.inbox.messages) == 2


def test_nothing_is_sent_when_nothing_waits_nor_without_a_mail_server(
    db, org, engine, smtp, settings, mail_settings
):
    maria = make_staff(db, org)
    _opt_in(db, maria)
    smtp.start()
    assert send_due_digests(engine, mail_settings, now=utcnow()) == 0
    assert smtp.inbox.messages == [] and _sent_at(db, maria) is None

    _participant_with_requests(db, org, overdue=0, waiting=1)
    assert settings.smtp_url == ""
    assert send_due_digests(engine, settings, now=utcnow()) == 0  # no PORTAL_SMTP_URL
    assert smtp.inbox.messages == []
    assert send_due_digests(engine, mail_settings, now=utcnow()) == 1


def test_a_server_that_is_down_marks_nothing_and_the_next_run_sends(
    db, org, engine, smtp, mail_settings, caplog
):
    _participant_with_requests(db, org, overdue=0, waiting=2)
    maria = make_staff(db, org)
    _opt_in(db, maria)
    caplog.set_level(logging.WARNING, logger="app.jobs")
    assert (
        send_staff_digests(engine, mail_settings, utcnow()) == 0
    )  # nothing listens on the port: logged, not raised
    assert any("staff digests not sent" in r.getMessage() for r in caplog.records)
    assert _sent_at(db, maria) is None

    smtp.start()
    assert send_staff_digests(engine, mail_settings, utcnow()) == 1
    assert len(smtp.inbox.messages) == 1
    assert "2 requests wait" in smtp.inbox.parsed(0).get_content()
    assert _sent_at(db, maria) is not None


def test_the_opt_in_form_saves_the_choice_and_needs_csrf(db, org, client):
    maria = make_staff(db, org)
    staff_log_in(client, maria.email)
    page = client.get("/staff")
    assert "Email me a daily summary of requests to answer" in page.text
    assert "cannot send email yet" in page.text  # the test settings have no PORTAL_SMTP_URL
    token = csrf_from(page.text)

    refused = client.post("/staff/digest", data={"digest_opt_in": "yes"})
    assert refused.status_code == 403
    db.expire_all()
    assert db.get(Staff, maria.id).digest_opt_in is False  # type: ignore[union-attr]

    saved = client.post(
        "/staff/digest", data={"digest_opt_in": "yes", "csrf_token": token}, follow_redirects=False
    )
    assert saved.status_code == 303
    db.expire_all()
    assert db.get(Staff, maria.id).digest_opt_in is True  # type: ignore[union-attr]
    again = client.get(saved.headers["location"])
    assert "Your choice is saved." in again.text
    assert 'name="digest_opt_in" value="yes" checked' in again.text

    # Unchecked, the box is not sent at all: that is "no".
    client.post("/staff/digest", data={"csrf_token": token})
    db.expire_all()
    assert db.get(Staff, maria.id).digest_opt_in is False  # type: ignore[union-attr]


def test_the_opt_in_form_needs_a_staff_session(client):
    token = csrf_from(client.get("/staff/login").text)
    response = client.post(
        "/staff/digest",
        data={"digest_opt_in": "yes", "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith("/staff/login")


def test_smtp_settings_are_checked_at_start():
    base = {"PORTAL_BASE_URL": "https://portal.example.org"}
    loaded = load_settings({**base, "PORTAL_SMTP_URL": "smtps://u:p%40ss@mail.example.org:465"})
    assert loaded.smtp_from == "noreply@portal.example.org"
    assert "p%40ss" not in repr(loaded)
    with_from = load_settings({**base, "PORTAL_SMTP_URL": "smtp://mail?from=desk@org.example"})
    assert with_from.smtp_from == "desk@org.example"
    for bad in ("http://mail.example.org", "smtp://", "smtp://mail:port"):
        with pytest.raises(ConfigError):
            load_settings({**base, "PORTAL_SMTP_URL": bad})


class _Running:
    """worker.run() on its own thread, as `consent-portal worker` runs it."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            asyncio.run(self.worker.run())
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            self.error = exc

    def __enter__(self) -> _Running:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.worker.request_stop_threadsafe()
        self._thread.join(timeout=20)
        assert not self._thread.is_alive() and self.error is None, self.error


def _wait(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("timed out")


def test_the_worker_keeps_delivering_while_the_mail_server_is_down(
    db, org, engine, smtp, mail_settings, caplog
):
    receiver = Receiver().start()
    try:
        _participant_with_requests(db, org, overdue=0, waiting=1)
        maria = make_staff(db, org)
        _opt_in(db, maria)
        add_endpoint(org, receiver.url("/hook"))
        enroll_with_purpose(org, external_ref="A-1")
        caplog.set_level(logging.WARNING, logger="app.jobs")
        worker = Worker(
            DeliveryWorker(engine, mail_settings, timeout=2.0, poll_seconds=0.02),
            JobRunner(engine, mail_settings, [Job("staff digests", 0.05, send_staff_digests)]),
        )
        with _Running(worker):
            _wait(lambda: any("digests not sent" in r.getMessage() for r in caplog.records))
            consent(org, state="given")
            _wait(lambda: only_delivery(engine).status == "delivered")
            smtp.start()  # the mail server is back: the worker's next look sends it
            _wait(lambda: len(smtp.inbox.messages) == 1)
        assert len(receiver.received) == 1
        assert _sent_at(db, maria) is not None
    finally:
        receiver.stop()


def test_a_mail_server_that_hangs_does_not_hold_up_deliveries(
    db, org, engine, smtp, mail_settings, monkeypatch, caplog
):
    # A port that takes the connection and never greets: smtplib waits for its timeout.
    monkeypatch.setattr("app.staff.digest.SMTP_TIMEOUT_SECONDS", 3.0)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    hanging = replace(mail_settings, smtp_url=f"smtp://127.0.0.1:{silent.getsockname()[1]}")
    receiver = Receiver().start()
    try:
        _participant_with_requests(db, org, overdue=0, waiting=1)
        maria = make_staff(db, org)
        _opt_in(db, maria)
        add_endpoint(org, receiver.url("/hook"))
        enroll_with_purpose(org, external_ref="A-1")
        worker = Worker(
            DeliveryWorker(engine, hanging, timeout=2.0, poll_seconds=0.02),
            JobRunner(engine, hanging, [Job("staff digests", 0.01, send_staff_digests)]),
        )
        with _Running(worker):
            caplog.set_level(logging.WARNING)
            time.sleep(0.2)  # the digest is now stuck waiting for a greeting
            consent(org, state="given")
            _wait(lambda: only_delivery(engine).status == "delivered")
            # Delivered while the digest still waits for its greeting: had the delivery waited
            # behind it, the digest would have given up (and said so) first. Order, not a clock.
            assert not any("digests not sent" in r.getMessage() for r in caplog.records)
        assert _sent_at(db, maria) is None
    finally:
        receiver.stop()
        silent.close()
