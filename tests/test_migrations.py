"""The Alembic migrations produce exactly the models (the equivalent of `alembic check`), and
the migrations that rewrite data do it right."""

import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlmodel import Session, SQLModel

from app.consent.models import Consent
from app.corrections.models import Correction, DeletionRequest, Statement
from app.db import make_engine
from app.disclosures.models import Disclosure
from app.events.models import Event
from app.events.service import GENESIS, chain_hash, data_digest, verify_ledger
from app.holdings.models import Holding
from app.migrate import alembic_config
from app.webhooks.models import WebhookAttempt


def test_migrated_schema_matches_the_models(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_one_head_and_the_database_is_at_it(engine, settings):
    script = ScriptDirectory.from_config(alembic_config(settings.database_url))
    heads = script.get_heads()
    assert len(heads) == 1, f"migrations have several heads: {heads}"
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_heads() == tuple(heads)


def test_migration_files_are_named_date_rev_slug(settings):
    script = ScriptDirectory.from_config(alembic_config(settings.database_url))
    for revision in script.walk_revisions():
        name = revision.path.rsplit("/", 1)[-1]
        date, rev, *_slug = name.split("_")
        assert len(date) == 8 and date.isdigit() and rev == revision.revision, name


# --- field encryption at rest (f001) --------------------------------------------------------

ENCRYPTED_BY_F001 = {
    ("holding", "value"): "612-555-0100 " + "é" * 9987,  # as long as a value may be
    ("correction", "current_value"): "612-555-0100",
    ("correction", "requested_value"): "612-555-0199",
    ("correction", "reason"): "I moved in June.",
    ("correction", "resolution_reason"): "We called the old number.",
    ("correction", "corrected_value"): "612-555-0198",
    ("statement", "text"): "That number was cut off.",
    ("context_note", "text"): "Finish my GED.",
    ("event", "ack_note"): "Deleted 612-555-0100 from our files.",
}
EVENT_DATA = {"organization": "northside", "requested_value": "612-555-0199", "n": 1}


@pytest.fixture
def walk_url(engine, settings, tmp_path):
    """A database of its own to walk the migrations in: a file on SQLite, a schema of its own
    on PostgreSQL (the test database stays at head)."""
    if engine.dialect.name != "postgresql":
        yield f"sqlite:///{tmp_path / 'walk.db'}"
        return
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS migration_walk CASCADE"))
        conn.execute(text("CREATE SCHEMA migration_walk"))
    separator = "&" if "?" in settings.database_url else "?"
    yield f"{settings.database_url}{separator}options=-csearch_path%3Dmigration_walk"
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA migration_walk CASCADE"))


def _insert(conn, table_name, **row):
    def column_type(value):
        if isinstance(value, dict | list):
            return sa.JSON()
        return sa.DateTime() if isinstance(value, datetime) else None

    table = sa.table(table_name, *(sa.column(k, column_type(v)) for k, v in row.items()))
    conn.execute(sa.insert(table).values(**row))


def _rows_before_encryption(conn):
    """One row of each table with encrypted columns, written as s001 would have: plaintext."""
    at = datetime(2026, 11, 1, 12, 0)  # naive UTC, as stored
    plain = ENCRYPTED_BY_F001
    _insert(conn, "organization", id=1, slug="northside", name="Northside", created_at=at)
    _insert(
        conn,
        "participant",
        id="acct_1",
        username="maria",
        pin_hash="!",
        created_at=at,
        pin_changed_at=at,
    )
    _insert(
        conn,
        "enrollment",
        id="ptp_1",
        organization_id=1,
        external_ref="N-1",
        participant_id="acct_1",
        created_at=at,
    )
    _insert(
        conn,
        "purpose",
        id=1,
        organization_id=1,
        key="housing",
        title={"en": "Housing"},
        description={},
        basis="consent",
        categories=[],
        recipients=[],
        refusal_consequence={},
        legal_recipients={},
        sensitive=False,
        consent_valid_days=365,
        version=1,
        created_at=at,
        updated_at=at,
    )
    _insert(
        conn,
        "holding",
        id="hld_1",
        enrollment_id="ptp_1",
        field_key="phone",
        label="Phone",
        category="contact",
        value=plain["holding", "value"],
        purpose_id=1,
        sensitive=False,
        created_at=at,
        updated_at=at,
    )
    _insert(
        conn,
        "correction",
        id="cor_1",
        holding_id="hld_1",
        enrollment_id="ptp_1",
        field_key="phone",
        label="Phone",
        status="denied",
        due_by=at,
        tell_recipients=[],
        created_at=at,
        **{column: value for (table, column), value in plain.items() if table == "correction"},
    )
    _insert(
        conn,
        "statement",
        id="stm_1",
        holding_id="hld_1",
        enrollment_id="ptp_1",
        correction_id="cor_1",
        text=plain["statement", "text"],
        created_at=at,
    )
    _insert(
        conn,
        "context_note",
        id="ctx_1",
        participant_id="acct_1",
        kind="goal",
        text=plain["context_note", "text"],
        shared_with=["ptp_1"],
        created_at=at,
        updated_at=at,
    )
    # A real link of the ledger: its digest and hash as record_event computes them.
    event = Event(
        id="evt_1",
        enrollment_id="ptp_1",
        seq=1,
        organization_id=1,
        type="correction.requested",
        role="holder",
        data=EVENT_DATA,
        data_digest=data_digest(EVENT_DATA),
        prev_hash=GENESIS,
        hash="",
        created_at=at.replace(tzinfo=UTC),
    )
    event.hash = chain_hash(event)
    _insert(
        conn,
        "event",
        id=event.id,
        enrollment_id="ptp_1",
        seq=1,
        organization_id=1,
        type=event.type,
        role="holder",
        data=EVENT_DATA,
        data_digest=event.data_digest,
        prev_hash=GENESIS,
        hash=event.hash,
        created_at=at,
        ack_note=plain["event", "ack_note"],
    )


def _stored(engine, table, column):
    with engine.connect() as conn:
        return conn.execute(text(f'SELECT "{column}" FROM "{table}"')).scalar_one()


def test_the_encryption_migration_encrypts_existing_values_and_downgrading_decrypts(walk_url):
    config = alembic_config(walk_url)
    command.upgrade(config, "s001")
    walk = make_engine(walk_url)
    try:
        with walk.begin() as conn:
            _rows_before_encryption(conn)

        command.upgrade(config, "f001")
        for (table, column), plaintext in ENCRYPTED_BY_F001.items():
            stored = _stored(walk, table, column)
            assert stored.startswith("enc1:dev:"), (table, column)
            assert plaintext[:12] not in stored
        stored_data = _stored(walk, "event", "data")
        assert stored_data.startswith("enc1:dev:") and "612-555-0199" not in stored_data
        # Read through the models (of the latest schema, so after the later migrations): the
        # values, and a ledger that still proves itself. The event got its feed position.
        command.upgrade(config, "head")
        with Session(walk) as session:
            holding = session.get(Holding, "hld_1")
            assert holding.value == ENCRYPTED_BY_F001["holding", "value"]
            assert session.get(Statement, "stm_1").text == "That number was cut off."
            event = session.get(Event, "evt_1")
            assert event.data == EVENT_DATA
            assert event.ack_note == ENCRYPTED_BY_F001["event", "ack_note"]
            assert event.feed_position == 1
            assert verify_ledger(session) is None

        command.downgrade(config, "s001")
        for (table, column), plaintext in ENCRYPTED_BY_F001.items():
            assert _stored(walk, table, column) == plaintext, (table, column)
        data = _stored(walk, "event", "data")  # JSON again: PostgreSQL's driver parses it
        assert (json.loads(data) if isinstance(data, str) else data) == EVENT_DATA
    finally:
        walk.dispose()


# --- more fields encrypted at rest (e002) ---------------------------------------------------

ENCRYPTED_BY_E002 = {
    ("holding", "label"): "Phone at her sister Rosa's " + "é" * 173,  # as long as one may be
    ("holding", "source"): "Call with Rosa Alvarez",
    ("correction", "label"): "Phone at her sister Rosa's",
    ("correction", "tell_recipients"): '["Dana Whitfield, landlord"]',  # JSON, as stored
    ("deletion_request", "label"): "Phone at her sister Rosa's",
    ("disclosure", "recipient_name"): "Dana Whitfield, landlord",
    ("consent", "note"): "Signed at the front desk; " + "é" * 1974,
    ("webhook_attempt", "response_excerpt"): "stored 612-555-0100 for Maria " + "é" * 4066,
}


def _rows_before_e002(conn):
    """The rows f001's test writes, then one row of each table e002 encrypts, with the values
    e002 encrypts in plain text (as a001 stored them)."""
    _rows_before_encryption(conn)
    at = datetime(2026, 12, 1, 12, 0)
    plain = ENCRYPTED_BY_E002
    conn.execute(
        text("UPDATE holding SET label = :label, source = :source WHERE id = 'hld_1'"),
        {"label": plain["holding", "label"], "source": plain["holding", "source"]},
    )
    conn.execute(
        text("UPDATE correction SET label = :label WHERE id = 'cor_1'"),
        {"label": plain["correction", "label"]},
    )
    # tell_recipients is JSON until e002: written through a JSON column, as the app did.
    conn.execute(
        sa.update(sa.table("correction", sa.column("id"), sa.column("tell_recipients", sa.JSON())))
        .where(sa.column("id") == "cor_1")
        .values(tell_recipients=["Dana Whitfield, landlord"])
    )
    _insert(
        conn,
        "deletion_request",
        id="dlr_1",
        holding_id="hld_1",
        enrollment_id="ptp_1",
        field_key="phone",
        label=plain["deletion_request", "label"],
        created_at=at,
    )
    _insert(
        conn,
        "disclosure",
        id="dsc_1",
        enrollment_id="ptp_1",
        purpose_id=1,
        recipient_name=plain["disclosure", "recipient_name"],
        field_keys=["phone"],
        disclosed_at=at,
        consent_state="given",
        flagged=False,
        flag_reasons=[],
        created_at=at,
    )
    _insert(
        conn,
        "consent",
        id="cns_1",
        enrollment_id="ptp_1",
        purpose_id=1,
        state="given",
        method="paper",
        recorded_by="Northside",
        note=plain["consent", "note"],
        notice_version=1,
        notice_language="en",
        notice_text="Northside asks...",
        created_at=at,
    )
    _insert(
        conn,
        "webhook_endpoint",
        id="we_1",
        organization_id=1,
        url="https://hooks.example.org/portal",
        secret="whsec_x",
        created_at=at,
    )
    _insert(
        conn,
        "webhook_delivery",
        id=1,
        event_id="evt_1",
        endpoint_id="we_1",
        status="delivered",
        attempts=1,
        next_attempt_at=at,
        created_at=at,
    )
    _insert(
        conn,
        "webhook_attempt",
        id=7,
        delivery_id=1,
        endpoint_id="we_1",
        event_id="evt_1",
        attempted_at=at,
        status_code=200,
        duration_ms=12,
        response_excerpt=plain["webhook_attempt", "response_excerpt"],
    )


def test_e002_encrypts_the_values_written_before_it_and_downgrading_decrypts(walk_url):
    config = alembic_config(walk_url)
    command.upgrade(config, "a001")
    walk = make_engine(walk_url)
    try:
        with walk.begin() as conn:
            _rows_before_e002(conn)

        command.upgrade(config, "e002")
        for (table, column), plaintext in ENCRYPTED_BY_E002.items():
            stored = _stored(walk, table, column)
            assert stored.startswith("enc1:dev:"), (table, column)
            assert plaintext[:12] not in stored and "Dana" not in stored, (table, column)
        # Through the models of the latest schema: the plaintext.
        command.upgrade(config, "head")
        with Session(walk) as session:
            holding = session.get(Holding, "hld_1")
            assert holding.label == ENCRYPTED_BY_E002["holding", "label"]
            assert holding.source == "Call with Rosa Alvarez"
            correction = session.get(Correction, "cor_1")
            assert correction.label == "Phone at her sister Rosa's"
            assert correction.tell_recipients == ["Dana Whitfield, landlord"]
            assert session.get(DeletionRequest, "dlr_1").label == "Phone at her sister Rosa's"
            assert session.get(Disclosure, "dsc_1").recipient_name == "Dana Whitfield, landlord"
            assert session.get(Consent, "cns_1").note == ENCRYPTED_BY_E002["consent", "note"]
            attempt = session.get(WebhookAttempt, 7)
            assert (
                attempt.response_excerpt == ENCRYPTED_BY_E002["webhook_attempt", "response_excerpt"]
            )

        command.downgrade(config, "a001")
        for (table, column), plaintext in ENCRYPTED_BY_E002.items():
            stored = _stored(walk, table, column)
            if column == "tell_recipients":  # JSON again: PostgreSQL's driver parses it
                assert (json.loads(stored) if isinstance(stored, str) else stored) == [
                    "Dana Whitfield, landlord"
                ]
            else:
                assert stored == plaintext, (table, column)
    finally:
        walk.dispose()
