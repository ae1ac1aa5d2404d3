"""How fast the participant's home page is, next to the fastest page that could show the same.

Builds a fresh SQLite database through the real services (5 organizations × 40 holdings ×
20 disclosures for one signed-in participant), then serves and measures, one after the other
on this machine:

- home:       the real app, `create_app(settings)`, GET / with the participant's session
              cookie; every request reads and renders everything (nothing is kept between
              visits), so every view is as fresh as the first one after a change;
- floor:      a minimal FastAPI app whose one endpoint reads the same rows with plain SQL
              (sqlite3), decrypts what is stored encrypted, and renders the same information
              per row (label, value, purpose, basis, source and date, how long it is kept, a
              correction link; each disclosure's purpose and consent; the purposes) with one
              small Jinja2 template;
- floor-lean: the same floor showing less (labels, values, categories and purpose titles
              only), as the floor did before 2026-12-07: for comparison with older figures.

Each runs in its own uvicorn process (one worker) on a free loopback port and is driven by
wrk. The figures are printed, with the targets beside them; nothing here asserts timings.
It fails loudly only when a page is not what it should be (a redirect, a missing
organization), because then the figures would measure the wrong thing.

    .venv/bin/python bench/home_page.py [--duration 10] [--warmup 3] [--connections 32]

See bench/README.md.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment
from sqlmodel import Session

from app.config import get_settings
from app.consent.notice import build_notice
from app.consent.service import decide
from app.db import make_engine, utcnow
from app.disclosures.schemas import DisclosureIn
from app.disclosures.service import record_disclosure
from app.holdings.schemas import HoldingIn
from app.holdings.service import upsert_holding
from app.main import create_app
from app.migrate import upgrade
from app.organizations.schemas import PurposeIn, RecipientRef
from app.organizations.service import create_organization, find_purpose, upsert_purpose
from app.participants.service import create_account_by_claim, enroll, find_claim, link_enrollment
from app.security.fields import FieldKeys
from app.security.sessions import start_session

ROOT = Path(__file__).resolve().parent.parent

ORGANIZATIONS = 5
HOLDINGS_PER_ORGANIZATION = 40
DISCLOSURES_PER_ORGANIZATION = 20
SESSION_COOKIE = "portal_session"
VISITOR_COOKIE = "portal_visitor"
VISITOR = "b" * 32  # a returning browser: no new visitor cookie on every response

SINGLE_CONNECTION_SECONDS = 3
TARGET_THROUGHPUT_RATIO = 0.40
TARGET_P95_MS = 100.0
TARGET_COMPRESSED_KB = 60.0
GZIP_LEVEL = 6  # zlib's default, and what `gzip` and most reverse proxies use

ORGANIZATION_NAMES = [
    ("northside", "Northside Food Shelf"),
    ("cedar-housing", "Cedar Housing Partners"),
    ("lakeside-youth", "Lakeside Youth Program"),
    ("riverside-health", "Riverside Health Collective"),
    ("eastgate-legal", "Eastgate Legal Aid"),
]
# (label, category, purpose key); each organization holds 40, numbered, drawn in turn.
HOLDING_KINDS = [
    ("Phone number", "contact", "services"),
    ("Email address", "contact", "services"),
    ("People in your household", "household", "services"),
    ("Monthly income", "income", "services"),
    ("Where you sleep now", "housing", "housing-referral"),
    ("Visits this year", "services", "funder-report"),
    ("School", "education", "services"),
    ("Mobility needs", "health", "health-support"),
    ("Benefits you receive", "benefits", "state-report"),
    ("Your goals", "goals", "services"),
]


# --- the environment both servers and the loader share -----------------------------------


def bench_environment(database_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database_path}",
        "PORTAL_ENV": "development",
        "PORTAL_SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
        "PORTAL_BASE_URL": "http://127.0.0.1",
        # Cheap argon2: the loader creates one account; hashing cost is not what we measure.
        "PORTAL_ARGON2_MEMORY_KIB": "1024",
        "PORTAL_ARGON2_TIME_COST": "1",
        # A day: the session must not expire while wrk is running.
        "PORTAL_SESSION_IDLE_MINUTES": "1440",
    }


# --- building the database through the real services --------------------------------------


def build_database(database_path: Path) -> str:
    """Migrate a fresh SQLite file, load the participant's data, and return a session token."""
    get_settings.cache_clear()  # read the environment main() set up, not an earlier one
    settings = get_settings()
    if settings.database_url != f"sqlite:///{database_path}":
        raise SystemExit(f"refusing to load into {settings.database_url}")
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    today = date.today()
    with Session(engine, expire_on_commit=False) as session:
        organizations = [
            create_organization(session, name=name, slug=slug)[0]
            for slug, name in ORGANIZATION_NAMES
        ]
        participant = None
        for index, organization in enumerate(organizations):
            partner = organizations[(index + 1) % len(organizations)]
            for key, data in _plan(partner.slug, partner.name).items():
                upsert_purpose(
                    session, organization=organization, key=key, data=PurposeIn.model_validate(data)
                )
            enrollment, code = enroll(
                session,
                organization=organization,
                external_ref=f"REF-{index + 1:04d}",
                preferred_language="en",
            )
            claim = find_claim(session, code)
            assert claim is not None
            if participant is None:
                participant, _recovery_code = create_account_by_claim(
                    session,
                    claim=claim,
                    username="bench-participant",
                    pin="482913",
                    confirm_pin="482913",
                    language="en",
                )
            else:
                link_enrollment(session, claim=claim, participant=participant)

            field_keys = []
            for number in range(HOLDINGS_PER_ORGANIZATION):
                label, category, purpose = HOLDING_KINDS[number % len(HOLDING_KINDS)]
                field_key = f"{category}_{number:02d}"
                field_keys.append(field_key)
                upsert_holding(
                    session,
                    enrollment=enrollment,
                    field_key=field_key,
                    data=HoldingIn(
                        label=f"{label} ({number + 1})",
                        category=category,
                        value=f"Recorded value number {number + 1} for {organization.name}",
                        purpose=purpose,
                        source="Intake form" if number % 3 else "Phone call with Casey",
                        collected_at=today - timedelta(days=number * 7),
                    ),
                )

            for key in ("housing-referral", "health-support"):
                purpose = find_purpose(session, organization_id=organization.id or 0, key=key)
                assert purpose is not None
                decide(
                    session,
                    enrollment=enrollment,
                    organization=organization,
                    purpose=purpose,
                    state="given",
                    method="self" if key == "housing-referral" else "assisted",
                    recorded_by=None if key == "housing-referral" else "Casey Morgan",
                    notice=build_notice(purpose, organization, "en"),
                    base_url=settings.base_url,
                )
            session.flush()

            recipients = [
                ("housing-referral", RecipientRef(name=partner.name, organization=partner.slug)),
                ("funder-report", RecipientRef(name="Second Harvest Heartland")),
                ("state-report", RecipientRef(name="Hennepin County HMIS")),
                ("health-support", RecipientRef(name="Metro Health Clinic")),
            ]
            for number in range(DISCLOSURES_PER_ORGANIZATION):
                purpose_key, recipient = recipients[number % len(recipients)]
                record_disclosure(
                    session,
                    enrollment=enrollment,
                    data=DisclosureIn(
                        recipient=recipient,
                        purpose=purpose_key,
                        field_keys=[
                            field_keys[(number * 3 + k) % len(field_keys)] for k in (0, 1, 2)
                        ],
                        disclosed_at=utcnow() - timedelta(days=number * 5 + 1),
                    ),
                )
        assert participant is not None
        token = start_session(session, kind="participant", participant_id=participant.id)
        session.commit()
    engine.dispose()
    return token


def _plan(partner_slug: str, partner_name: str) -> dict[str, dict[str, object]]:
    """Five purposes: two on consent (one sensitive), three on other bases."""
    return {
        "services": {
            "title": {"en": "Giving you our services", "es": "Darle nuestros servicios"},
            "description": {"en": "What we need to help you each week."},
            "basis": "service",
            "categories": ["contact", "household", "income", "education", "goals"],
            "retention_days": 730,
        },
        "housing-referral": {
            "title": {"en": f"Sharing with {partner_name} for housing help"},
            "description": {"en": "If you agree, we send your details so they can call you."},
            "basis": "consent",
            "categories": ["housing", "contact"],
            "recipients": [
                {"name": partner_name, "organization": partner_slug, "reason": "referrals"}
            ],
            "retention_days": 365,
            "refusal_consequence": {"en": "Nothing changes here."},
        },
        "health-support": {
            "title": {"en": "Connecting you with health support"},
            "basis": "consent",
            "categories": ["health"],
            "recipients": [{"name": "Metro Health Clinic"}],
            "sensitive": True,
            "retention_days": 365,
        },
        "funder-report": {
            "title": {"en": "Reporting visit counts to our funder"},
            "basis": "funder_contract",
            "categories": ["services"],
            "recipients": [{"name": "Second Harvest Heartland", "reason": "grant reporting"}],
            "retention_days": 1095,
        },
        "state-report": {
            "title": {"en": "Reporting to the county's homeless system (HMIS)"},
            "basis": "legal_obligation",
            "categories": ["benefits"],
            "recipients": [{"name": "Hennepin County HMIS"}],
            "retention_days": 2555,
        },
    }


# --- the floor: the same rows, plain SQL, one template -------------------------------------

FLOOR_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Your data</title></head>
<body><main><h1>Your data</h1>
{% for org in organizations %}
<section><h2>{{ org.name }}</h2>
<ul>{% for h in org.holdings %}
<li class="holding"><p>{{ h.label }}</p><p>{{ h.value }}</p><p>{{ h.category }}</p><p>{{ h.purpose }}</p>
{%- if full %}<p>{{ h.basis }}</p><p>{{ h.source }}, {{ h.collected }}</p><p>{{ h.kept }}</p><p><a href="/holdings/{{ h.id }}/correction">Request a correction</a></p>{% endif %}</li>
{% endfor %}</ul>
<ul>{% for d in org.disclosures %}
<li class="disclosure"><p>{{ d.recipient }}</p><p>{{ d.date }}</p><p>{{ d.labels|join(", ") }}</p>
{%- if full %}<p>{{ d.purpose }}</p><p>{{ d.allowed }}</p>{% endif %}</li>
{% endfor %}</ul>
<ul>{% for c in org.consents %}
<li class="consent"><p>{{ c.purpose }}</p><p>{{ c.state }}</p><p>{{ c.expires }}</p></li>
{% endfor %}</ul>
{% if full %}<ul>{% for p in org.purposes %}
<li class="purpose"><p>{{ p.title }}</p><p>{{ p.basis }}</p><p>{{ p.kept }}</p></li>
{% endfor %}</ul>{% endif %}
</section>
{% endfor %}
</main></body></html>
"""

# The floor's words for a basis: English only, no translation catalogue.
FLOOR_BASIS = {
    "consent": "Your consent",
    "service": "Needed to give you the service",
    "funder_contract": "A contract with a funder",
    "legal_obligation": "The law requires it",
}


def floor_app(database_path: str, *, full: bool = True) -> FastAPI:
    """The least work that shows the same information: session → participant → rows → HTML.

    `full` shows what the home page shows of each row (basis, source and date, how long it is
    kept, a correction link; each disclosure's purpose and basis or consent; the purposes);
    without it, only labels, values, categories and purpose titles, as the floor did before
    2026-12-07."""
    connection = sqlite3.connect(database_path, check_same_thread=False)
    template = Environment(autoescape=True).from_string(FLOOR_TEMPLATE)
    # The participant's words are stored encrypted (app/security/fields.py): showing the same
    # information includes decrypting them, with the same keys and the same cipher.
    keys = FieldKeys(get_settings().field_keys)

    def plain(stored: str | None, column: str) -> str:
        return keys.decrypt(stored, column=column) if stored else ""

    app = FastAPI()

    @app.get("/", response_class=HTMLResponse)
    async def home(request: Request) -> HTMLResponse:
        token = request.cookies.get(SESSION_COOKIE, "")
        row = connection.execute(
            "SELECT participant_id FROM web_session WHERE token_hash = ? AND revoked_at IS NULL",
            (hashlib.sha256(token.encode()).hexdigest(),),
        ).fetchone()
        if row is None:
            return HTMLResponse("signed out", status_code=401)
        participant_id = row[0]
        organizations = {
            enrollment_id: {
                "name": name,
                "holdings": [],
                "disclosures": [],
                "consents": [],
                "purposes": [],
            }
            for enrollment_id, name in connection.execute(
                "SELECT e.id, o.name FROM enrollment e JOIN organization o"
                " ON o.id = e.organization_id WHERE e.participant_id = ? ORDER BY o.name",
                (participant_id,),
            )
        }
        labels: dict[str, dict[str, str]] = {e: {} for e in organizations}
        for (
            holding_id,
            enrollment_id,
            field_key,
            label,
            value,
            source,
            category,
            collected_at,
            retain_until,
            title,
            basis,
            retention_days,
        ) in connection.execute(
            "SELECT h.id, h.enrollment_id, h.field_key, h.label, h.value, h.source, h.category,"
            " h.collected_at, h.retain_until, p.title, p.basis, p.retention_days"
            " FROM holding h JOIN enrollment e ON e.id = h.enrollment_id"
            " JOIN purpose p ON p.id = h.purpose_id"
            " WHERE e.participant_id = ? AND h.deleted_at IS NULL ORDER BY h.category",
            (participant_id,),
        ):
            label = plain(label, "holding.label")
            labels[enrollment_id][field_key] = label
            organizations[enrollment_id]["holdings"].append(
                {
                    "id": holding_id,
                    "label": label,
                    "value": plain(value, "holding.value"),
                    "source": plain(source, "holding.source"),
                    "category": category,
                    "purpose": json.loads(title)["en"],
                    "basis": FLOOR_BASIS.get(basis, basis),
                    "collected": collected_at or "",
                    "kept": retain_until or f"{retention_days} days after collection",
                }
            )
        for (
            enrollment_id,
            recipient,
            disclosed_at,
            field_keys,
            title,
            basis,
            state,
        ) in connection.execute(
            "SELECT d.enrollment_id, d.recipient_name, d.disclosed_at, d.field_keys,"
            " p.title, p.basis, d.consent_state"
            " FROM disclosure d JOIN enrollment e ON e.id = d.enrollment_id"
            " JOIN purpose p ON p.id = d.purpose_id"
            " WHERE e.participant_id = ? ORDER BY d.disclosed_at DESC",
            (participant_id,),
        ):
            organizations[enrollment_id]["disclosures"].append(
                {
                    "recipient": plain(recipient, "disclosure.recipient_name"),
                    "date": disclosed_at[:10],
                    "labels": [labels[enrollment_id].get(k, k) for k in json.loads(field_keys)],
                    "purpose": json.loads(title)["en"],
                    "allowed": (
                        ("Your consent covered it" if state == "given" else "It did not")
                        if basis == "consent"
                        else FLOOR_BASIS.get(basis, basis)
                    ),
                }
            )
        for enrollment_id, title, state, expires_at in connection.execute(
            "SELECT c.enrollment_id, p.title, c.state, c.expires_at"
            " FROM consent c JOIN enrollment e ON e.id = c.enrollment_id"
            " JOIN purpose p ON p.id = c.purpose_id"
            " WHERE e.participant_id = ? AND c.created_at = (SELECT max(created_at) FROM consent"
            " WHERE enrollment_id = c.enrollment_id AND purpose_id = c.purpose_id)"
            " ORDER BY p.key",
            (participant_id,),
        ):
            organizations[enrollment_id]["consents"].append(
                {
                    "purpose": json.loads(title)["en"],
                    "state": state,
                    "expires": (expires_at or "")[:10],
                }
            )
        if full:
            for enrollment_id, title, basis, retention_days in connection.execute(
                "SELECT e.id, p.title, p.basis, p.retention_days FROM purpose p"
                " JOIN enrollment e ON e.organization_id = p.organization_id"
                " WHERE e.participant_id = ? ORDER BY p.key",
                (participant_id,),
            ):
                organizations[enrollment_id]["purposes"].append(
                    {
                        "title": json.loads(title)["en"],
                        "basis": FLOOR_BASIS.get(basis, basis),
                        "kept": f"{retention_days} days",
                    }
                )
        return HTMLResponse(template.render(organizations=list(organizations.values()), full=full))

    return app


# --- serving ---------------------------------------------------------------------------------


def serve(which: str, port: int, database_path: str) -> None:
    """Runs in the child process: one uvicorn process, no access log (for either app)."""
    if which == "home":
        application = create_app(get_settings())  # run_worker=False: no webhook worker
    else:
        application = floor_app(database_path, full=which == "floor")
    uvicorn.run(application, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(which: str, database_path: Path, env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    command = [sys.executable, __file__, "serve", which, str(port), str(database_path)]
    log_path = database_path.parent / f"{which}.log"  # a file, not a pipe: a full pipe blocks
    with log_path.open("w") as log:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise SystemExit(f"{which} server exited at start:\n{log_path.read_text()}")
            try:
                httpx.get(f"{url}/static/none", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"{which} server did not start within 30 s") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        if log_path.stat().st_size:
            print(f"{which} server said:\n{log_path.read_text()[-2000:]}", file=sys.stderr)


# --- checking the page before measuring it -------------------------------------------------


def fetch_verified_page(url: str, cookies: dict[str, str], org_names: list[str]) -> httpx.Response:
    """The full page, or SystemExit: a redirect to /login would be very fast and mean nothing."""
    response = httpx.get(f"{url}/", cookies=cookies, follow_redirects=False, timeout=30)
    problems = []
    if response.status_code != 200:
        problems.append(
            f"status {response.status_code} (location: {response.headers.get('location')})"
        )
    missing = [name for name in org_names if escape(name) not in response.text]
    if missing:
        problems.append(f"organizations missing: {', '.join(missing)}")
    holdings = len(re.findall(r'<li class="holding[ "]', response.text))
    disclosures = len(re.findall(r'<li class="disclosure[ "]', response.text))
    if holdings != ORGANIZATIONS * HOLDINGS_PER_ORGANIZATION:
        problems.append(
            f"{holdings} holdings shown, not {ORGANIZATIONS * HOLDINGS_PER_ORGANIZATION}"
        )
    if disclosures != ORGANIZATIONS * DISCLOSURES_PER_ORGANIZATION:
        problems.append(
            f"{disclosures} disclosures shown, not {ORGANIZATIONS * DISCLOSURES_PER_ORGANIZATION}"
        )
    if problems:
        raise SystemExit(f"{url}/ is not the full home page: " + "; ".join(problems))
    return response


# --- driving with wrk ------------------------------------------------------------------------

# wrk calls done() once at the end; latency percentiles are in microseconds.
WRK_REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH %d %d %d %d %d %d %d %d %d\\n",
    summary.requests, summary.duration, summary.bytes,
    e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


@dataclass
class WrkResult:
    requests: int
    seconds: float
    bytes_read: int
    socket_errors: int
    status_errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds

    @property
    def bytes_per_response(self) -> float:
        return self.bytes_read / max(self.requests, 1)


def run_wrk(
    url: str, cookie_header: str, *, seconds: int, connections: int, threads: int, script: Path
) -> WrkResult:
    command = [
        "wrk",
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={seconds}s",
        "--timeout=10s",  # a slow response is a latency, not an error
        f"--script={script}",
        f"--header=Cookie: {cookie_header}",
        f"{url}/",
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next((ln for ln in output.splitlines() if ln.startswith("BENCH ")), None)
    if line is None:
        raise SystemExit(f"could not read wrk's output:\n{output}")
    n = [int(x) for x in line.split()[1:]]
    return WrkResult(
        requests=n[0],
        seconds=n[1] / 1e6,
        bytes_read=n[2],
        socket_errors=n[3],
        status_errors=n[4],
        p50_ms=n[5] / 1000,
        p95_ms=n[6] / 1000,
        p99_ms=n[7] / 1000,
        max_ms=n[8] / 1000,
    )


def check_responses(name: str, result: WrkResult, page_bytes: int) -> None:
    """Every response must have been the page: wrk counts a 303 to /login as a success."""
    if result.requests == 0 or result.socket_errors or result.status_errors:
        raise SystemExit(
            f"{name}: {result.requests} requests, {result.socket_errors} socket errors, "
            f"{result.status_errors} error statuses"
        )
    # wrk counts header bytes too, so full pages average at least the page's size.
    if result.bytes_per_response < page_bytes:
        raise SystemExit(
            f"{name}: {result.bytes_per_response:.0f} bytes per response, but the page is "
            f"{page_bytes}: some responses were not the full page"
        )


@dataclass
class Measured:
    loaded: WrkResult  # at the chosen concurrency
    single: WrkResult  # at one connection: the time one request takes, without queueing


def measure(
    name: str, url: str, cookie_header: str, script: Path, args: argparse.Namespace, page_bytes: int
) -> Measured:
    def wrk(seconds: int, connections: int, threads: int) -> WrkResult:
        result = run_wrk(
            url,
            cookie_header,
            seconds=seconds,
            connections=connections,
            threads=threads,
            script=script,
        )
        check_responses(name, result, page_bytes)
        # wrk stops without waiting: the server still owes answers to the requests in flight.
        # One more request waits behind them, so the next run starts on an idle server.
        httpx.get(f"{url}/", headers={"Cookie": cookie_header}, timeout=60)
        return result

    wrk(args.warmup, args.connections, args.threads)  # discarded
    loaded = wrk(args.duration, args.connections, args.threads)
    single = wrk(SINGLE_CONNECTION_SECONDS, 1, 1)
    return Measured(loaded=loaded, single=single)


# --- page weight -----------------------------------------------------------------------------


class References(HTMLParser):
    """Every src/href, and which of them are stylesheets and scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.assets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("src", "href"):
            if values.get(name):
                self.urls.append(values[name] or "")
        if tag == "script" and values.get("src"):
            self.assets.append(values["src"] or "")
        if tag == "link" and values.get("rel") == "stylesheet" and values.get("href"):
            self.assets.append(values["href"] or "")


def gzipped_size(body: bytes) -> int:
    return len(gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0))


@dataclass
class PageWeight:
    rows: list[tuple[str, int, int]]  # (what, raw bytes, gzip bytes)
    third_party: list[str]
    served_compressed: bool

    @property
    def total_compressed(self) -> int:
        return sum(gz for _name, _raw, gz in self.rows)


def page_weight(url: str, page: httpx.Response) -> PageWeight:
    references = References()
    references.feed(page.text)
    own_host = urlsplit(url).netloc
    third_party = [
        u
        for u in references.urls
        if (u.startswith(("http://", "https://", "//")) and urlsplit(u).netloc != own_host)
    ]
    rows = [("HTML (GET /)", len(page.content), gzipped_size(page.content))]
    for asset in references.assets:
        response = httpx.get(urljoin(f"{url}/", asset), timeout=30)
        if response.status_code != 200:
            raise SystemExit(f"{asset} referenced by the page answers {response.status_code}")
        rows.append((urlsplit(asset).path, len(response.content), gzipped_size(response.content)))
    return PageWeight(
        rows=rows,
        third_party=third_party,
        served_compressed=page.headers.get("content-encoding") == "gzip",
    )


# --- the report ------------------------------------------------------------------------------


def print_report(
    results: dict[str, Measured],
    weight: PageWeight,
    args: argparse.Namespace,
    load_before: float,
) -> None:
    home, floor = results["home"].loaded, results["floor"].loaded
    print()
    print(
        f"Home page: {ORGANIZATIONS} organizations × {HOLDINGS_PER_ORGANIZATION} holdings × "
        f"{DISCLOSURES_PER_ORGANIZATION} disclosures. uvicorn, 1 process each; wrk "
        f"{args.threads} threads, {args.connections} connections, {args.duration} s after a "
        f"{args.warmup} s warm-up, then 1 connection for {SINGLE_CONNECTION_SECONDS} s. "
        f"Load average before: {load_before:.2f}"
    )
    print()
    print(
        f"{'':16} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} "
        f"{'KB/resp':>8}"
    )
    rows = [(f"{name} @{args.connections}", m.loaded) for name, m in results.items()]
    rows += [(f"{name} @1", m.single) for name, m in results.items()]
    for label, r in rows:
        print(
            f"{label:16} {r.requests_per_second:9.1f} {r.p50_ms:8.1f} {r.p95_ms:8.1f} "
            f"{r.p99_ms:8.1f} {r.max_ms:8.1f} {r.bytes_per_response / 1024:8.1f}"
        )
    ratio = home.requests_per_second / floor.requests_per_second
    lean = results["floor-lean"].loaded
    single = results["home"].single
    print()
    print(f"home / floor throughput: {ratio:.0%}   (target ≥ {TARGET_THROUGHPUT_RATIO:.0%})")
    print(
        f"home / floor-lean:       {home.requests_per_second / lean.requests_per_second:.0%}"
        "   (the floor without basis, source, retention and purposes, as before)"
    )
    print(
        f"home p95 @{args.connections}:            {home.p95_ms:.1f} ms   "
        f"(target < {TARGET_P95_MS:.0f} ms); @1: {single.p95_ms:.1f} ms"
    )
    # One process serves one request at a time: under load, latency is mostly queueing.
    print(
        f"  (one process queues: p50 ≈ {args.connections} / req/s = "
        f"{args.connections / home.requests_per_second * 1000:.0f} ms; @1 is the service time)"
    )
    print()
    print(f"Page weight (gzip -{GZIP_LEVEL})")
    print(f"  {'':36} {'raw KB':>8} {'gzip KB':>8}")
    for what, raw, gz in weight.rows:
        print(f"  {what:36} {raw / 1024:8.1f} {gz / 1024:8.1f}")
    print(
        f"  {'total compressed':36} {'':8} {weight.total_compressed / 1024:8.1f}"
        f"   (target < {TARGET_COMPRESSED_KB:.0f} KB)"
    )
    print(
        "  served compressed by the app: "
        + (
            "yes"
            if weight.served_compressed
            else "no (Content-Encoding absent; sizes above are gzip -6)"
        )
    )
    print(
        "  third-party URLs in src/href: "
        + (", ".join(weight.third_party) if weight.third_party else "none")
    )


# --- main ------------------------------------------------------------------------------------


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds measured (10)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds discarded first (3)")
    parser.add_argument("--connections", type=int, default=32, help="open connections (32)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")

    load_before = os.getloadavg()[0]  # other work on the machine skews every figure
    workdir = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    try:
        database_path = workdir / "bench.db"
        env = bench_environment(database_path)
        os.environ.update(env)  # the loader reads the same settings as the servers
        print(f"Building {database_path} …", flush=True)
        token = build_database(database_path)
        cookies = {SESSION_COOKIE: token, VISITOR_COOKIE: VISITOR}
        cookie_header = "; ".join(f"{k}={v}" for k, v in cookies.items())
        org_names = [name for _slug, name in ORGANIZATION_NAMES]
        script = workdir / "report.lua"
        script.write_text(WRK_REPORT)

        results: dict[str, Measured] = {}
        weight = None
        for which in ("home", "floor", "floor-lean"):
            with running_server(which, database_path, env) as url:
                page = fetch_verified_page(url, cookies, org_names)
                if which == "home":
                    weight = page_weight(url, page)
                print(f"Measuring {which} ({len(page.content) / 1024:.0f} KB page) …", flush=True)
                results[which] = measure(which, url, cookie_header, script, args, len(page.content))
                fetch_verified_page(url, cookies, org_names)  # still signed in at the end
        assert weight is not None
        print_report(results, weight, args, load_before)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
