"""Import a spreadsheet (CONTRACT.md section 5): every problem by row and column, nothing saved
while one remains; a good file shows what will change, then imports it all at once; new
references get enrollments and claim cards; the same file again changes nothing. Only an org
admin, only into their own organization, only with the CSRF token."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session, func, select

from app.events.models import Event
from app.holdings.models import Holding
from app.orgadmin import imports
from app.participants.models import ClaimCode, Enrollment
from tests.factories import csrf_from, form_fields, holding_body, purpose_body, sign_in_staff

HEADER = "external_ref,field_key,label,category,value,purpose,source,collected_at,retain_until,sensitive\n"
GOOD = (
    HEADER
    + "A-1,phone,Phone number,contact,612-555-0100,housing,Intake,2026-10-01,,no\n"
    + "A-1,household,People at home,household,4,housing,,,2027-01-01,\n"
    + "A-2,phone,Phone number,contact,612-555-0101,housing,,,,yes\n"
)


@pytest.fixture
def admin(db, org, client):
    assert org.put("/api/v1/purposes/housing", purpose_body()).status_code == 201
    return sign_in_staff(db, client, org)


def check(client, content: bytes | str, name: str = "people.csv"):
    if isinstance(content, str):
        content = content.encode()
    token = csrf_from(client.get("/staff/org/import").text)
    return client.post(
        "/staff/org/import/check",
        data={"csrf_token": token},
        files={"file": (name, content, "text/csv")},
    )


def run_import(client, checked_page: str):
    fields = form_fields(checked_page, "/staff/org/import")
    assert "checked" in fields, "no Import form on the page"
    return client.post("/staff/org/import", data=fields)


def snapshot(db: Session) -> dict[str, object]:
    """Everything an import could write."""
    db.expire_all()
    holdings = sorted(
        (h.enrollment_id, h.field_key, h.value, h.updated_at.isoformat())
        for h in db.exec(select(Holding))
    )
    return {
        "enrollments": db.exec(select(func.count()).select_from(Enrollment)).one(),
        "codes": db.exec(select(func.count()).select_from(ClaimCode)).one(),
        "events": db.exec(select(func.count()).select_from(Event)).one(),
        "holdings": holdings,
    }


def summary(html: str) -> dict[str, int]:
    return {
        name: int(m.group(1))
        for name in ("new", "created", "changed", "unchanged")
        if (m := re.search(rf'id="summary-{name}">(\d+)<', html))
    }


def problems(html: str) -> list[tuple[str, str, str]]:
    rows = re.findall(
        r'<tr class="problem"><td>(.*?)</td><td>(?:<code>(.*?)</code>)?</td><td>(.*?)</td></tr>',
        html,
    )
    return [(r, c, m) for r, c, m in rows]


BAD_FILES = [
    # (what, content, row, column, words in the message)
    (
        "unknown purpose",
        HEADER + "A-1,phone,Phone,contact,1,housing\nA-2,phone,Phone,contact,1,funders\n",
        "3",
        "purpose",
        "not a purpose in your data collection plan",
    ),
    ("missing value", HEADER + "A-1,phone,,contact,1,housing\n", "2", "label", "needs a value"),
    (
        "bad date",
        HEADER + "A-1,phone,Phone,contact,1,housing,,2026-13-01\n",
        "2",
        "collected_at",
        "YYYY-MM-DD",
    ),
    (
        "bad retain_until",
        HEADER + "A-1,phone,Phone,contact,1,housing,,,01/02/2027\n",
        "2",
        "retain_until",
        "YYYY-MM-DD",
    ),
    (
        "duplicate key",
        HEADER + "A-1,phone,Phone,contact,1,housing\nA-1,phone,Phone,contact,2,housing\n",
        "3",
        "field_key",
        "on row 2",
    ),
    (
        "bad sensitive",
        HEADER + "A-1,phone,Phone,contact,1,housing,,,,maybe\n",
        "2",
        "sensitive",
        "true or false",
    ),
    (
        "invalid external_ref",
        HEADER + "A/1,phone,Phone,contact,1,housing\n",
        "2",
        "external_ref",
        "slash",
    ),
    (
        "field_key format",
        HEADER + "A-1,Phone Number,Phone,contact,1,housing\n",
        "2",
        "field_key",
        "lower-case letters",
    ),
    (
        "missing header column",
        "external_ref,field_key,label,category,purpose\nA-1,phone,Phone,contact,housing\n",
        "1",
        "value",
        "missing from the header row",
    ),
    (
        "wrong cell count",
        HEADER + "A-1,phone,Phone,contact,1,housing,,,,,extra\n",
        "2",
        "",
        "the header row has 10",
    ),
]


@pytest.mark.parametrize(
    ("content", "row", "column", "words"),
    [b[1:] for b in BAD_FILES],
    ids=[b[0] for b in BAD_FILES],
)
def test_each_problem_is_named_by_row_and_column_and_nothing_is_saved(
    db, admin, client, content, row, column, words
):
    before = snapshot(db)
    r = check(client, content)
    assert r.status_code == 422
    found = problems(r.text)
    assert any(p[0] == row and p[1] == column and words in p[2] for p in found), found
    assert 'action="/staff/org/import"' not in r.text  # no Import button
    assert snapshot(db) == before


def test_every_problem_is_listed_not_just_the_first(db, admin, client):
    content = (
        HEADER
        + "A-1,phone,Phone,contact,1,nope\n"
        + "A-2,phone,Phone,contact,1,housing,,yesterday\n"
        + "A-3,Bad Key,Phone,contact,1,housing,,,,perhaps\n"
    )
    found = {(p[0], p[1]) for p in problems(check(client, content).text)}
    assert {
        ("2", "purpose"),
        ("3", "collected_at"),
        ("4", "field_key"),
        ("4", "sensitive"),
    } <= found


@pytest.mark.parametrize(
    ("what", "content", "words"),
    [
        (
            "wrong encoding",
            (HEADER + "A-1,name,Name,contact,Jos\xe9,housing\n").encode("latin-1"),
            "not in UTF-8",
        ),
        ("binary", b"PK\x03\x04\x00\x00\x08\x00binary\x00stuff", "not a CSV file"),
        ("no header", "A-1,phone,Phone,contact,1,housing\n", "not a CSV file with a header row"),
        ("empty", b"", "The file is empty"),
        ("header only", HEADER, "no data rows"),
    ],
)
def test_a_file_that_is_not_a_usable_csv_is_refused(db, admin, client, what, content, words):
    before = snapshot(db)
    r = check(client, content)
    assert r.status_code == 422, what
    assert words in r.text, what
    assert snapshot(db) == before


def test_a_bom_is_fine(db, admin, client):
    r = check(client, "\ufeff" + GOOD)
    assert r.status_code == 200, problems(r.text)
    assert summary(r.text) == {"new": 2, "created": 3, "changed": 0, "unchanged": 0}


def test_too_many_rows_is_refused_with_a_clear_message(db, admin, client):
    # 50,001 rows would make a slow upload in a test, so the parser is asked
    # directly: the limit must hold whatever the upload limit becomes.
    rows = "".join(f"P-{i},phone,Phone,contact,1,housing\n" for i in range(imports.MAX_ROWS + 1))
    found, refused = imports.parse((HEADER + rows).encode(), {"housing": object()})
    assert found == []
    assert len(refused) == 1
    assert f"more than {imports.MAX_ROWS}" in refused[0].message
    exactly = "".join(f"P-{i},phone,Phone,contact,1,housing\n" for i in range(imports.MAX_ROWS))
    found, refused = imports.parse((HEADER + exactly).encode(), {"housing": object()})
    assert refused == [] and len(found) == imports.MAX_ROWS


def test_a_file_of_50_000_rows_uploads_and_is_refused_by_row_count(db, admin, client):
    # The import routes take a bigger body than the rest of the app: a real 50,001-row file
    # reaches the check and gets the row-numbered message, not a bare 413.
    rows = "".join(f"P-{i},phone,Phone,contact,1,housing\n" for i in range(imports.MAX_ROWS + 1))
    before = snapshot(db)
    r = check(client, HEADER + rows)
    assert r.status_code == 422
    assert f"more than {imports.MAX_ROWS}" in r.text
    assert snapshot(db) == before
    # Every other route keeps the 1 MiB cap.
    token = csrf_from(client.get("/staff/org/import").text)
    other = client.post("/staff/digest", data={"csrf_token": token, "x": "y" * 2_000_000})
    assert other.status_code == 413


def test_a_file_over_the_size_limit_is_refused_unread(db, admin, client):
    r = check(client, HEADER + "x" * (imports.MAX_BYTES + 10))
    assert r.status_code == 422
    assert "too large" in r.text


def test_a_good_file_shows_the_summary_then_imports_with_claim_cards(db, org, admin, client):
    # A-1 is already enrolled (through the API) and holds an older phone number.
    assert org.post("/api/v1/participants", {"external_ref": "A-1"}).status_code == 201
    assert (
        org.put("/api/v1/participants/A-1/holdings/phone", holding_body(value="0")).status_code
        == 201
    )
    before = snapshot(db)
    r = check(client, GOOD)
    assert r.status_code == 200, problems(r.text)
    assert summary(r.text) == {"new": 1, "created": 2, "changed": 1, "unchanged": 0}
    assert ">Import<" in r.text
    assert snapshot(db) == before  # checking saves nothing

    done = run_import(client, r.text)
    assert done.status_code == 200, done.text
    assert summary(done.text) == {"new": 1, "created": 2, "changed": 1, "unchanged": 0}
    # One claim card, for the new reference only, with a code that works.
    assert done.text.count('class="claim-card page-break"') == 1
    assert "Reference: A-2" in done.text
    code = re.search(r'<p class="claim-code">([^<]+)</p>', done.text).group(1)
    claim = client.get(f"/claim/{code}")
    assert claim.status_code == 200
    # The data is what the API shows.
    held = {
        h["field_key"]: h for h in org.get("/api/v1/participants/A-1/holdings").json()["holdings"]
    }
    assert held["phone"]["value"] == "612-555-0100"
    assert held["phone"]["sensitive"] is False
    assert held["household"]["retain_until"] == "2027-01-01"
    a2 = org.get("/api/v1/participants/A-2/holdings").json()["holdings"]
    assert [(h["field_key"], h["value"], h["sensitive"]) for h in a2] == [
        ("phone", "612-555-0101", True)
    ]


def test_importing_the_same_file_again_changes_nothing(db, admin, client):
    first = run_import(client, check(client, GOOD).text)
    assert first.status_code == 200
    after_first = snapshot(db)
    again = check(client, GOOD)
    assert summary(again.text) == {"new": 0, "created": 0, "changed": 0, "unchanged": 3}
    done = run_import(client, again.text)
    assert summary(done.text) == {"new": 0, "created": 0, "changed": 0, "unchanged": 3}
    assert 'class="claim-card' not in done.text
    assert snapshot(db) == after_first  # no new codes, events, or updated_at


def test_import_checks_again_and_saves_nothing_when_the_plan_changed(db, org, admin, client):
    assert org.put("/api/v1/purposes/funders", purpose_body()).status_code == 201
    page = check(client, HEADER + "A-1,phone,Phone,contact,1,funders\n").text
    from app.organizations.models import Purpose

    db.delete(db.exec(select(Purpose).where(Purpose.key == "funders")).one())
    db.commit()
    before = snapshot(db)
    r = run_import(client, page)
    assert r.status_code == 422
    assert "not a purpose in your data collection plan" in r.text
    assert snapshot(db) == before


def test_a_changed_checked_file_is_refused(db, admin, client):
    page = check(client, GOOD).text
    fields = form_fields(page, "/staff/org/import")
    issued, signature, payload = fields["checked"].split(".", 2)
    forged = imports.sign_payload("not-our-key", organization_id=1, staff_id=1, content=b"x")
    before = snapshot(db)
    for token in (f"{issued}.{signature}.{payload[:-4]}AAAA", forged, ""):
        r = client.post("/staff/org/import", data={**fields, "checked": token})
        assert r.status_code == 422
        assert "Check the file again" in r.text
    assert snapshot(db) == before


def test_a_case_manager_cannot_import(db, org, client):
    assert org.put("/api/v1/purposes/housing", purpose_body()).status_code == 201
    sign_in_staff(db, client, org, role="case_manager")
    assert client.get("/staff/org/import").status_code == 404
    assert 'href="/staff/org/import"' not in client.get("/staff").text
    token = csrf_from(client.get("/staff").text)
    before = snapshot(db)
    r = client.post(
        "/staff/org/import/check",
        data={"csrf_token": token},
        files={"file": ("people.csv", GOOD.encode(), "text/csv")},
    )
    assert r.status_code == 404
    assert (
        client.post("/staff/org/import", data={"csrf_token": token, "checked": "x"}).status_code
        == 404
    )
    assert snapshot(db) == before


def test_another_organizations_admin_sees_and_changes_nothing_of_ours(
    db, org, admin, make_org, app, client
):
    from fastapi.testclient import TestClient

    assert org.post("/api/v1/participants", {"external_ref": "A-1"}).status_code == 201
    assert org.put("/api/v1/participants/A-1/holdings/phone", holding_body()).status_code == 201
    page = check(client, GOOD).text
    cedar = make_org("cedar", "Cedar Housing")
    assert cedar.put("/api/v1/purposes/housing", purpose_body()).status_code == 201
    theirs = TestClient(app, base_url="http://testserver", follow_redirects=False)
    sign_in_staff(db, theirs, cedar)
    # Their check of the same file: A-1 is unknown to them, nothing of ours is counted.
    r = check(theirs, GOOD)
    assert summary(r.text) == {"new": 2, "created": 3, "changed": 0, "unchanged": 0}
    assert "612-555-0100" not in r.text
    # Our signed file is refused in their session: it names our organization and admin.
    before = snapshot(db)
    fields = form_fields(page, "/staff/org/import")
    fields["csrf_token"] = csrf_from(theirs.get("/staff/org/import").text)
    refused = theirs.post("/staff/org/import", data=fields)
    assert refused.status_code == 422
    assert snapshot(db) == before


def test_csrf_is_required(db, admin, client):
    before = snapshot(db)
    r = client.post(
        "/staff/org/import/check", files={"file": ("people.csv", GOOD.encode(), "text/csv")}
    )
    assert r.status_code == 403
    page = check(client, GOOD).text
    fields = form_fields(page, "/staff/org/import")
    fields.pop("csrf_token")
    assert client.post("/staff/org/import", data=fields).status_code == 403
    assert snapshot(db) == before


def test_the_org_admin_navigation_links_to_the_import(db, admin, client):
    page = client.get("/staff/org").text
    assert 'href="/staff/org/import"' in page
    assert "Import a spreadsheet" in page
