"""The home page keeps each organization's rendered section while nothing in it changes
(app/home/cache.py). Every change a participant could see must show at once: the
tests below look at the page, keep it, change one thing through the real API or pages, and
look again. The version numbers live in the database, so a second app process sharing it sees
the change too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from markupsafe import Markup
from sqlmodel import Session, select

from app.consent.models import Consent
from app.corrections.models import Correction
from app.home.cache import SectionCache
from app.main import create_app
from app.organizations.models import Organization
from app.participants.models import Enrollment
from tests.factories import (
    Person,
    decide,
    hold,
    holding_id,
    login,
    logout,
    purpose_body,
    request_correction,
    resolve,
)


def _sections(client: TestClient) -> SectionCache:
    return client.app.state.home_sections  # type: ignore[attr-defined]


def _home(client: TestClient) -> str:
    response = client.get("/")
    assert response.status_code == 200, response.text
    return response.text


def _kept_home(client: TestClient) -> str:
    """The home page twice: the second time its section comes from the store."""
    _home(client)
    hits = _sections(client).hits
    html = _home(client)
    assert _sections(client).hits == hits + 1, "the section was not kept"
    return html


def _versions(db: Session, ref: str = "A-1") -> tuple[int, int]:
    db.expire_all()
    enrollment = db.exec(select(Enrollment).where(Enrollment.external_ref == ref)).one()
    organization = db.get(Organization, enrollment.organization_id)
    assert organization is not None
    return enrollment.record_version, organization.plan_version


def test_a_kept_section_is_the_same_page(client, person: Person) -> None:
    hold(person.org, "A-1", "phone", label="Phone number", value="612-555-0100")
    fresh = _home(client)
    kept = _kept_home(client)
    # Only the CSRF token (masked afresh in every response) differs.
    strip = lambda html: html.split("</header>", 1)[1].split("<footer", 1)[0]  # noqa: E731
    assert "612-555-0100" in kept
    assert strip(kept).count("612-555-0100") == strip(fresh).count("612-555-0100") == 1
    assert strip(fresh).split('name="csrf_token"')[0] == strip(kept).split('name="csrf_token"')[0]


def test_changes_through_the_api_show_at_once(client, person: Person, db: Session) -> None:
    org = person.org
    hold(org, "A-1", "phone", label="Phone number", value="612-555-0100")
    before = _versions(db)
    assert "612-555-0100" in _kept_home(client)

    hold(org, "A-1", "phone", label="Phone number", value="612-555-0199")
    assert _versions(db)[0] > before[0]
    assert "612-555-0199" in _kept_home(client)

    disclosed = org.post(
        "/api/v1/participants/A-1/disclosures",
        {"recipient": {"name": "Hennepin County"}, "purpose": "housing", "field_keys": ["phone"]},
    )
    assert disclosed.status_code == 201, disclosed.text
    assert "Hennepin County" in _kept_home(client)

    assert org.delete("/api/v1/participants/A-1/holdings/phone").status_code == 204
    assert "612-555-0199" not in _kept_home(client)

    # The plan: a new title for the purpose shows on every participant's page.
    plan_before = _versions(db)[1]
    body = purpose_body(title={"en": "Help you find a home"})
    assert org.put("/api/v1/purposes/housing", body).status_code == 200
    assert _versions(db)[1] > plan_before
    assert "Help you find a home" in _home(client)


def test_the_participants_own_changes_show_at_once(client, person: Person, db: Session) -> None:
    org = person.org
    hold(org, "A-1", "phone", label="Phone number", value="612-555-0100")
    assert "Give consent" in _kept_home(client)

    assert decide(client, _person(db, person), "give").status_code == 303
    page = _kept_home(client)
    assert "Withdraw consent" in page and "Give consent" not in page

    holding = holding_id(db, org.slug, "A-1", "phone")
    assert request_correction(client, holding).status_code == 303
    assert "Correction requested" in _kept_home(client)

    (correction,) = db.exec(select(Correction)).all()
    assert resolve(org, correction.id, "denied", reason="Our form says so.").status_code == 200
    page = _kept_home(client)
    assert "Our form says so." in page and "Correction requested" not in page


def test_another_process_sees_the_change(client, person: Person, engine, settings) -> None:
    """Two app processes on one database: each keeps its own sections, and a change made
    through one is seen by the other, because the version numbers are in the database."""
    hold(person.org, "A-1", "phone", label="Phone number", value="612-555-0100")
    other_app = create_app(settings)
    with TestClient(other_app, base_url="http://testserver", follow_redirects=False) as other:
        assert login(other, person.username, person.pin).status_code == 303
        assert "612-555-0100" in _kept_home(other)
        assert "612-555-0100" in _kept_home(client)
        # The organization writes through the first process…
        hold(person.org, "A-1", "phone", label="Phone number", value="612-555-0123")
        # …and the second, which kept the old section, shows the new value.
        assert "612-555-0123" in _home(other)


def test_a_page_with_a_notice_is_rendered_not_kept(client, person: Person, db: Session) -> None:
    hold(person.org, "A-1", "phone", label="Phone number", value="612-555-0100")
    _kept_home(client)
    holding = holding_id(db, person.org.slug, "A-1", "phone")
    response = request_correction(client, holding)
    sent = client.get(response.headers["location"])
    assert "Your request was sent" in sent.text
    stored = len(_sections(client))
    assert "Your request was sent" in client.get(response.headers["location"]).text
    assert "Your request was sent" not in _home(client)  # the notice was not kept
    assert len(_sections(client)) == stored


def test_languages_are_kept_apart(client, person: Person) -> None:
    hold(person.org, "A-1", "phone", label="Phone number", value="612-555-0100")
    assert "What it holds about you" in _kept_home(client)
    assert "Qué tiene sobre usted" in client.get("/?lang=es").text
    assert "Qué tiene sobre usted" in _kept_home(client)  # es is remembered for the visit
    assert "What it holds about you" in client.get("/?lang=en").text


def test_log_out_forgets_the_sections(client, person: Person) -> None:
    hold(person.org, "A-1", "phone", label="Phone number", value="612-555-0100")
    _kept_home(client)
    assert len(_sections(client)) == 1
    logout(client)
    assert len(_sections(client)) == 0


def test_a_section_is_kept_only_until_the_clock_changes_it(
    client, person: Person, db: Session
) -> None:
    """A consent that expires changes the page with no write at all: the section says when."""
    assert decide(client, _person(db, person), "give").status_code == 303
    db.expire_all()
    consent = db.exec(select(Consent)).one()
    soon = datetime.now(UTC) + timedelta(hours=1)
    consent.expires_at = soon
    db.add(consent)
    db.commit()
    assert "Withdraw consent" in _kept_home(client)
    (key,) = _sections(client)._sections  # noqa: SLF001 - the one kept section
    section = _sections(client)._sections[key]  # noqa: SLF001
    assert section.valid_until == soon
    assert _sections(client).get(key, soon - timedelta(seconds=1)) is not None
    assert _sections(client).get(key, soon) is None  # expired with the consent


def test_the_store_is_bounded_in_bytes() -> None:
    cache = SectionCache(max_bytes=1000)
    now = datetime.now(UTC)
    for n in range(5):
        cache.put((f"ptp_{n}", 1, 1, "en"), Markup("x" * 300), None)
    assert cache.size_bytes <= 1000 and len(cache) == 3
    assert cache.get(("ptp_0", 1, 1, "en"), now) is None  # the oldest went first
    assert cache.get(("ptp_4", 1, 1, "en"), now) is not None
    # A newer version of a section replaces the older one.
    cache.put(("ptp_4", 2, 1, "en"), Markup("y" * 10), None)
    assert cache.get(("ptp_4", 1, 1, "en"), now) is None
    assert SectionCache(max_bytes=0).size_bytes == 0


def test_sections_past_their_time_leave_memory() -> None:
    import time

    cache = SectionCache(max_bytes=10_000, ttl_seconds=0.05)
    now = datetime.now(UTC)
    cache.put(("ptp_a", 1, 1, "en"), Markup("a" * 100), None)
    assert cache.get(("ptp_a", 1, 1, "en"), now) is not None
    time.sleep(0.06)
    cache.put(("ptp_b", 1, 1, "en"), Markup("b" * 100), None)  # any later store sweeps
    assert len(cache) == 1 and cache.size_bytes == 100


def _person(db: Session, person: Person):
    db.expire_all()
    enrollment = db.exec(
        select(Enrollment).where(Enrollment.external_ref == person.external_ref)
    ).one()
    return Person(person.username, person.pin, enrollment.id, person.external_ref)


# Rows of an enrollment that the home page does not show: changing them keeps its sections.
# A concern shows on its own page; the home page links to it from the disclosure or request.
NOT_ON_THE_HOME_PAGE = {"claim_code", "concern", "staff_access", "staff_handover"}


def test_every_table_of_an_enrollment_is_decided() -> None:
    """A new table that belongs to an enrollment must be listed as shown on the home page
    (its changes then renew the kept sections) or as not shown."""
    from sqlmodel import SQLModel

    from app.participants.record_version import ENROLLMENT_TABLES

    tables = {t.name for t in SQLModel.metadata.sorted_tables if "enrollment_id" in t.c}
    assert tables == ENROLLMENT_TABLES | NOT_ON_THE_HOME_PAGE


def test_nothing_is_kept_when_the_store_is_off(person: Person, settings) -> None:
    import dataclasses

    hold(person.org, "A-1", "phone", label="Phone number", value="612-555-0100")
    off = create_app(dataclasses.replace(settings, home_sections_mb=0))
    with TestClient(off, base_url="http://testserver", follow_redirects=False) as other:
        assert login(other, person.username, person.pin).status_code == 303
        assert "612-555-0100" in _home(other) and "612-555-0100" in _home(other)
        assert len(_sections(other)) == 0 and _sections(other).hits == 0


def test_two_transactions_over_the_same_enrollments_never_deadlock(org, engine) -> None:
    """Each transaction writes to two enrollments in opposite orders, interleaved. Had the
    version rows been locked as each write was flushed, each would wait for the other (a
    deadlock PostgreSQL breaks by failing one); they are bumped at commit, in sorted order."""
    import threading

    from app.holdings.schemas import HoldingIn
    from app.holdings.service import upsert_holding

    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite lets one transaction write at a time")
    assert org.put("/api/v1/purposes/housing", purpose_body()).status_code == 201
    refs = ["A-1", "A-2"]
    for ref in refs:
        assert org.post("/api/v1/participants", {"external_ref": ref}).status_code == 201
    with Session(engine) as db:
        enrollments = {
            e.external_ref: e.id for e in db.exec(select(Enrollment)) if e.external_ref in refs
        }
    before = {ref: _versions_of(engine, enrollments[ref]) for ref in refs}
    flushed = threading.Barrier(2, timeout=10)
    errors: list[BaseException] = []

    def write(order: list[str], key: str) -> None:
        try:
            with Session(engine) as session:
                for n, ref in enumerate(order):
                    enrollment = session.get(Enrollment, enrollments[ref])
                    data = HoldingIn(label=key, category="contact", value="x", purpose="housing")
                    upsert_holding(session, enrollment=enrollment, field_key=f"{key}{n}", data=data)
                    session.flush()
                    flushed.wait()  # both have written to their first enrollment, then both
                session.commit()  #  to their second: the opposite of each other's order
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=write, args=(refs, "a")),
        threading.Thread(target=write, args=(refs[::-1], "b")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    for ref in refs:
        assert _versions_of(engine, enrollments[ref]) == before[ref] + 2


def _versions_of(engine, enrollment_id: str) -> int:
    with Session(engine) as db:
        enrollment = db.get(Enrollment, enrollment_id)
        assert enrollment is not None
        return enrollment.record_version
