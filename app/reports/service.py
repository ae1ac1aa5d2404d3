"""Reports: define one, run it, read what was published, and who was counted.

The one service under the API (app/reports/api.py) and the org admin's pages
(app/reports/views.py), so both accept, refuse and count exactly alike.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from app.consent.service import effective_state, latest_consents
from app.db import utcnow
from app.holdings.models import Holding
from app.holdings.sensitivity import is_hidden_at_first
from app.i18n import gettext as _
from app.organizations.models import Organization, Purpose
from app.organizations.service import find_purpose, list_purposes
from app.participants.models import Enrollment
from app.participants.service import open_to
from app.reports.models import Report, ReportCounted, ReportRun
from app.reports.schemas import ReportIn, period_out
from app.reports.suppression import Table

DEFAULT_THRESHOLD = 11
# A field with more values than this is not a category (an age, an address): counting by it
# would publish each person's value as a row, and make the suppression slow.
MAX_VALUES = 60


class ReportError(ValueError):
    """Bad input for a report: `field` names the field (the form's id), the message is in the
    reader's language."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


# --- the definition ------------------------------------------------------------------------


def field_choices(session: Session, *, organization_id: int) -> dict[str, str]:
    """The organization's holding fields a report can count by: field key → a label."""
    rows = session.exec(
        select(Holding)
        .join(Enrollment, col(Enrollment.id) == col(Holding.enrollment_id))
        .where(Enrollment.organization_id == organization_id, col(Holding.deleted_at).is_(None))
    )
    choices: dict[str, str] = {}
    for holding in rows:
        choices.setdefault(holding.field_key, holding.label)
    return dict(sorted(choices.items()))


def find_report(session: Session, *, organization_id: int, key: str) -> Report | None:
    return session.exec(
        select(Report).where(Report.organization_id == organization_id, Report.key == key)
    ).first()


def list_reports(session: Session, *, organization_id: int) -> list[Report]:
    return list(
        session.exec(
            select(Report).where(Report.organization_id == organization_id).order_by(Report.key)  # type: ignore[arg-type]
        )
    )


def upsert_report(
    session: Session, *, organization: Organization, key: str, data: ReportIn
) -> tuple[Report, bool]:
    """Create or replace a report. Refuses a purpose not in the plan and a field the
    organization holds nothing under (a typo would count nobody, silently)."""
    assert organization.id is not None
    purpose = find_purpose(session, organization_id=organization.id, key=data.purpose)
    if purpose is None:
        raise ReportError(
            "purpose",
            _("That purpose is not in your data collection plan: %(key)s", key=data.purpose),
        )
    known = field_choices(session, organization_id=organization.id)
    for position, field_key in enumerate(data.count_by):
        if field_key not in known:
            raise ReportError(
                f"count_by_{position + 1}",
                _("You hold no data under the field %(key)s.", key=field_key),
            )
    report = find_report(session, organization_id=organization.id, key=key)
    created = report is None
    if report is None:
        report = Report(
            organization_id=organization.id,
            key=key,
            title={},
            recipient={},
            purpose_id=purpose.id or 0,
            count_by=[],
        )
    report.title = dict(data.title)
    report.recipient = data.recipient.model_dump(exclude_none=True)
    report.purpose_id = purpose.id or 0
    report.count_by = list(data.count_by)
    report.period_from = data.period.from_ if data.period else None
    report.period_to = data.period.to if data.period else None
    report.updated_at = utcnow()
    session.add(report)
    session.flush()
    return report, created


def report_counts_by(session: Session, *, organization_id: int) -> list[dict[str, Any]]:
    """What each report counts by, for the data-justice review: the sensitive categories of
    its fields' holdings (as app/holdings/sensitivity.py reads them)."""
    reports = list_reports(session, organization_id=organization_id)
    if not reports:
        return []
    purposes = {p.id: p for p in list_purposes(session, organization_id=organization_id)}
    fields = {f for r in reports for f in r.count_by}
    sensitive: dict[str, set[str]] = {}
    rows = session.exec(
        select(Holding)
        .join(Enrollment, col(Enrollment.id) == col(Holding.enrollment_id))
        .where(
            Enrollment.organization_id == organization_id,
            col(Holding.field_key).in_(fields),
            col(Holding.deleted_at).is_(None),
        )
    )
    for holding in rows:
        purpose = purposes.get(holding.purpose_id)
        if purpose is not None and is_hidden_at_first(holding, purpose):
            sensitive.setdefault(holding.field_key, set()).add(holding.category)
    return [
        {
            "key": r.key,
            "purpose": purposes[r.purpose_id].key if r.purpose_id in purposes else "",
            "sensitive_categories": sorted({c for f in r.count_by for c in sensitive.get(f, ())}),
        }
        for r in reports
    ]


def report_out(session: Session, report: Report) -> dict[str, Any]:
    purpose = session.get(Purpose, report.purpose_id)
    return {
        "key": report.key,
        "title": report.title,
        "recipient": report.recipient,
        "purpose": purpose.key if purpose else None,
        "count_by": report.count_by,
        "period": period_out(report.period_from, report.period_to),
        "updated_at": report.updated_at.isoformat(),
    }


# --- a run ---------------------------------------------------------------------------------


def _allowed(
    session: Session, purpose: Purpose, enrollments: list[Enrollment], now: datetime
) -> list[Enrollment]:
    """Who the purpose lets the organization count right now: with consent given, for a
    consent purpose; everyone, for another basis (and the participant is told which)."""
    if purpose.basis != "consent":
        return enrollments
    consents = latest_consents(session, [e.id for e in enrollments])
    return [
        e
        for e in enrollments
        if effective_state(consents.get((e.id, purpose.id or 0)), now) == "given"
    ]


def _in_period(holding: Holding, start: date | None, end: date | None) -> bool:
    collected = holding.collected_at or holding.created_at.date()
    return (start is None or collected >= start) and (end is None or collected <= end)


def run_report(
    session: Session,
    *,
    report: Report,
    threshold: int = DEFAULT_THRESHOLD,
    run_by: str = "API",
    now: datetime | None = None,
) -> ReportRun:
    """Count, suppress and publish. A participant counts when the purpose allows it now and
    they have a current value for every field counted by (collected within the period, when
    the report has one); the run keeps who it counted."""
    now = now or utcnow()
    purpose = session.get(Purpose, report.purpose_id)
    assert purpose is not None
    enrollments = list(
        session.exec(select(Enrollment).where(Enrollment.organization_id == report.organization_id))
    )
    allowed = {e.id: e for e in _allowed(session, purpose, enrollments, now)}
    values: dict[str, dict[str, str]] = {}
    if allowed:
        holdings = session.exec(
            select(Holding).where(
                col(Holding.enrollment_id).in_(list(allowed)),
                col(Holding.field_key).in_(report.count_by),
                col(Holding.deleted_at).is_(None),
            )
        )
        for h in holdings:
            if h.value is not None and _in_period(h, report.period_from, report.period_to):
                values.setdefault(h.enrollment_id, {})[h.field_key] = h.value.strip()
    counted = sorted(e for e, held in values.items() if all(held.get(f) for f in report.count_by))
    keys = [tuple(values[e][f] for f in report.count_by) for e in counted]
    rows = sorted({k[0] for k in keys})
    columns = sorted({k[1] for k in keys}) if len(report.count_by) == 2 else None
    for position, values_seen in enumerate((rows, columns or [])):
        if len(values_seen) > MAX_VALUES:
            raise ReportError(
                f"count_by_{position + 1}",
                _(
                    "%(field)s has %(count)s different values; a report counts by at most "
                    "%(limit)s. Count by a field with fewer categories, such as an age band "
                    "rather than an age.",
                    field=report.count_by[position],
                    count=len(values_seen),
                    limit=MAX_VALUES,
                ),
            )
    if 0 < len(counted) < threshold:
        # The total is published (it is `included`): a run over fewer people than the
        # threshold would itself be a small group leaving the portal. Nothing is published.
        raise ReportError(
            "count_by_1",
            _(
                "Only %(count)s people can be counted now, fewer than %(threshold)s: a report "
                "this small could tell who they are, so it was not run. Run it when more "
                "people can be counted.",
                count=len(counted),
                threshold=threshold,
            ),
        )
    grid = [(r, c) for r in rows for c in columns] if columns is not None else [(r,) for r in rows]
    counts = dict.fromkeys(grid, 0)
    for k in keys:
        counts[k] += 1
    cells, totals = Table(rows=rows, columns=columns, counts=counts).published(threshold)
    labels = field_choices(session, organization_id=report.organization_id)
    run = ReportRun(
        report_id=report.id,
        organization_id=report.organization_id,
        title=dict(report.title),
        recipient=dict(report.recipient),
        purpose_key=purpose.key,
        purpose_title=dict(purpose.title),
        basis=purpose.basis,
        count_by=list(report.count_by),
        labels={f: labels.get(f, f) for f in report.count_by},
        period_from=report.period_from,
        period_to=report.period_to,
        included=len(counted),
        cells=cells,
        totals=totals,
        suppressed_below=threshold,
        run_by=run_by,
        run_at=now,
    )
    session.add(run)
    session.flush()
    for enrollment_id in counted:
        session.add(ReportCounted(run_id=run.id, enrollment_id=enrollment_id))
    session.flush()
    return run


RUN_ID = re.compile(r"^run_[0-9a-f]{1,36}$")


def find_run(session: Session, *, report: Report, run_id: str) -> ReportRun | None:
    """One of the report's runs; None for any other id (one from a URL may hold anything,
    such as a NUL PostgreSQL would refuse to compare)."""
    if not RUN_ID.match(run_id):
        return None
    return session.exec(
        select(ReportRun).where(ReportRun.id == run_id, ReportRun.report_id == report.id)
    ).first()


def runs_of(session: Session, *, report: Report) -> list[ReportRun]:
    return list(
        session.exec(
            select(ReportRun)
            .where(ReportRun.report_id == report.id)
            .order_by(col(ReportRun.run_at).desc(), col(ReportRun.id).desc())
        )
    )


def run_out(run: ReportRun, report_key: str) -> dict[str, Any]:
    return {
        "run_id": run.id,
        "report": report_key,
        "title": run.title,
        "recipient": run.recipient,
        "purpose": run.purpose_key,
        "basis": run.basis,
        "count_by": run.count_by,
        "labels": run.labels,
        "period": period_out(run.period_from, run.period_to),
        "run_at": run.run_at.isoformat(),
        "included": run.included,
        "cells": run.cells,
        "totals": run.totals,
        "suppressed_below": run.suppressed_below,
    }


def run_csv(run: ReportRun) -> str:
    """The published table as a spreadsheet: a hidden count is written as "hidden"."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*run.count_by, "count"])
    for cell in run.cells:
        writer.writerow([*(_safe(v) for v in cell["values"]), _count(cell["count"])])
    for kind in ("rows", "columns"):
        for total in run.totals.get(kind, []):
            where = 0 if kind == "rows" else 1
            values = ["total"] * len(run.count_by)
            values[where] = _safe(total["values"][0])
            writer.writerow([*values, _count(total["count"])])
    writer.writerow([*(["total"] * len(run.count_by)), run.included])
    return out.getvalue()


def _count(count: int | None) -> str:
    return "hidden" if count is None else str(count)


def _safe(value: str) -> str:
    """A value a spreadsheet would run as a formula is quoted (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


# --- what a participant sees ----------------------------------------------------------------


@dataclass
class SeenRun:
    run: ReportRun
    organization: Organization
    counted: bool


def runs_for_participant(session: Session, *, participant_id: str) -> list[SeenRun]:
    """Every run of the participant's open organizations, newest first, each saying whether
    it counted them (only a run that has their enrollment in report_counted says so)."""
    mine = list(session.exec(select(Enrollment).where(open_to(participant_id))))
    if not mine:
        return []
    counted_runs = set(
        session.exec(
            select(ReportCounted.run_id).where(
                col(ReportCounted.enrollment_id).in_([e.id for e in mine])
            )
        )
    )
    rows = session.exec(
        select(ReportRun, Organization)
        .join(Organization, col(Organization.id) == col(ReportRun.organization_id))
        .where(col(ReportRun.organization_id).in_({e.organization_id for e in mine}))
        .order_by(col(ReportRun.run_at).desc(), col(ReportRun.id).desc())
    )
    return [SeenRun(run=r, organization=o, counted=r.id in counted_runs) for r, o in rows]


def counted_in(session: Session, *, enrollment_ids: list[str]) -> list[dict[str, Any]]:
    """For the participant's own download: every run that counted them, as published."""
    if not enrollment_ids:
        return []
    rows = session.exec(
        select(ReportCounted, ReportRun, Report, Organization)
        .join(ReportRun, col(ReportRun.id) == col(ReportCounted.run_id))
        .join(Report, col(Report.id) == col(ReportRun.report_id))
        .join(Organization, col(Organization.id) == col(ReportRun.organization_id))
        .where(col(ReportCounted.enrollment_id).in_(enrollment_ids))
        .order_by(col(ReportRun.run_at), col(ReportRun.id))
    )
    return [
        {"organization": o.slug, "participant_id": c.enrollment_id, **run_out(r, report.key)}
        for c, r, report, o in rows
    ]
