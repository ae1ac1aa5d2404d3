"""axe-core in the real browser: the WCAG 2.0–2.2 A and AA rules over the page as it is shown,
with two checks axe does not make: reflow (nothing scrolls sideways) and 44 px touch targets.

axe.min.js comes from the `axe-playwright-python` wheel (pinned in the `test` extra); nothing is
fetched from the network. It is evaluated through the DevTools protocol, so the page's strict
CSP (no inline scripts) stays as it is while axe runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

# Touch targets of 44×44 CSS px (WCAG 2.5.5; axe checks only 2.5.8's 24 px). A link inside a
# sentence is exempt, as 2.5.5 allows: the line of text sets its size. A checkbox or radio
# button is tapped through the label around it, so the label is measured.
SMALL_TARGETS = """() => {
  const MIN = 44;
  const small = [];
  const targets = 'a[href], button, input:not([type=hidden]), select, textarea, summary';
  for (const el of document.querySelectorAll(targets)) {
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || el.closest('[hidden], .visually-hidden')) continue;
    let box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;  // not shown
    if (box.right <= 0 || box.bottom <= 0) continue;  // off screen until focused (skip link)
    if (el.matches('input[type=checkbox], input[type=radio]')) {
      const label = el.closest('label')
        || (el.id && document.querySelector('label[for="' + CSS.escape(el.id) + '"]'));
      if (label) box = label.getBoundingClientRect();
    }
    if (el.tagName === 'A' && style.display === 'inline') {
      const around = el.parentElement.textContent.replace(el.textContent, '').trim();
      if (around.length > 0) continue;  // a link in running text
    }
    if (box.width < MIN - 0.5 || box.height < MIN - 0.5) {
      small.push(Math.round(box.width) + '×' + Math.round(box.height) + ' ' + el.outerHTML.slice(0, 100));
    }
  }
  return small;
}"""


@cache
def axe_source() -> str:
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text("utf-8")


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """The violations axe finds on the page as it is now (after any HTMX swap)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    results = page.evaluate(
        "options => axe.run(document, options)",
        {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]},
    )
    return results["violations"]


def describe(where: str, violations: list[dict[str, Any]]) -> list[str]:
    """One line per violated rule (its id, impact and help), then one per element (its CSS
    selector and what to fix)."""
    lines = []
    for v in violations:
        lines.append(f"{where}: {v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"]:
            target = " ".join(map(str, node["target"]))
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"    {target}  {summary}")
    return lines


@dataclass
class Audit:
    """Collects every page's violations, so one run reports all of them, then fails."""

    page: Page
    locale: str
    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def check(self, name: str) -> None:
        # A click that navigates may still be swapping documents: read the page once loaded.
        lang = None
        for _ in range(3):
            self.page.wait_for_load_state()
            lang = self.page.evaluate("document.documentElement && document.documentElement.lang")
            if lang is not None:
                break
            self.page.wait_for_timeout(100)
        where = f"[{self.locale}] {name} ({self.page.url})"
        if lang != self.locale:
            self.problems.append(f"{where}: <html lang> is {lang!r}, not {self.locale!r}")
        self.problems.extend(describe(where, axe_violations(self.page)))
        # Reflow (WCAG 1.4.10), which axe does not check: nothing scrolls sideways on a phone.
        wide = self.page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        if wide[0] > wide[1]:
            self.problems.append(f"{where}: scrolls sideways ({wide[0]} px wide in {wide[1]} px)")
        for target in self.page.evaluate(SMALL_TARGETS):
            self.problems.append(f"{where}: touch target under 44×44 px: {target}")
        self.checked.append(name)

    def assert_clean(self) -> None:
        assert not self.problems, (
            "accessibility problems (axe WCAG A/AA rules, reflow, touch targets):\n"
            + "\n".join(self.problems)
        )
