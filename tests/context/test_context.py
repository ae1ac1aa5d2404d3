"""The participant's own context: strengths, goals, things to know; each shown only to the
organizations the participant chose, sent to them by event, editable and withdrawable."""

from __future__ import annotations

import html
import re

import pytest
from sqlmodel import select

from app.context.models import ContextNote
from app.participants.models import Enrollment
from tests.factories import CSRF_FIELD, enroll, events, send_form, sign_up


@pytest.fixture
def two_orgs(world, db):
    """Maria is enrolled with Northside (N-1) and Eastside (E-5)."""
    code = enroll(world.recipient, "E-5")
    sign_up(world.maria, code, "maria")
    db.expire_all()
    refs = {e.external_ref: e.id for e in db.exec(select(Enrollment))}
    return world, refs


def notes(db):
    db.expire_all()
    return list(db.exec(select(ContextNote)))


def add(client, kind="strength", text="I fix bikes.", shared_with=()):
    return send_form(
        client, "/context/new", {"kind": kind, "text": text, "shared_with": list(shared_with)}
    )


def test_the_form_offers_each_organization(two_orgs):
    world, refs = two_orgs
    page = world.maria.get("/context/new").text
    assert "Northside Food Shelf" in page and "Eastside Housing" in page
    for enrollment_id in refs.values():
        assert f'value="{enrollment_id}"' in page
    assert re.search(r'<label for="text">In your own words</label>', page)


def test_it_goes_only_to_the_chosen_organizations(two_orgs, db):
    world, refs = two_orgs
    response = add(world.maria, shared_with=[refs["N-1"]])
    assert response.status_code == 303
    (shared,) = events(db, type="context.shared")
    assert shared.data["organization"] == "northside"
    assert shared.data["participant"] == {"external_ref": "N-1"}
    assert shared.data["context"]["text"] == "I fix bikes."
    assert shared.data["context"]["kind"] == "strength"

    north = world.holder.get("/api/v1/participants/N-1/context").json()["context"]
    assert [n["text"] for n in north] == ["I fix bikes."]
    assert world.recipient.get("/api/v1/participants/E-5/context").json() == {"context": []}


def test_editing_tells_who_may_see_it_and_unticking_withdraws(two_orgs, db):
    world, refs = two_orgs
    add(world.maria, shared_with=[refs["N-1"]])
    (note,) = notes(db)
    response = send_form(
        world.maria,
        f"/context/{note.id}/edit",
        {"kind": "strength", "text": "I fix bikes and cars.", "shared_with": [refs["E-5"]]},
    )
    assert response.status_code == 303
    shared = events(db, type="context.shared")
    assert [e.data["organization"] for e in shared] == ["northside", "eastside"]
    assert shared[-1].data["context"]["text"] == "I fix bikes and cars."
    (withdrawn,) = events(db, type="context.withdrawn")
    assert withdrawn.data["organization"] == "northside"
    assert "text" not in withdrawn.data["context"]
    assert world.holder.get("/api/v1/participants/N-1/context").json() == {"context": []}


def test_withdrawing_tells_everyone_who_could_see_it_and_removes_it(two_orgs, db):
    world, refs = two_orgs
    add(world.maria, shared_with=list(refs.values()))
    (note,) = notes(db)
    page = world.maria.get(f"/context/{note.id}/withdraw").text
    assert re.search(r'<button type="submit"[^>]*>Withdraw</button>', page)
    response = send_form(world.maria, f"/context/{note.id}/withdraw", {})
    assert response.status_code == 303
    assert notes(db) == []
    assert sorted(e.data["organization"] for e in events(db, type="context.withdrawn")) == [
        "eastside",
        "northside",
    ]


def test_a_note_kept_to_yourself_tells_no_one(two_orgs, db):
    world, _refs = two_orgs
    add(world.maria, shared_with=[])
    assert len(notes(db)) == 1
    assert events(db, type="context.shared") == []
    assert "Only you can see it." in world.maria.get("/context").text


def test_the_same_note_sent_twice_is_one_note(two_orgs, db):
    world, refs = two_orgs
    token = CSRF_FIELD.search(world.maria.get("/context/new").text).group(1)
    form = {
        "csrf_token": token,
        "kind": "goal",
        "text": "A job by May.",
        "shared_with": refs["N-1"],
    }
    world.maria.post("/context/new", data=form)
    world.maria.post("/context/new", data=form)
    assert len(notes(db)) == 1
    assert len(events(db, type="context.shared")) == 1


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"kind": "strength", "text": ""}, "text", "Write it in your own words."),
        ({"kind": "strength", "text": "x" * 100_000}, "text", "This is too long."),
        ({"kind": "boast", "text": "hello"}, "kind", "Choose what it is"),
    ],
)
def test_bad_input_is_a_form_error(two_orgs, db, form, field, message):
    world, _refs = two_orgs
    response = send_form(world.maria, "/context/new", form, page="/context/new")
    assert response.status_code == 400
    assert f'href="#{field}"' in response.text and message in html.unescape(response.text)
    assert notes(db) == []


def test_html_in_a_note_is_shown_as_text(two_orgs):
    world, _refs = two_orgs
    add(world.maria, text="<script>alert(1)</script>")
    page = world.maria.get("/context").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_another_participant_can_not_change_or_withdraw_it(two_orgs, db, other_browser):
    world, refs = two_orgs
    add(world.maria, shared_with=[refs["N-1"]])
    (note,) = notes(db)
    sign_up(other_browser, enroll(world.holder, "N-2"), "omar")
    assert other_browser.get(f"/context/{note.id}/edit").status_code == 404
    assert other_browser.get(f"/context/{note.id}/withdraw").status_code == 404
    assert "I fix bikes." not in other_browser.get("/context").text
    token = CSRF_FIELD.search(other_browser.get("/context").text).group(1)
    other_browser.post(f"/context/{note.id}/withdraw", data={"csrf_token": token})
    assert len(notes(db)) == 1
    # Choosing someone else's organization link is ignored.
    add(other_browser, text="Mine", shared_with=[refs["N-1"], refs["E-5"]])
    omar_note = next(n for n in notes(db) if n.text == "Mine")
    assert omar_note.shared_with == []
