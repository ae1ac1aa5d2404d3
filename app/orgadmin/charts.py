"""Small horizontal bar charts as server-rendered SVG: no chart library, no script, and no
inline style (the CSP forbids it), only presentation attributes.

Every bar carries its label and its number as text, so nothing is told by colour alone; the
page shows the same numbers in a table next to the chart for screen readers and print.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 320
ROW_HEIGHT = 28
LABEL_WIDTH = 130
VALUE_WIDTH = 40
BAR_GAP = 6
# Dark enough for 3:1 against white (WCAG non-text contrast).
DEFAULT_FILL = "#1d4f91"


@dataclass(frozen=True)
class Bar:
    label: str
    value: int | None  # None: a count that is not shown (a report's hidden cell): no bar
    fill: str = DEFAULT_FILL
    shown: str | None = None  # the words after the bar instead of the number ("hidden")


def bar_chart(chart_id: str, *, title: str, description: str, bars: Sequence[Bar]) -> Markup:
    """One bar per row: label on the left, bar scaled to the largest value, number after it.

    `chart_id` must be unique on the page: the <title> and <desc> are named by it."""
    largest = max((b.value or 0 for b in bars), default=0) or 1
    track = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    height = max(len(bars), 1) * ROW_HEIGHT
    cid = escape(chart_id)
    parts = [
        Markup(
            '<svg class="chart" id="{cid}" role="img" aria-labelledby="{cid}-title {cid}-desc" '
            'viewBox="0 0 {w} {h}" width="100%" preserveAspectRatio="xMinYMin meet" '
            'xmlns="http://www.w3.org/2000/svg">'
        ).format(cid=cid, w=WIDTH, h=height),
        Markup('<title id="{}-title">{}</title>').format(cid, title),
        Markup('<desc id="{}-desc">{}</desc>').format(cid, description),
    ]
    for row, bar in enumerate(bars):
        top = row * ROW_HEIGHT
        middle = top + ROW_HEIGHT // 2
        if bar.value is None:
            length, rect = 0, Markup("")
        else:
            # A zero still shows a hairline, so "none" and "missing" look different.
            length = max(round(track * bar.value / largest), 1 if bar.value == 0 else 2)
            rect = Markup(
                '<rect x="{x}" y="{y}" width="{len}" height="{bh}" fill="{fill}"></rect>'
            ).format(
                x=LABEL_WIDTH,
                y=top + BAR_GAP // 2,
                len=length,
                bh=ROW_HEIGHT - BAR_GAP,
                fill=bar.fill,
            )
        parts.append(
            Markup(
                '<g class="bar"><text x="0" y="{mid}" dominant-baseline="middle" '
                'font-size="12" fill="#1b1b1b">{label}</text>{rect}'
                '<text x="{vx}" y="{mid}" dominant-baseline="middle" font-size="12" '
                'fill="#1b1b1b">{value}</text></g>'
            ).format(
                mid=middle,
                label=_clip(bar.label),
                rect=rect,
                vx=LABEL_WIDTH + length + 4,
                value=bar.value if bar.shown is None else bar.shown,
            )
        )
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def _clip(label: str, limit: int = 20) -> str:
    """Long labels are cut to fit; the full label is in the table beside the chart."""
    return label if len(label) <= limit else label[: limit - 1] + "…"
