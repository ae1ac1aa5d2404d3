"""Change my PIN and change my username, signed in, with the current PIN (the issue "The
participant's home"): the new one works and the old one doesn't, errors are form errors
that save nothing, a wrong current PIN counts towards the login lockout, a new PIN logs
every other browser out, and both changes are shown on the access page."""

from __future__ import annotations

from sqlmodel import Session, select

from app.participants.models import Participant
from app.security.models import WebSession
from app.security.passwords import verify_secret
from app.web.deps import SESSION_COOKIE
from tests.factories import PIN, csrf_from, enroll_and_claim, login, send_form

NEW_PIN = "739164"


def change_pin(client, current=PIN, pin=NEW_PIN, confirm=None):
    return send_form(
        client,
        "/account/pin",
        {"current_pin": current, "pin": pin, "confirm_pin": pin if confirm is None else confirm},
    )


def change_username(client, username, current=PIN):
    return send_form(client, "/account/username", {"username": username, "current_pin": current})


def maria(db: Session) -> Participant:
    db.expire_all()
    row = db.exec(select(Participant).where(Participant.id == _maria_id(db))).one()
    return row


def _maria_id(db: Session) -> str:
    rows = list(db.exec(select(Participant)))
    (found,) = [p for p in rows if p.username != "river"]
    return found.id


# --- the pages -------------------------------------------------------------------------------


def test_the_account_page_links_both_forms(client, person):
    page = client.get("/account").text
    assert 'href="/account/pin"' in page and 'href="/account/username"' in page
    assert page.index("Change PIN") < page.index("Your data")


def test_the_forms_are_labelled_for_password_managers_and_number_pads(client, person):
    pin_page = client.get("/account/pin")
    assert pin_page.status_code == 200
    for name, label, autocomplete in [
        ("current_pin", "Current PIN", "current-password"),
        ("pin", "New PIN", "new-password"),
        ("confirm_pin", "Confirm new PIN", "new-password"),
    ]:
        assert f'<label for="{name}">{label}</label>' in pin_page.text
        assert f'id="{name}" name="{name}" type="password"' in pin_page.text
        tag = pin_page.text.split(f'id="{name}"')[1].split(">")[0]
        assert f'autocomplete="{autocomplete}"' in tag and 'inputmode="numeric"' in tag
    assert ">Change PIN</button>" in pin_page.text
    name_page = client.get("/account/username")
    assert name_page.status_code == 200
    assert '<label for="username">New username</label>' in name_page.text
    assert '<label for="current_pin">Current PIN</label>' in name_page.text
    assert ">Change username</button>" in name_page.text


def test_signed_out_the_forms_send_to_login(client):
    for path in ("/account/pin", "/account/username"):
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login"), path


def test_posting_without_the_csrf_token_is_refused(client, person, db):
    response = client.post(
        "/account/pin", data={"current_pin": PIN, "pin": NEW_PIN, "confirm_pin": NEW_PIN}
    )
    assert response.status_code == 403
    assert verify_secret(PIN, maria(db).pin_hash)


# --- change PIN ------------------------------------------------------------------------------


def test_a_new_pin_works_and_the_old_one_does_not(client, person, other_browser, db):
    before = client.cookies.get(SESSION_COOKIE)
    response = change_pin(client)
    assert response.status_code == 303
    assert response.headers["location"] == "/account?changed=pin"
    account = client.get(response.headers["location"])
    assert account.status_code == 200  # this browser stays signed in...
    assert client.cookies.get(SESSION_COOKIE) != before  # ...with a fresh session
    assert "Your new PIN is saved" in account.text
    assert verify_secret(NEW_PIN, maria(db).pin_hash)
    assert login(other_browser, "maria", PIN).status_code == 400
    assert login(other_browser, "maria", NEW_PIN).status_code == 303
    assert "Your PIN was changed while you were logged in" in client.get("/access").text


def test_every_other_browser_is_logged_out(client, person, other_browser, db):
    assert login(other_browser, "maria", PIN).status_code == 303
    assert other_browser.get("/").status_code == 200
    assert change_pin(client).status_code == 303
    after = other_browser.get("/")
    assert after.status_code == 303 and after.headers["location"].startswith("/login")
    db.expire_all()
    live = db.exec(
        select(WebSession).where(
            WebSession.participant_id == maria(db).id,
            WebSession.revoked_at.is_(None),  # type: ignore[union-attr]
        )
    ).all()
    assert len(live) == 1  # only the browser that changed it
    assert client.get("/").status_code == 200


def test_a_wrong_current_pin_saves_nothing(client, person, other_browser, db):
    assert login(other_browser, "maria", PIN).status_code == 303
    response = change_pin(client, current="000111")
    assert response.status_code == 400
    assert "That PIN is not right" in response.text
    assert verify_secret(PIN, maria(db).pin_hash)
    assert other_browser.get("/").status_code == 200  # no one was logged out


def test_wrong_current_pins_count_towards_the_login_lockout(client, person, other_browser, db):
    for _ in range(5):
        assert change_pin(client, current="000111").status_code == 400
    paused = change_pin(client)  # the right PIN, but paused now
    assert paused.status_code == 400 and "Too many wrong PINs" in paused.text
    assert verify_secret(PIN, maria(db).pin_hash)
    # Logging in as maria from a browser that never signed in is refused too.
    assert login(other_browser, "maria", PIN).status_code == 429


def test_the_confirmation_must_match(client, person, db):
    response = change_pin(client, confirm="739165")
    assert response.status_code == 400
    assert "The two PINs do not match" in response.text
    assert verify_secret(PIN, maria(db).pin_hash)


def test_a_pin_too_easy_to_guess_is_refused(client, person, db):
    for easy in ("123456", "111111", "987654"):
        response = change_pin(client, pin=easy)
        assert response.status_code == 400, easy
        assert "too easy to guess" in response.text, easy
    short = change_pin(client, pin="12345")
    assert short.status_code == 400 and "6 to 12 numbers" in short.text
    assert verify_secret(PIN, maria(db).pin_hash)


def test_every_problem_is_listed_and_no_pin_is_given_back(client, person):
    response = change_pin(client, current="", pin="12", confirm="")
    assert response.status_code == 400
    assert "Enter your PIN now" in response.text and "6 to 12 numbers" in response.text
    assert 'href="#current_pin"' in response.text or "current_pin-error" in response.text
    assert 'value="12"' not in response.text


def test_the_same_pin_again_is_refused(client, person):
    response = change_pin(client, pin=PIN)
    assert response.status_code == 400 and "That is your PIN now" in response.text


def test_the_page_speaks_the_participants_language(client, person):
    page = client.get("/account/pin?lang=es")
    assert page.status_code == 200 and 'lang="es"' in page.text
    response = client.post(
        "/account/pin",
        data={
            "csrf_token": csrf_from(page.text),
            "current_pin": PIN,
            "pin": NEW_PIN,
            "confirm_pin": "000000",
        },
    )
    assert response.status_code == 400 and 'lang="es"' in response.text


# --- change username -------------------------------------------------------------------------


def test_a_new_username_logs_in_and_the_old_one_does_not(client, person, other_browser, db):
    response = change_username(client, "  Rio.Bravo ")
    assert response.status_code == 303
    assert response.headers["location"] == "/account?changed=username"
    assert "Your new username is saved" in client.get(response.headers["location"]).text
    assert maria(db).username == "rio.bravo"
    assert login(other_browser, "maria", PIN).status_code == 400
    assert login(other_browser, "rio.bravo", PIN).status_code == 303
    assert "Your username was changed while you were logged in" in client.get("/access").text


def test_a_taken_username_is_refused_without_saying_whose(client, person, housing_org, db):
    enroll_and_claim(db, housing_org, external_ref="B-2", username="river")
    response = change_username(client, "river")
    assert response.status_code == 400
    assert "That username is taken. Choose another." in response.text
    assert "B-2" not in response.text
    assert maria(db).username == "maria"


def test_a_taken_username_is_not_revealed_without_the_right_pin(client, person, housing_org, db):
    enroll_and_claim(db, housing_org, external_ref="B-2", username="river")
    response = change_username(client, "river", current="000111")
    assert response.status_code == 400
    assert "That PIN is not right" in response.text
    assert "taken" not in response.text
    assert maria(db).username == "maria"


def test_the_username_rules_of_claiming_apply(client, person, db):
    for bad, message in [
        ("", "Choose a username."),
        ("ab", "Use 3 to 40 letters"),
        ("-maria", "Use 3 to 40 letters"),
        ("maría", "Use 3 to 40 letters"),
        ("m" * 41, "Use 3 to 40 letters"),
        ("maria", "That is your username already"),
    ]:
        response = change_username(client, bad)
        assert response.status_code == 400, bad
        assert message in response.text, bad
    assert maria(db).username == "maria"


def test_a_wrong_pin_on_a_username_change_counts_towards_the_lockout(
    client, person, other_browser, db
):
    for _ in range(5):
        assert change_username(client, "rio", current="000111").status_code == 400
    assert change_username(client, "rio").status_code == 400
    assert maria(db).username == "maria"
    assert login(other_browser, "maria", PIN).status_code == 429
