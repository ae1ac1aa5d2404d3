"""Fault tests: real processes (web, worker, a PostgreSQL server of their own) and real
faults (a database restart, a web process killed with SIGKILL)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "fault: starts real servers and breaks them on purpose (tests/faults)"
    )
    config.addinivalue_line("markers", "slow: takes several seconds (deselect with -m 'not slow')")
