"""The consent page: the notice before deciding, giving and withdrawing in the same number of
steps, the history, and who may see it."""

from __future__ import annotations

import pytest
from sqlmodel import select

from app.consent.models import Consent
from app.consent.notice import build_notice
from app.consent.service import ConsentConflict, NoticeChanged
from app.consent.service import decide as decide_consent
from app.events.models import Event
from app.i18n import format_date
from app.organizations.service import create_staff, find_purpose, get_organization
from app.participants.models import Enrollment
from tests.factories import consent_url, csrf_from, decide, enroll_and_claim, log_in, purpose_body


def _setup(db, org, client, **purpose_overrides):
    assert org.put("/api/v1/purposes/housing", purpose_body(**purpose_overrides)).status_code == 201
    maria = enroll_and_claim(db, org, external_ref="A-1", username="maria")
    log_in(client, maria)
    return maria


def _consents(db, person):
    db.expire_all()
    return list(
        db.exec(
            select(Consent)
            .where(Consent.enrollment_id == person.enrollment_id)
            .order_by(Consent.created_at)
        )
    )


def _events(db, person):
    db.expire_all()
    return list(
        db.exec(
            select(Event).where(Event.enrollment_id == person.enrollment_id).order_by(Event.seq)
        )
    )


def test_the_notice_is_shown_before_giving(db, org, client):
    maria = _setup(
        db,
        org,
        client,
        legal_recipients={"en": "Hennepin County auditors"},
    )
    page = client.get(consent_url(maria) + "?decision=give")
    assert page.status_code == 200
    html = page.text
    assert "Share with the county for housing help" in html  # the purpose in plain words
    assert "So the county can find you housing." in html
    assert "How to reach you, Household" in html  # the data categories, in words
    assert "Hennepin County" in html  # who will receive it
    assert "1 year" in html  # how long it is kept
    assert "You may say no." in html
    assert "If you say no: You still get food from us." in html
    assert "The law may also require sharing with: Hennepin County auditors" in html
    assert "Not decided yet" in html
    # One button, named like the home page's link.
    assert html.count('type="submit" class="button primary" id="decision-button"') == 1
    assert ">Give consent</button>" in html
    assert "Withdraw consent</button>" not in html


def test_give_then_withdraw_each_one_button(db, org, client):
    maria = _setup(db, org, client)

    r = decide(client, maria, "give")
    assert r.status_code == 303
    # Without JavaScript the confirmation lands beside the decision it confirms.
    assert r.headers["location"] == consent_url(maria) + "?done=given#decision"
    [given] = _consents(db, maria)
    assert (given.state, given.method, given.notice_language) == ("given", "self", "en")
    assert given.recorded_by is None and given.expires_at is not None
    # The exact notice shown is what is stored.
    assert "Northside Food Shelf: Share with the county for housing help" in given.notice_text
    assert "What data: How to reach you, Household" in given.notice_text
    assert [e.type for e in _events(db, maria)] == ["consent.given"]

    page = client.get(consent_url(maria))
    assert ">Withdraw consent</button>" in page.text
    assert "Give consent</button>" not in page.text
    assert "You gave consent" in page.text

    r = decide(client, maria, "withdraw")
    assert r.status_code == 303
    assert r.headers["location"] == consent_url(maria) + "?done=withdrawn#decision"
    states = [c.state for c in _consents(db, maria)]
    assert states == ["given", "withdrawn"]
    withdrawn = _consents(db, maria)[-1]
    assert withdrawn.withdrawn_at is not None and withdrawn.given_at == given.given_at
    events = _events(db, maria)
    assert [e.type for e in events] == ["consent.given", "consent.withdrawn"]
    assert events[1].ack_due_by is not None  # the organization must confirm it stopped

    check = org.post("/api/v1/consent-checks", {"external_ref": "A-1", "purpose": "housing"})
    assert check.json()["allowed"] is False
    assert check.json()["state"] == "withdrawn"


def test_a_participant_can_say_no_on_their_own_phone(db, org, client):
    maria = _setup(db, org, client)
    page = client.get(consent_url(maria))
    assert ">Don't give consent</button>" in page.text.replace("&#39;", "'")

    r = decide(client, maria, "refuse")
    assert r.headers["location"] == consent_url(maria) + "?done=refused#decision"
    [refused] = _consents(db, maria)
    assert (refused.state, refused.method, refused.given_at) == ("refused", "self", None)
    assert "What data: How to reach you, Household" in refused.notice_text  # what was read
    assert _events(db, maria) == []  # nothing was allowed, so nothing to stop
    check = org.post("/api/v1/consent-checks", {"external_ref": "A-1", "purpose": "housing"})
    assert (check.json()["allowed"], check.json()["state"]) == (False, "refused")

    confirmed = client.get(r.headers["location"]).text.replace("&#39;", "'")
    assert confirmed.count('id="history-section"') == 1
    assert "You did not give consent. Northside Food Shelf may not use" in confirmed
    assert "Don't give consent</button>" not in confirmed  # already said; Give is still there
    assert ">Give consent</button>" in confirmed
    # Saying no again changes nothing; giving later works as ever.
    decide(client, maria, "refuse")
    decide(client, maria, "give")
    assert [c.state for c in _consents(db, maria)] == ["refused", "given"]


def test_the_withdrawal_says_what_the_organization_must_do_and_by_when(db, org, client):
    maria = _setup(db, org, client)
    decide(client, maria, "give")
    r = decide(client, maria, "withdraw")
    [_, withdrawal] = _events(db, maria)
    html = client.get(r.headers["location"]).text
    due = withdrawal.ack_due_by
    assert due is not None
    message = html.split('role="status">', 1)[1].split("</p>", 1)[0]
    assert message.startswith("You withdrew consent. Northside Food Shelf must stop using")
    day = format_date(due)  # as the page writes it: in English, in the network's time zone
    assert f"confirm it to you by {day}." in message
    assert f"Waiting, due by {day}" in html  # the history says the same date


def test_giving_again_from_an_old_tab_records_nothing_twice(db, org, client):
    maria = _setup(db, org, client)
    page = client.get(consent_url(maria))
    form = {"decision": "give", "notice_version": "1", "csrf_token": csrf_from(page.text)}
    assert client.post(consent_url(maria), data=form).status_code == 303
    assert client.post(consent_url(maria), data=form).status_code == 303
    assert [c.state for c in _consents(db, maria)] == ["given"]
    # Withdrawing what is not given changes nothing either.
    decide(client, maria, "withdraw")
    form["decision"] = "withdraw"
    assert client.post(consent_url(maria), data=form).status_code == 303
    assert [c.state for c in _consents(db, maria)] == ["given", "withdrawn"]


def test_a_changed_notice_is_shown_again_before_recording(db, org, client):
    maria = _setup(db, org, client)
    page = client.get(consent_url(maria))
    token = csrf_from(page.text)
    # The organization changes what it asks while the page is open.
    changed = purpose_body(categories=["contact", "household", "income"])
    assert org.put("/api/v1/purposes/housing", changed).status_code == 200
    r = client.post(
        consent_url(maria), data={"decision": "give", "notice_version": "1", "csrf_token": token}
    )
    assert r.status_code == 409
    assert "The organization changed this notice" in r.text
    assert "How to reach you, Household, Income" in r.text
    assert _consents(db, maria) == []


def test_the_participants_language_and_notice_are_stored(db, org, client):
    maria = _setup(db, org, client)
    client.get("/?lang=es")
    decide(client, maria, "give")
    [given] = _consents(db, maria)
    assert given.notice_language == "es"
    assert "Compartir con el condado para ayuda de vivienda" in given.notice_text


def test_htmx_gets_the_decision_block(db, org, client):
    maria = _setup(db, org, client)
    page = client.get(consent_url(maria))
    r = client.post(
        consent_url(maria),
        data={"decision": "give", "notice_version": "1"},
        headers={"HX-Request": "true", "X-CSRF-Token": csrf_from(page.text)},
    )
    assert r.status_code == 200
    assert r.text.lstrip().startswith('<div id="decision"')
    assert "<html" not in r.text
    assert "You gave consent. You can withdraw it here at any time." in r.text
    assert ">Withdraw consent</button>" in r.text


def test_post_without_a_csrf_token_is_refused(db, org, client):
    maria = _setup(db, org, client)
    r = client.post(consent_url(maria), data={"decision": "give", "notice_version": "1"})
    assert r.status_code == 403
    r = client.post(
        consent_url(maria),
        data={"decision": "give", "notice_version": "1", "csrf_token": "0" * 64},
    )
    assert r.status_code == 403
    assert _consents(db, maria) == []


def test_signed_out_visitors_are_sent_to_log_in(db, org, client):
    maria = _setup(db, org, client)
    client.cookies.clear()
    r = client.get(consent_url(maria))
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login?next=")


def test_another_participants_consent_is_not_found(db, org, make_org, client, app):
    from fastapi.testclient import TestClient

    maria = _setup(db, org, client)
    decide(client, maria, "give")
    [marias_consent] = _consents(db, maria)
    # Ana has an account of her own, at another organization, with the same purpose key.
    other = make_org("cedar", "Cedar Housing")
    assert other.put("/api/v1/purposes/housing", purpose_body()).status_code == 201
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as ana_client:
        ana = enroll_and_claim(db, other, external_ref="B-1", username="ana")
        log_in(ana_client, ana)
        assert ana_client.get(consent_url(ana)).status_code == 200
        assert ana_client.get(consent_url(maria)).status_code == 404
        assert ana_client.get(f"/consents/{ana.enrollment_id}/no-such-purpose").status_code == 404
        token = csrf_from(ana_client.get(consent_url(ana)).text)
        r = ana_client.post(
            consent_url(maria),
            data={"decision": "withdraw", "notice_version": "1", "csrf_token": token},
        )
        assert r.status_code == 404
        assert ana_client.get(f"/consents/receipts/{marias_consent.id}").status_code == 404
        assert ana_client.get(f"/consents/receipts/{marias_consent.id}.json").status_code == 404
        assert marias_consent.id not in ana_client.get("/activity").text
    assert [c.state for c in _consents(db, maria)] == ["given"]


def test_a_purpose_that_does_not_rest_on_consent_has_no_consent_page(db, org, client):
    maria = _setup(db, org, client)
    assert org.put("/api/v1/purposes/food", purpose_body(basis="service")).status_code == 201
    assert client.get(consent_url(maria, "food")).status_code == 404


def test_paper_and_assisted_consent_are_marked(db, org, client):
    maria = _setup(db, org, client)
    r = org.post(
        "/api/v1/participants/A-1/consents",
        {"purpose": "housing", "state": "given", "method": "paper"},
    )
    assert r.status_code == 201, r.text
    page = client.get(consent_url(maria))
    assert "On a paper form" in page.text
    assert "recorded by Northside Food Shelf" in page.text
    assert "This was recorded from a form you gave the organization" in page.text

    organization = get_organization(db, "northside")
    staff = create_staff(
        db,
        organization=organization,
        email="casey@northside.example",
        role="case_manager",
        password="a-long-password",
        name="Casey Morgan",
    )
    enrollment = db.get(Enrollment, maria.enrollment_id)
    purpose = find_purpose(db, organization_id=organization.id, key="housing")
    decide_consent(
        db,
        enrollment=enrollment,
        organization=organization,
        purpose=purpose,
        state="withdrawn",
        method="assisted",
        notice=build_notice(purpose, organization, "en"),
        recorded_by=staff.name,
        assisted_by_staff_id=staff.id,
    )
    db.commit()
    page = client.get(consent_url(maria))
    assert "With help from a case manager</strong>: Casey Morgan" in page.text
    assert "This was recorded with help from a case manager" in page.text


def test_with_htmx_a_changed_notice_reloads_the_whole_page(db, org, client):
    maria = _setup(db, org, client)
    page = client.get(consent_url(maria))
    changed = purpose_body(categories=["contact", "household", "income"])
    assert org.put("/api/v1/purposes/housing", changed).status_code == 200
    r = client.post(
        consent_url(maria),
        data={"decision": "give", "notice_version": "1"},
        headers={"HX-Request": "true", "X-CSRF-Token": csrf_from(page.text)},
    )
    assert r.headers["HX-Redirect"] == consent_url(maria) + "?notice_changed=1"
    assert _consents(db, maria) == []
    reloaded = client.get(r.headers["HX-Redirect"]).text
    assert "The organization changed this notice" in reloaded
    assert "How to reach you, Household, Income" in reloaded


def test_an_unknown_decision_records_nothing(db, org, client):
    maria = _setup(db, org, client)
    page = client.get(consent_url(maria))
    r = client.post(
        consent_url(maria),
        data={"decision": "maybe", "notice_version": "1", "csrf_token": csrf_from(page.text)},
    )
    assert r.status_code == 400
    assert "Choose to give consent, not to give it, or to withdraw it." in r.text
    assert _consents(db, maria) == []


def test_one_decision_rule_for_the_page_the_intake_and_the_api(db, org, client):
    """decide is the one place: on a screen a repeated decision changes nothing and saying no
    to a given consent withdraws it; a paper form signed again renews; a stale notice is
    refused before anything is read or written."""
    maria = _setup(db, org, client)
    organization = get_organization(db, "northside")
    enrollment = db.get(Enrollment, maria.enrollment_id)
    purpose = find_purpose(db, organization_id=organization.id, key="housing")
    notice = build_notice(purpose, organization, "en")

    def once(state, method, **extra):
        return decide_consent(
            db,
            enrollment=enrollment,
            organization=organization,
            purpose=purpose,
            state=state,
            method=method,
            notice=notice,
            **extra,
        )

    with pytest.raises(NoticeChanged):
        once("given", "self", notice_version=str(purpose.version + 1))
    assert once("withdrawn", "self").changed is False  # nothing given to withdraw
    with pytest.raises(ConsentConflict):
        once("withdrawn", "paper")  # the organization must hear it was never given
    assert once("given", "self").changed is True
    assert once("given", "assisted").changed is False  # a second tap, or Back then the same
    assert once("given", "paper").changed is True  # a form signed again renews
    said_no = once("refused", "assisted")
    assert said_no.changed and said_no.consent.state == "withdrawn"
    db.commit()
    states = [c.state for c in _consents(db, maria)]
    assert states == ["given", "given", "withdrawn"]
    assert [e.type for e in _events(db, maria)] == [
        "consent.given",
        "consent.given",
        "consent.withdrawn",
    ]
