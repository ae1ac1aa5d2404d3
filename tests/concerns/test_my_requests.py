"""My requests (/requests): the participant's corrections, deletion requests, statements and
concerns in one list, where each stands (waiting with its due date, overdue, answered), only
their own, overdue first."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.concerns.models import Concern
from app.corrections.models import DeletionRequest, Statement
from app.db import utcnow
from app.disclosures.models import Disclosure
from app.participants.models import Enrollment
from tests.factories import (
    World,
    add_purpose,
    corrections,
    enroll,
    events,
    hold,
    holding_id,
    request_correction,
    resolve,
    send_form,
    shown_day,
    sign_up,
)


def _page(client: TestClient) -> str:
    response = client.get("/requests")
    assert response.status_code == 200, response.text
    return response.text


def _item(page: str, request_id: str) -> str:
    """The text of one request's list item, tags stripped and spaces collapsed."""
    found = re.search(rf'<li [^>]*id="request-{request_id}".*?</li>', page, re.S)
    assert found, f"{request_id} is not listed"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(0))).split())


def _group_of(page: str, request_id: str) -> str:
    """The heading id of the group (overdue, waiting, answered) that lists the request."""
    position = page.index(f'id="request-{request_id}"')
    groups = [(m.start(), m.group(1)) for m in re.finditer(r'<h2 id="group-(\w+)"', page)]
    return [name for start, name in groups if start < position][-1]


def _correction(world: World, db: Session) -> str:
    assert request_correction(world.maria, world.phone).status_code == 303
    (correction,) = corrections(db)
    return correction.id


def test_the_home_page_links_to_my_requests(world):
    home = world.maria.get("/").text
    assert '<a href="/requests">My requests</a>' in home


def test_signed_out_visitors_are_sent_to_log_in(world, other_browser):
    response = other_browser.get("/requests")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_with_no_requests_it_says_so_and_how_to_make_one(world):
    page = _page(world.maria)
    assert "<h1>My requests</h1>" in page
    assert "You have not sent any request yet." in page
    assert "Request a correction or Ask to delete" in page
    assert "<li " not in page.split("<h1>", 1)[1].split("</main>", 1)[0]


def test_a_waiting_correction_shows_its_due_date(world, db):
    correction_id = _correction(world, db)
    (correction,) = corrections(db)
    page = _page(world.maria)
    item = _item(page, correction_id)
    assert "Correction: Phone number" in item
    assert "Northside Food Shelf" in item
    assert f"Sent {shown_day(correction.created_at)}" in item
    assert f"Waiting, due by {shown_day(correction.due_by)}" in item
    assert "Overdue" not in item
    assert _group_of(page, correction_id) == "waiting"
    assert f'href="/#holding-{world.phone}"' in page
    # What was asked stays on the home page (it may be sensitive): not repeated here.
    assert "612-555-0199" not in page


def test_a_refused_correction_shows_the_reason_and_offers_a_statement(world, db):
    correction_id = _correction(world, db)
    answer = resolve(world.holder, correction_id, "denied", reason="We checked the intake form.")
    assert answer.status_code == 200, answer.text
    page = _page(world.maria)
    item = _item(page, correction_id)
    assert "Northside Food Shelf did not accept your correction on" in item
    assert "Their reason: We checked the intake form." in item
    assert "Waiting" not in item
    assert _group_of(page, correction_id) == "answered"
    assert f'href="/corrections/{correction_id}/statement"' in page

    # The statement is a request of its own, waiting for Northside to pass it along.
    sent = send_form(
        world.maria,
        f"/corrections/{correction_id}/statement",
        {"statement": "My number changed in October."},
    )
    assert sent.status_code == 303, sent.text
    db.expire_all()
    (statement,) = db.exec(select(Statement)).all()
    (event,) = events(db, type="statement.added", role="holder")
    page = _page(world.maria)
    item = _item(page, statement.id)
    assert "Statement of disagreement: Phone number" in item
    assert event.ack_due_by is not None
    assert f"Waiting, due by {shown_day(event.ack_due_by)}" in item
    # Once a statement is added, it is not offered again.
    assert f'href="/corrections/{correction_id}/statement"' not in page


def test_an_accepted_correction_says_corrected(world, db):
    correction_id = _correction(world, db)
    assert resolve(world.holder, correction_id, "accepted", reason="Thanks").status_code == 200
    item = _item(_page(world.maria), correction_id)
    assert "Corrected on" in item and "Waiting" not in item


def test_an_overdue_correction_says_overdue_and_comes_first(world, db):
    correction_id = _correction(world, db)
    assert send_form(world.maria, f"/holdings/{world.phone}/deletion", {}).status_code == 303
    (correction,) = corrections(db)
    due = utcnow() - timedelta(days=2)
    correction.due_by = due
    db.add(correction)
    db.commit()
    db.expire_all()
    (deletion,) = db.exec(select(DeletionRequest)).all()

    page = _page(world.maria)
    item = _item(page, correction_id)
    assert f"Overdue since {shown_day(due)}" in item
    assert "Waiting" not in item
    assert _group_of(page, correction_id) == "overdue"
    assert f'href="/corrections/{correction_id}/concern"' in page
    # The deletion request, sent later and still in time, comes after it.
    assert _group_of(page, deletion.id) == "waiting"
    assert page.index(f'id="request-{correction_id}"') < page.index(f'id="request-{deletion.id}"')


def test_a_deletion_request_and_a_concern_are_listed(world, db):
    assert send_form(world.maria, f"/holdings/{world.phone}/deletion", {}).status_code == 303
    db.expire_all()
    (flagged,) = [d for d in db.exec(select(Disclosure)) if d.recipient_name == "Hennepin County"]
    assert flagged.flagged
    path = f"/disclosures/{flagged.id}/concern"
    raised = send_form(world.maria, path, {"what_happened": "They shared it without asking."})
    assert raised.status_code == 303, raised.text
    db.expire_all()
    (deletion,) = db.exec(select(DeletionRequest)).all()
    (concern,) = db.exec(select(Concern)).all()
    (deletion_event,) = events(db, type="deletion.requested")
    (concern_event,) = events(db, type="concern.raised")

    page = _page(world.maria)
    item = _item(page, deletion.id)
    assert "Deletion request: Phone number" in item
    assert deletion_event.ack_due_by is not None
    assert f"Waiting, due by {shown_day(deletion_event.ack_due_by)}" in item
    item = _item(page, concern.id)
    assert "Concern: Sharing with Hennepin County" in item
    assert concern_event.ack_due_by is not None
    assert f"Waiting, due by {shown_day(concern_event.ack_due_by)}" in item
    assert f'href="{path}#concern-{concern.id}"' in page

    # Northside answers both: each says so, with its note.
    for event_id, note in ((deletion_event.id, "Deleted"), (concern_event.id, "We stopped.")):
        ack = world.holder.post(f"/api/v1/events/{event_id}/ack", {"outcome": "done", "note": note})
        assert ack.status_code == 200, ack.text
    page = _page(world.maria)
    assert "Confirmed (done) on" in _item(page, deletion.id)
    assert "Their note: We stopped." in _item(page, concern.id)
    assert _group_of(page, deletion.id) == _group_of(page, concern.id) == "answered"


def test_an_overdue_deletion_request_says_overdue(world, db):
    assert send_form(world.maria, f"/holdings/{world.phone}/deletion", {}).status_code == 303
    (event,) = events(db, type="deletion.requested")
    event.ack_due_by = utcnow() - timedelta(days=1)
    db.add(event)
    db.commit()
    db.expire_all()
    (deletion,) = db.exec(select(DeletionRequest)).all()
    page = _page(world.maria)
    assert f"Overdue since {shown_day(event.ack_due_by)}" in _item(page, deletion.id)
    assert f'href="/requests/{event.id}/concern"' in page


def test_requests_in_every_organization_are_listed_and_nobody_elses(world, db, other_browser):
    # Maria also claims Eastside's code and asks it for a correction.
    add_purpose(world.recipient)
    code = enroll(world.recipient, "E-1")
    hold(world.recipient, "E-1", "address", label="Home address", value="12 Elm St")
    sign_up(world.maria, code, "maria")
    address = holding_id(db, "eastside", "E-1", "address")
    assert request_correction(world.maria, address, "14 Elm St").status_code == 303
    # Omar, another participant of Northside, asks for his own correction and a deletion.
    omar_code = enroll(world.holder, "N-2")
    hold(world.holder, "N-2", "phone", label="Omar's phone", value="651-555-0111")
    sign_up(other_browser, omar_code, "omar")
    omar_phone = holding_id(db, "northside", "N-2", "phone")
    assert request_correction(other_browser, omar_phone, "651-555-0999").status_code == 303
    assert send_form(other_browser, f"/holdings/{omar_phone}/deletion", {}).status_code == 303

    db.expire_all()
    by_holding = {c.holding_id: c.id for c in corrections(db)}
    (omar_deletion,) = db.exec(select(DeletionRequest)).all()
    maria_page = _page(world.maria)
    assert "Eastside Housing" in _item(maria_page, by_holding[address])
    assert "Correction: Home address" in _item(maria_page, by_holding[address])
    for omar_id in (by_holding[omar_phone], omar_deletion.id):
        assert omar_id not in maria_page
    assert "Omar" not in maria_page and omar_phone not in maria_page

    omar_page = _page(other_browser)
    assert "Correction: Omar&#39;s phone" in omar_page or "Correction: Omar's phone" in omar_page
    assert by_holding[address] not in omar_page
    assert "Home address" not in omar_page and "Eastside" not in omar_page

    # Records sealed after a PIN reset stay out too, until the participant opens them.
    enrollment = db.exec(select(Enrollment).where(Enrollment.external_ref == "E-1")).one()
    enrollment.sealed_at = utcnow()
    db.add(enrollment)
    db.commit()
    assert by_holding[address] not in _page(world.maria)


def test_the_page_is_plain_html_with_headings_in_order(world, db):
    _correction(world, db)
    page = _page(world.maria)
    levels = [int(n) for n in re.findall(r"<h([1-6])[ >]", page)]
    assert levels[0] == 1 and all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False))
    assert "<script" not in page.split("<main", 1)[-1].split("</main>", 1)[0]
    assert '<ul class="record-list my-requests">' in page
