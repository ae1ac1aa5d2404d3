"""Small-cell suppression for a report's table, with complementary suppression.

A count from 1 to `threshold - 1` is hidden (primary suppression). Hiding it is not enough
when the published totals let it be worked out: a row of [40, 3, 12] with its total 55 gives
the 3 back. So further entries are hidden (complementary suppression) until no hidden entry
can be solved for from the published ones by linear equations: each row, column and the
grand total is one equation, and a hidden entry is recoverable exactly when it is fixed by
them whatever values the other hidden entries take (it is zero in every vector of the
equations' null space).

Pure functions over plain numbers, so every rule is tested without a database.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

Entry = Hashable
GRAND = ("total",)


@dataclass(frozen=True)
class Equation:
    """sum(entries) == total, where the last entry is the total itself."""

    parts: tuple[Entry, ...]
    total: Entry


def recoverable(equations: Sequence[Equation], hidden: Iterable[Entry]) -> set[Entry]:
    """The hidden entries the equations fix, given every other entry's value is known."""
    unknowns = sorted(set(hidden), key=repr)
    index = {entry: i for i, entry in enumerate(unknowns)}
    rows: list[list[Fraction]] = []
    for equation in equations:
        row = [Fraction(0)] * len(unknowns)
        for part in equation.parts:
            if part in index:
                row[index[part]] += 1
        if equation.total in index:
            row[index[equation.total]] -= 1
        if any(row):
            rows.append(row)
    pivots = _reduce(rows, len(unknowns))
    free = set(range(len(unknowns))) - {column for column, _row in pivots}
    # A pivot unknown is fixed when its reduced row has nothing in a free column; a free
    # unknown never is.
    return {unknowns[column] for column, row in pivots if all(rows[row][f] == 0 for f in free)}


def _reduce(rows: list[list[Fraction]], width: int) -> list[tuple[int, int]]:
    """Gauss-Jordan in place (exact fractions); returns (pivot column, its row) pairs."""
    pivots: list[tuple[int, int]] = []
    top = 0
    for column in range(width):
        found = next((r for r in range(top, len(rows)) if rows[r][column] != 0), None)
        if found is None:
            continue
        rows[top], rows[found] = rows[found], rows[top]
        lead = rows[top][column]
        rows[top] = [v / lead for v in rows[top]]
        for r in range(len(rows)):
            if r != top and rows[r][column] != 0:
                factor = rows[r][column]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[top], strict=True)]
        pivots.append((column, top))
        top += 1
        if top == len(rows):
            break
    return pivots


def suppress(
    values: dict[Entry, int], equations: Sequence[Equation], *, threshold: int
) -> set[Entry]:
    """The entries to hide: every count from 1 to threshold - 1, then, one at a time, the
    smallest published entry that shares an equation with a still-recoverable hidden one
    (cells before totals, non-zero before zero: a hidden zero protects little), until none
    can be worked out. The grand total is always published (it is `included`; a run over fewer
    people than the threshold is refused before it gets here, app/reports/service.py)."""
    hidden = {e for e, v in values.items() if e != GRAND and 0 < v < threshold}
    if not hidden:
        return hidden
    while True:
        exposed = recoverable(equations, hidden)
        if not exposed:
            return hidden
        target = min(exposed, key=repr)
        near = {
            e
            for q in equations
            if target in (*q.parts, q.total)
            for e in (*q.parts, q.total)
            if e not in hidden and e != GRAND
        }
        pool = near or {e for e in values if e not in hidden and e != GRAND}
        if not pool:
            return hidden  # everything is hidden but the grand total: nothing more to do
        hidden.add(min(pool, key=lambda e: _preference(e, values[e])))


def _preference(entry: Entry, value: int) -> tuple[int, int, int, str]:
    is_total = isinstance(entry, tuple) and entry[:1] in (("row",), ("column",))
    return (int(is_total), int(value == 0), value, repr(entry))


@dataclass(frozen=True)
class Table:
    """A report's counts, one or two fields: its cells (values → count), and the totals."""

    rows: list[str]
    columns: list[str] | None  # None for one field
    counts: dict[tuple[str, ...], int]

    def entries(self) -> tuple[dict[Entry, int], list[Equation]]:
        values: dict[Entry, int] = {("cell", k): v for k, v in self.counts.items()}
        values[GRAND] = sum(self.counts.values())
        if self.columns is None:
            return values, [Equation(tuple(("cell", (r,)) for r in self.rows), GRAND)]
        # A lone row or column's total is the grand total itself (always published).
        row_total = {r: GRAND if len(self.rows) == 1 else ("row", r) for r in self.rows}
        column_total = {c: GRAND if len(self.columns) == 1 else ("column", c) for c in self.columns}
        equations = []
        for r in self.rows:
            values[row_total[r]] = sum(self.counts[(r, c)] for c in self.columns)
            equations.append(Equation(tuple(("cell", (r, c)) for c in self.columns), row_total[r]))
        for c in self.columns:
            values[column_total[c]] = sum(self.counts[(r, c)] for r in self.rows)
            equations.append(Equation(tuple(("cell", (r, c)) for r in self.rows), column_total[c]))
        if len(self.rows) > 1:
            equations.append(Equation(tuple(row_total.values()), GRAND))
        if len(self.columns) > 1:
            equations.append(Equation(tuple(column_total.values()), GRAND))
        return values, equations

    def published(self, threshold: int) -> tuple[list[dict], dict]:
        """The cells and totals as published: a hidden one's count is None."""
        values, equations = self.entries()
        hidden = suppress(values, equations, threshold=threshold)

        def shown(entry: Entry) -> int | None:
            return None if entry in hidden else values[entry]

        cells = [{"values": list(k), "count": shown(("cell", k))} for k in self.counts]
        if self.columns is None:
            return cells, {}
        rows = [(r, GRAND if len(self.rows) == 1 else ("row", r)) for r in self.rows]
        columns = [(c, GRAND if len(self.columns) == 1 else ("column", c)) for c in self.columns]
        totals = {
            "rows": [{"values": [r], "count": shown(row_total)} for r, row_total in rows],
            "columns": [{"values": [c], "count": shown(total)} for c, total in columns],
        }
        return cells, totals
