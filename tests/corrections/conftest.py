from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.corrections.helpers import World, make_world


@pytest.fixture
def world(make_org: Any, client: TestClient, db: Any) -> World:
    return make_world(make_org, client, db)


@pytest.fixture
def other_browser(app: Any) -> Iterator[TestClient]:
    """A second browser, for a second participant (its own cookies)."""
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as c:
        yield c
