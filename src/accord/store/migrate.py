"""Applying the Alembic migrations that create and evolve the schema."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from accord.store import checkpoint
from accord.store.engine import WRITE, write_transaction

MIGRATIONS = Path(__file__).with_name("migrations")


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to the newest schema, or to ``revision`` (idempotent)."""
    config = _config()
    if engine.dialect.name != "sqlite":
        with write_transaction(engine) as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
        return
    # SQLite changes a table's constraints by copying it into a new table, and the tables
    # that refer to it would follow the old one's renaming: foreign keys are switched off
    # for the migration (it can only be done outside a transaction) and checked before the
    # commit, as https://sqlite.org/lang_altertable.html#otheralter says.
    with engine.connect() as connection:
        driver = connection.connection.driver_connection
        assert driver is not None
        driver.execute("PRAGMA foreign_keys=OFF")
        try:
            connection.execution_options(**{WRITE: True})
            with connection.begin():
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").first()
                if broken is not None:
                    raise RuntimeError(f"a migration broke a foreign key: {tuple(broken)}")
        finally:
            driver.execute("PRAGMA foreign_keys=ON")
    checkpoint.committed(engine)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()
