"""POST /participants, POST .../claim-codes, GET /participants/{external_ref}."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from sqlmodel import select

from app.participants.models import ClaimCode, Enrollment
from app.participants.service import find_claim
from tests.factories import add_purpose, claim_account, consent, enroll, enrollment

CODE = re.compile(r"^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$")


def test_enrolling_answers_the_claim_code_and_link(org):
    r = org.post("/api/v1/participants", {"external_ref": "A-1", "preferred_language": "es"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["external_ref"] == "A-1"
    assert body["participant_id"].startswith("ptp_")
    assert CODE.match(body["claim_code"]), body["claim_code"]
    assert body["claim_url"] == f"http://testserver/claim/{body['claim_code']}"


def test_the_claim_code_is_stored_only_as_a_hash(org, db):
    code = enroll(org)
    rows = db.exec(select(ClaimCode)).all()
    assert len(rows) == 1
    assert code not in repr(rows[0].model_dump())
    assert find_claim(db, code) is not None


def test_preferred_language_is_kept_when_the_portal_speaks_it(org, db):
    enrollment(org, "A-1", preferred_language="es")
    enrollment(org, "A-2", preferred_language="fr")  # valid code, not (yet) a portal language
    enroll(org, "A-3")
    enrollment(org, "A-4", preferred_language="es-MX")
    langs = {e.external_ref: e.preferred_language for e in db.exec(select(Enrollment))}
    assert langs == {"A-1": "es", "A-2": None, "A-3": None, "A-4": "es"}


def test_a_duplicate_external_ref_is_a_409(org):
    first = enrollment(org)
    r = org.post("/api/v1/participants", {"external_ref": "A-1"})
    assert r.status_code == 409
    assert "external_ref" in r.json()["detail"]
    # The first enrollment and its code still stand.
    assert org.get("/api/v1/participants/A-1").json()["participant_id"] == first["participant_id"]


def test_surrounding_spaces_do_not_make_a_new_ref(org):
    enroll(org, "A-1")
    r = org.post("/api/v1/participants", {"external_ref": "  A-1 "})
    assert r.status_code == 409


def test_the_same_ref_in_two_organizations_is_two_enrollments(org, make_org):
    other = make_org("cedar-housing", "Cedar Housing Partners")
    mine, theirs = enrollment(org, "A-1"), enrollment(other, "A-1")
    assert mine["participant_id"] != theirs["participant_id"]
    assert mine["claim_code"] != theirs["claim_code"]


def test_refs_with_unusual_but_harmless_characters_round_trip(org):
    # ('%' is left out: Starlette's TestClient decodes the path twice, a real server once.)
    for ref in ("Ñandú 7", "id:42?x=1#frag", "名前", "x" * 128):
        created = enrollment(org, ref)
        r = org.get(f"/api/v1/participants/{quote(ref, safe='')}")
        assert r.status_code == 200, (ref, r.text)
        assert r.json()["external_ref"] == ref
        assert r.json()["participant_id"] == created["participant_id"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"external_ref": ""},
        {"external_ref": "   "},
        {"external_ref": "x" * 129},
        {"external_ref": "x" * 1_000_000},
        {"external_ref": "A\x00B"},
        {"external_ref": "A\x1fB"},
        {"external_ref": "A/1"},
        {"external_ref": ".."},
        {"external_ref": 42},
        {"external_ref": ["A-1"]},
        {"external_ref": None},
        {"external_ref": "A-1", "preferred_language": "Spanish"},
        {"external_ref": "A-1", "preferred_language": "e\x00"},
        {"external_ref": "A-1", "name": "Maria"},  # the portal asks for no names
    ],
)
def test_bad_enrollments_are_refused(org, body, db):
    r = org.post("/api/v1/participants", body)
    assert r.status_code in (413, 422), r.text
    assert r.json()["detail"]
    assert db.exec(select(Enrollment)).all() == []


def test_a_fresh_claim_code_retires_the_older_unused_ones(org, db):
    first = enroll(org)
    r = org.post("/api/v1/participants/A-1/claim-codes")
    assert r.status_code == 201, r.text
    fresh = r.json()
    assert CODE.match(fresh["claim_code"])
    assert fresh["claim_code"] != first
    assert fresh["claim_url"] == f"http://testserver/claim/{fresh['claim_code']}"
    assert find_claim(db, first) is None
    assert find_claim(db, fresh["claim_code"]) is not None

    newest = org.post("/api/v1/participants/A-1/claim-codes").json()["claim_code"]
    db.expire_all()
    assert find_claim(db, fresh["claim_code"]) is None
    assert find_claim(db, newest) is not None


def test_a_fresh_claim_code_for_a_claimed_enrollment_resets_the_same_account(org, db):
    participant = claim_account(db, enroll(org))
    code = org.post("/api/v1/participants/A-1/claim-codes").json()["claim_code"]
    found = find_claim(db, code)
    assert found is not None
    assert found.owner is not None and found.owner.id == participant.id


def test_claim_codes_for_an_unknown_ref_are_404(org):
    r = org.post("/api/v1/participants/nobody/claim-codes")
    assert r.status_code == 404
    assert "nobody" in r.json()["detail"]


def test_get_participant_before_and_after_the_claim(org, db):
    add_purpose(org, "housing")
    add_purpose(org, "food", basis="service")
    code = enroll(org)
    r = org.get("/api/v1/participants/A-1")
    assert r.status_code == 200
    body = r.json()
    assert body["external_ref"] == "A-1"
    assert body["claimed"] is False
    # Only purposes that rest on consent have a consent; nothing recorded yet is `requested`.
    assert body["consents"] == [{"purpose": "housing", "state": "requested"}]

    claim_account(db, code)
    assert org.get("/api/v1/participants/A-1").json()["claimed"] is True


def test_get_participant_shows_the_current_consent(org):
    add_purpose(org)
    enroll(org)
    given = consent(org)
    (shown,) = org.get("/api/v1/participants/A-1").json()["consents"]
    assert shown["id"] == given["id"]
    assert shown["state"] == "given"
    assert shown["method"] == "paper"
    assert shown["expires_at"]

    withdrawn = consent(org, state="withdrawn")
    (shown,) = org.get("/api/v1/participants/A-1").json()["consents"]
    assert shown["id"] == withdrawn["id"]
    assert shown["state"] == "withdrawn"


@pytest.mark.parametrize("ref", ["nobody", "A%00", "A%01B", "x" * 129, "%20"])
def test_unknown_or_impossible_refs_are_4xx(org, ref):
    enroll(org)
    r = org.get(f"/api/v1/participants/{ref}")
    assert r.status_code in (404, 422), r.text
    assert r.json()["detail"]


@pytest.mark.parametrize(
    ("ref", "reason"),
    [
        ("SL/ASH-1", "external_ref may not contain '/' nor be '.' or '..'"),
        ("..", "external_ref may not contain '/' nor be '.' or '..'"),
        ("A\x00B", "control characters (such as NUL) are not allowed"),
        ("A\tB", "control characters (such as NUL) are not allowed"),
        ("A\nB", "control characters (such as NUL) are not allowed"),
        ("A\x85B", "control characters (such as NUL) are not allowed"),
    ],
)
def test_a_ref_that_could_not_be_addressed_or_shown_on_one_line_is_a_clear_422(
    org, db, ref, reason
):
    """The rule is app/participants/refs.py's, the same the staff intake applies."""
    for path, body in (
        ("/api/v1/participants", {"external_ref": ref}),
        ("/api/v1/consent-checks", {"external_ref": ref, "purpose": "housing"}),
    ):
        r = org.post(path, body)
        assert r.status_code == 422, (path, r.text)
        (error,) = r.json()["detail"]
        assert error["loc"] == ["body", "external_ref"]
        assert error["msg"] == f"Value error, {reason}"
    assert db.exec(select(Enrollment)).all() == []
