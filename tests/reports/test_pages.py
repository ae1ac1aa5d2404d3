"""The report pages in the browser (without JavaScript): an org admin defines and runs a report
with the same fields as the API, bad answers come back as errors in place, and a participant
sees "counted" on exactly the runs that counted them."""

from __future__ import annotations

from html.parser import HTMLParser

from sqlmodel import select

from app.participants.models import Participant
from tests.factories import claim_account, csrf_from, login, logout, send_form, sign_in_staff
from tests.reports.thirty import report_body

FORM = {
    "key": "county",
    "title-en": "Housing for the county",
    "title-es": "Vivienda para el condado",
    "recipient_name": "Hennepin County",
    "recipient_organization": "",
    "purpose": "housing",
    "count_by_1": "housing_situation",
    "count_by_2": "age_band",
    "period_from": "",
    "period_to": "",
}


def _admin(db, client, thirty):
    sign_in_staff(db, client, thirty.org)
    return client


def test_an_org_admin_defines_and_runs_a_report_in_the_browser(db, client, thirty):
    _admin(db, client, thirty)
    form = client.get("/staff/org/reports/new")
    assert form.status_code == 200
    assert 'value="housing_situation"' in form.text and 'value="age_band"' in form.text
    r = send_form(client, "/staff/org/reports/new", FORM)
    assert r.status_code == 303 and r.headers["location"] == "/staff/org/reports/county?saved=1"
    # The API reads what the browser saved: one service underneath.
    listed = thirty.org.get("/api/v1/reports").json()["reports"]
    assert listed[0]["count_by"] == ["housing_situation", "age_band"]
    page = client.get("/staff/org/reports/county")
    r = client.post("/staff/org/reports/county/runs", data={"csrf_token": csrf_from(page.text)})
    assert r.status_code == 303
    run_page = client.get(r.headers["location"])
    assert run_page.status_code == 200
    assert "<svg" in run_page.text and "<table>" in run_page.text and "hidden" in run_page.text
    assert "Only counts were shared" in run_page.text
    assert "style=" not in run_page.text
    run_id = r.headers["location"].rsplit("/", 1)[1]
    api_run = thirty.org.get(f"/api/v1/reports/county/runs/{run_id}").json()
    assert api_run["included"] == 20
    csv = client.get(f"/staff/org/reports/county/runs/{run_id}/csv")
    assert csv.status_code == 200 and csv.text.splitlines()[-1] == "total,total,20"
    assert client.get("/staff/org/reports").status_code == 200
    edit = client.get("/staff/org/reports/county/edit")
    assert edit.status_code == 200 and 'value="Housing for the county"' in edit.text


def test_bad_answers_come_back_in_place(db, client, thirty):
    _admin(db, client, thirty)
    cases = [
        ({"purpose": ""}, "purpose"),
        ({"purpose": "nope"}, "purpose"),
        ({"count_by_1": ""}, "count_by_1"),
        ({"count_by_1": "no_such_field"}, "count_by_1"),
        ({"count_by_2": "housing_situation"}, "count_by_2"),
        ({"period_from": "2026-06-01", "period_to": "2026-01-01"}, "period_from"),
        ({"period_from": "soon"}, "period_from"),
        ({"title-en": "", "title-es": ""}, "title-en"),
        ({"recipient_name": ""}, "recipient_name"),
        ({"key": "Bad Key"}, "key"),
    ]
    for change, field in cases:
        r = send_form(
            client, "/staff/org/reports/new", {**FORM, **change}, page="/staff/org/reports/new"
        )
        assert r.status_code == 400, (change, r.status_code)
        assert f'href="#{field}"' in r.text and f'id="{field}-error"' in r.text, change
        assert "Error:" in r.text
    assert thirty.org.get("/api/v1/reports").json() == {"reports": []}
    assert thirty.org.put("/api/v1/reports/county", report_body()).status_code == 201
    r = send_form(client, "/staff/org/reports/new", FORM)
    assert r.status_code == 400 and 'id="key-error"' in r.text  # the short name is taken


def test_another_organizations_admin_gets_404(db, client, thirty, make_org, app):
    org = thirty.org
    assert org.put("/api/v1/reports/county", report_body()).status_code == 201
    run_id = org.post("/api/v1/reports/county/runs").json()["run_id"]
    cedar = make_org("cedar", "Cedar Housing")
    sign_in_staff(db, client, cedar)
    for path in (
        "/staff/org/reports/county",
        "/staff/org/reports/county/edit",
        f"/staff/org/reports/county/runs/{run_id}",
        f"/staff/org/reports/county/runs/{run_id}/csv",
    ):
        assert client.get(path).status_code == 404, path
    token = csrf_from(client.get("/staff/org/reports").text)
    assert (
        client.post("/staff/org/reports/county/runs", data={"csrf_token": token}).status_code == 404
    )
    assert "Housing for the county" not in client.get("/staff/org/reports").text


def test_the_participant_page_says_counted_to_exactly_the_counted(db, client, thirty):
    org = thirty.org
    assert org.put("/api/v1/reports/county", report_body()).status_code == 201
    first = org.post("/api/v1/reports/county/runs").json()
    assert (
        org.post(
            "/api/v1/participants/P-02/consents",
            {"purpose": "housing", "state": "withdrawn", "method": "paper"},
        ).status_code
        == 201
    )
    second = org.post("/api/v1/reports/county/runs").json()
    for n, ref in enumerate(thirty.refs):
        claim_account(db, thirty.claim_codes[ref], username=f"person{n:02d}")
    db.commit()
    for n, ref in enumerate(thirty.refs):
        assert login(client, f"person{n:02d}").status_code == 303
        page = client.get("/reports-and-stories")
        assert page.status_code == 200, page.text
        counted_first = ref in thirty.consenting
        counted_second = counted_first and ref != "P-02"
        assert (f'id="counted-{first["run_id"]}"' in page.text) == counted_first, ref
        assert (f'id="counted-{second["run_id"]}"' in page.text) == counted_second, ref
        # Every run of the organization is there: as counted, or among the others.
        assert (f'id="published-{first["run_id"]}"' in page.text) == (not counted_first), ref
        assert page.text.count("This report counted you.") == counted_first + counted_second, ref
        assert "Housing for the county" in page.text and "Hennepin County" in page.text
        assert "Only counts were shared" in page.text
        logout(client)
    assert db.exec(select(Participant)).all()
    assert 'href="/reports-and-stories"' in (login(client, "person00") and client.get("/").text)


def test_another_organizations_participant_sees_none_of_it(db, client, thirty, make_org):
    org = thirty.org
    assert org.put("/api/v1/reports/county", report_body()).status_code == 201
    org.post("/api/v1/reports/county/runs")
    cedar = make_org("cedar", "Cedar Housing")
    code = cedar.post("/api/v1/participants", {"external_ref": "C-1"}).json()["claim_code"]
    claim_account(db, code, username="cedarperson")
    db.commit()
    assert login(client, "cedarperson").status_code == 303
    page = client.get("/reports-and-stories")
    assert page.status_code == 200
    assert "Housing for the county" not in page.text
    assert "No report has counted you." in page.text
    logout(client)
    assert client.get("/reports-and-stories").status_code == 303  # signed out: the login


def test_the_review_flags_a_report_by_sensitive_data_without_consent(db, client, thirty):
    org = thirty.org
    r = org.put(
        "/api/v1/participants/P-01/holdings/hiv_status",
        {"label": "HIV status", "category": "health", "value": "Positive", "purpose": "food"},
    )
    assert r.status_code == 201, r.text
    body = report_body(purpose="food", count_by=["hiv_status"])
    assert org.put("/api/v1/reports/health", body).status_code == 201
    sign_in_staff(db, client, org)
    review = client.get("/staff/org/review")
    assert "flag-sensitive_report_without_consent" in review.text
    assert org.put("/api/v1/reports/health", report_body(purpose="food")).status_code == 200
    assert "flag-sensitive_report_without_consent" not in client.get("/staff/org/review").text


VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}


class _Checker(HTMLParser):
    """Every element closed in order, every id once (what a validator would say first)."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.ids: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "id":
                if value in self.ids:
                    self.problems.append(f"id {value} twice")
                self.ids.append(value)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()


def _well_formed(html: str) -> None:
    checker = _Checker()
    checker.feed(html)
    assert not checker.problems and not checker.stack, (checker.problems, checker.stack)


def test_every_report_page_is_well_formed(db, client, other_browser, thirty):
    org = thirty.org
    body = report_body(count_by=["housing_situation", "age_band"])
    assert org.put("/api/v1/reports/county", body).status_code == 201
    run_id = org.post("/api/v1/reports/county/runs").json()["run_id"]
    sign_in_staff(db, client, org)
    pages = [
        client.get("/staff/org/reports"),
        client.get("/staff/org/reports/new"),
        send_form(client, "/staff/org/reports/new", {"key": "x"}),
        client.get("/staff/org/reports/county"),
        client.get("/staff/org/reports/county/edit"),
        client.get(f"/staff/org/reports/county/runs/{run_id}"),
    ]
    claim_account(db, thirty.claim_codes["P-01"], username="person01")
    db.commit()
    assert login(other_browser, "person01").status_code == 303
    pages.append(other_browser.get("/reports-and-stories"))
    for response in pages:
        assert response.status_code in (200, 400), response.url
        _well_formed(response.text)


def test_the_download_lists_the_runs_that_counted_me(db, client, thirty):
    org = thirty.org
    assert org.put("/api/v1/reports/county", report_body()).status_code == 201
    run = org.post("/api/v1/reports/county/runs").json()
    for ref, username in (("P-01", "counted"), ("P-25", "notcounted")):
        claim_account(db, thirty.claim_codes[ref], username=username)
    db.commit()
    login(client, "counted")
    mine = client.get("/download").json()["reports_counted"]
    assert [(r["organization"], r["report"], r["run_id"], r["included"]) for r in mine] == [
        ("northside", "county", run["run_id"], 20)
    ]
    logout(client)
    login(client, "notcounted")
    assert client.get("/download").json()["reports_counted"] == []
    printout = client.get("/download/print").text
    section = printout.split("Reports that counted you", 1)[1].split("</section>", 1)[0]
    assert "No report has counted you." in section and "Housing for the county" not in section
    logout(client)
    login(client, "counted")
    printout = client.get("/download/print").text
    section = printout.split("Reports that counted you", 1)[1].split("</section>", 1)[0]
    assert "Housing for the county" in section and "Hennepin County" in section
    assert "No report has counted you." not in section
