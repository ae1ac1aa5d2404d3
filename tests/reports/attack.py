"""An attacker with the published table: tries to work out each hidden count from the
published cells and totals by solving the linear equations they satisfy. Written apart from
app/reports/suppression.py (ranks, not null spaces), so the two don't share a mistake."""

from __future__ import annotations

from fractions import Fraction
from typing import Any


def _rank(rows: list[list[Fraction]]) -> int:
    rows = [list(r) for r in rows]
    rank, width = 0, len(rows[0]) if rows else 0
    for column in range(width):
        pivot = next((i for i in range(rank, len(rows)) if rows[i][column] != 0), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        for i in range(len(rows)):
            if i != rank and rows[i][column] != 0:
                f = rows[i][column] / rows[rank][column]
                rows[i] = [a - f * b for a, b in zip(rows[i], rows[rank], strict=True)]
        rank += 1
    return rank


def equations(run: dict[str, Any]) -> tuple[list[str], list[tuple[dict[str, int], int]]]:
    """The published table as linear equations over its hidden entries:
    ({unknown: coefficient}, constant) meaning sum(coef * unknown) == constant."""
    unknowns: list[str] = []

    def term(name: str, count: int | None, into: dict[str, int], sign: int) -> int:
        if count is None:
            if name not in unknowns:
                unknowns.append(name)
            into[name] = into.get(name, 0) + sign
            return 0
        return sign * count

    found: list[tuple[dict[str, int], int]] = []
    cells = {tuple(c["values"]): c["count"] for c in run["cells"]}
    grand = run["included"]
    if not run["totals"]:
        coefs: dict[str, int] = {}
        known = sum(term(f"cell {k}", v, coefs, 1) for k, v in cells.items())
        found.append((coefs, grand - known))
        return unknowns, found
    rows = {t["values"][0]: t["count"] for t in run["totals"]["rows"]}
    columns = {t["values"][0]: t["count"] for t in run["totals"]["columns"]}
    for index, totals in ((0, rows), (1, columns)):
        kind = "row" if index == 0 else "column"
        for value, total in totals.items():
            coefs = {}
            known = sum(
                term(f"cell {k}", v, coefs, 1) for k, v in cells.items() if k[index] == value
            )
            known += term(f"{kind} {value}", total, coefs, -1)
            found.append((coefs, -known))
        coefs = {}
        known = sum(term(f"{kind} {value}", t, coefs, 1) for value, t in totals.items())
        found.append((coefs, grand - known))
    return unknowns, found


def recovered(run: dict[str, Any]) -> dict[str, Fraction]:
    """Every hidden entry the equations pin to a single value, with that value."""
    unknowns, eqs = equations(run)
    if not unknowns:
        return {}
    matrix = [[Fraction(c.get(u, 0)) for u in unknowns] for c, _k in eqs]
    augmented = [[*row, Fraction(k)] for row, (_c, k) in zip(matrix, eqs, strict=True)]
    base = _rank(matrix)
    assert base == _rank(augmented), "the published table contradicts itself"
    out: dict[str, Fraction] = {}
    for i, name in enumerate(unknowns):
        probe = [Fraction(int(j == i)) for j in range(len(unknowns))]
        if _rank([*matrix, probe]) == base:  # the unknown is a combination of the equations
            out[name] = _solve_for(matrix, [Fraction(k) for _c, k in eqs], i)
    return out


def _solve_for(matrix: list[list[Fraction]], rhs: list[Fraction], i: int) -> Fraction:
    """The value of unknown i (determined): Gauss-Jordan, then read its pivot row."""
    rows = [[*r, b] for r, b in zip(matrix, rhs, strict=True)]
    width, top = len(matrix[0]), 0
    where: dict[int, int] = {}
    for column in range(width):
        pivot = next((r for r in range(top, len(rows)) if rows[r][column] != 0), None)
        if pivot is None:
            continue
        rows[top], rows[pivot] = rows[pivot], rows[top]
        rows[top] = [v / rows[top][column] for v in rows[top]]
        for r in range(len(rows)):
            if r != top and rows[r][column] != 0:
                f = rows[r][column]
                rows[r] = [a - f * b for a, b in zip(rows[r], rows[top], strict=True)]
        where[column] = top
        top += 1
    return rows[where[i]][-1]
