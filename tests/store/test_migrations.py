"""The Alembic migrations create exactly the tables in store/schema.py, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from accord.model.visibility import Viewer
from accord.store import migrate
from accord.store.node import Store
from accord.store.schema import metadata


def test_migrations_match_the_schema(store: Store) -> None:
    assert migrate.current_revision(store.engine) == migrate.head_revision()
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_init_is_idempotent(store: Store) -> None:
    before = store.objects.count_latest(Viewer.anonymous())
    store.init()
    store.init()
    assert store.objects.count_latest(Viewer.anonymous()) == before
