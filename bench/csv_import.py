"""How fast Import a spreadsheet is, next to the least work that reads the same file.

Builds a fresh SQLite database (one organization, a plan of two purposes, one org admin), makes
a 10,000-row CSV (2,000 participants × 5 fields) and measures, one after the other:

- baseline:  `csv.DictReader` over the same bytes, rows only (no checks, no database);
- check:     `imports.check`: parse, check every row, compare with the organization's data;
- import:    `imports.apply`: check again, 2,000 enrollments with claim codes, 10,000 holdings,
             one commit;
- cards:     the 2,000 claim cards' QR codes (`qr_svg`), which the page after the import draws;
- re-check and re-import of the same file (nothing to change);
- http:      the same through the real app (`create_app`, TestClient): Check file, then Import
             with the signed file from the page, on a second organization, cards included.

Peak memory: tracemalloc's peak over one check, and the process's maximum RSS at the end.
The figures are printed; nothing here asserts timings. It fails loudly only when the import
does not do what it should (wrong counts), because then the figures would measure the wrong
thing.

    .venv/bin/python bench/csv_import.py [--participants 2000] [--fields 5]
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import re
import resource
import shutil
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlmodel import Session

from app.config import get_settings
from app.db import make_engine
from app.migrate import upgrade
from app.orgadmin import imports
from app.organizations.models import Organization
from app.organizations.schemas import PurposeIn
from app.organizations.service import create_organization, create_staff, upsert_purpose
from app.participants.service import claim_url
from app.staff.qr import qr_svg

TARGET_SECONDS = 10.0  # check + import of 10,000 rows on a 2-core machine
PASSWORD = "bench password that is long"
PURPOSE = {
    "title": {"en": "Services"},
    "description": {"en": "So we can help you."},
    "basis": "service",
    "categories": ["contact", "household"],
    "recipients": [],
    "retention_days": 365,
    "refusal_consequence": {"en": "We can't help without it."},
}
FIELDS = [
    ("phone", "Phone number", "contact", "services"),
    ("email", "Email address", "contact", "services"),
    ("household", "People at home", "household", "services"),
    ("income", "Monthly income", "household", "reports"),
    ("sleep", "Where you sleep now", "household", "services"),
]


def make_csv(participants: int, fields: int) -> bytes:
    out = io.StringIO()
    out.write("external_ref,field_key,label,category,value,purpose,source,collected_at,sensitive\n")
    for p in range(participants):
        for f in range(fields):
            key, label, category, purpose = FIELDS[f % len(FIELDS)]
            out.write(
                f"P-{p:06d},{key}{f // len(FIELDS) or ''},{label},{category},"
                f"value {p}-{f},{purpose},Intake form,2026-10-01,{'yes' if f == 3 else ''}\n"
            )
    return out.getvalue().encode()


def timed(run: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = run()
    return time.perf_counter() - start, result


def baseline(content: bytes) -> int:
    return sum(1 for _ in csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def organization_with_plan(session: Session, slug: str) -> Organization:
    organization, _key = create_organization(session, name=f"Bench {slug}", slug=slug)
    for key in ("services", "reports"):
        upsert_purpose(
            session, organization=organization, key=key, data=PurposeIn.model_validate(PURPOSE)
        )
    session.commit()
    return organization


def expect(what: str, got: object, wanted: object) -> None:
    if got != wanted:
        raise SystemExit(f"{what}: got {got}, expected {wanted}; the figures would be wrong")


def over_http(engine: Any, content: bytes, rows: int, participants: int) -> tuple[float, float]:
    from fastapi.testclient import TestClient

    from app.main import create_app

    with Session(engine, expire_on_commit=False) as session:
        organization = organization_with_plan(session, "bench-http")
        create_staff(
            session,
            organization=organization,
            email="admin@bench-http.example",
            role="org_admin",
            password=PASSWORD,
        )
        session.commit()
    token_re = re.compile(r'name="csrf_token" value="([^"]+)"')
    with TestClient(create_app(get_settings()), base_url="http://127.0.0.1") as client:
        token = token_re.search(client.get("/staff/login").text)
        assert token
        login = {"email": "admin@bench-http.example", "password": PASSWORD}
        client.post("/staff/login", data={**login, "csrf_token": token.group(1)})
        form = client.get("/staff/org/import")
        expect("import page", form.status_code, 200)
        token = token_re.search(form.text)
        assert token
        files = {"file": ("people.csv", content, "text/csv")}
        check_s, page = timed(
            lambda: client.post(
                "/staff/org/import/check", data={"csrf_token": token.group(1)}, files=files
            )
        )
        expect("check page", page.status_code, 200)
        fields = {
            "csrf_token": token_re.findall(page.text)[-1],
            "checked": re.findall(r'name="checked" value="([^"]+)"', page.text),
        }
        import_s, done = timed(lambda: client.post("/staff/org/import", data=fields))
        expect("import page", done.status_code, 200)
        expect("claim cards", done.text.count('class="claim-card page-break"'), participants)
        expect("created", re.search(r'id="summary-created">(\d+)<', done.text).group(1), str(rows))  # type: ignore[union-attr]
    return check_s, import_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=2000)
    parser.add_argument("--fields", type=int, default=5)
    parser.add_argument("--no-http", action="store_true", help="skip the run through the app")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-csv-import-"))
    try:
        os.environ.update(
            {
                "DATABASE_URL": f"sqlite:///{folder / 'bench.db'}",
                "PORTAL_ENV": "development",
                "PORTAL_SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
                "PORTAL_BASE_URL": "http://127.0.0.1",
                "PORTAL_ARGON2_MEMORY_KIB": "1024",
                "PORTAL_ARGON2_TIME_COST": "1",
            }
        )
        get_settings.cache_clear()
        settings = get_settings()
        upgrade(settings.database_url)
        engine = make_engine(settings.database_url)
        content = make_csv(args.participants, args.fields)
        rows = args.participants * args.fields
        print(f"file: {rows} rows, {args.participants} participants, {len(content) / 1e6:.2f} MB")

        base_s, count = timed(lambda: baseline(content))
        expect("baseline rows", count, rows)
        with Session(engine, expire_on_commit=False) as session:
            organization = organization_with_plan(session, "bench")
            check_s, checked = timed(lambda: imports.check(session, organization, content))
            expect("problems", checked.problems, [])
            expect("new participants", len(checked.new_refs), args.participants)
            session.rollback()
            tracemalloc.start()
            imports.check(session, organization, content)
            peak_mb = tracemalloc.get_traced_memory()[1] / 1e6
            tracemalloc.stop()
            session.rollback()
            import_s, result = timed(lambda: imports.apply(session, organization, content))
            assert isinstance(result, imports.Result)
            expect("created", result.created, rows)
            cards_s, _cards = timed(
                lambda: [
                    qr_svg(claim_url(settings.base_url, p.claim_code), title="QR", batch=True)
                    for p in result.new_participants
                ]
            )
            recheck_s, again = timed(lambda: imports.check(session, organization, content))
            expect("unchanged on re-check", again.unchanged, rows)
            session.rollback()
            reimport_s, same = timed(lambda: imports.apply(session, organization, content))
            assert isinstance(same, imports.Result)
            expect("re-import", (same.created, same.changed, len(same.new_participants)), (0, 0, 0))

        def line(name: str, seconds: float) -> None:
            print(f"{name:<30} {seconds:8.3f} s   {seconds / base_s:8.1f}× baseline")

        print(f"{'baseline (csv.DictReader)':<30} {base_s:8.3f} s")
        line("check", check_s)
        line("import (check again + write)", import_s)
        line("claim cards' QR codes", cards_s)
        line("re-check", recheck_s)
        line("re-import (no changes)", reimport_s)
        total = check_s + import_s
        print(f"check + import: {total:.2f} s (target < {TARGET_SECONDS:.0f} s)")
        print(f"check + import + cards: {total + cards_s:.2f} s")
        if not args.no_http:
            http_check, http_import = over_http(engine, content, rows, args.participants)
            line("http: Check file", http_check)
            line("http: Import (with cards)", http_import)
            print(f"http check + import: {http_check + http_import:.2f} s")
        print(f"tracemalloc peak during check: {peak_mb:.1f} MB")
        maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"process max RSS: {maxrss_mb:.0f} MB")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
