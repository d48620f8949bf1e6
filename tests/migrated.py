"""Fresh databases with the migrations already applied, for the suite's `store` fixtures
(tests/conftest.py).

Alembic's migrations cost each test that made a store about 0.4 s on SQLite and 0.8 s on
PostgreSQL (loading fifteen scripts, some 140 statements), for the same schema every time. Here
they run once per xdist worker into a template, and each test's fresh database gets a copy: a
SQLite file is copied; on PostgreSQL the very statements the migrations sent (recorded on the
template) are sent again, in one transaction, into the test's fresh schema. The test's store then
runs `Store.init` as before: it finds the schema at head and publishes the node's definitions
itself, at the test's time.

A copy that would differ from a migrated schema is not used: the PostgreSQL recording is checked
once per worker by comparing the catalogue of a replayed schema with the template's (a migration
that ran statements past SQLAlchemy, on the driver's cursor, would not be recorded), and if they
differ every store is migrated by `Store.init`, as before. The migrations themselves are tested by
tests/store/test_migrations.py, on stores of its own.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url

from accord.store import migrate
from accord.store.engine import close_engine, open_engine

# The catalogue of the connection's schema (its search_path), as rows to compare: columns and
# their defaults, constraints, indexes, triggers, views, functions, comments and sequences.
# Each side is read on its own schema's search_path, and its schema's name is taken out. (The
# first branch's columns are text: `name` would cut the definitions below to 63 bytes.)
_CATALOGUE = """
SELECT 'column', c.relname::text, c.relkind::text, a.attnum::text, a.attname::text,
       format_type(a.atttypid, a.atttypmod), a.attnotnull::text,
       coalesce(pg_get_expr(d.adbin, d.adrelid), ''),
       coalesce(col_description(c.oid, a.attnum), '')
FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
WHERE c.relnamespace = current_schema()::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'relation', c.relname, c.relkind::text, '', coalesce(obj_description(c.oid), ''),
       coalesce(pg_get_viewdef(c.oid), ''), '', '', ''
FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace
UNION ALL
SELECT 'index', c.relname, '', '', pg_get_indexdef(i.indexrelid), '', '', '', ''
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE c.relnamespace = current_schema()::regnamespace
UNION ALL
SELECT 'constraint', r.conname, r.contype::text, '', pg_get_constraintdef(r.oid),
       coalesce(obj_description(r.oid), ''), '', '', ''
FROM pg_constraint r WHERE r.connamespace = current_schema()::regnamespace
UNION ALL
SELECT 'trigger', t.tgname, '', '', pg_get_triggerdef(t.oid), '', '', '', ''
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal
UNION ALL
SELECT 'function', p.proname, '', '', pg_get_functiondef(p.oid), '', '', '', ''
FROM pg_proc p WHERE p.pronamespace = current_schema()::regnamespace
UNION ALL
SELECT 'sequence', s.sequencename, '', '', coalesce(s.last_value::text, ''), '', '', '', ''
FROM pg_sequences s WHERE s.schemaname = current_schema()
ORDER BY 1, 2, 3, 4, 5
"""

Statement = tuple[str, Any, bool]  # the text, its parameters, and whether executemany


@dataclass
class Templates:
    """Copies migrated databases into fresh ones; made once per worker (session scope)."""

    directory: Path
    pg_schema: Callable[[], str] | None  # makes a fresh PostgreSQL schema's URL, if any
    _sqlite: Path | None = None
    _postgres: list[Statement] | None = None
    _postgres_checked: bool = False

    def migrated(self, url: str) -> None:
        """Bring the database at ``url``, if fresh and empty, to the migrations' head (one a
        test made already, through another fixture, is left to `Store.init` to migrate)."""
        backend = make_url(url).get_backend_name()
        if backend == "sqlite":
            self._copy_sqlite(url)
        elif backend == "postgresql":
            self._replay_postgres(url)
        else:
            raise ValueError(f"no template for {backend} ({url})")

    def _copy_sqlite(self, url: str) -> None:
        database = make_url(url).database
        if not database or database == ":memory:" or Path(database).exists():
            return
        target = Path(database)
        if self._sqlite is None:
            template = self.directory / "migrated.db"
            engine = open_engine(f"sqlite:///{template}")
            try:
                migrate.upgrade(engine)
            finally:
                close_engine(engine)
            # Closed by its last connection, the file holds everything (its WAL merged back).
            assert not template.with_name(template.name + "-wal").exists()
            self._sqlite = template
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self._sqlite, target)

    def _replay_postgres(self, url: str) -> None:
        if not self._postgres_checked:
            self._postgres_checked = True
            self._postgres = self._record_postgres()
        if self._postgres is not None:  # else `Store.init` migrates, as without a template
            _replay(url, self._postgres)

    def _record_postgres(self) -> list[Statement] | None:
        """The statements that migrate a fresh schema, if sending them again makes the same
        schema as the migrations do; else None."""
        assert self.pg_schema is not None
        template, check = self.pg_schema(), self.pg_schema()
        engine = open_engine(template)
        try:
            with _recorded(engine) as statements:
                migrate.upgrade(engine)
        finally:
            close_engine(engine)
        _replay(check, statements)
        same = _catalogue(template) == _catalogue(check)
        return statements if same else None


@contextmanager
def _recorded(engine: Engine) -> Iterator[list[Statement]]:
    statements: list[Statement] = []

    def record(
        _conn: Any, _cursor: Any, sql: str, parameters: Any, _context: Any, many: bool
    ) -> None:
        statements.append((sql, parameters, many))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _replay(url: str, statements: list[Statement]) -> None:
    """Send ``statements`` to the schema of ``url``, as the migrations did, in one transaction,
    unless the schema holds something already. Pipelined: the server does not wait for the
    client between statements (half the time on a busy machine)."""
    with psycopg.connect(_libpq(url)) as conn:
        found = conn.execute(
            "SELECT EXISTS (SELECT FROM pg_class WHERE relnamespace = current_schema()::regnamespace)"
        ).fetchone()
        if found != (False,):
            return
        with conn.pipeline(), conn.cursor() as cursor:
            for sql, parameters, many in statements:
                if many:
                    cursor.executemany(sql, parameters)
                else:
                    cursor.execute(sql, parameters)


def _libpq(url: str) -> str:
    """``url`` as libpq takes it (without SQLAlchemy's ``+psycopg``, if given)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _catalogue(url: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(_libpq(url)) as conn:
        schema = conn.execute("SELECT current_schema()").fetchone()
        assert schema is not None
        qualified = f"{schema[0]}."  # some definitions name their table with its schema
        rows = [
            tuple(str(value).replace(qualified, "") for value in row)
            for row in conn.execute(_CATALOGUE).fetchall()
        ]
        for table in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"
        ).fetchall():
            name = psycopg.sql.Identifier(table[0])
            query = psycopg.sql.SQL("SELECT t::text FROM {} t ORDER BY 1").format(name)
            rows.append(("rows", table[0], *(row[0] for row in conn.execute(query))))
        return rows
