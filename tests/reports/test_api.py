"""Reports over the API (CONTRACT.md section 6): only those the purpose allows are counted,
small cells and whatever would reveal them are hidden, runs are kept as published, and one
organization never reaches another's reports."""

from __future__ import annotations

from collections import Counter

from sqlmodel import select

from app.reports.models import ReportCounted
from tests.factories import csrf_from
from tests.reports.attack import recovered
from tests.reports.thirty import AGES, HOUSING, NOT_CONSENTING_HOUSING, report_body


def _define(org, key="county", **overrides):
    r = org.put(f"/api/v1/reports/{key}", report_body(**overrides))
    assert r.status_code in (200, 201), r.text
    return r


def _run(org, key="county"):
    r = org.post(f"/api/v1/reports/{key}/runs")
    assert r.status_code == 201, r.text
    return r.json()


def test_define_then_read_back(thirty):
    org = thirty.org
    r = org.put(
        "/api/v1/reports/county", report_body(period={"from": "2026-01-01", "to": "2026-12-31"})
    )
    assert r.status_code == 201, r.text
    assert r.json()["period"] == {"from": "2026-01-01", "to": "2026-12-31"}
    assert org.put("/api/v1/reports/county", report_body()).status_code == 200
    listed = org.get("/api/v1/reports").json()["reports"]
    assert [(x["key"], x["purpose"], x["count_by"], x["period"]) for x in listed] == [
        ("county", "housing", ["housing_situation"], None)
    ]


def test_one_field_counts_only_the_twenty_who_consented(thirty):
    org = thirty.org
    _define(org)
    run = _run(org)
    assert run["included"] == 20
    assert run["suppressed_below"] == 11
    cells = {tuple(c["values"]): c["count"] for c in run["cells"]}
    assert set(cells) == {("Housed",), ("Shelter",), ("Unsheltered",)}
    assert (NOT_CONSENTING_HOUSING,) not in cells  # nobody who said no shows up, even as a row
    assert cells == {("Housed",): 12, ("Shelter",): None, ("Unsheltered",): None}
    assert recovered(run) == {}
    assert org.get(f"/api/v1/reports/county/runs/{run['run_id']}").json() == run


def test_two_fields_hide_every_small_cell_and_what_would_reveal_it(thirty):
    org = thirty.org
    _define(org, count_by=["housing_situation", "age_band"])
    run = _run(org)
    assert run["included"] == 20
    true = Counter(zip(HOUSING, AGES, strict=True))
    for cell in run["cells"]:
        count = true[tuple(cell["values"])]
        if 0 < count < 11:
            assert cell["count"] is None, cell
        else:
            assert cell["count"] in (None, count), cell
    assert all(v[1] != "65+" for v in (c["values"] for c in run["cells"]))
    assert set(run["totals"]) == {"rows", "columns"}
    # The attack: solve the published cells, the row and column totals and `included`.
    assert recovered(run) == {}


def test_another_basis_counts_everyone(thirty):
    org = thirty.org
    _define(org, purpose="food")
    run = _run(org)
    assert run["included"] == 30 and run["basis"] == "service"
    cells = {tuple(c["values"]): c["count"] for c in run["cells"]}
    # Ten live in a car: fewer than 11, hidden (and so is a second cell).
    assert cells[(NOT_CONSENTING_HOUSING,)] is None and cells[("Housed",)] in (12, None)
    assert recovered(run) == {}


def test_a_withdrawal_leaves_the_next_run_but_not_a_published_one(thirty, db):
    org = thirty.org
    _define(org)
    first = _run(org)
    r = org.post(
        "/api/v1/participants/P-01/consents",
        {"purpose": "housing", "state": "withdrawn", "method": "paper"},
    )
    assert r.status_code == 201, r.text
    second = _run(org)
    assert second["included"] == 19
    assert org.get(f"/api/v1/reports/county/runs/{first['run_id']}").json() == first
    counted = {
        run_id: {
            c.enrollment_id
            for c in db.exec(select(ReportCounted).where(ReportCounted.run_id == run_id))
        }
        for run_id in (first["run_id"], second["run_id"])
    }
    p01 = org.get("/api/v1/participants/P-01").json()
    enrollment_id = p01["participant_id"]
    assert len(counted[first["run_id"]]) == 20 and len(counted[second["run_id"]]) == 19
    assert enrollment_id in counted[first["run_id"]]
    assert enrollment_id not in counted[second["run_id"]]
    assert len(org.get("/api/v1/reports/county/runs").json()["runs"]) == 2


def test_a_run_downloads_as_csv(thirty):
    org = thirty.org
    _define(org)
    run = _run(org)
    r = org.get(f"/api/v1/reports/county/runs/{run['run_id']}/csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = r.text.splitlines()
    assert lines[0] == "housing_situation,count"
    assert "Housed,12" in lines and "Shelter,hidden" in lines and lines[-1] == "total,20"


def test_bad_input_is_a_422_with_a_detail(thirty):
    org = thirty.org
    cases = [
        report_body(purpose="nope"),
        report_body(count_by=["no_such_field"]),
        report_body(count_by=["housing_situation", "age_band", "age_band"]),
        report_body(count_by=["age_band", "housing_situation", "x"]),
        report_body(count_by=[]),
        report_body(count_by=["age_band", "age_band"]),
        report_body(period={"from": "2026-06-01", "to": "2026-01-01"}),
        report_body(period={"from": "not a date"}),
        report_body(title={}),
        {**report_body(), "extra": 1},
        report_body(recipient={}),
    ]
    for body in cases:
        r = org.put("/api/v1/reports/county", body)
        assert r.status_code == 422, (body, r.status_code, r.text)
        assert r.json()["detail"], body
    assert org.put("/api/v1/reports/Bad Key!", report_body()).status_code == 422
    assert org.post("/api/v1/reports/none/runs").status_code == 404
    assert org.get("/api/v1/reports").json() == {"reports": []}


def test_another_organization_never_reaches_a_report_or_run(thirty, make_org):
    org = thirty.org
    _define(org)
    run = _run(org)
    cedar = make_org("cedar", "Cedar Housing")
    for path in (
        "/api/v1/reports/county/runs",
        f"/api/v1/reports/county/runs/{run['run_id']}",
        f"/api/v1/reports/county/runs/{run['run_id']}/csv",
    ):
        assert cedar.get(path).status_code == 404, path
    assert cedar.post("/api/v1/reports/county/runs").status_code == 404
    assert cedar.get("/api/v1/reports").json() == {"reports": []}
    assert org.client.get("/api/v1/reports").status_code == 401


def test_a_period_counts_only_data_collected_in_it(thirty):
    org = thirty.org
    _define(org, period={"from": "2020-01-01", "to": "2020-12-31"})
    run = _run(org)
    assert run["included"] == 0 and run["cells"] == []
    assert run["period"] == {"from": "2020-01-01", "to": "2020-12-31"}
    _define(org, period={"from": "2020-01-01"})
    assert _run(org)["included"] == 20


def test_nasty_run_ids_are_404_not_500(thirty, app):
    from fastapi.testclient import TestClient

    org = thirty.org
    _define(org)
    client = TestClient(app, raise_server_exceptions=False)
    for nasty in ("%00", "%FF", "x" * 2000, "run_%00", "..", "%F0%9F%8F%A0"):
        for suffix in ("", "/csv"):
            r = client.get(f"/api/v1/reports/county/runs/{nasty}{suffix}", headers=org.headers)
            assert r.status_code in (404, 405, 422), (nasty, r.status_code)
            assert r.json()["detail"]


def test_a_field_with_too_many_values_is_refused_not_published(housing_org, db, client):
    from app.reports.service import MAX_VALUES
    from tests.factories import enrollment, sign_in_staff

    org = housing_org
    for n in range(MAX_VALUES + 1):
        enrollment(org, f"Z-{n}")
        body = {"label": "Age", "category": "household", "value": str(n), "purpose": "food"}
        assert org.put(f"/api/v1/participants/Z-{n}/holdings/age", body).status_code == 201
    _define(org, "ages", purpose="food", count_by=["age"])
    r = org.post("/api/v1/reports/ages/runs")
    assert r.status_code == 422 and "age band" in r.json()["detail"]
    assert org.get("/api/v1/reports/ages/runs").json() == {"runs": []}
    sign_in_staff(db, client, org)
    page = client.get("/staff/org/reports/ages")
    r = client.post("/staff/org/reports/ages/runs", data={"csrf_token": csrf_from(page.text)})
    assert r.status_code == 400 and 'id="run-error"' in r.text


def test_a_run_over_fewer_people_than_the_threshold_is_refused(housing_org):
    """The total is published: with 10 people counted it would be a group smaller than 11."""
    from tests.factories import enrollment

    org = housing_org
    for n in range(10):
        enrollment(org, f"F-{n}")
        body = {"label": "Age band", "category": "household", "value": "30-39", "purpose": "food"}
        assert org.put(f"/api/v1/participants/F-{n}/holdings/age_band", body).status_code == 201
    _define(org, "few", purpose="food", count_by=["age_band"])
    r = org.post("/api/v1/reports/few/runs")
    assert r.status_code == 422 and "fewer than 11" in r.json()["detail"]
    assert org.get("/api/v1/reports/few/runs").json() == {"runs": []}
    enrollment(org, "F-10")  # the eleventh: now it runs, and the one cell is the total
    body = {"label": "Age band", "category": "household", "value": "30-39", "purpose": "food"}
    assert org.put("/api/v1/participants/F-10/holdings/age_band", body).status_code == 201
    run = _run(org, "few")
    assert run["included"] == 11 and run["cells"] == [{"values": ["30-39"], "count": 11}]
