"""What each participant page weighs, and how soon the home page is usable on Slow 3G.

Builds a fresh SQLite database with bench/home_page.py's builder (one participant, 5
organizations × 40 holdings × 20 disclosures, consents given), serves the real app
(`create_app`) with uvicorn on a free loopback port, and prints:

1. per page (log in, claim, home, consent, receipt, activity, correction form, account,
   printable record): the HTML raw and as sent (the app compresses it), the scripts, images
   and icons it references (gzip -6), the total, and every URL on another host (there should be
   none); and what compressing the home page costs the server;
2. the home page in Chromium (Debian's, through Playwright) on DevTools' "Slow 3G" profile,
   set through the DevTools protocol, in three situations: cold (nothing cached: the home
   page as the first page ever opened), after logging in (the login page opened first on the
   same slow network, as a participant does), and warm (everything cached). For each: when
   the page is usable — its HTML parsed and painted with its styles (domInteractive, and the
   first contentful paint): every link and form works from then on, without JavaScript — and
   when HTMX's enhancements are ready (DOMContentLoaded, after the deferred scripts).

Figures only: nothing here asserts them. It stops when a page is not what it should be (a
redirect to /login would weigh little and mean nothing).

    .venv/bin/python bench/page_weight.py [--runs 3]

See bench/README.md.
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
from home_page import (  # bench/ is on sys.path when this file is run
    GZIP_LEVEL,
    ORGANIZATION_NAMES,
    SESSION_COOKIE,
    TARGET_COMPRESSED_KB,
    VISITOR,
    VISITOR_COOKIE,
    bench_environment,
    build_database,
    fetch_verified_page,
    gzipped_size,
    running_server,
)
from sqlmodel import Session, select

CHROMIUM = "/usr/bin/chromium"
TARGET_USABLE_S = 3.0

# Chrome DevTools' "Slow 3G" preset (SDK.NetworkManager): 500 kbit/s × 0.8 each way, and
# 400 ms × 5 of latency, added by the browser to every request.
SLOW_3G = {
    "offline": False,
    "downloadThroughput": 500 * 1024 / 8 * 0.8,  # 51,200 bytes/s
    "uploadThroughput": 500 * 1024 / 8 * 0.8,  # 51,200 bytes/s
    "latency": 400 * 5,  # 2,000 ms
}

TIMINGS = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const paint = name => {
    const entry = performance.getEntriesByName(name)[0];
    return entry ? entry.startTime : null;
  };
  return {
    ttfb: nav.responseStart,
    interactive: nav.domInteractive,
    dcl: nav.domContentLoadedEventEnd,
    load: nav.loadEventEnd,
    fp: paint('first-paint'),
    fcp: paint('first-contentful-paint'),
    transferred: nav.transferSize,
  };
}"""


# --- the pages ---------------------------------------------------------------------------------


@dataclass
class Ids:
    """What the participant pages' addresses need, read back from the database."""

    enrollment: str
    purpose: str
    consent: str
    holding: str
    claim_code: str  # a fresh code for a new enrollment: the page a new participant opens


def read_ids(database_path: Path) -> Ids:
    from app.consent.models import Consent
    from app.db import make_engine
    from app.holdings.models import Holding
    from app.organizations.service import get_organization
    from app.participants.models import Enrollment
    from app.participants.service import enroll

    engine = make_engine(f"sqlite:///{database_path}")
    with Session(engine, expire_on_commit=False) as session:
        enrollment = session.exec(
            select(Enrollment).where(Enrollment.external_ref == "REF-0001")
        ).one()
        consent = session.exec(
            select(Consent).where(Consent.enrollment_id == enrollment.id).limit(1)
        ).one()
        holding = session.exec(
            select(Holding).where(Holding.enrollment_id == enrollment.id).limit(1)
        ).one()
        organization = get_organization(session, ORGANIZATION_NAMES[0][0])
        assert organization is not None
        _new, code = enroll(
            session, organization=organization, external_ref="REF-NEW", preferred_language="en"
        )
        session.commit()
    engine.dispose()
    return Ids(
        enrollment=enrollment.id,
        purpose="housing-referral",
        consent=consent.id,
        holding=holding.id,
        claim_code=code,
    )


def pages(ids: Ids) -> list[tuple[str, str, bool]]:
    """(name, path, signed in)"""
    return [
        ("log in", "/login", False),
        ("claim (create an account)", f"/claim/{ids.claim_code}", False),
        ("home (5 organizations)", "/", True),
        ("consent (withdraw)", f"/consents/{ids.enrollment}/{ids.purpose}?decision=withdraw", True),
        ("consent receipt", f"/consents/receipts/{ids.consent}", True),
        ("activity", "/activity", True),
        ("correction form", f"/holdings/{ids.holding}/correction", True),
        ("account", "/account", True),
        ("download / print", "/download/print", True),
    ]


# --- weighing ----------------------------------------------------------------------------------


class Assets(HTMLParser):
    """Every src/href, and the ones a browser fetches to show the page."""

    FETCHED_LINKS = {"stylesheet", "icon", "preload", "modulepreload", "manifest"}

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.fetched: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        for name in ("src", "href", "action", "srcset", "poster", "data"):
            if values.get(name):
                self.urls.append(values[name])
        if tag in ("script", "img", "source", "iframe", "embed") and values.get("src"):
            self.fetched.append(values["src"])
        rels = set(values.get("rel", "").lower().split())
        if tag == "link" and rels & self.FETCHED_LINKS and values.get("href"):
            self.fetched.append(values["href"])


@dataclass
class Weight:
    name: str
    html_raw: int
    html_gzip: int
    assets: dict[str, int]  # path → gzip bytes
    third_party: list[str]

    @property
    def assets_gzip(self) -> int:
        return sum(self.assets.values())

    @property
    def total(self) -> int:
        return self.html_gzip + self.assets_gzip


def weigh(url: str, name: str, path: str, cookies: dict[str, str] | None, own: set[str]) -> Weight:
    response = httpx.get(url + path, cookies=cookies, follow_redirects=False, timeout=30)
    if response.status_code != 200:
        raise SystemExit(
            f"{name} ({path}): status {response.status_code} "
            f"(location: {response.headers.get('location')})"
        )
    parser = Assets()
    parser.feed(response.text)
    third_party = [
        u
        for u in parser.urls
        if u.startswith(("http://", "https://", "//")) and urlsplit(u).netloc not in own
    ]
    assets = {}
    for asset in dict.fromkeys(parser.fetched):
        if urlsplit(urljoin(url + path, asset)).netloc not in own:
            continue  # listed as third party above
        fetched = httpx.get(urljoin(url + path, asset), timeout=30)
        if fetched.status_code != 200:
            raise SystemExit(f"{asset}, referenced by {path}, answers {fetched.status_code}")
        assets[urlsplit(asset).path] = gzipped_size(fetched.content)
    return Weight(
        name=name,
        html_raw=len(response.content),
        html_gzip=gzipped_size(response.content),
        assets=assets,
        third_party=third_party,
    )


def print_weights(weights: list[Weight], served_gzip: bool) -> None:
    kb = 1024
    print(f"Page weight (bytes; HTML as the app sends it, files at gzip -{GZIP_LEVEL})")
    print(
        f"  {'page':28} {'HTML raw':>9} {'HTML gz':>8} {'CSS/JS gz':>10} {'total gz':>9}  "
        "third-party URLs"
    )
    for w in weights:
        print(
            f"  {w.name:28} {w.html_raw:9,} {w.html_gzip:8,} {w.assets_gzip:10,} {w.total:9,}  "
            + (", ".join(w.third_party) if w.third_party else "none")
        )
    assets = {path: size for w in weights for path, size in w.assets.items()}
    print("  referenced files (gzip bytes): " + ", ".join(f"{p} {s:,}" for p, s in assets.items()))
    home = next(w for w in weights if w.name.startswith("home"))
    verdict = "under" if home.total < TARGET_COMPRESSED_KB * kb else "OVER"
    print(
        f"  home total: {home.total / kb:.1f} KB compressed, {verdict} the "
        f"{TARGET_COMPRESSED_KB:.0f} KB target"
    )
    third = sorted({u for w in weights for u in w.third_party})
    print("  third-party URLs on any page: " + (", ".join(third) if third else "none"))
    print(
        "  the app itself sends gzip: "
        + ("yes" if served_gzip else "NO (no Content-Encoding; the sizes above are gzip -6)")
    )


# --- Slow 3G -----------------------------------------------------------------------------------


SITUATIONS = {
    "cold": "nothing cached: the home page is the first page this phone ever opens",
    "after log in": "the login page opened first, on the same slow network",
    "warm": "everything cached (the home page opened before)",
}


def slow_3g(url: str, cookies: dict[str, str], runs: int) -> dict[str, list[dict[str, float]]]:
    """Navigation timings of the home page, `runs` times in each situation."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise SystemExit("Debian's chromium is missing: apt-get install -y chromium")
    results: dict[str, list[dict[str, float]]] = {which: [] for which in SITUATIONS}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            for which in SITUATIONS:
                for _ in range(runs):
                    # A fresh context each run: no connection or cache left from the last one.
                    context = browser.new_context(viewport={"width": 360, "height": 740})
                    page = context.new_page()
                    cdp = context.new_cdp_session(page)
                    cdp.send("Network.enable")
                    cdp.send("Network.setCacheDisabled", {"cacheDisabled": which == "cold"})
                    if which == "warm":  # fill the cache, fast, then throttle
                        context.add_cookies(_cookies(url, cookies))
                        page.goto(url + "/", wait_until="load")
                    cdp.send("Network.emulateNetworkConditions", SLOW_3G)
                    if which == "after log in":
                        page.goto(url + "/login", wait_until="load", timeout=120_000)
                        # Signed in as the bench participant (logging in would only add the
                        # POST's round trip, the same in every situation).
                        context.add_cookies(_cookies(url, cookies))
                    elif which == "cold":
                        context.add_cookies(_cookies(url, cookies))
                    page.goto(url + "/", wait_until="load", timeout=120_000)
                    if page.url.rstrip("/") != url:
                        raise SystemExit(f"the home page went to {page.url}")
                    results[which].append(page.evaluate(TIMINGS))
                    context.close()
        finally:
            browser.close()
    return results


def _cookies(url: str, cookies: dict[str, str]) -> list[dict[str, str]]:
    return [{"name": k, "value": v, "url": url} for k, v in cookies.items()]


def print_slow_3g(results: dict[str, list[dict[str, float]]]) -> None:
    print()
    print(
        f"Home page on Slow 3G (Network.emulateNetworkConditions: latency "
        f"{SLOW_3G['latency']:.0f} ms, download {SLOW_3G['downloadThroughput']:,.0f} B/s, "
        f"upload {SLOW_3G['uploadThroughput']:,.0f} B/s; 360×740)"
    )
    for which, what in SITUATIONS.items():
        print(f"  {which}: {what}")
    print(
        f"  {'':12} {'first content':>14} {'usable':>8} {'HTMX ready':>11} "
        f"{'load':>8} {'bytes':>8}   (ms from navigation start; median of runs)"
    )
    print(f"  {'':12} {'(paint)':>14} {'(parsed)':>8} {'(DCL)':>11}")

    def median(rows: list[dict[str, float]], key: str) -> float | None:
        values = [r[key] for r in rows if r.get(key) is not None]
        return statistics.median(values) if values else None

    def ms(value: float | None) -> str:
        return f"{value:.0f}" if value is not None else "n/a"

    for which, rows in results.items():
        print(
            f"  {which:12} {ms(median(rows, 'fcp')):>14} {ms(median(rows, 'interactive')):>8} "
            f"{ms(median(rows, 'dcl')):>11} {ms(median(rows, 'load')):>8} "
            f"{ms(median(rows, 'transferred')):>8}"
        )
    for which, rows in results.items():
        usable = max(median(rows, "interactive") or 0, median(rows, "fcp") or 0)
        verdict = "within" if usable / 1000 <= TARGET_USABLE_S else "NOT within"
        print(
            f"  usable ({which}): {usable / 1000:.2f} s, {verdict} the {TARGET_USABLE_S:.0f} s "
            f"target; HTMX ready at {(median(rows, 'dcl') or 0) / 1000:.2f} s"
        )


def compression_cost(html: bytes, repeats: int = 50) -> tuple[float, int]:
    """Server time to gzip the home page at the app's level, in ms, and the bytes it sends."""
    start = time.perf_counter()
    for _ in range(repeats):
        sent = gzip.compress(html, compresslevel=GZIP_LEVEL)
    return (time.perf_counter() - start) / repeats * 1000, len(sent)


# --- main --------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="Slow-3G runs per situation (3)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="portal-weight-"))
    try:
        database_path = workdir / "bench.db"
        env = bench_environment(database_path)
        os.environ.update(env)  # the builder reads the same settings as the server
        print(f"Building {database_path} …", flush=True)
        token = build_database(database_path)
        ids = read_ids(database_path)
        cookies = {SESSION_COOKIE: token, VISITOR_COOKIE: VISITOR}
        with running_server("home", database_path, env) as url:
            home = fetch_verified_page(url, cookies, [name for _slug, name in ORGANIZATION_NAMES])
            # The server, and the address the app puts in links it prints (receipts, cards).
            own = {urlsplit(url).netloc, urlsplit(env["PORTAL_BASE_URL"]).netloc}
            weights = [
                weigh(url, name, path, cookies if signed_in else None, own)
                for name, path, signed_in in pages(ids)
            ]
            print()
            print_weights(weights, served_gzip=home.headers.get("content-encoding") == "gzip")
            took, sent = compression_cost(home.content)
            print(
                f"  compressing the home page ({len(home.content):,} B → {sent:,} B) costs the "
                f"server {took:.2f} ms at gzip -{GZIP_LEVEL}"
            )
            print_slow_3g(slow_3g(url, cookies, args.runs))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
