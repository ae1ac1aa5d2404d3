"""The database a bench runs on, and removing what a bench created there.

Its own file because several benches share it (webhook_delivery.py, webhook_latency.py):
PostgreSQL when TEST_DATABASE_URL (or DATABASE_URL) names one, else a fresh SQLite file in a
temporary folder that the bench deletes afterwards.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel, col

import app.models  # noqa: F401 - every table, for sorted_tables
from app.participants.models import Enrollment
from app.webhooks.models import WebhookEndpoint


def database_url() -> tuple[str, Path | None]:
    """The URL to use, and the temporary folder to delete afterwards (None on PostgreSQL)."""
    for name in ("TEST_DATABASE_URL", "DATABASE_URL"):
        url = os.environ.get(name, "")
        if url.startswith("postgresql"):
            return url, None
    folder = Path(tempfile.mkdtemp(prefix="webhook-bench-"))
    return f"sqlite:///{folder / 'bench.db'}", folder


def delete_organization_rows(engine: Engine, organization_id: int) -> None:
    """Remove what a bench created for its organization, children first, so benches can run
    against a shared database. Best effort: a table this does not know about is reported."""
    endpoints = select(col(WebhookEndpoint.id)).where(
        col(WebhookEndpoint.organization_id) == organization_id
    )
    enrollments = select(col(Enrollment.id)).where(
        col(Enrollment.organization_id) == organization_id
    )
    try:
        with engine.begin() as connection:
            for table in reversed(SQLModel.metadata.sorted_tables):
                columns = table.c
                if table.name == "organization":
                    connection.execute(delete(table).where(columns.id == organization_id))
                elif "endpoint_id" in columns:
                    connection.execute(delete(table).where(columns.endpoint_id.in_(endpoints)))
                elif "enrollment_id" in columns:
                    connection.execute(delete(table).where(columns.enrollment_id.in_(enrollments)))
                elif "organization_id" in columns:
                    connection.execute(
                        delete(table).where(columns.organization_id == organization_id)
                    )
    except Exception as exc:  # noqa: BLE001 - a bench should still print its figures
        print(f"  (could not remove the bench rows: {exc.__class__.__name__}: {exc})")
