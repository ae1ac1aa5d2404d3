"""Requests to answer: staff answer in the browser what the API answers (CONTRACT §5), and the
participant sees who answered."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.participants.models import Enrollment
from tests.factories import (
    Person,
    World,
    another_browser,
    corrections,
    decide,
    events,
    make_staff,
    request_correction,
    resolve,
    send_form,
    staff_log_in,
)


def _requested(world: World, db: Session) -> Any:
    response = request_correction(world.maria, world.phone, "612-555-0199", "I changed my number.")
    assert response.status_code == 303, response.text
    (correction,) = corrections(db)
    return correction


def _answer(client: TestClient, event_id: str, answer: str, **fields: str) -> Any:
    return send_form(client, f"/staff/requests/{event_id}", {"answer": answer, **fields})


def _holding_value(world: World) -> str:
    (holding,) = world.holder.get("/api/v1/participants/N-1/holdings").json()["holdings"]
    return holding["value"]


def _withdrawal(world: World, db: Session) -> Any:
    """Maria gives, then withdraws, consent for housing: Northside must stop sharing."""
    enrollment = db.exec(select(Enrollment).where(Enrollment.external_ref == "N-1")).one()
    maria = Person("maria", "482913", enrollment.id, "N-1")
    assert decide(world.maria, maria, "give").status_code == 303
    assert decide(world.maria, maria, "withdraw").status_code == 303
    (event,) = events(db, type="consent.withdrawn", role="holder")
    return event


# --- the count and the list --------------------------------------------------------------


def test_every_staff_page_shows_the_count(world, db, desk, app):
    assert "Requests to answer (0)" in desk.get("/staff").text
    _requested(world, db)
    assert "Requests to answer (1)" in desk.get("/staff").text
    assert "Requests to answer (1)" in desk.get("/staff/requests").text
    # Org admins' pages extend the staff layout: the count is there too.
    make_staff(db, world.holder, email="lee@northside.example", name="Lee", role="org_admin")
    for admin in another_browser(app):
        staff_log_in(admin, "lee@northside.example")
        page = admin.get("/staff/org")
        assert page.status_code == 200
        assert 'href="/staff/requests"' in page.text and "Requests to answer (1)" in page.text


def test_the_list_says_who_what_and_what_to_do(world, db, desk):
    correction = _requested(world, db)
    page = desk.get("/staff/requests").text
    assert "N-1" in page
    assert "Decide whether to change Phone number from 612-555-0100 to 612-555-0199." in page
    assert f'href="/staff/requests/{correction.requested_event_id}"' in page
    assert "Due by" in page


def test_a_withdrawal_says_to_stop_sharing_and_tell_the_recipients(world, db, desk):
    _withdrawal(world, db)
    page = desk.get("/staff/requests").text
    assert (
        "Stop sharing their data for Share with the county for housing help with "
        "Eastside Housing, Hennepin County and tell them." in page
    )


def test_overdue_requests_come_first(world, db, desk):
    withdrawal = _withdrawal(world, db)
    correction = _requested(world, db)
    # The newer correction is overdue: it goes before the older, still-due withdrawal.
    db.expire_all()
    row = db.get(type(correction), correction.id)
    row.due_by = row.created_at.replace(year=row.created_at.year - 1)
    db.add(row)
    db.commit()
    page = desk.get("/staff/requests").text
    assert page.index(correction.requested_event_id) < page.index(withdrawal.id)
    assert "Overdue since" in page


# --- a correction: Accept or Deny ----------------------------------------------------------


def test_accepting_in_the_browser_changes_the_holding_and_names_the_staff(world, db, desk):
    correction = _requested(world, db)
    url = f"/staff/requests/{correction.requested_event_id}"
    page = desk.get(url).text
    # New value is prefilled with what the participant asked for.
    assert re.search(r'<label for="accept_value">New value', page)
    assert re.search(r'<textarea id="accept_value" name="value"[^>]*>612-555-0199</textarea>', page)
    assert ">Accept</button>" in page and ">Deny</button>" in page

    response = _answer(desk, correction.requested_event_id, "accept", value="612-555-0198")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/staff/requests")
    assert "Your answer is saved" in desk.get(response.headers["location"]).text

    assert _holding_value(world) == "612-555-0198"
    (row,) = corrections(db)
    assert row.status == "accepted" and row.resolved_by == "Ana Reyes"
    # The same effects as the API: data.corrected to the holder and the network recipient.
    assert [e.role for e in events(db, type="data.corrected")] == ["holder", "recipient"]

    home = world.maria.get("/").text
    assert "612-555-0198" in home
    assert "Answered by Ana Reyes of Northside Food Shelf on" in home
    # Who acted on the record is on the participant's access list, like every look at it.
    access = world.maria.get("/access").text
    assert "Ana Reyes at Northside Food Shelf answered one of your requests" in access


def test_after_accepting_the_holder_is_asked_to_tell_outside_recipients(world, db, desk):
    correction = _requested(world, db)
    _answer(desk, correction.requested_event_id, "accept", value="612-555-0199")
    page = desk.get("/staff/requests").text
    assert "Tell Hennepin County that Phone number is now 612-555-0199." in page
    assert "Decide whether to change" not in page


def test_denying_needs_a_reason_and_the_participant_sees_it(world, db, desk):
    correction = _requested(world, db)
    empty = _answer(desk, correction.requested_event_id, "deny", reason="  ")
    assert empty.status_code == 422
    assert "Give the reason" in empty.text and 'aria-invalid="true"' in empty.text
    assert corrections(db)[0].status == "requested"

    response = _answer(
        desk, correction.requested_event_id, "deny", reason="The old number is still on file."
    )
    assert response.status_code == 303
    (row,) = corrections(db)
    assert row.status == "denied" and row.resolved_by == "Ana Reyes"
    assert _holding_value(world) == "612-555-0100"
    home = world.maria.get("/").text
    assert "The old number is still on file." in home
    assert "Answered by Ana Reyes of Northside Food Shelf on" in home
    assert "Requests to answer (0)" in desk.get("/staff").text


# --- anything else: Mark as done or Decline ------------------------------------------------


def test_a_withdrawal_marked_done_is_acknowledged_like_the_api(world, db, desk):
    event = _withdrawal(world, db)
    page = desk.get(f"/staff/requests/{event.id}").text
    assert ">Mark as done</button>" in page and ">Decline</button>" in page
    assert "Accept</button>" not in page

    response = _answer(desk, event.id, "done", note="Told the county by phone.")
    assert response.status_code == 303
    db.expire_all()
    (row,) = events(db, id=event.id)
    assert row.ack_outcome == "done" and row.ack_note == "Told the county by phone."
    assert row.acked_by == "Ana Reyes"
    # The API reads the same acknowledgement.
    api = world.holder.get(f"/api/v1/events/{event.id}").json()
    assert api["ack"]["outcome"] == "done" and api["ack"]["note"] == "Told the county by phone."

    activity = world.maria.get("/activity").text
    assert "answered by Ana Reyes of Northside Food Shelf on" in activity
    assert event.id not in desk.get("/staff/requests").text


def test_declining_needs_a_reason(world, db, desk):
    event = _withdrawal(world, db)
    response = _answer(desk, event.id, "decline", reason="")
    assert response.status_code == 422 and "Give the reason" in response.text
    assert events(db, id=event.id)[0].acked_at is None


def test_a_staff_member_without_a_name_is_named_by_email(world, db, app):
    staff = make_staff(db, world.holder, email="nameless@northside.example", name="")
    staff.name = ""  # create_staff makes one up from the email; an older row may have none
    db.add(staff)
    db.commit()
    send_form(world.maria, f"/holdings/{world.phone}/deletion", {})
    (event,) = events(db, type="deletion.requested")
    for c in another_browser(app):
        staff_log_in(c, "nameless@northside.example")
        page = c.get("/staff/requests").text
        assert "Delete Phone number or explain why you keep it." in page
        assert _answer(c, event.id, "decline", reason="A grant audit needs it.").status_code == 303
    assert events(db, id=event.id)[0].acked_by == "nameless@northside.example"
    assert "nameless@northside.example of Northside Food Shelf" in world.maria.get("/").text


# --- answered twice: recorded once, and said clearly ---------------------------------------


def test_browser_then_api_then_second_tab(world, db, desk):
    event = _withdrawal(world, db)
    page = desk.get(f"/staff/requests/{event.id}").text  # a second tab, opened before
    assert _answer(desk, event.id, "done", note="Stopped.").status_code == 303

    assert (
        world.holder.post(f"/api/v1/events/{event.id}/ack", {"outcome": "done"}).status_code == 200
    )
    conflict = world.holder.post(f"/api/v1/events/{event.id}/ack", {"outcome": "declined"})
    assert conflict.status_code == 409

    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    again = desk.post(
        f"/staff/requests/{event.id}",
        data={"csrf_token": token, "answer": "decline", "reason": "Changed my mind"},
    )
    assert again.status_code == 409
    assert "already answered" in again.text and "Stopped." in again.text
    (row,) = events(db, id=event.id)
    assert (row.ack_outcome, row.ack_note, row.acked_by) == ("done", "Stopped.", "Ana Reyes")


def test_api_then_browser(world, db, desk):
    event = _withdrawal(world, db)
    page = desk.get(f"/staff/requests/{event.id}").text
    ack = world.holder.post(
        f"/api/v1/events/{event.id}/ack", {"outcome": "declined", "note": "Legal hold."}
    )
    assert ack.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    late = desk.post(
        f"/staff/requests/{event.id}", data={"csrf_token": token, "answer": "done", "note": ""}
    )
    assert late.status_code == 409 and "already answered" in late.text
    assert "Legal hold." in late.text
    (row,) = events(db, id=event.id)
    assert (row.ack_outcome, row.acked_by) == ("declined", None)
    # The page itself says so too, with no forms left.
    shown = desk.get(f"/staff/requests/{event.id}").text
    assert "Mark as done</button>" not in shown and "through your organization" in shown


def test_a_correction_resolved_by_the_api_first(world, db, desk):
    correction = _requested(world, db)
    page = desk.get(f"/staff/requests/{correction.requested_event_id}").text
    assert resolve(world.holder, correction.id, "denied", reason="No.").status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    late = desk.post(
        f"/staff/requests/{correction.requested_event_id}",
        data={"csrf_token": token, "answer": "accept", "value": "612-555-0199"},
    )
    assert late.status_code == 409 and "already answered" in late.text
    assert _holding_value(world) == "612-555-0100"
    (row,) = corrections(db)
    assert (row.status, row.resolved_by) == ("denied", None)
    assert events(db, type="data.corrected") == []


def test_a_correction_accepted_twice_in_the_browser_is_recorded_once(world, db, desk):
    correction = _requested(world, db)
    url = f"/staff/requests/{correction.requested_event_id}"
    token = re.search(r'name="csrf_token" value="([^"]+)"', desk.get(url).text).group(1)
    data = {"csrf_token": token, "answer": "accept", "value": "612-555-0199"}
    assert desk.post(url, data=data).status_code == 303
    second = desk.post(url, data=data)
    assert second.status_code == 409 and "already answered" in second.text
    assert len(events(db, type="data.corrected", role="holder")) == 1


# --- who may answer ------------------------------------------------------------------------


def test_another_organizations_staff_get_404_and_see_none_of_its_requests(
    world, db, desk, eastside_desk
):
    correction = _requested(world, db)
    url = f"/staff/requests/{correction.requested_event_id}"
    assert eastside_desk.get(url).status_code == 404
    token = re.search(
        r'name="csrf_token" value="([^"]+)"', eastside_desk.get("/staff/requests").text
    ).group(1)
    post = eastside_desk.post(url, data={"csrf_token": token, "answer": "deny", "reason": "x"})
    assert post.status_code == 404
    assert corrections(db)[0].status == "requested"
    page = eastside_desk.get("/staff/requests").text
    assert "Nothing is waiting for your answer." in page and "N-1" not in page
    assert "Requests to answer (0)" in page
    assert desk.get("/staff/requests/evt_0000000000").status_code == 404


def test_a_participant_session_is_sent_to_the_staff_login(world, db):
    _requested(world, db)
    response = world.maria.get("/staff/requests")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/staff/login")


def test_the_forms_need_the_csrf_token(world, db, desk):
    correction = _requested(world, db)
    response = desk.post(
        f"/staff/requests/{correction.requested_event_id}",
        data={"answer": "accept", "value": "612-555-0199"},
    )
    assert response.status_code == 403
    assert corrections(db)[0].status == "requested"
