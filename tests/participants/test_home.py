"""The home page: every organization holding the participant's data, what it holds (grouped
by category), why, on what basis, from where, for how long, who it was shared with, and the
consent-based purposes with their state and the control to change it."""

from __future__ import annotations

import re

from sqlmodel import select

from app.holdings.models import Holding
from tests.factories import hold, purpose_body, shown_day


def _section(html: str, anchor: str) -> str:
    start = html.index(f'id="{anchor}"')
    end = html.find('<section class="organization"', start + 1)
    return html[start : end if end != -1 else len(html)]


def _holding(db, field_key: str) -> Holding:
    return db.exec(select(Holding).where(Holding.field_key == field_key)).one()


def test_signed_out_visitors_are_sent_to_log_in(client):
    response = client.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/"


def test_holdings_are_grouped_by_category_with_why_where_and_how_long(client, person):
    hold(person.org, person.external_ref, "phone", purpose="food", category="contact")
    hold(
        person.org,
        person.external_ref,
        "household",
        label="People in your household",
        category="household",
        value="4",
        purpose="food",
        source="Phone call",
        collected_at="2026-09-15",
        retain_until="2028-09-15",
    )
    html = client.get("/").text
    section = _section(html, "org-northside")
    assert re.search(
        r'<h4 class="category">How to reach you</h4>\s*<ul class="holdings">\s*<li[^>]*>\s*<p class="label"[^>]*>Phone number</p>',
        section,
    )
    assert '<h4 class="category">Household</h4>' in section
    assert "612-555-0100" in section and ">4</p>" in section
    assert "Giving you food each week" in section  # why: the purpose's title...
    assert "We count your household to give the right amount." in section  # ...and description
    assert "Needed to give you the service" in section  # the basis in plain words
    assert "Intake form, Oct 1, 2026" in section and "Phone call, Sep 15, 2026" in section
    assert "Sep 15, 2028" in section  # kept until the holding's own date, or else...
    assert "1 year after collection" in section  # ...the purpose's retention rule


def test_a_purpose_without_retention_says_no_limit_is_set(client, person):
    unlimited = purpose_body(basis="service", title={"en": "Keeping records"}, retention_days=None)
    assert person.org.put("/api/v1/purposes/records", unlimited).status_code in (200, 201)
    hold(person.org, person.external_ref, "phone", purpose="records")
    item = client.get("/").text
    item = item[item.index('class="holding"') :]
    assert "No limit set" in item[: item.index("</li>")]


def test_sensitive_values_wait_behind_show(client, person, db):
    hold(
        person.org,
        person.external_ref,
        "hiv",
        label="HIV status",
        category="contact",
        value="Positive",
        purpose="food",
        sensitive=True,
    )
    # A sensitive category is hidden even when the organization did not flag the holding.
    hold(
        person.org,
        person.external_ref,
        "clinic",
        label="Clinic visits",
        category="health",
        value="Monthly",
        purpose="food",
    )
    html = client.get("/").text
    assert "Positive" not in html and "Monthly" not in html
    assert "It is hidden until you choose to see it." in html
    hiv = _holding(db, "hiv")
    assert (
        f'<form method="get" action="/holdings/{hiv.id}/value" data-hx-get="/holdings/{hiv.id}/value"'
        in html
    )
    assert re.search(
        rf'<button type="submit" class="button secondary" aria-describedby="label-{hiv.id}">Show</button>',
        html,
    )


def test_show_without_javascript_reloads_home_with_the_value(client, person, db):
    hold(
        person.org,
        person.external_ref,
        "hiv",
        label="HIV status",
        value="Positive",
        purpose="food",
        sensitive=True,
    )
    hiv = _holding(db, "hiv")
    response = client.get(f"/holdings/{hiv.id}/value")
    assert response.status_code == 303
    assert response.headers["location"] == f"/?show={hiv.id}#holding-{hiv.id}"
    page = client.get(response.headers["location"])
    assert "Positive" in page.text
    assert f'href="/#holding-{hiv.id}"' in page.text  # and a way to hide it again


def test_show_with_htmx_swaps_in_just_the_value(client, person, db):
    hold(
        person.org,
        person.external_ref,
        "hiv",
        label="HIV status",
        value="Positive",
        purpose="food",
        sensitive=True,
    )
    hiv = _holding(db, "hiv")
    fragment = client.get(f"/holdings/{hiv.id}/value", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "Positive" in fragment.text
    assert "<html" not in fragment.text
    assert f'id="value-{hiv.id}"' in fragment.text and 'tabindex="-1"' in fragment.text


def test_disclosures_say_who_when_what_why_and_whether_consent_covered_it(client, person):
    hold(person.org, person.external_ref, "phone", purpose="housing")
    hold(
        person.org,
        person.external_ref,
        "household",
        label="People in your household",
        category="household",
        value="4",
        purpose="food",
    )
    shared = person.org.post(
        f"/api/v1/participants/{person.external_ref}/disclosures",
        {
            "recipient": {"name": "Hennepin County"},
            "purpose": "housing",
            "field_keys": ["phone", "household"],
            "disclosed_at": "2026-11-02T10:00:00Z",
        },
    )
    assert shared.status_code == 201, shared.text
    assert shared.json()["flagged"] is True  # consent was never given
    html = client.get("/").text
    disclosure = html[html.index('<li class="disclosure flagged">') :]
    disclosure = disclosure[: disclosure.index("</li>")]
    assert "Warning:" in disclosure  # stands out in words, not only by colour
    assert "Shared without your consent." in disclosure
    assert "Hennepin County" in disclosure
    assert "Nov 2, 2026" in disclosure
    assert "People in your household, Phone number" in disclosure
    assert "Share with the county for housing help" in disclosure
    assert "Your consent did not cover it" in disclosure


def test_a_disclosure_under_given_consent_is_not_flagged(client, person):
    hold(person.org, person.external_ref, "phone", purpose="housing")
    given = person.org.post(
        f"/api/v1/participants/{person.external_ref}/consents",
        {"purpose": "housing", "state": "given", "method": "paper"},
    )
    assert given.status_code == 201, given.text
    person.org.post(
        f"/api/v1/participants/{person.external_ref}/disclosures",
        {"recipient": {"name": "Hennepin County"}, "purpose": "housing", "field_keys": ["phone"]},
    )
    html = client.get("/").text
    assert '<li class="disclosure">' in html
    assert "Warning:" not in html
    assert "Your consent covered it" in html


def test_consent_purposes_show_their_state_and_the_control(client, person, db):
    from app.participants.models import Enrollment

    enrollment = db.exec(select(Enrollment)).one()
    html = client.get("/").text
    consent = html[html.index('id="consent-northside-housing"') :]
    consent = consent[: consent.index("</li>")]
    assert "<strong>Requested</strong>" in consent  # nothing recorded yet
    assert f'<form method="get" action="/consents/{enrollment.id}/housing">' in consent
    assert ">Give consent</button>" in consent
    assert "Withdraw consent" not in consent
    assert 'id="consent-northside-food"' not in html  # a service purpose needs no consent

    person.org.post(
        f"/api/v1/participants/{person.external_ref}/consents",
        {"purpose": "housing", "state": "given", "method": "paper"},
    )
    html = client.get("/").text
    consent = html[html.index('id="consent-northside-housing"') :]
    consent = consent[: consent.index("</li>")]
    assert "<strong>Given</strong>" in consent
    assert "on a paper form" in consent  # who recorded it, and how
    assert ">Withdraw consent</button>" in consent


def test_deleted_holdings_say_so_and_when(client, person, db):
    hold(person.org, person.external_ref, "phone", purpose="food")
    assert (
        person.org.delete(f"/api/v1/participants/{person.external_ref}/holdings/phone").status_code
        == 204
    )
    deleted = _holding(db, "phone")
    db.refresh(deleted)
    html = client.get("/").text
    item = html[html.index(f'id="holding-{deleted.id}"') :]
    item = item[: item.index("</li>")]
    assert "Phone number" in item
    assert "<strong>Deleted</strong>" in item
    assert shown_day(deleted.deleted_at) in item
    assert "612-555-0100" not in html


def test_purpose_texts_fall_back_to_english_with_a_note(client, person):
    hold(
        person.org, person.external_ref, "phone", purpose="food"
    )  # "food" is written in English only
    html = client.get("/?lang=es").text
    # Marked by its lang on every line, and said once for the organization's section.
    assert '<span lang="en">Giving you food each week</span>' in html
    assert '<span class="fallback">' not in html
    section = html[html.index('<section class="organization"') :]
    assert section.count('class="fallback"') == 1
    assert "Northside Food Shelf todavía no lo ha traducido." in section  # in the page's language
    # The housing purpose has a Spanish title, which is shown without a note.
    assert "Compartir con el condado para ayuda de vivienda" in html
    english = client.get("/?lang=en").text
    assert 'class="fallback"' not in english


def test_every_organization_is_listed(client, person, make_org):
    from tests.factories import enroll, page_csrf

    cedar = make_org("cedar", "Cedar Housing Partners")
    assert cedar.put("/api/v1/purposes/case", purpose_body(basis="service")).status_code == 201
    code = enroll(cedar, "C-1")
    client.post(f"/claim/{code}", data={"csrf_token": page_csrf(client, f"/claim/{code}")})
    html = client.get("/").text
    assert "2 organizations hold data about you." in html
    assert 'href="#org-northside"' in html and 'href="#org-cedar"' in html
    assert 'id="org-cedar"' in html


def test_an_organizations_words_are_shown_as_text_never_as_markup(client, person):
    """Labels, values, sources and recipients come from organizations' systems: each is
    escaped on the home page exactly as the rest of the page escapes text."""
    tricky = "<b>Tom & \"Jerry\"</b> 'x'"
    escaped = "&lt;b&gt;Tom &amp; &#34;Jerry&#34;&lt;/b&gt; &#39;x&#39;"
    hold(person.org, person.external_ref, "phone", label=tricky, value=tricky, source=tricky)
    shared = person.org.post(
        f"/api/v1/participants/{person.external_ref}/disclosures",
        {"recipient": {"name": tricky}, "purpose": "housing", "field_keys": ["phone"]},
    )
    assert shared.status_code == 201, shared.text
    html = client.get("/").text
    assert "<b>Tom" not in html
    holding = html[html.index('<li class="holding') :]
    holding = holding[: holding.index("</li>")]
    assert '<p class="label" id="label-' in holding and f">{escaped}</p>" in holding
    assert f'<p class="value-text">{escaped}</p>' in holding
    assert f"<dd>{escaped}" in holding  # where it came from
    disclosure = html[html.index('<li class="disclosure') :]
    disclosure = disclosure[: disclosure.index("</li>")]
    assert f">{escaped}</p>" in disclosure and f"<dd>{escaped}</dd>" in disclosure
