"""axe-core over every participant-facing, staff, org-admin and network-admin page, signed out
and signed in (participant, case manager, org admin, network admin), in Chromium the size of a
small phone (360×740): zero violations of the WCAG 2.0–2.2 A and AA rules. Each page is checked
in the states a user meets: empty and with errors, before and after an HTMX swap, with a
sensitive value hidden and shown.

Every page in every locale of `app.i18n.SUPPORTED_LOCALES` (read when the tests are collected,
so a new catalogue is covered without touching this file), the staff and admin pages too. On
each: axe, no sideways scrolling at 360 px, and touch targets of 44×44 px (tests/browser/
a11y.py). Every participant page must also reflow, in every locale, at 320 px and at 200% zoom.

The record behind the pages is built through the organizations' real API and the real HTML
forms: holdings (one sensitive, one deleted), disclosures (one flagged), consents (one given on
paper, one still requested), a correction waiting, one denied with a statement of disagreement
and one denied without, a note in the participant's own words, a dead webhook letter and an
overdue acknowledgement."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from app import i18n
from app.consent.models import Consent
from app.corrections.models import Correction
from app.db import utcnow
from app.events.models import Event
from app.organizations.service import create_network_admin, create_staff, get_organization
from app.participants.models import Enrollment
from app.webhooks.models import WebhookDelivery, WebhookEndpoint
from app.webhooks.service import create_endpoint
from tests.browser.a11y import Audit
from tests.factories import (
    PIN,
    Org,
    add_purpose,
    corrections,
    disclose,
    enroll,
    hold,
    holding_id,
    request_correction,
    resolve,
    send_form,
    sign_up,
)

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
# WCAG 1.4.10: content reflows at 320 CSS px, and at 200% zoom on the phone (360×740 zoomed
# to 200% is 180×370 CSS px; the page's CSP rules out zooming through a script).
REFLOW = {"320px": {"width": 320, "height": 740}, "200% zoom": {"width": 180, "height": 370}}
ADMIN_EMAIL = "admin@network.example"
ADMIN_PASSWORD = "correct horse battery"
STAFF_PASSWORD = "correct horse battery"
# A staff page's own form: not the staff bar's Log out.
STAFF_FORM = 'main form[method=post]:not([action="/staff/logout"])'


@dataclass
class World:
    enrollment: str  # Maria's enrollment with Northside
    holdings: dict[str, str]  # field key → holding id
    denied_without_statement: str  # a correction id
    consent: str  # the paper consent's id, for its receipt
    note: str  # a context note's id
    claimed_code: str  # a fresh code for Maria's enrollment: a PIN reset signed out
    cedar_code: str  # a code for an organization Maria has not added yet
    story: str = ""  # a story about Maria, waiting for her answer


def _troubles(db: Session, northside_id: int, correction: Correction) -> None:
    """A delivery the worker gave up on, an acknowledgement and a correction past their due
    dates."""
    correction.due_by = utcnow() - timedelta(days=1)
    db.add(correction)
    db.commit()
    db.expire_all()
    delivery = db.exec(select(WebhookDelivery).order_by(WebhookDelivery.id)).first()  # type: ignore[arg-type]
    assert delivery is not None
    delivery.status = "dead"
    delivery.attempts = 10
    delivery.dead_at = utcnow()
    delivery.last_status_code = 500
    db.add(delivery)
    waiting = db.exec(
        select(Event)
        .where(Event.organization_id == northside_id, Event.ack_due_by.is_not(None))  # type: ignore[union-attr]
        .order_by(Event.seq)
    ).first()
    assert waiting is not None
    waiting.ack_due_by = utcnow() - timedelta(days=2)
    db.add(waiting)
    db.commit()


def build_world(db: Session, make_org: Any, client: TestClient) -> World:
    northside: Org = make_org("northside", "Northside Food Shelf")
    make_org("eastside", "Eastside Housing")
    cedar: Org = make_org("cedar", "Cedar Housing Partners")
    # How to reach Northside on every page that names it (the others have no profile).
    profile = {
        "name": "Northside Food Shelf",
        "phone": "+1 612 555 0177",
        "address": "1200 Lake Street\nMinneapolis, MN 55408",
        "opening_hours": "Monday to Friday, 9 am to 5 pm",
        "languages": ["en", "es", "so", "hmn"],
    }
    assert northside.put("/api/v1/organization", profile).status_code == 200
    northside_id = get_organization(db, "northside").id
    assert northside_id is not None
    create_endpoint(
        db,
        organization_id=northside_id,
        url="http://127.0.0.1:9/hooks",
        event_types=None,
        production=False,
    )
    db.commit()

    add_purpose(
        northside,
        recipients=[
            {"name": "Eastside Housing", "organization": "eastside"},
            {"name": "Hennepin County"},
        ],
    )
    add_purpose(
        northside,
        "newsletter",
        # Not yet in Spanish: the page shows it in English, and says so.
        title={"en": "Send you our newsletter"},
        description={"en": "News about food and events."},
        recipients=[],
    )
    add_purpose(northside, "food", basis="service")
    add_purpose(
        northside,
        "reports",
        basis="legal_obligation",
        title={"en": "Report to the state", "es": "Informar al estado"},
        legal_recipients={"en": "The state health department.", "es": "El departamento de salud."},
    )
    code = enroll(northside, "N-1")
    hold(northside, "N-1", "phone", label="Phone number", value="612-555-0100")
    hold(northside, "N-1", "address", label="Home address", value="12 Elm St")
    hold(northside, "N-1", "email", label="Email", value="m@example.org")
    hold(
        northside,
        "N-1",
        "hiv",
        label="HIV status",
        category="health",
        value="Positive",
        purpose="food",
        sensitive=True,
    )
    hold(northside, "N-1", "income", label="Income", value="$900", purpose="food")
    hold(northside, "N-1", "case", label="Case number", value="C-77", purpose="reports")
    # Shared before any consent was given: recorded, and flagged.
    disclose(northside, "N-1", {"name": "Eastside Housing", "organization": "eastside"}, ["phone"])
    disclose(northside, "N-1", {"name": "Hennepin County"}, ["hiv"], purpose="food")
    assert northside.delete("/api/v1/participants/N-1/holdings/income").status_code == 204
    paper = northside.post(
        "/api/v1/participants/N-1/consents",
        {"purpose": "housing", "state": "given", "method": "paper", "recorded_by": "Ana"},
    )
    assert paper.status_code == 201, paper.text

    sign_up(client, code, "maria")  # the test client is Maria, signed in
    ids = {key: holding_id(db, "northside", "N-1", key) for key in ("phone", "address", "email")}
    ids |= {key: holding_id(db, "northside", "N-1", key) for key in ("hiv", "case")}
    assert request_correction(client, ids["address"]).status_code == 303  # left waiting
    for key in ("phone", "email"):
        assert request_correction(client, ids[key]).status_code == 303
        (waiting,) = [
            c for c in corrections(db) if c.status == "requested" and c.holding_id == ids[key]
        ]
        assert (
            resolve(northside, waiting.id, "denied", reason="Our form says so.").status_code == 200
        )
    (phone_denied,) = [c for c in corrections(db) if c.holding_id == ids["phone"]]
    (email_denied,) = [c for c in corrections(db) if c.holding_id == ids["email"]]
    statement = send_form(
        client,
        f"/corrections/{phone_denied.id}/statement",
        {"statement": "I never had that number."},
    )
    assert statement.status_code == 303, statement.text

    db.expire_all()
    enrollment = db.exec(select(Enrollment).where(Enrollment.external_ref == "N-1")).one()
    saved = send_form(
        client,
        "/context/new",
        {"kind": "strength", "text": "I am good with numbers.", "shared_with": enrollment.id},
    )
    assert saved.status_code == 303, saved.text
    note = re.search(r"/context/([^/]+)/edit", client.get("/context").text)
    assert note
    consent = db.exec(select(Consent).where(Consent.enrollment_id == enrollment.id)).one()
    fresh = northside.post("/api/v1/participants/N-1/claim-codes")
    assert fresh.status_code == 201
    (left_waiting,) = [c for c in corrections(db) if c.status == "requested"]
    _troubles(db, northside_id, left_waiting)
    # A published report that counted Maria (she consented to housing): Reports and stories.
    # Ten neighbours consented too: a run needs at least 11 people (the threshold).
    hold(northside, "N-1", "housing_situation", label="Housing situation", value="Shelter")
    for n in range(2, 12):
        enroll(northside, f"R-{n}")
        situation = "Shelter" if n % 2 else "Renting"
        hold(northside, f"R-{n}", "housing_situation", label="Housing situation", value=situation)
        given = {"purpose": "housing", "state": "given", "method": "paper"}
        assert northside.post(f"/api/v1/participants/R-{n}/consents", given).status_code == 201
    county = {
        "title": {"en": "Housing for the county", "es": "Vivienda para el condado"},
        "recipient": {"name": "Hennepin County"},
        "purpose": "housing",
        "count_by": ["housing_situation"],
    }
    assert northside.put("/api/v1/reports/county", county).status_code == 201
    assert northside.post("/api/v1/reports/county/runs").status_code == 201
    story = northside.post(
        "/api/v1/participants/N-1/stories",
        {"title": "Maria's numbers", "text": "Maria keeps our books.", "use": {"en": "A report"}},
    )
    assert story.status_code == 201, story.text
    return World(
        enrollment=enrollment.id,
        holdings=ids,
        denied_without_statement=email_denied.id,
        consent=consent.id,
        note=note.group(1),
        claimed_code=fresh.json()["claim_code"],
        cedar_code=enroll(cedar, "C-1"),
        story=story.json()["story_id"],
    )


@pytest.fixture
def world(db: Session, make_org: Any, client: TestClient) -> World:
    return build_world(db, make_org, client)


@contextmanager
def _audit(browser: Any, locale: str, viewport: dict[str, int] = PHONE) -> Iterator[Audit]:
    context = browser.new_context(viewport=viewport, locale=locale)
    try:
        yield Audit(page=context.new_page(), locale=locale)
    finally:
        context.close()


@pytest.fixture(params=i18n.SUPPORTED_LOCALES)
def audit(request: pytest.FixtureRequest, browser: Any) -> Iterator[Audit]:
    """A phone-sized page in the locale, and the audit that collects what axe finds on it."""
    with _audit(browser, request.param) as audit:
        yield audit


def _error_title(locale: str) -> re.Pattern[str]:
    """A form sent back with errors: its title starts with "Error:" in the page's language."""
    return re.compile("^" + re.escape(i18n.translations_for(locale).gettext("Error:")))


def _submit(page: Page, form: str = "main form[method=post]") -> None:
    """Send a form with its (translated) submit button."""
    page.locator(form).locator("button[type=submit]").first.click()
    page.wait_for_load_state()


def _log_in(page: Page, base: str, locale: str, username: str = "maria") -> None:
    page.goto(f"{base}/login?lang={locale}")
    page.locator("#username").fill(username)
    page.locator("#pin").fill(PIN)
    _submit(page)
    expect(page).to_have_url(f"{base}/")


def test_signed_out_pages(live_server: Any, audit: Audit, world: World, db: Session) -> None:
    base, page, check = live_server.url, audit.page, audit.check
    create_network_admin(db, email=ADMIN_EMAIL, password=ADMIN_PASSWORD)
    db.commit()

    page.goto(f"{base}/login?lang={audit.locale}")
    check("log in")
    _submit(page)
    expect(page).to_have_title(_error_title(audit.locale))
    check("log in, with errors")
    page.goto(f"{base}/claim")
    check("enter a code")
    page.goto(f"{base}/claim/{world.cedar_code}")
    check("claim: create an account")
    _submit(page)
    expect(page).to_have_title(_error_title(audit.locale))
    check("claim: create an account, with errors")
    page.goto(f"{base}/login?logged_out=1")
    check("logged out")
    page.goto(f"{base}/login?idle=1")
    check("logged out when idle")
    for _ in range(5):
        page.locator("#username").fill("guesser")
        page.locator("#pin").fill("000111")
        _submit(page)
    check("log in, locked out")

    page.goto(f"{base}/claim")
    page.locator("#code").fill("NOPE")
    _submit(page)
    check("enter a code, with an error")
    page.goto(f"{base}/claim/NOPE-NOPE-NOPE")
    check("claim: invalid code")
    page.goto(f"{base}/claim/{world.claimed_code}")
    check("claim: reset the PIN")
    _submit(page)
    check("claim: reset the PIN, with errors")

    page.goto(f"{base}/no-such-page")
    check("page not found")
    page.goto(f"{base}/login")
    page.locator("input[name=csrf_token]").evaluate("input => { input.value = 'stale'; }")
    _submit(page)
    expect(page.locator("#username")).to_have_count(0)
    check("CSRF error")

    page.goto(f"{base}/admin/login?lang={audit.locale}")
    check("admin: log in")
    _submit(page)
    check("admin: log in, with errors")
    for _ in range(5):
        page.locator("#email").fill(ADMIN_EMAIL)
        page.locator("#password").fill("not the password")
        _submit(page)
    check("admin: log in, paused")
    audit.assert_clean()


def test_participant_pages(live_server: Any, audit: Audit, world: World) -> None:
    base, page, check = live_server.url, audit.page, audit.check
    _log_in(page, base, audit.locale)
    # The first screen of a phone names what needs the participant, each item whole in view.
    for kind in ("unconsented", "refused", "late", "undecided"):
        box = page.locator(f".attention li.attention-{kind}").first.bounding_box()
        assert box is not None and box["y"] + box["height"] <= PHONE["height"], (kind, box)
    for state in (".hidden-value", ".holding.deleted", ".disclosure.flagged", ".statement"):
        expect(page.locator(state).first).to_be_visible()
    expect(page.locator(".holding-record .notice.warning")).to_have_count(3)  # 2 denied, 1 late
    check("home")
    consents = f"{base}/consents/{world.enrollment}"
    page.goto(f"{consents}/newsletter?decision=give")
    if audit.locale != "en":  # the language of the parts in English (WCAG 3.1.2)
        expect(page.locator("h1")).to_have_attribute("lang", "en")
    check("consent: give")
    page.goto(f"{base}/holdings/{world.holdings['case']}/correction")
    check("request a correction")
    _submit(page)
    expect(page).to_have_title(_error_title(audit.locale))
    check("request a correction, with errors")
    page.goto(f"{base}/")
    hidden = page.locator(f"#holding-{world.holdings['hiv']}")
    hidden.locator("button").click()
    expect(hidden).to_contain_text("Positive")
    check("home, a sensitive value shown (HTMX swap)")

    page.goto(f"{consents}/newsletter?decision=give")
    page.locator("#decision-button").click()
    expect(page.locator("#decision [role=status]")).to_be_visible()
    check("consent: given (HTMX swap)")
    page.goto(f"{consents}/housing?decision=withdraw")
    check("consent: withdraw")
    page.goto(f"{base}/consents/receipts/{world.consent}")
    check("consent receipt")
    page.goto(f"{base}/requests")
    expect(page.locator("#group-overdue")).to_be_visible()
    check("my requests")
    page.goto(f"{base}/activity")
    check("consent activity")
    page.goto(f"{base}/reports-and-stories")
    expect(page.locator("section.report-run.counted")).to_have_count(1)
    check("reports and stories")

    page.goto(f"{base}/holdings/{world.holdings['hiv']}/correction")
    check("request a correction (sensitive)")
    page.goto(f"{base}/corrections/{world.denied_without_statement}/statement")
    check("add a statement")
    _submit(page)
    expect(page).to_have_title(_error_title(audit.locale))
    check("add a statement, with errors")
    page.goto(f"{base}/holdings/{world.holdings['address']}/deletion")
    check("ask to delete")
    page.goto(f"{base}/holdings/{world.holdings['case']}/deletion")
    check("why this is kept (by law)")
    page.goto(f"{base}/holdings/{world.holdings['hiv']}/deletion")
    check("why this is kept (a service)")

    page.goto(f"{base}/")
    page.locator('.disclosure.flagged a[href$="/concern"]').first.click()
    check("raise a concern")
    _submit(page, 'main form[action$="/concern"]')
    expect(page).to_have_title(_error_title(audit.locale))
    check("raise a concern, with errors")
    page.locator("#what_happened").fill("They shared my phone number before I agreed.")
    _submit(page, 'main form[action$="/concern"]')
    expect(page.locator("section.concern")).to_have_count(1)
    check("a concern raised, waiting for answers")

    page.goto(f"{base}/claim/{world.cedar_code}")
    check("claim: add an organization")
    page.goto(f"{base}/claim/{world.claimed_code}")
    check("claim: already in your account")
    page.goto(f"{base}/no-such-page")
    check("page not found, signed in")

    page.goto(f"{base}/access")
    check("who looked at your record")
    page.goto(f"{base}/account")
    check("account")
    page.goto(f"{base}/account/recovery")
    check("recovery code")
    page.get_by_role("button", name=re.compile(".")).last.click()
    expect(page.locator(".recovery-card")).to_be_visible()
    check("recovery code: a new one shown")
    page.goto(f"{base}/download/print")
    check("printable record")
    page.goto(f"{base}/context")
    check("own words")
    page.goto(f"{base}/context/new")
    check("own words: add")
    _submit(page)
    expect(page).to_have_title(_error_title(audit.locale))
    check("own words: add, with errors")
    page.goto(f"{base}/context/{world.note}/edit")
    check("own words: change")
    page.goto(f"{base}/context/{world.note}/withdraw")
    check("own words: withdraw")

    page.goto(f"{base}/stories/{world.story}")
    check("a story to answer")
    _submit(page, 'main form:has(textarea[name="what_to_change"])')
    expect(page).to_have_title(_error_title(audit.locale))
    check("a story to answer, with errors")

    page.goto(f"{base}/account/close")
    check("close the account")
    _submit(page)
    expect(page).to_have_title(_error_title(audit.locale))
    check("close the account, with errors")
    page.locator("#pin").fill(PIN)
    _submit(page)
    expect(page).to_have_url(re.compile(r"/account/closed$"))
    check("account closed")
    audit.assert_clean()


def test_admin_pages(live_server: Any, audit: Audit, world: World, db: Session) -> None:
    base, page, check = live_server.url, audit.page, audit.check
    create_network_admin(db, email=ADMIN_EMAIL, password=ADMIN_PASSWORD)
    db.commit()
    page.goto(f"{base}/admin/login?lang={audit.locale}")
    page.locator("#email").fill(ADMIN_EMAIL)
    page.locator("#password").fill(ADMIN_PASSWORD)
    _submit(page)
    expect(page).to_have_url(f"{base}/admin")
    for row in (".dead-letter", ".overdue-ack", ".overdue-correction"):
        expect(page.locator(row)).to_have_count(1)
    check("admin: dashboard")
    page.locator(".dead-letter button[type=submit]").first.click()
    expect(page).to_have_url(re.compile(r"/admin\?redelivered=1"))
    check("admin: dashboard, redelivered")
    audit.assert_clean()


def _staff(db: Session, role: str) -> str:
    """A staff member of Northside in the role; returns the email to log in with."""
    organization = get_organization(db, "northside")
    assert organization is not None
    email = f"{role}@northside.example"
    create_staff(
        db, organization=organization, email=email, role=role, password=STAFF_PASSWORD, name="Ana"
    )
    db.commit()
    return email


def _staff_log_in(audit: Audit, base: str, email: str) -> None:
    page = audit.page
    page.goto(f"{base}/staff/login?lang={audit.locale}")
    audit.check("staff: log in")
    _submit(page, STAFF_FORM)
    expect(page).to_have_title(_error_title(audit.locale))
    audit.check("staff: log in, with errors")
    page.locator("#email").fill(email)
    page.locator("#password").fill(STAFF_PASSWORD)
    _submit(page, STAFF_FORM)
    expect(page).to_have_url(re.compile(r"/staff(/org)?$"))


def test_case_manager_pages(
    live_server: Any, audit: Audit, browser: Any, world: World, db: Session
) -> None:
    base, page, check = live_server.url, audit.page, audit.check
    _staff_log_in(audit, base, _staff(db, "case_manager"))
    check("staff: home")
    page.goto(f"{base}/staff/participants/N-1")
    check("staff: a participant's record")
    page.goto(f"{base}/staff/participants/N-1/claim-card")
    check("staff: claim card, confirm")
    _submit(page, STAFF_FORM)
    expect(page.locator("svg.qr")).to_be_visible()
    check("staff: claim card")

    page.goto(f"{base}/staff/intake")
    check("intake: reference")
    page.locator("#external_ref").fill("N-1")  # taken
    _submit(page, STAFF_FORM)
    expect(page).to_have_title(_error_title(audit.locale))
    check("intake: reference, with errors")
    page.locator("#external_ref").fill("C-77")
    _submit(page, STAFF_FORM)
    check("intake: language")
    page.locator(f'button[name="language"][value="{audit.locale}"]').click()
    expect(page).to_have_url(re.compile(r"/consent/1$"))
    check("intake: a consent step")
    page.locator('button[name="decision"][value="given"]').click()
    expect(page).to_have_url(re.compile(r"/consent/2$"))
    page.locator('form[action$="/handover"] button').click()
    expect(page.locator(".staff-bar")).to_have_count(0)
    check("participant mode: a consent step")
    page.goto(page.url.replace("/consent/2", "/finish"))
    check("participant mode: hand the device back")
    page.locator("#password").fill("not it")
    _submit(page, 'form[action$="/take-back"]')
    expect(page.locator(".error-summary")).to_be_visible()
    check("participant mode: hand the device back, with errors")
    page.locator("#password").fill(STAFF_PASSWORD)
    _submit(page, 'form[action$="/take-back"]')
    expect(page.locator(".staff-bar")).to_be_visible()
    check("intake: finish")

    # A case manager working in this locale, with a client in each locale: the client's screen
    # in the client's language (marked with its own lang), the staff's menus in theirs.
    for number, locale in enumerate(i18n.SUPPORTED_LOCALES):
        page.goto(f"{base}/staff/intake")
        page.locator("#external_ref").fill(f"L-{number}")
        _submit(page, STAFF_FORM)
        page.locator(f'button[name="language"][value="{locale}"]').click()
        expect(page).to_have_url(re.compile(r"/consent/1$"))
        check(f"intake: a consent step, for a client speaking {locale}")
        expect(page.locator(".client-screen")).to_have_attribute("lang", locale)
        page.goto(page.url.replace("/consent/1", "/finish"))
        page.locator("main a.button.secondary").last.click()  # Finish
        expect(page).to_have_url(re.compile(r"/staff(\?lang=\w+)?$"))
        assert page.evaluate("document.documentElement.lang") == audit.locale
    audit.assert_clean()


def test_org_admin_pages(live_server: Any, audit: Audit, world: World, db: Session) -> None:
    base, page, check = live_server.url, audit.page, audit.check
    _staff_log_in(audit, base, _staff(db, "org_admin"))
    page.goto(f"{base}/staff/org")
    check("org admin: dashboard")
    page.goto(f"{base}/staff/org/profile")
    check("org admin: profile")
    page.locator("#phone").fill("call us")
    _submit(page, 'main form[action="/staff/org/profile"]')
    expect(page).to_have_title(_error_title(audit.locale))
    check("org admin: profile, with errors")
    page.goto(f"{base}/staff/org/plan")
    check("org admin: plan")
    page.goto(f"{base}/staff/org/plan/housing")
    check("org admin: edit a purpose")
    page.locator("#title-en").fill("")
    page.locator("#title-es").fill("")
    _submit(page, STAFF_FORM)
    expect(page).to_have_title(_error_title(audit.locale))
    check("org admin: edit a purpose, with errors")
    page.goto(f"{base}/staff/org/new-purpose")
    check("org admin: new purpose")
    _submit(page, STAFF_FORM)
    expect(page).to_have_title(_error_title(audit.locale))
    check("org admin: new purpose, with errors")
    page.goto(f"{base}/staff/org/review")
    check("org admin: data-justice review")
    page.goto(f"{base}/staff/org/reports")
    check("org admin: reports")
    page.goto(f"{base}/staff/org/reports/new")
    _submit(page, STAFF_FORM)
    expect(page).to_have_title(_error_title(audit.locale))
    check("org admin: define a report, with errors")
    page.goto(f"{base}/staff/org/reports/county")
    check("org admin: a report")
    page.locator("main a[href*='/runs/']").first.click()
    page.wait_for_load_state()
    check("org admin: a published run (chart and table)")

    page.goto(f"{base}/staff/org/keys")
    check("org admin: keys")
    new_key = 'main form[action="/staff/org/keys"]'
    _submit(page, new_key)
    expect(page).to_have_title(_error_title(audit.locale))
    check("org admin: keys, with errors")
    page.locator("#name").fill("Case system")
    _submit(page, new_key)
    expect(page.locator("[role=status] code")).to_be_visible()
    check("org admin: a new key, shown once")

    page.goto(f"{base}/staff/org/endpoints")
    check("org admin: endpoints")
    _submit(page, 'main form[action="/staff/org/endpoints"]')
    expect(page).to_have_title(_error_title(audit.locale))
    check("org admin: endpoints, with errors")
    page.locator("a[href^='/staff/org/endpoints/']").first.click()
    page.wait_for_load_state()
    check("org admin: an endpoint")
    endpoint_url = page.url
    page.goto(f"{endpoint_url}/rotate-secret")
    check("org admin: rotate a secret, confirm")
    page.goto(f"{endpoint_url}/delete")
    check("org admin: remove an endpoint, confirm")
    # What the worker leaves when the receiver answers 410 Gone: the endpoint turned off.
    endpoint = db.get(WebhookEndpoint, endpoint_url.rsplit("/", 1)[1])
    assert endpoint is not None
    endpoint.disabled_at, endpoint.disabled_reason = utcnow(), "the endpoint answered 410 Gone"
    db.add(endpoint)
    db.commit()
    page.goto(endpoint_url)
    check("org admin: an endpoint turned off")
    _submit(page, 'main form[action$="/enable"]')
    expect(page.locator("main [role=status]")).to_be_visible()
    check("org admin: an endpoint on again")
    page.goto(f"{base}/staff/org/keys")
    page.locator("main a[href$='/revoke']").first.click()
    page.wait_for_load_state()
    check("org admin: revoke a key, confirm")
    audit.assert_clean()


# The innermost elements that stick out on the right, to say what to fix.
STICKING_OUT = """() => {
  const out = [...document.body.querySelectorAll('*')].filter(
    e => e.getBoundingClientRect().right > window.innerWidth + 0.5
      || e.scrollWidth > e.clientWidth + 0.5 && getComputedStyle(e).overflowX === 'visible');
  return out.filter(e => !out.some(o => o !== e && e.contains(o)))
    .slice(0, 3).map(e => e.outerHTML.slice(0, 90)).join(' | ');
}"""


def _participant_pages(base: str, world: World) -> list[tuple[str, str]]:
    """Every page a signed-in participant can open with a link (name, address)."""
    consents = f"{base}/consents/{world.enrollment}"
    holdings = f"{base}/holdings"
    return [
        ("home", f"{base}/"),
        ("consent: give", f"{consents}/newsletter?decision=give"),
        ("consent: withdraw", f"{consents}/housing?decision=withdraw"),
        ("consent receipt", f"{base}/consents/receipts/{world.consent}"),
        ("consent activity", f"{base}/activity"),
        ("request a correction", f"{holdings}/{world.holdings['case']}/correction"),
        ("add a statement", f"{base}/corrections/{world.denied_without_statement}/statement"),
        ("ask to delete", f"{holdings}/{world.holdings['address']}/deletion"),
        ("why this is kept", f"{holdings}/{world.holdings['case']}/deletion"),
        ("claim: add an organization", f"{base}/claim/{world.cedar_code}"),
        ("who looked at your record", f"{base}/access"),
        ("my requests", f"{base}/requests"),
        ("reports and stories", f"{base}/reports-and-stories"),
        ("account", f"{base}/account"),
        ("recovery code", f"{base}/account/recovery"),
        ("change PIN", f"{base}/account/pin"),
        ("change username", f"{base}/account/username"),
        ("printable record", f"{base}/download/print"),
        ("own words", f"{base}/context"),
        ("own words: add", f"{base}/context/new"),
        ("own words: change", f"{base}/context/{world.note}/edit"),
        ("own words: withdraw", f"{base}/context/{world.note}/withdraw"),
        ("close the account", f"{base}/account/close"),
        ("a story to answer", f"{base}/stories/{world.story}"),
    ]


@pytest.mark.parametrize("viewport", REFLOW.values(), ids=REFLOW.keys())
def test_participant_pages_reflow(
    live_server: Any, browser: Any, world: World, viewport: dict[str, int]
) -> None:
    """No sideways scrolling on any participant page, in every locale."""
    base = live_server.url
    problems = []
    for locale in i18n.SUPPORTED_LOCALES:
        context = browser.new_context(viewport=viewport, locale=locale)
        page = context.new_page()
        signed_out = [("log in", f"{base}/login?lang={locale}"), ("claim", f"{base}/claim")]
        signed_in = _participant_pages(base, world)
        for name, url in signed_out + [("log in", None)] + signed_in:
            if url is None:
                _log_in(page, base, locale)
                continue
            page.goto(url)
            assert page.evaluate("document.documentElement.lang") == locale
            width, inner = page.evaluate(
                "() => [document.documentElement.scrollWidth, window.innerWidth]"
            )
            if width > inner:
                problems.append(
                    f"[{locale}] {name} at {inner} px: {width} px wide; "
                    + page.evaluate(STICKING_OUT)
                )
        context.close()
    assert not problems, "scrolls sideways:\n" + "\n".join(problems)


def test_staff_answer_and_record_pages(
    live_server: Any, audit: Audit, world: World, db: Session
) -> None:
    """Requests to answer, Add data, Edit, Delete, Record a disclosure (and its warning), and
    the staff home with search results (CONTRACT §5)."""
    base, page, check = live_server.url, audit.page, audit.check
    email = _staff(db, "case_manager")
    page.goto(f"{base}/staff/login?lang={audit.locale}")
    page.locator("#email").fill(email)
    page.locator("#password").fill(STAFF_PASSWORD)
    _submit(page, STAFF_FORM)
    expect(page).to_have_url(re.compile(r"/staff$"))
    page.goto(f"{base}/staff?q=N-1")
    expect(page.locator("table.staff-participants")).to_be_visible()
    check("staff: home, search results")
    page.goto(f"{base}/staff?q=nobody-here")
    check("staff: home, no search results")

    page.goto(f"{base}/staff/requests")
    expect(page.locator("li.request").first).to_be_visible()
    check("staff: requests to answer")
    (waiting,) = [c for c in corrections(db) if c.status == "requested"]
    page.goto(f"{base}/staff/requests/{waiting.requested_event_id}")
    check("staff: a correction to answer")
    _submit(page, 'main form:has(input[name=answer][value="deny"])')  # no reason: an error
    expect(page.locator("main [role=alert]").first).to_be_visible()
    check("staff: a correction to answer, with errors")
    page.goto(f"{base}/staff/requests")
    hrefs = page.locator("li.request h2 a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    others = [h for h in hrefs if not h.endswith(str(waiting.requested_event_id))]
    assert others
    page.goto(base + others[0])
    expect(page.locator('input[name=answer][value="done"]')).to_have_count(1)
    check("staff: another request to answer")

    record = f"{base}/staff/participants/N-1"
    page.goto(f"{record}/holdings/new")
    check("staff: add data")
    _submit(page, STAFF_FORM)
    expect(page).to_have_title(_error_title(audit.locale))
    check("staff: add data, with errors")
    page.goto(f"{record}/holdings/phone/edit")
    check("staff: edit a holding")
    page.goto(f"{record}/holdings/phone/delete")
    check("staff: delete a holding, confirm")
    page.goto(f"{record}/disclosures/new")
    check("staff: record a disclosure")
    _submit(page, 'main form[action$="/disclosures/new"]:not(:has(input[name=confirm]))')
    expect(page).to_have_title(_error_title(audit.locale))
    check("staff: record a disclosure, with errors")
    page.locator("#recipient").fill("Someone not in the plan")
    page.locator("#purpose").select_option("newsletter")
    page.locator("input[name=field_keys]").first.check()
    _submit(page, 'main form[action$="/disclosures/new"]:not(:has(input[name=confirm]))')
    expect(page.locator("#flag-heading")).to_be_visible()
    check("staff: record a disclosure, warned before saving")
    audit.assert_clean()


BAD_CSV = (
    "external_ref,field_key,label,category,value,purpose\n"
    "N-1,phone,,contact,612-555-0100,no-such-purpose\n"
)
GOOD_CSV = (
    "external_ref,field_key,label,category,value,purpose\n"
    "N-9,phone,Phone number,contact,612-555-0900,housing\n"
)


def test_import_pages(live_server: Any, audit: Audit, world: World, db: Session) -> None:
    """Import a spreadsheet: the form, a check with problems, a clean check, the summary."""
    base, page, check = live_server.url, audit.page, audit.check
    email = _staff(db, "org_admin")
    page.goto(f"{base}/staff/login?lang={audit.locale}")
    page.locator("#email").fill(email)
    page.locator("#password").fill(STAFF_PASSWORD)
    _submit(page, STAFF_FORM)
    page.goto(f"{base}/staff/org/import")
    check("org admin: import a spreadsheet")
    form = 'main form[action="/staff/org/import/check"]'
    for name, content in (("bad.csv", BAD_CSV), ("good.csv", GOOD_CSV)):
        page.goto(f"{base}/staff/org/import")
        page.locator("#file").set_input_files(
            {"name": name, "mimeType": "text/csv", "buffer": content.encode()}
        )
        _submit(page, form)
        # With problems, the error summary takes the focus (autofocus) and the page scrolls to
        # it, leaving the staff bar's first link under the sticky header, where axe's
        # target-size rule counts it as obscured: audit the page from its top, as elsewhere.
        page.evaluate("window.scrollTo(0, 0)")
        check(f"org admin: import, checked ({name})")
    _submit(page, 'main form[action="/staff/org/import"]')
    expect(page.locator("main")).to_contain_text("N-9")
    check("org admin: import, summary")
    audit.assert_clean()
