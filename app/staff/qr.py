"""QR codes of claim links, drawn on the server as inline SVG.

segno's SVG uses presentation attributes (stroke, transform), never a style attribute or a
<style> element, so it passes the strict CSP (no 'unsafe-inline')."""

from __future__ import annotations

import segno
from markupsafe import Markup

# Choosing the best of the eight mask patterns is two thirds of the work; every pattern is
# valid and phones read any of them, so a batch of cards (an import) uses one fixed pattern.
BATCH_MASK = 0


def qr_svg(url: str, *, title: str, scale: int = 6, batch: bool = False) -> Markup:
    code = segno.make(url, error="m", mask=BATCH_MASK if batch else None)
    # segno escapes `title`, and the rest is path data it drew: nothing a visitor wrote.
    svg = code.svg_inline(scale=scale, svgclass="qr", lineclass=None, title=title)
    return Markup(svg.replace("<svg ", '<svg role="img" ', 1))  # noqa: S704
