"""The Alembic migrations create exactly the tables in store/schema.py, on both databases (and
the full-text index, which each backend makes outside the metadata)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from accord.model.visibility import Viewer
from accord.store import migrate
from accord.store.node import Store
from accord.store.schema import TEXT_INDEX, in_metadata, metadata


def test_migrations_match_the_schema(store: Store) -> None:
    assert migrate.current_revision(store.engine) == migrate.head_revision()
    with store.engine.connect() as conn:
        # The hook the migrations' env.py gives Alembic: the full-text index is not compared.
        context = MigrationContext.configure(conn, opts={"include_name": in_metadata})
        diff = compare_metadata(context, metadata)
        found = set(inspect(conn).get_table_names())
    assert diff == []
    assert TEXT_INDEX in found  # the hook hides it from the comparison, not from the database
    kept = {name for name in found if in_metadata(name, "table", {})}
    assert kept == set(metadata.tables) | {"alembic_version"}


def test_init_is_idempotent(store: Store) -> None:
    before = store.objects.count_latest(Viewer.anonymous())
    store.init()
    store.init()
    assert store.objects.count_latest(Viewer.anonymous()) == before


def test_holdings_migration_keeps_every_row_and_reference(store_url: str) -> None:
    """0008 rebuilds ``objects`` on SQLite (a new unique key): the rows, the rows that refer
    to them and the foreign-key checks all survive."""
    from sqlalchemy import text

    from accord.model.tlp import Tlp
    from accord.store.records import NewVersion

    node = Store.open(store_url)
    try:
        migrate.upgrade(node.engine, "0007")
        version = NewVersion(
            index=0,
            id="indicator--00000000-0000-4000-8000-000000000008",
            modified="2026-01-01T00:00:00.000000Z",
            type="indicator",
            spec_version="2.1",
            created_by_ref=None,
            revoked=False,
            tlp=Tlp.AMBER,
            audience=frozenset({"org:identity--x"}),
            raw="{}",
        )
        # Written as 0007 had it (today's writer names columns of later revisions).
        with node.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO objects (id, modified, type, spec_version, revoked,"
                    " is_latest, tlp, owner_org, date_added, raw) VALUES (:id, :modified,"
                    " 'indicator', '2.1', false, true, :tlp, 'identity--x', :modified, '{}')"
                ),
                {"id": version.id, "modified": version.modified, "tlp": int(version.tlp)},
            )
            conn.execute(
                text("INSERT INTO object_audience SELECT seq, 'org:identity--x' FROM objects")
            )
        migrate.upgrade(node.engine)
        assert migrate.current_revision(node.engine) == migrate.head_revision()
        with node.engine.connect() as conn:
            joined = conn.execute(
                text("SELECT count(*) FROM objects JOIN object_audience USING (seq)")
            ).scalar_one()
            assert joined == 1
            if node.engine.dialect.name == "sqlite":
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
                assert conn.exec_driver_sql("PRAGMA foreign_key_check").first() is None
        # Another organisation's holding of the same version now has a row of its own.
        node.writer.put([version], owner_org="identity--y", owner_user=None)
        with node.engine.connect() as conn:
            assert (
                conn.execute(
                    text("SELECT count(*) FROM objects WHERE id = :i"), {"i": version.id}
                ).scalar_one()
                == 2
            )
    finally:
        node.close()


def test_expiry_migration_fills_valid_until(store_url: str) -> None:
    """0015 keeps each indicator version's valid_until in a column, read from its JSON."""
    from sqlalchemy import text

    node = Store.open(store_url)
    try:
        migrate.upgrade(node.engine, "0014")
        rows = [
            ("indicator", '{"valid_until": "2026-05-01T10:00:00Z"}'),
            ("indicator", '{"name": "no expiry"}'),
            ("malware", '{"valid_until": "2026-05-01T10:00:00Z"}'),  # not an indicator's
        ]
        with node.engine.begin() as conn:
            for number, (kind, raw) in enumerate(rows):
                conn.execute(
                    text(
                        "INSERT INTO objects (id, modified, type, spec_version, revoked,"
                        " is_latest, tlp, owner_org, date_added, raw) VALUES (:id, :at, :kind,"
                        " '2.1', false, true, 0, 'identity--x', :at, :raw)"
                    ),
                    {"id": f"{kind}--{number}", "at": "2026-01-01T00:00:00.000000Z"}
                    | {"kind": kind, "raw": raw},
                )
        migrate.upgrade(node.engine)
        with node.engine.connect() as conn:
            found = dict(conn.execute(text("SELECT id, valid_until FROM objects")).all())
        assert found == {
            "indicator--0": "2026-05-01T10:00:00.000000Z",
            "indicator--1": None,
            "malware--2": None,
        }
        assert node.settings.get("decay.watermark") is not None
    finally:
        node.close()
