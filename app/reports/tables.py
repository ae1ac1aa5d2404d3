"""A run's published cells laid out for a page: one field as a list of rows, two as a grid
with the row and column totals. The same layout for the org admin's page and the
participant's, so both show the same table."""

from __future__ import annotations

from dataclasses import dataclass

from app.reports.models import ReportRun


@dataclass(frozen=True)
class RunTable:
    count_by: list[str]
    labels: list[str]  # the fields' labels, in count_by's order
    rows: list[str]
    columns: list[str] | None  # None for one field
    counts: dict[tuple[str, ...], int | None]
    row_totals: dict[str, int | None]
    column_totals: dict[str, int | None]
    included: int

    def count(self, row: str, column: str | None = None) -> int | None:
        return self.counts.get((row,) if column is None else (row, column))


def run_table(run: ReportRun) -> RunTable:
    counts = {tuple(c["values"]): c["count"] for c in run.cells}
    rows = list(dict.fromkeys(k[0] for k in counts))
    two = len(run.count_by) == 2
    columns = list(dict.fromkeys(k[1] for k in counts)) if two else None
    totals = run.totals or {}
    return RunTable(
        count_by=list(run.count_by),
        labels=[(run.labels or {}).get(f, f) for f in run.count_by],
        rows=rows,
        columns=columns,
        counts=counts,
        row_totals={t["values"][0]: t["count"] for t in totals.get("rows", [])},
        column_totals={t["values"][0]: t["count"] for t in totals.get("columns", [])},
        included=run.included,
    )
