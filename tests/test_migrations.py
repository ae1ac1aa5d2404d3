"""The Alembic migrations produce exactly the models (the equivalent of `alembic check`)."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

from app.migrate import alembic_config


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
