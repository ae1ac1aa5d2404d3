"""The org admin's report pages, under /staff/org/reports: define a report with the same fields
as `PUT /api/v1/reports/{key}`, run it, and read each run as a printable page (chart and
table) or a CSV file. The form is read into the API's own `ReportIn` and saved by the same
`upsert_report`, so the browser and the API accept and refuse the same reports."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import TypeAdapter, ValidationError

from app.db import SessionDep
from app.i18n import SUPPORTED_LOCALES, pick_text
from app.i18n import gettext as _
from app.orgadmin.deps import AdminDesk, AdminDeskDep
from app.orgadmin.pages import org_admin_router, page
from app.organizations.service import list_purposes
from app.reports.chart import run_chart
from app.reports.models import Report, ReportRun
from app.reports.schemas import ReportIn
from app.reports.service import (
    ReportError,
    field_choices,
    find_report,
    find_run,
    list_reports,
    run_csv,
    run_report,
    runs_of,
    upsert_report,
)
from app.reports.tables import run_table
from app.schemas import Key
from app.web.forms import FormErrors

router = org_admin_router()
SECTION = "reports"  # the navigation entry (templates/orgadmin/layout.html)


@dataclass
class ReportForm:
    """The answers as typed (kept on an error)."""

    key: str = ""
    titles: dict[str, str] = field(default_factory=dict)
    recipient_name: str = ""
    recipient_organization: str = ""
    purpose: str = ""
    count_by_1: str = ""
    count_by_2: str = ""
    period_from: str = ""
    period_to: str = ""

    @classmethod
    def from_report(cls, report: Report, purpose_key: str) -> ReportForm:
        count_by = [*report.count_by, "", ""]
        return cls(
            key=report.key,
            titles=dict(report.title),
            recipient_name=str(report.recipient.get("name", "")),
            recipient_organization=str(report.recipient.get("organization") or ""),
            purpose=purpose_key,
            count_by_1=count_by[0],
            count_by_2=count_by[1],
            period_from=report.period_from.isoformat() if report.period_from else "",
            period_to=report.period_to.isoformat() if report.period_to else "",
        )

    @classmethod
    def from_form(cls, form: Any, key: str = "") -> ReportForm:
        def value(name: str) -> str:
            raw = form.get(name)
            return raw.strip() if isinstance(raw, str) else ""

        return cls(
            key=key or value("key"),
            titles={lang: value(f"title-{lang}") for lang in SUPPORTED_LOCALES},
            recipient_name=value("recipient_name"),
            recipient_organization=value("recipient_organization"),
            purpose=value("purpose"),
            count_by_1=value("count_by_1"),
            count_by_2=value("count_by_2"),
            period_from=value("period_from"),
            period_to=value("period_to"),
        )

    def validate(self) -> tuple[ReportIn | None, FormErrors]:
        errors = FormErrors()
        if not self.key or not _valid_key(self.key):
            errors.add(
                "key",
                _(
                    "Write a short name of lower-case letters, digits, '_', '.' or '-', such as county_housing."
                ),
            )
        if not self.count_by_1:
            errors.add("count_by_1", _("Choose the field to count by."))
        recipient: dict[str, Any] = {"name": self.recipient_name}
        if self.recipient_organization:
            recipient["organization"] = self.recipient_organization
        period = {k: v for k, v in (("from", self.period_from), ("to", self.period_to)) if v}
        body = {
            "title": {lang: text for lang, text in self.titles.items() if text},
            "recipient": recipient,
            "purpose": self.purpose,
            "count_by": [f for f in (self.count_by_1, self.count_by_2) if f],
            "period": period or None,
        }
        try:
            data = ReportIn.model_validate(body)
        except ValidationError as exc:
            for error in exc.errors():
                errors.add(*_explain(error))
            return None, errors
        return (None if errors else data), errors


_KEY = TypeAdapter(Key)


def _valid_key(key: str) -> bool:
    try:
        _KEY.validate_python(key)
    except ValidationError:
        return False
    return True


def _explain(error: Mapping[str, Any]) -> tuple[str, str]:
    """A pydantic error as (field id, one plain sentence in the admin's language)."""
    loc = tuple(str(part) for part in error.get("loc", ()))
    message = str(error.get("msg", ""))
    where = loc[0] if loc else ""
    if where == "title":
        return "title-en", _("Give the report a title, in at least one language.")
    if where == "recipient":
        if len(loc) > 1 and loc[1] == "organization":
            return "recipient_organization", _(
                "Write the organization's short name in the portal (lower-case letters, digits, '_', '.' or '-'), or leave it empty."
            )
        return "recipient_name", _("Say who receives the report, such as Hennepin County.")
    if where == "purpose":
        return "purpose", _("Choose the purpose of your plan that this report serves.")
    if where == "count_by" or "count_by" in message:
        if "once" in message:
            return "count_by_2", _("Choose a different field, or none.")
        return "count_by_1", _("Choose the field to count by.")
    if where == "period" or "period" in message:
        if "before" in message:
            return "period_from", _("The start of the period must be on or before its end.")
        field_name = "period_to" if len(loc) > 1 and loc[-1] == "to" else "period_from"
        return field_name, _("Write the date as year-month-day, such as 2026-01-31.")
    return "title-en", _("Check this answer.")


def _form_page(
    request: Request,
    desk: AdminDesk,
    db: SessionDep,
    form: ReportForm,
    *,
    new: bool,
    errors: FormErrors | None = None,
) -> HTMLResponse:
    organization_id = desk.organization.id or 0
    errors = errors or FormErrors()
    return page(
        request,
        "reports/form.html",
        desk,
        {
            "form": form,
            "new": new,
            "errors": errors,
            "languages": SUPPORTED_LOCALES,
            "purposes": list_purposes(db, organization_id=organization_id),
            "fields": field_choices(db, organization_id=organization_id),
        },
        section=SECTION,
        status_code=400 if errors else 200,
    )


def _own_report(db: SessionDep, desk: AdminDesk, report_key: str) -> Report:
    report = find_report(db, organization_id=desk.organization.id or 0, key=report_key)
    if report is None:
        raise HTTPException(status_code=404)
    return report


def _own_run(db: SessionDep, report: Report, run_id: str) -> ReportRun:
    run = find_run(db, report=report, run_id=run_id)
    if run is None:
        raise HTTPException(status_code=404)
    return run


def _save(
    request: Request, desk: AdminDesk, db: SessionDep, form: ReportForm, *, new: bool
) -> Response:
    data, errors = form.validate()
    if (
        data is not None
        and new
        and find_report(db, organization_id=desk.organization.id or 0, key=form.key)
    ):
        errors.add("key", _("You already have a report with this short name."))
        data = None
    if data is None:
        return _form_page(request, desk, db, form, new=new, errors=errors)
    try:
        report, _created = upsert_report(
            db, organization=desk.organization, key=form.key, data=data
        )
    except ReportError as exc:
        errors.add(exc.field, exc.message)
        return _form_page(request, desk, db, form, new=new, errors=errors)
    db.commit()
    return RedirectResponse(f"/staff/org/reports/{report.key}?saved=1", status_code=303)


@router.get("/reports", response_class=HTMLResponse)
async def reports(request: Request, desk: AdminDeskDep, db: SessionDep) -> Response:
    """The organization's reports, each with its latest run."""
    found = list_reports(db, organization_id=desk.organization.id or 0)
    return page(
        request,
        "reports/list.html",
        desk,
        {"reports": [(r, runs_of(db, report=r)[:1]) for r in found]},
        section=SECTION,
    )


@router.get("/reports/new", response_class=HTMLResponse)
async def new_report(request: Request, desk: AdminDeskDep, db: SessionDep) -> Response:
    return _form_page(request, desk, db, ReportForm(), new=True)


@router.post("/reports/new", response_class=HTMLResponse)
async def create_report(request: Request, desk: AdminDeskDep, db: SessionDep) -> Response:
    form = ReportForm.from_form(await request.form())
    return _save(request, desk, db, form, new=True)


@router.get("/reports/{report_key}", response_class=HTMLResponse)
async def report_page(
    report_key: str, request: Request, desk: AdminDeskDep, db: SessionDep
) -> Response:
    report = _own_report(db, desk, report_key)
    return _report_page(request, desk, db, report, saved=request.query_params.get("saved") == "1")


def _report_page(
    request: Request,
    desk: AdminDesk,
    db: SessionDep,
    report: Report,
    *,
    saved: bool = False,
    run_error: str | None = None,
) -> HTMLResponse:
    purposes = {p.id: p for p in list_purposes(db, organization_id=desk.organization.id or 0)}
    return page(
        request,
        "reports/report.html",
        desk,
        {
            "report": report,
            "purpose": purposes.get(report.purpose_id),
            "runs": runs_of(db, report=report),
            "saved": saved,
            "run_error": run_error,
        },
        section=SECTION,
        status_code=400 if run_error else 200,
    )


@router.get("/reports/{report_key}/edit", response_class=HTMLResponse)
async def edit_report(
    report_key: str, request: Request, desk: AdminDeskDep, db: SessionDep
) -> Response:
    report = _own_report(db, desk, report_key)
    purposes = {p.id: p.key for p in list_purposes(db, organization_id=desk.organization.id or 0)}
    form = ReportForm.from_report(report, purposes.get(report.purpose_id, ""))
    return _form_page(request, desk, db, form, new=False)


@router.post("/reports/{report_key}/edit", response_class=HTMLResponse)
async def save_report(
    report_key: str, request: Request, desk: AdminDeskDep, db: SessionDep
) -> Response:
    report = _own_report(db, desk, report_key)
    form = ReportForm.from_form(await request.form(), key=report.key)
    return _save(request, desk, db, form, new=False)


@router.post("/reports/{report_key}/runs", response_class=HTMLResponse)
async def run(report_key: str, request: Request, desk: AdminDeskDep, db: SessionDep) -> Response:
    """Run and publish: the same `run_report` as `POST /api/v1/reports/{key}/runs`."""
    report = _own_report(db, desk, report_key)
    try:
        made = run_report(
            db,
            report=report,
            threshold=request.app.state.settings.report_threshold,
            run_by=desk.staff.name or desk.staff.email,
        )
    except ReportError as exc:
        db.rollback()
        return _report_page(request, desk, db, report, run_error=exc.message)
    db.commit()
    return RedirectResponse(f"/staff/org/reports/{report.key}/runs/{made.id}", status_code=303)


@router.get("/reports/{report_key}/runs/{run_id}", response_class=HTMLResponse)
async def run_page(
    report_key: str, run_id: str, request: Request, desk: AdminDeskDep, db: SessionDep
) -> Response:
    """A run, printable: the chart and the same numbers in a table."""
    report = _own_report(db, desk, report_key)
    published = _own_run(db, report, run_id)
    title, _language = pick_text(published.title)
    chart = run_chart(
        published,
        title=title,
        description=_("Counts of participants; a hidden count has no bar."),
        hidden_word=_("hidden"),
    )
    return page(
        request,
        "reports/run.html",
        desk,
        {"report": report, "run": published, "chart": chart, "table": run_table(published)},
        section=SECTION,
    )


@router.get("/reports/{report_key}/runs/{run_id}/csv")
async def run_csv_file(
    report_key: str, run_id: str, desk: AdminDeskDep, db: SessionDep
) -> Response:
    report = _own_report(db, desk, report_key)
    published = _own_run(db, report, run_id)
    return Response(
        run_csv(published),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{report.key}-{published.id}.csv"'},
    )
