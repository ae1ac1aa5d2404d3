"""Claiming: a claim link creates an account (username and PIN only), adds a second
organization to the same account, and a fresh code for a claimed enrollment resets the PIN."""

from __future__ import annotations

import re

from sqlmodel import select

from app.participants.models import Enrollment, Participant
from app.security.models import WebSession
from tests.factories import PIN, claim, claim_account, enroll, fresh_code, login, logout, page_csrf


def _input_names(html: str) -> set[str]:
    return set(re.findall(r'<input[^>]* name="([^"]+)"', html))


def test_claim_page_asks_only_for_username_and_pin(client, housing_org):
    code = enroll(housing_org)
    page = client.get(f"/claim/{code}")
    assert page.status_code == 200
    assert '<label for="username">Username</label>' in page.text
    assert '<label for="pin">PIN</label>' in page.text
    assert '<label for="confirm_pin">Confirm PIN</label>' in page.text
    assert ">Create account</button>" in page.text
    assert _input_names(page.text) == {"csrf_token", "username", "pin", "confirm_pin"}
    assert housing_org.name in page.text


def test_claiming_creates_an_account_signs_in_and_lands_on_home(client, housing_org, db):
    code = enroll(housing_org)
    response = claim(client, code, username="Maria_R")
    assert response.status_code == 200
    # The recovery code is shown once, with the way on to the home page.
    assert "Your recovery code" in response.text and 'href="/?added=' in response.text
    home = client.get("/")
    assert home.status_code == 200
    assert housing_org.name in home.text
    participant = db.exec(select(Participant)).one()
    assert participant.username == "maria_r"  # usernames are case-insensitive
    enrollment = db.exec(select(Enrollment)).one()
    assert enrollment.participant_id == participant.id
    assert enrollment.claimed_at is not None


def test_a_claim_code_works_once(client, housing_org, app):
    from fastapi.testclient import TestClient

    code = enroll(housing_org)
    assert claim(client, code).status_code == 200
    with TestClient(app, follow_redirects=False) as stranger:
        page = stranger.get(f"/claim/{code}")
        assert page.status_code == 404
        assert "This code does not work" in page.text
        assert "Create account" not in page.text
        # A used code says nothing of whose it was: the card's finder learns nothing.
        assert housing_org.name not in page.text
        assert "the organization that gave you this code" in page.text


def test_a_used_code_names_its_organization_only_to_its_owner(client, housing_org, make_org, db):
    code = enroll(housing_org)
    assert claim(client, code).status_code == 200
    page = client.get(f"/claim/{code}")  # maria, signed in: the enrollment is hers
    assert page.status_code == 200
    assert "Already in your account" in page.text
    assert f"You used this code already: {housing_org.name} is in your account." in page.text
    # Another organization's used code, typed by maria: not hers, so not named.
    eastside = make_org("eastside", "Eastside Housing")
    theirs = enroll(eastside, "E-9")
    claim_account(db, theirs, username="river")
    page = client.get(f"/claim/{theirs}")
    assert page.status_code == 404
    assert "Eastside" not in page.text and "This code does not work" in page.text


def test_after_a_pin_reset_a_spent_code_of_a_closed_organization_is_not_named(
    client, housing_org, make_org
):
    """Whoever reset the PIN with Northside's code must not learn from Cedar's old card that
    the account has Cedar too: its records are closed, and so is its name."""
    assert claim(client, enroll(housing_org, "A-1")).status_code == 200
    cedar = make_org("cedar", "Cedar Housing Partners")
    cedar_code = enroll(cedar, "C-9")
    cedar_page = client.post(
        f"/claim/{cedar_code}", data={"csrf_token": page_csrf(client, f"/claim/{cedar_code}")}
    )
    assert cedar_page.status_code == 303
    assert "Cedar Housing Partners" in client.get(f"/claim/{cedar_code}").text  # hers, open
    logout(client)
    reset = fresh_code(housing_org, "A-1")
    response = claim(client, reset, pin="739164")
    assert response.status_code == 303
    page = client.get(f"/claim/{cedar_code}")
    assert page.status_code == 404
    assert "Cedar" not in page.text and "This code does not work" in page.text


def test_codes_are_read_forgivingly(client, housing_org):
    code = enroll(housing_org)
    typed = code.replace("-", " ").lower()
    page = client.get(f"/claim/{typed}")
    assert page.status_code == 200
    assert "Create account" in page.text


def test_typing_the_code_at_claim_leads_to_the_claim_page(client, housing_org):
    code = enroll(housing_org)
    token = page_csrf(client, "/claim")
    response = client.post("/claim", data={"csrf_token": token, "code": f" {code} "})
    assert response.status_code == 303
    assert response.headers["location"] == f"/claim/{code}"


def test_a_wrong_typed_code_is_explained_and_kept(client, housing_org):
    token = page_csrf(client, "/claim")
    response = client.post("/claim", data={"csrf_token": token, "code": "ABCD-EFGH-JKMN"})
    assert response.status_code == 400
    assert "<title>Error: " in response.text
    assert 'href="#code"' in response.text
    assert 'value="ABCD-EFGH-JKMN"' in response.text


def test_form_errors_follow_gov_uk_and_never_echo_the_pin(client, housing_org, db):
    code = enroll(housing_org)
    response = claim(client, code, username="x", pin="97531", confirm_pin="97531")
    assert response.status_code == 400
    html = response.text
    assert re.search(r"<title>Error: ", html)
    summary = html[
        html.index('id="error-summary"') : html.index("</div>", html.index('id="error-summary"'))
    ]
    # Every problem at once, each linking to its field, in the form's order.
    assert summary.index('href="#username"') < summary.index('href="#pin"')
    assert 'aria-invalid="true"' in html
    assert 'value="x"' in html  # the answer is kept...
    assert "97531" not in html  # ...the PIN never is
    assert db.exec(select(Participant)).first() is None


def test_pin_must_be_six_digits_or_more_and_match(client, housing_org):
    code = enroll(housing_org)
    too_short = claim(client, code, pin="48291")
    assert too_short.status_code == 400 and 'href="#pin"' in too_short.text
    letters = claim(client, code, pin="48291a")
    assert letters.status_code == 400 and 'href="#pin"' in letters.text
    mismatch = claim(client, code, pin=PIN, confirm_pin="482914")
    assert mismatch.status_code == 400 and 'href="#confirm_pin"' in mismatch.text
    assert claim(client, code, pin="4829137").status_code == 200


def test_a_taken_username_is_refused(client, housing_org, make_org, app):
    from fastapi.testclient import TestClient

    assert claim(client, enroll(housing_org, "A-1"), username="maria").status_code == 200
    with TestClient(app, follow_redirects=False) as someone_else:
        response = claim(someone_else, enroll(housing_org, "A-2"), username="MARIA")
        assert response.status_code == 400
        assert "That username is taken" in response.text


def test_a_second_organization_joins_the_same_account(client, housing_org, make_org, db):
    assert claim(client, enroll(housing_org, "A-1")).status_code == 200
    cedar = make_org("cedar", "Cedar Housing Partners")
    code = enroll(cedar, "C-9")

    page = client.get(f"/claim/{code}")
    assert page.status_code == 200
    assert "Add to my account" in page.text
    assert 'name="username"' not in page.text  # no second account

    response = client.post(
        f"/claim/{code}", data={"csrf_token": page_csrf(client, f"/claim/{code}")}
    )
    assert response.status_code == 303
    assert response.headers["location"].endswith("#org-cedar")
    home = client.get(response.headers["location"])
    assert housing_org.name in home.text and "Cedar Housing Partners" in home.text
    # Where the page lands, in Cedar's section, a notice names it (and none elsewhere).
    cedar_section = home.text[home.text.index('id="org-cedar"') :]
    assert (
        "Cedar Housing Partners was added to your account." in cedar_section.split("</h2>")[1][:200]
    )
    assert home.text.count("was added to your account") == 1
    participants = db.exec(select(Participant)).all()
    assert len(participants) == 1
    owners = {e.participant_id for e in db.exec(select(Enrollment)).all()}
    assert owners == {participants[0].id}


def test_signed_out_visitor_with_an_account_is_offered_to_log_in_first(client, housing_org):
    assert claim(client, enroll(housing_org, "A-1")).status_code == 200
    assert logout(client).status_code == 303
    code = enroll(housing_org, "A-2")
    page = client.get(f"/claim/{code}")
    assert f'href="/login?next=/claim/{code}"' in page.text
    # Logging in from there comes back to the claim page, which now adds to the account.
    token = page_csrf(client, f"/login?next=/claim/{code}")
    response = client.post(
        "/login",
        data={"csrf_token": token, "username": "maria", "pin": PIN, "next": f"/claim/{code}"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/claim/{code}"
    assert "Add to my account" in client.get(f"/claim/{code}").text


def test_a_fresh_code_for_a_claimed_enrollment_resets_the_pin(client, housing_org, app, db):
    from fastapi.testclient import TestClient

    assert claim(client, enroll(housing_org, "A-1")).status_code == 200
    assert client.get("/").status_code == 200  # signed in on the first phone

    code = fresh_code(housing_org, "A-1")
    with TestClient(app, follow_redirects=False) as other_phone:
        page = other_phone.get(f"/claim/{code}")
        assert page.status_code == 200
        # A code alone never shows the account's username: the person types it.
        assert "Choose a new PIN" in page.text and "maria" not in page.text
        token = page_csrf(other_phone, f"/claim/{code}")
        response = other_phone.post(
            f"/claim/{code}",
            data={
                "csrf_token": token,
                "username": "maria",
                "pin": "739164",
                "confirm_pin": "739164",
            },
        )
        assert response.status_code == 303
        assert other_phone.get("/").status_code == 200  # signed in with the new PIN

    # The session on the first phone ended, and the old PIN stopped working.
    assert client.get("/").status_code == 303
    assert login(client, "maria", PIN).status_code == 400
    assert login(client, "maria", "739164").status_code == 303
    participant = db.exec(select(Participant)).one()
    open_sessions = db.exec(
        select(WebSession).where(
            WebSession.participant_id == participant.id,
            WebSession.revoked_at.is_(None),  # type: ignore[union-attr]
        )
    ).all()
    assert len(open_sessions) == 2  # the other phone's, and the one just logged in


def test_a_code_sent_twice_at_once_is_used_only_once(housing_org, db, engine):
    """Two tabs (or two people) submit the same code at the same moment: both found it
    unused, but only the first one links the enrollment."""
    from sqlmodel import Session

    from app.participants.service import CodeAlreadyUsed, find_claim, link_enrollment

    code = enroll(housing_org)
    first_participant = Participant(username="first", pin_hash="x")
    second_participant = Participant(username="second", pin_hash="x")
    db.add(first_participant)
    db.add(second_participant)
    db.commit()
    with Session(engine) as first, Session(engine) as second:
        first_claim, second_claim = find_claim(first, code), find_claim(second, code)
        assert first_claim is not None and second_claim is not None
        link_enrollment(first, claim=first_claim, participant=first_participant)
        first.commit()
        try:
            link_enrollment(second, claim=second_claim, participant=second_participant)
        except CodeAlreadyUsed:
            second.rollback()
        else:
            raise AssertionError("the code was used twice")
    db.expire_all()
    assert db.exec(select(Enrollment)).one().participant_id == first_participant.id
