"""A run's counts as a server-drawn SVG bar chart, the dashboard's (app/orgadmin/charts.py):
no script, no inline style, each bar with its label and its number as text. A hidden count
has no bar, only the word for it, so a chart never shows more than the table."""

from __future__ import annotations

from markupsafe import Markup

from app.orgadmin.charts import Bar, bar_chart
from app.reports.models import ReportRun


def run_chart(run: ReportRun, *, title: str, description: str, hidden_word: str) -> Markup:
    bars = [
        Bar(
            " · ".join(cell["values"]),
            cell["count"],
            shown=hidden_word if cell["count"] is None else None,
        )
        for cell in run.cells
    ]
    return bar_chart(f"chart-{run.id}", title=title, description=description, bars=bars)
