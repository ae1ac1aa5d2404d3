"""Close my account: every organization is told, the portal's data about the person is erased
(checked in the database), the ledger still verifies, and the account can't be used again."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel, select

from app.events.service import verify_ledger
from app.holdings.models import Holding
from app.participants.models import Enrollment, Participant
from app.security.fields import field_keys, is_encrypted
from app.security.models import WebSession
from tests.factories import (
    PIN,
    add_purpose,
    corrections,
    enroll,
    events,
    hold,
    holding_id,
    request_correction,
    resolve,
    send_form,
    sign_up,
)

PHONE = "612-555-0100"
NEW_PHONE = "612-555-0199"


@pytest.fixture
def lived_in(world, db):
    """Maria's account with history: a correction accepted (old and new value in events), a
    statement, her own words, and a second organization."""
    request_correction(world.maria, world.phone, NEW_PHONE, "New number.")
    resolve(world.holder, corrections(db)[0].id, "accepted", reason="ok")
    request_correction(world.maria, world.phone, "612-555-0777", "Try again.")
    resolve(world.holder, corrections(db)[1].id, "denied", reason="No.")
    send_form(
        world.maria, f"/corrections/{corrections(db)[1].id}/statement", {"statement": "Disagree."}
    )
    send_form(world.maria, "/context/new", {"kind": "goal", "text": "Finish my GED."})
    add_purpose(world.recipient, "shelter", basis="service", title={"en": "A bed"})
    code = enroll(world.recipient, "E-5")
    hold(world.recipient, "E-5", "beds", purpose="shelter", label="Beds", value="2")
    sign_up(world.maria, code, "maria")
    return world


def close(client, pin=PIN):
    return send_form(client, "/account/close", {"pin": pin})


def every_text_in_the_database(engine) -> str:
    """Every value of every table, as one string: what is left, wherever it is. Encrypted
    values are decrypted here, so the check finds an erased value under its ciphertext too."""
    keys = field_keys()
    chunks = []
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            for row in conn.execute(text(f'SELECT * FROM "{table.name}"')):
                chunks.append(
                    " ".join(
                        keys.decrypt(v, column=f"{table.name}.{name}")
                        if isinstance(v, str) and is_encrypted(v)
                        else str(v)
                        for name, v in row._mapping.items()
                    )
                )
    return "\n".join(chunks)


def test_the_confirmation_page_says_what_happens(world):
    page = world.maria.get("/account/close").text
    assert "This can" in page and "be undone" in page
    assert re.search(r'<button type="submit"[^>]*>Close my account</button>', page)
    assert 'href="/download"' in page


@pytest.mark.parametrize(("pin", "message"), [("", "Enter your PIN"), ("000000", "not right")])
def test_without_the_right_pin_nothing_happens(world, db, pin, message):
    response = close(world.maria, pin)
    assert response.status_code == 400
    assert message in response.text and "<title>Error:" in response.text
    assert events(db, type="participant.closed") == []
    assert world.maria.get("/").status_code == 200


def test_every_organization_is_told(lived_in, db):
    response = close(lived_in.maria)
    assert response.status_code == 303 and response.headers["location"] == "/account/closed"
    closed = events(db, type="participant.closed")
    assert sorted(
        (e.data["organization"], e.data["participant"]["external_ref"]) for e in closed
    ) == [
        ("eastside", "E-5"),
        ("northside", "N-1"),
    ]
    for event in closed:
        assert event.data["ack_url"] and event.data["closed_at"]


def test_no_holding_value_is_left_anywhere_in_the_database(lived_in, db, engine):
    before = every_text_in_the_database(engine)
    for value in (PHONE, NEW_PHONE, "Disagree.", "Finish my GED.", "maria"):
        assert value in before  # the check can find them

    close(lived_in.maria)

    db.expire_all()
    enrollment_ids = [e.id for e in db.exec(select(Enrollment))]
    assert db.exec(select(Holding).where(Holding.enrollment_id.in_(enrollment_ids))).all() == []
    after = every_text_in_the_database(engine)
    for value in (PHONE, NEW_PHONE, "612-555-0777", "Disagree.", "Finish my GED.", "New number."):
        assert value not in after
    assert re.search(r"\bmaria\b", after) is None
    # The ledger keeps every event, minimized, and still proves itself.
    assert verify_ledger(db) is None
    kept = [e for e in events(db) if e.type != "participant.closed"]
    assert kept and all(e.data == {} for e in kept)
    assert all(e.data_digest and e.hash for e in kept)


def test_the_account_can_not_be_used_again(lived_in, db, other_browser):
    old_cookies = dict(lived_in.maria.cookies)
    response = close(lived_in.maria)
    assert "portal_session=;" in response.headers.get("set-cookie", "")

    # The old session is over, even if its cookie was kept.
    other_browser.cookies.update(old_cookies)
    assert other_browser.get("/").status_code == 303
    db.expire_all()
    assert db.exec(select(WebSession)).all() == []
    # Logging in with the old username and PIN fails.
    login = send_form(other_browser, "/login", {"username": "maria", "pin": PIN})
    assert login.status_code == 400
    (participant,) = db.exec(select(Participant)).all()
    assert participant.closed_at is not None and participant.username != "maria"


def test_the_closed_page_is_shown_signed_out(lived_in):
    close(lived_in.maria)
    page = lived_in.maria.get("/account/closed")
    assert page.status_code == 200
    assert "Your account is closed" in page.text
    assert 'action="/logout"' not in page.text


def test_other_participants_are_untouched(lived_in, db, other_browser):
    code = enroll(lived_in.holder, "N-2")
    hold(lived_in.holder, "N-2", "phone", value="651-555-0111")
    sign_up(other_browser, code, "omar")
    close(lived_in.maria)
    assert "651-555-0111" in other_browser.get("/").text
    omar_phone = holding_id(db, "northside", "N-2")
    assert db.get(Holding, omar_phone).value == "651-555-0111"


def test_the_form_needs_its_csrf_token(world, db):
    response = world.maria.post("/account/close", data={"pin": PIN})
    assert response.status_code == 403
    assert events(db, type="participant.closed") == []


def test_the_api_takes_no_more_data_about_a_closed_account(lived_in):
    close(lived_in.maria)
    holder = lived_in.holder
    refused = {
        "holding": holder.put(
            "/api/v1/participants/N-1/holdings/phone",
            {"label": "Phone", "category": "contact", "value": PHONE, "purpose": "housing"},
        ),
        "disclosure": holder.post(
            "/api/v1/participants/N-1/disclosures",
            {
                "recipient": {"name": "Hennepin County"},
                "purpose": "housing",
                "field_keys": ["phone"],
            },
        ),
        "claim code": holder.post("/api/v1/participants/N-1/claim-codes"),
    }
    for what, response in refused.items():
        assert response.status_code == 410, (what, response.text)
        assert "closed" in response.json()["detail"]
    # Reading what is left still answers (the holdings are gone).
    listed = holder.get("/api/v1/participants/N-1/holdings")
    assert listed.status_code == 200 and listed.json()["holdings"] == []
