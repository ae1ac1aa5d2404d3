"""Fixtures for the webhook tests alone (the receiver, the clock and the worker are in
tests/conftest.py, since other folders use them too)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: takes several seconds (deselect with -m 'not slow')")


@pytest.fixture
def production_settings(settings: Any) -> Any:
    return replace(settings, env="production")
