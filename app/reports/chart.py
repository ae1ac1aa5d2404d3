"""A run's counts as a server-drawn SVG bar chart, like the dashboard's (app/orgadmin/charts.py):
no script, no inline style, each bar with its label and its number as text. A hidden count
has no bar, only the word for it, so a chart never shows more than the table."""

from __future__ import annotations

from markupsafe import Markup, escape

from app.orgadmin.charts import BAR_GAP, DEFAULT_FILL, LABEL_WIDTH, ROW_HEIGHT, VALUE_WIDTH, WIDTH
from app.reports.models import ReportRun


def run_chart(run: ReportRun, *, title: str, description: str, hidden_word: str) -> Markup:
    bars = [(" · ".join(c["values"]), c["count"]) for c in run.cells]
    largest = max((count or 0 for _label, count in bars), default=0) or 1
    track = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    height = max(len(bars), 1) * ROW_HEIGHT
    cid = escape(f"chart-{run.id}")
    parts = [
        Markup(
            '<svg class="chart" id="{cid}" role="img" aria-labelledby="{cid}-title {cid}-desc" '
            'viewBox="0 0 {w} {h}" width="100%" preserveAspectRatio="xMinYMin meet" '
            'xmlns="http://www.w3.org/2000/svg">'
        ).format(cid=cid, w=WIDTH, h=height),
        Markup('<title id="{}-title">{}</title>').format(cid, title),
        Markup('<desc id="{}-desc">{}</desc>').format(cid, description),
    ]
    for row, (label, count) in enumerate(bars):
        top = row * ROW_HEIGHT
        middle = top + ROW_HEIGHT // 2
        length = 0 if count is None else max(round(track * count / largest), 1)
        bar = (
            Markup('<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{f}"></rect>').format(
                x=LABEL_WIDTH,
                y=top + BAR_GAP // 2,
                w=length,
                h=ROW_HEIGHT - BAR_GAP,
                f=DEFAULT_FILL,
            )
            if count is not None
            else Markup("")
        )
        parts.append(
            Markup(
                '<g class="bar"><text x="0" y="{mid}" dominant-baseline="middle" font-size="12" '
                'fill="#1b1b1b">{label}</text>{bar}<text x="{vx}" y="{mid}" '
                'dominant-baseline="middle" font-size="12" fill="#1b1b1b">{value}</text></g>'
            ).format(
                mid=middle,
                label=label if len(label) <= 20 else label[:19] + "…",
                bar=bar,
                vx=LABEL_WIDTH + length + 4,
                value=hidden_word if count is None else count,
            )
        )
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)
