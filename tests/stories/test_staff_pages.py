"""Stories in the browser for staff: draft from the participant's record, the review page's
deficit words (a prompt, never a block), publish only once approved, and the org admin's list
of words. Another organization's staff reach none of it."""

from __future__ import annotations

import pytest

from tests.factories import another_browser, csrf_from, send_form, sign_in_staff
from tests.stories.test_stories import answer

STORY = {
    "title": "Maria at the food shelf",
    "use": "Our grant application",
    "text": "Maria was a victim of the flood. Now she runs the repair club.",
}


@pytest.fixture
def desk(app, db, person):
    for browser in another_browser(app):
        sign_in_staff(db, browser, person.org, role="case_manager")
        yield browser


def _draft(desk, **fields):
    return send_form(
        desk,
        "/staff/participants/A-1/stories",
        {**STORY, **fields},
    )


def test_staff_draft_review_and_publish_once_approved(desk, client):
    record = desk.get("/staff/participants/A-1")
    assert 'href="/staff/participants/A-1/stories"' in record.text

    empty = _draft(desk, text="  ")
    assert empty.status_code == 400 and 'aria-invalid="true"' in empty.text
    assert "Maria at the food shelf" in empty.text  # the answers are kept

    r = _draft(desk)
    assert r.status_code == 303
    review_url = r.headers["location"].split("?")[0]
    story_id = review_url.rsplit("/", 1)[-1]
    review = desk.get(r.headers["location"])
    assert "Saved. The participant can now read it and answer." in review.text
    assert 'id="deficit-words"' in review.text and "victim" in review.text
    assert 'action="' + review_url + '/publish"' not in review.text

    token = csrf_from(review.text)
    refused = desk.post(review_url + "/publish", data={"csrf_token": token, "where": "Grant"})
    assert refused.status_code == 409 and "Not recorded" in refused.text

    # The participant reads the exact words, and approves them despite the prompt.
    assert STORY["text"] in client.get(f"/stories/{story_id}").text
    answer(client, story_id, "approve")
    review = desk.get(review_url)
    assert "Approved: you may publish it" in review.text
    r = send_form(desk, review_url + "/publish", {"where": "Grant to the county"}, page=review_url)
    assert r.status_code == 303
    assert "Published in Grant to the county" in desk.get(r.headers["location"]).text

    r = send_form(desk, review_url, {**STORY, "text": "Maria runs the repair club."})
    assert r.status_code == 303
    review = desk.get(r.headers["location"])
    assert "wait for the participant&#39;s approval again" in review.text
    assert 'id="deficit-words"' not in review.text


def test_the_org_admin_changes_the_words_to_watch_for(person, app, db, desk):
    story_id = _draft(desk).headers["location"].split("?")[0]
    for admin in another_browser(app):
        sign_in_staff(db, admin, person.org)
        page = admin.get("/staff/org/story-words")
        assert page.status_code == 200 and "homeless person" in page.text
        r = send_form(admin, "/staff/org/story-words", {"words-en": "Repair Club\nflood"})
        assert r.status_code == 303
        words = admin.get("/staff/org/story-words").text
        assert "repair club" in words and "homeless person" not in words
    review = desk.get(story_id).text
    assert "repair club" in review and "flood" in review and ">victim<" not in review
    assert desk.get("/staff/org/story-words").status_code == 404  # a case manager


def test_another_organizations_staff_reach_none_of_it(desk, app, db, make_org):
    story_url = _draft(desk).headers["location"].split("?")[0]
    cedar = make_org("cedar", "Cedar Housing")
    cedar.post("/api/v1/participants", {"external_ref": "A-1"})
    for other in another_browser(app):
        sign_in_staff(db, other, cedar)
        assert other.get(story_url).status_code == 404
        assert "Maria at the food shelf" not in other.get("/staff/participants/A-1/stories").text
        token = csrf_from(other.get("/staff").text)
        for path in (story_url, story_url + "/publish"):
            r = other.post(path, data={"csrf_token": token, **STORY, "where": "x"})
            assert r.status_code == 404
        assert other.get("/staff/participants/NOPE/stories").status_code == 404
    # Signed out: the staff login.
    for signed_out in another_browser(app):
        r = signed_out.get(story_url)
        assert r.status_code == 303 and r.headers["location"].startswith("/staff/login")


def test_a_withdrawal_is_a_request_to_answer_in_the_browser(desk, client, db):
    from tests.factories import events

    story_url = _draft(desk).headers["location"].split("?")[0]
    story_id = story_url.rsplit("/", 1)[-1]
    answer(client, story_id, "approve")
    send_form(desk, story_url + "/publish", {"where": "Our website"}, page=story_url)
    answer(client, story_id, "withdraw")
    (withdrawn,) = events(db, type="story.withdrawn")
    listed = desk.get("/staff/requests")
    assert f"/staff/requests/{withdrawn.id}" in listed.text
    opened = desk.get(f"/staff/requests/{withdrawn.id}")
    assert "withdrew their approval of a story" in opened.text
    assert "Take the story down from Our website" in opened.text
    assert "Maria at the food shelf" in opened.text
    r = send_form(desk, f"/staff/requests/{withdrawn.id}", {"answer": "done", "note": "Gone."})
    assert r.status_code == 303, r.text
    assert events(db, type="story.withdrawn")[0].ack_outcome == "done"


def test_publishing_without_saying_where_is_an_error_in_place(desk, client):
    story_url = _draft(desk).headers["location"].split("?")[0]
    answer(client, story_url.rsplit("/", 1)[-1], "approve")
    r = send_form(desk, story_url + "/publish", {"where": " "}, page=story_url)
    assert r.status_code == 400
    assert 'id="where-error"' in r.text and "Say where it was published." in r.text
    assert STORY["text"] in r.text.split('id="text"', 1)[1]  # the edit form keeps the words
