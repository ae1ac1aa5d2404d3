"""The daily digest: staff who opted in hear by email how many requests wait for their
organization, without a developer wiring anything up.

- Only counts and the organization's name go out (minimum data): no reference, name or value
  of any participant, so a forwarded or intercepted email tells nobody who asked what.
- At most one email per staff member per 24 hours (a rolling 24 h from the last one the mail
  server accepted, not a calendar day: no burst at midnight UTC, which is evening in the
  Americas). The worker looks every few minutes, so the hour drifts by at most that much a day.
- Nothing is sent when nothing waits; such a run marks nothing, so a request arriving later
  that day still gets its email.
- `digest_sent_at` is set only after the server accepted the message. A server that is down
  aborts the run, marks nothing, and the next run tries again.
- Disabled staff, and staff who did not opt in, get none.

Sending is plain blocking smtplib: the worker calls `send_due_digests` in a thread of its own
(app/jobs.py), never on its event loop.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

from sqlalchemy import or_, text, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.config import Settings
from app.i18n import gettext as _
from app.i18n import ngettext
from app.organizations.models import Organization, Staff
from app.staff.requests import waiting_counts

log = logging.getLogger(__name__)

DIGEST_EVERY = timedelta(hours=24)
SMTP_TIMEOUT_SECONDS = 20.0
DIGEST_LOCK_KEY = 727_002  # PostgreSQL advisory lock: one worker at a time sends digests


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    implicit_tls: bool  # smtps://; smtp:// upgrades with STARTTLS when the server offers it
    username: str
    password: str
    sender: str


def smtp_server(settings: Settings) -> SmtpServer | None:
    """The mail server of PORTAL_SMTP_URL (checked by app/config.py), or None: no digests."""
    if not settings.smtp_url:
        return None
    parts = urlsplit(settings.smtp_url)
    implicit_tls = parts.scheme == "smtps"
    return SmtpServer(
        host=parts.hostname or "",
        port=parts.port or (465 if implicit_tls else 587),
        implicit_tls=implicit_tls,
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        sender=settings.smtp_from,
    )


@dataclass(frozen=True)
class Digest:
    staff_id: int
    to: str
    organization_name: str
    waiting: int
    overdue: int


def due_digests(session: Session, *, now: datetime) -> list[Digest]:
    """Who gets a digest now, with their organization's counts (counted once per
    organization); those with nothing waiting are left out."""
    rows = session.exec(
        select(Staff, Organization)
        .join(Organization, col(Organization.id) == col(Staff.organization_id))
        .where(
            col(Staff.digest_opt_in).is_(True),
            col(Staff.disabled_at).is_(None),
            or_(
                col(Staff.digest_sent_at).is_(None),
                col(Staff.digest_sent_at) <= now - DIGEST_EVERY,
            ),
        )
        .order_by(col(Staff.organization_id), col(Staff.id))
    ).all()
    counts: dict[int, tuple[int, int]] = {}
    digests: list[Digest] = []
    for staff, organization in rows:
        assert staff.id is not None and organization.id is not None
        if organization.id not in counts:
            counts[organization.id] = waiting_counts(
                session, organization_id=organization.id, now=now
            )
        waiting, overdue = counts[organization.id]
        if waiting == 0 and overdue == 0:
            continue
        digests.append(Digest(staff.id, staff.email, organization.name, waiting, overdue))
    return digests


def build_message(digest: Digest, *, sender: str, base_url: str, now: datetime) -> EmailMessage:
    """Counts, the organization's name and a link: nothing about any participant."""
    link = f"{base_url}/staff/requests"
    message = EmailMessage()
    message["Subject"] = ngettext(
        "%(num)d request to answer at %(organization)s",
        "%(num)d requests to answer at %(organization)s",
        digest.waiting,
        organization=digest.organization_name,
    )
    message["From"] = sender
    message["To"] = digest.to
    message["Date"] = formatdate(now.timestamp(), usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    # Mail clients must not answer with an out-of-office to every daily digest.
    message["Auto-Submitted"] = "auto-generated"
    lines = [
        ngettext(
            "%(num)d request waits for %(organization)s to answer.",
            "%(num)d requests wait for %(organization)s to answer.",
            digest.waiting,
            organization=digest.organization_name,
        ),
        ngettext(
            "%(num)d of them is overdue.",
            "%(num)d of them are overdue.",
            digest.overdue,
        ),
        "",
        _("See them and answer them: %(link)s", link=link),
        "",
        _(
            "You get this email once a day because you asked for it. To stop it, uncheck "
            "“Email me a daily summary of requests to answer” on %(home)s",
            home=f"{base_url}/staff",
        ),
    ]
    message.set_content("\n".join(lines) + "\n")
    return message


@contextmanager
def _connected(server: SmtpServer) -> Iterator[smtplib.SMTP]:
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if server.implicit_tls:
        smtp = smtplib.SMTP_SSL(
            server.host, server.port, timeout=SMTP_TIMEOUT_SECONDS, context=context
        )
    else:
        smtp = smtplib.SMTP(server.host, server.port, timeout=SMTP_TIMEOUT_SECONDS)
    try:
        smtp.ehlo()
        if not server.implicit_tls and smtp.has_extn("starttls"):
            smtp.starttls(context=context)
            smtp.ehlo()
        if server.username:
            smtp.login(server.username, server.password)
        yield smtp
    finally:
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


def _mark_sent(engine: Engine, staff_id: int, now: datetime) -> None:
    with Session(engine) as session:
        session.execute(update(Staff).where(col(Staff.id) == staff_id).values(digest_sent_at=now))
        session.commit()


@contextmanager
def _one_sender(engine: Engine) -> Iterator[bool]:
    """On PostgreSQL, one worker process at a time sends (else two would email everyone
    twice). A session-level lock, taken and released outside any transaction, so no
    transaction stays open while the mail server is slow."""
    if engine.dialect.name != "postgresql":
        yield True  # SQLite: one process, one worker
        return
    with engine.connect() as conn:
        got = bool(
            conn.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": DIGEST_LOCK_KEY}
            ).scalar()
        )
        conn.commit()
        try:
            yield got
        finally:
            if got:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": DIGEST_LOCK_KEY})
                conn.commit()


def send_due_digests(engine: Engine, settings: Settings, *, now: datetime) -> int:
    """Email everyone due a digest; returns how many the mail server accepted. Raises when
    the server cannot be reached (the caller logs it and tries again later)."""
    server = smtp_server(settings)
    if server is None:
        return 0
    with _one_sender(engine) as ours:
        if not ours:
            return 0  # another worker is sending right now
        with Session(engine) as session:
            digests = due_digests(session, now=now)
        if not digests:
            return 0
        sent = 0
        with _connected(server) as smtp:
            for digest in digests:
                message = build_message(
                    digest, sender=server.sender, base_url=settings.base_url, now=now
                )
                try:
                    smtp.send_message(message)
                except (
                    smtplib.SMTPRecipientsRefused,
                    smtplib.SMTPSenderRefused,
                    smtplib.SMTPDataError,
                ) as exc:
                    # One address refused: the others still get theirs; this one is tried
                    # again next run. (Logged by staff id: the address is personal data.)
                    log.warning(
                        "the mail server refused the digest for staff %s: %s", digest.staff_id, exc
                    )
                    continue
                # Marked one by one: a failure later in the run does not resend this one.
                _mark_sent(engine, digest.staff_id, now)
                sent += 1
        return sent
