"""Small cells are hidden, and so is whatever would let one be worked out: an attacker who
solves the published table's equations recovers no hidden count."""

from __future__ import annotations

import random

import pytest

from app.config import ConfigError, load_settings
from app.reports.suppression import Table
from tests.reports.attack import recovered


def _run(table: Table, threshold: int = 11) -> dict:
    cells, totals = table.published(threshold)
    return {"cells": cells, "totals": totals, "included": sum(table.counts.values())}


def _grid(rows: int, columns: int, rng: random.Random) -> Table:
    names_r = [f"r{i}" for i in range(rows)]
    names_c = [f"c{j}" for j in range(columns)]
    counts = {
        (r, c): rng.choice([0, 0, 1, 3, 7, 10, 11, 12, 25, 40, 90])
        for r in names_r
        for c in names_c
    }
    return Table(rows=names_r, columns=names_c, counts=counts)


def test_the_attack_works_on_primary_suppression_alone():
    """Hiding the small cell only: the attacker gets it back from the total. (So the attack
    below is a real one.)"""
    run = {
        "cells": [
            {"values": ["housed"], "count": 40},
            {"values": ["shelter"], "count": None},
            {"values": ["outside"], "count": 12},
        ],
        "totals": {},
        "included": 55,
    }
    assert recovered(run) == {"cell ('shelter',)": 3}


def test_one_field_hides_a_second_cell_and_nothing_can_be_recovered():
    table = Table(
        rows=["housed", "shelter", "outside"],
        columns=None,
        counts={("housed",): 40, ("shelter",): 3, ("outside",): 12},
    )
    run = _run(table)
    counts = {c["values"][0]: c["count"] for c in run["cells"]}
    assert counts == {"housed": 40, "shelter": None, "outside": None}  # 12: the smallest other
    assert recovered(run) == {}


def test_zero_is_published_and_large_cells_are_kept():
    table = Table(rows=["a", "b"], columns=None, counts={("a",): 0, ("b",): 30})
    assert [c["count"] for c in _run(table)["cells"]] == [0, 30]


@pytest.mark.parametrize("seed", range(60))
def test_no_hidden_count_of_a_random_crossed_table_can_be_solved_for(seed):
    rng = random.Random(seed)
    table = _grid(rng.randint(1, 5), rng.randint(1, 5), rng)
    run = _run(table)
    for cell in run["cells"]:
        true = table.counts[tuple(cell["values"])]
        if 0 < true < 11:
            assert cell["count"] is None, cell  # every small cell is hidden
        elif cell["count"] is not None:
            assert cell["count"] == true
    for kind in ("rows", "columns"):
        for total in run["totals"][kind]:
            if total["count"] is not None:
                # (a lone row's or column's total is the grand total, `included`)
                assert total["count"] >= 11 or total["count"] in (0, run["included"])
    hidden = [c for c in run["cells"] if c["count"] is None]
    if len(run["cells"]) > 1 or not hidden:
        # A single cell always equals the grand total: nothing can hide it.
        assert recovered(run) == {}, (table.counts, run)


@pytest.mark.parametrize("seed", range(30))
def test_no_hidden_count_of_a_random_single_field_table_can_be_solved_for(seed):
    rng = random.Random(1000 + seed)
    names = [f"v{i}" for i in range(rng.randint(2, 8))]
    counts = {(n,): rng.choice([0, 1, 4, 9, 11, 15, 60]) for n in names}
    run = _run(Table(rows=names, columns=None, counts=counts), threshold=rng.choice([5, 11, 20]))
    assert recovered(run) == {}


@pytest.mark.parametrize("raw", ["4", "0", "-3", "eleven", ""])
def test_a_threshold_below_five_or_not_a_number_is_refused_at_start(raw):
    with pytest.raises(ConfigError, match="PORTAL_REPORT_THRESHOLD"):
        load_settings({"PORTAL_REPORT_THRESHOLD": raw})


def test_the_threshold_is_eleven_unless_set():
    assert load_settings({}).report_threshold == 11
    assert load_settings({"PORTAL_REPORT_THRESHOLD": "5"}).report_threshold == 5
