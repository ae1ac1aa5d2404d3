"""Reports over the API: define, list, run, read a run (CONTRACT.md section 6). An API key
reaches its own organization's reports only; another's are 404."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response

from app.db import SessionDep
from app.organizations.deps import CurrentOrganization
from app.reports.models import Report, ReportRun
from app.reports.schemas import ReportIn
from app.reports.service import (
    ReportError,
    find_report,
    find_run,
    list_reports,
    report_out,
    run_csv,
    run_out,
    run_report,
    runs_of,
    upsert_report,
)
from app.schemas import Key

router = APIRouter(tags=["reports"])


def _report(db: SessionDep, organization: CurrentOrganization, report_key: str) -> Report:
    report = find_report(db, organization_id=organization.id or 0, key=report_key)
    if report is None:
        raise HTTPException(status_code=404, detail="no such report")
    return report


def _run(db: SessionDep, report: Report, run_id: str) -> ReportRun:
    run = find_run(db, report=report, run_id=run_id)
    if run is None:
        raise HTTPException(status_code=404, detail="no such run")
    return run


@router.put("/reports/{report_key}")
async def put_report(
    report_key: Key,
    body: ReportIn,
    organization: CurrentOrganization,
    db: SessionDep,
    response: Response,
) -> dict[str, Any]:
    """Create or replace a report: counts of one or two holding fields, for a recipient,
    tied to a purpose of the plan."""
    try:
        report, created = upsert_report(db, organization=organization, key=report_key, data=body)
    except ReportError as exc:
        raise HTTPException(status_code=422, detail=exc.message) from None
    db.commit()
    response.status_code = 201 if created else 200
    return report_out(db, report)


@router.get("/reports")
async def get_reports(organization: CurrentOrganization, db: SessionDep) -> dict[str, Any]:
    return {
        "reports": [
            {**report_out(db, r), "runs": [run.id for run in runs_of(db, report=r)]}
            for r in list_reports(db, organization_id=organization.id or 0)
        ]
    }


@router.post("/reports/{report_key}/runs", status_code=201)
async def post_run(
    report_key: Key, request: Request, organization: CurrentOrganization, db: SessionDep
) -> dict[str, Any]:
    """Count, suppress small cells, and publish: the run is kept as it is."""
    report = _report(db, organization, report_key)
    try:
        run = run_report(db, report=report, threshold=request.app.state.settings.report_threshold)
    except ReportError as exc:
        raise HTTPException(status_code=422, detail=exc.message) from None
    db.commit()
    return run_out(run, report.key)


@router.get("/reports/{report_key}/runs")
async def get_runs(
    report_key: Key, organization: CurrentOrganization, db: SessionDep
) -> dict[str, Any]:
    report = _report(db, organization, report_key)
    return {"runs": [run_out(run, report.key) for run in runs_of(db, report=report)]}


@router.get("/reports/{report_key}/runs/{run_id}")
async def get_run(
    report_key: Key, run_id: str, organization: CurrentOrganization, db: SessionDep
) -> dict[str, Any]:
    report = _report(db, organization, report_key)
    return run_out(_run(db, report, run_id), report.key)


@router.get("/reports/{report_key}/runs/{run_id}/csv")
async def get_run_csv(
    report_key: Key, run_id: str, organization: CurrentOrganization, db: SessionDep
) -> Response:
    """The published table as CSV, hidden counts written as `hidden`."""
    report = _report(db, organization, report_key)
    run = _run(db, report, run_id)
    return Response(
        run_csv(run),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{report.key}-{run.id}.csv"'},
    )
