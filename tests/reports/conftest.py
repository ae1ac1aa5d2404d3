"""The reports' fixtures (tests/reports/thirty.py), for every test in this folder."""

from tests.reports.thirty import thirty  # noqa: F401
