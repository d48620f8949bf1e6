"""SQLite: a file in WAL mode (the default store), or memory for tests.

One writer at a time: a writing transaction begins IMMEDIATE, so that two writers queue on
``busy_timeout`` instead of failing when a read lock cannot be upgraded, and holding it is the
write lock. Lists travel as JSON arrays read by ``json_each``. The planner hints of
`accord.store.plans` are SQLite's own devices (``CROSS JOIN``, ``INDEXED BY``, unary ``+``,
``likelihood``).
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import (
    BindParameter,
    Connection,
    Engine,
    Integer,
    Table,
    column,
    create_engine,
    event,
    func,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

from accord.model.search_text import TextSearch
from accord.store import checkpoint
from accord.store.checkpoint import WalCheckpointer
from accord.store.dialects import sqlite_backup
from accord.store.dialects.base import WRITE, Backend, Facts, Row, RowsAfter, TextMatches
from accord.store.dialects.elements import (
    Indexed,
    InIntList,
    InList,
    LikelyTrue,
    Ordered,
    Unindexed,
    Values,
)
from accord.store.engine_state import EngineState, committed

# SQLite's page size for new stores. Every look-up commits its audit entry, which dirties one
# page of the audit table and one of each of its two indexes: with 4 KiB pages that commit
# writes 12 KiB to the log instead of 48 KiB (measured: 37 against 82 microseconds per
# audited commit; a look-up's median over HTTP 3-4% lower on the 1,000,000-indicator
# benchmark). Large objects (ATT&CK's) spill into more overflow pages: storing ATT&CK
# Enterprise takes about 6% longer than with 16 KiB pages, which stores made before keep.
PAGE_SIZE = 4096

# The full-text index: an FTS5 table (https://sqlite.org/fts5.html) keyed by the versions'
# sequence numbers (its rowid). It keeps its own copy of the text, so that a deleted version's
# row goes by its rowid alone. ``unicode61`` splits words at every character that is not a
# letter or a digit, as `accord.model.search_text.tokens` does, and folds case; diacritics
# stay, as in PostgreSQL's ``simple`` configuration. ``columnsize=0``: the sizes serve
# ranking, and results come in storage order.
TEXT_INDEX = "object_text"
_TEXT_INDEX_DDL = (
    f"CREATE VIRTUAL TABLE {TEXT_INDEX} USING fts5(body, "
    "tokenize = 'unicode61 remove_diacritics 0', columnsize = 0)"
)
_TEXT_TABLE = table(TEXT_INDEX, column("rowid", Integer()), column("body"))


def _in_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:")


class SQLite(Backend):
    name = "sqlite"
    seq_type = Integer()  # INTEGER PRIMARY KEY: the rowid
    # Python's sqlite3 module releases the GIL for each row's step only: a writer thread
    # then waits for the GIL after every row, and nothing overlaps (accord.store.chunk_writer).
    writes_in_thread = False
    migrates_by_copy = True
    # A look-up's commit is cheap here (WAL, no flush per commit), cheaper than the hand-over
    # to a committer thread; and writers in one process would queue on the file lock anyway.
    groups_audit_commits = False

    # -- opening ---------------------------------------------------------------------------

    def open_engine(self, url: URL) -> Engine:
        database = url.database
        if not _in_memory(url):
            assert database is not None
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        # LIFO: a burst that opened a second pooled connection must not leave single look-ups
        # alternating between two connections, each with a colder page cache.
        engine = create_engine(url, connect_args={"timeout": 30}, pool_use_lifo=True)
        event.listen(engine, "connect", _pragmas)
        # pysqlite's own transaction handling defers BEGIN; take control so that a bundle
        # is one real transaction (https://docs.sqlalchemy.org/en/20/dialects/sqlite.html).
        # Writers take the write lock up front (IMMEDIATE), so that two writers queue on
        # busy_timeout instead of failing when a read lock cannot be upgraded.
        event.listen(engine, "begin", _begin)
        return engine

    def engine_state(self, engine: Engine, url: URL) -> EngineState:
        if _in_memory(url):
            return EngineState()
        assert url.database is not None
        return EngineState(checkpointer=WalCheckpointer(url.database))

    def shared_across_processes(self, url: URL) -> bool:
        return not _in_memory(url)

    def for_aggregates(self, conn: Connection) -> None:
        pass  # SQLite runs a plan as it is: nothing to turn off

    def plan_generically(self, conn: Connection) -> None:
        pass  # SQLite plans each statement once, when it is prepared

    @contextmanager
    def migrating(self, engine: Engine) -> Iterator[Connection]:
        # SQLite changes a table's constraints by copying it into a new table, and the tables
        # that refer to it would follow the old one's renaming: foreign keys are switched off
        # for the migration (it can only be done outside a transaction) and checked before
        # the commit, as https://sqlite.org/lang_altertable.html#otheralter says.
        with engine.connect() as connection:
            driver = connection.connection.driver_connection
            assert driver is not None
            driver.execute("PRAGMA foreign_keys=OFF")
            try:
                connection.execution_options(**{WRITE: True})
                with connection.begin():
                    yield connection
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").first()
                    if broken is not None:
                        raise RuntimeError(f"a migration broke a foreign key: {tuple(broken)}")
            finally:
                driver.execute("PRAGMA foreign_keys=ON")

    # -- list parameters -------------------------------------------------------------------

    def encode_list(self, values: Sequence[str]) -> str:
        return orjson.dumps(list(values)).decode()

    def encode_ints(self, values: Sequence[int]) -> str:
        return orjson.dumps([int(value) for value in values]).decode()

    def placeholders(
        self, sql: str, names: tuple[str, ...] | None
    ) -> tuple[str, tuple[str, ...] | None]:
        if names is None:
            return sql, names
        return numbered(sql, names)

    def values_sql(self, param: str) -> str:
        return f"json_each(:{param}) AS wanted"

    def values_param(self, values: Sequence[str]) -> Any:
        return self.encode_list(values)

    def tuples_sql(
        self, alias: str, columns: Sequence[str], rows: Sequence[Sequence[str]]
    ) -> tuple[str, dict[str, Any], dict[str, str]]:
        params: dict[str, Any] = {"wanted": orjson.dumps([list(row) for row in rows]).decode()}
        read = {name: f"json_extract({alias}.value, '$[{i}]')" for i, name in enumerate(columns)}
        return f"json_each(:wanted) AS {alias}", params, read

    def likely_sql(self, column: str) -> str:
        return f"likelihood({column} = 1, 0.99)"  # see _likely_true below

    # -- writing ---------------------------------------------------------------------------

    def lock_writes(self, conn: Connection, key: int) -> None:
        pass  # the transaction began IMMEDIATE: it holds the database's one write lock

    def append_chained(
        self,
        conn: Connection,
        key: int,
        table: str,
        columns: Sequence[str],
        newest: str,
        rows_after: RowsAfter,
    ) -> None:
        driver = conn.connection.driver_connection
        assert driver is not None
        insert = _insert_sql(table, tuple(columns))
        cursor = driver.cursor()
        try:
            cursor.execute("BEGIN IMMEDIATE")  # the write lock first (see `_begin`)
            cursor.execute(newest)
            rows = rows_after(cursor.fetchone())
            if len(rows) == 1:
                cursor.execute(insert, rows[0])
            else:
                cursor.executemany(insert, rows)
            cursor.execute("COMMIT")
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        finally:
            cursor.close()
        committed(conn.engine, small=True)

    def allocate_seqs(
        self, conn: Connection, table: Table, count: int, above: int = 0
    ) -> list[int]:
        # One writer at a time (the transaction began IMMEDIATE): the next numbers after the
        # largest (row or ``above``) are free.
        found = conn.execute(select(func.coalesce(func.max(table.c.seq), 0))).scalar_one()
        current = max(int(found), above)
        return list(range(current + 1, current + 1 + count))

    def bulk_insert(
        self, conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Row]
    ) -> None:
        # The DB-API's executemany, which the C driver runs without building SQL per row
        # (SQLAlchemy's per-row parameter handling would cost more than SQLite's own work).
        if not rows:
            return
        driver = conn.connection.driver_connection
        assert driver is not None
        driver.executemany(_insert_sql(table.name, tuple(columns)), rows)

    def insert_missing(self, conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
        if rows:
            conn.execute(sqlite_insert(table).on_conflict_do_nothing(), rows)

    # -- version look-ups ------------------------------------------------------------------

    def _held_versions(self, conn: Connection, ids: Sequence[str], owner_org: str) -> Iterable[Row]:
        # One JSON array parameter instead of thousands of bind parameters.
        # The ids drive the join, through the version key's index: the organisation is a
        # filter (unary +), or SQLite would read every version the organisation holds.
        stmt = text(
            "SELECT o.id, o.modified, o.is_latest FROM json_each(:ids) AS wanted "
            "CROSS JOIN objects o ON o.id = wanted.value WHERE +o.owner_org = :org"
        )
        return conn.execute(stmt, {"ids": self.encode_list(ids), "org": owner_org})

    def count_stored(
        self, conn: Connection, keys: Sequence[tuple[str, str]], owner_org: str, node: str
    ) -> tuple[int, int]:
        stmt = text(
            "SELECT coalesce(sum(o.modified = json_extract(wanted.value, '$[1]') "
            "AND o.owner_org IN (:org, :node)), 0), count(*) FROM json_each(:keys) AS wanted "
            "CROSS JOIN objects o ON o.id = json_extract(wanted.value, '$[0]')"
        )
        params = {"keys": orjson.dumps(keys).decode(), "org": owner_org, "node": node}
        own, anyone = conn.execute(stmt, params).one()
        return int(own or 0), int(anyone)

    def versions_of(self, conn: Connection, ids: Sequence[str]) -> Iterable[Row]:
        stmt = text(
            "SELECT o.seq, o.id, o.modified FROM json_each(:ids) AS wanted "
            "JOIN objects o ON o.id = wanted.value"
        )
        return conn.execute(stmt, {"ids": self.encode_list(ids)})

    # -- the full-text index -----------------------------------------------------------------

    def create_text_index(self, conn: Connection) -> None:
        conn.exec_driver_sql(_TEXT_INDEX_DDL)

    def drop_text_index(self, conn: Connection) -> None:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {TEXT_INDEX}")

    def index_text(self, conn: Connection, rows: Sequence[tuple[int, str]]) -> None:
        if not rows:
            return
        driver = conn.connection.driver_connection
        assert driver is not None
        driver.executemany(f"INSERT INTO {TEXT_INDEX} (rowid, body) VALUES (?, ?)", rows)

    def unindex_text(self, conn: Connection, seqs: Sequence[int]) -> None:
        if seqs:
            conn.execute(
                text(f"DELETE FROM {TEXT_INDEX} WHERE rowid IN (SELECT value FROM json_each(:s))"),
                {"s": self.encode_ints(seqs)},
            )

    def text_matches(self, query: BindParameter[str]) -> TextMatches:
        # The FTS5 table itself, read in rowid order: a page stops reading it when it is full.
        match = literal_column(TEXT_INDEX).op("MATCH")(query)
        return TextMatches(_TEXT_TABLE, _TEXT_TABLE.c.rowid, match)

    def text_query(self, search: TextSearch) -> str:
        # Each term an FTS5 string (https://sqlite.org/fts5.html#fts5_strings): its words in
        # a row, and a "*" after it for a prefix; terms side by side must all match. Words
        # hold letters and digits only, so no quote can end a string early.
        return " ".join(
            '"' + " ".join(term.words) + '"' + ("*" if term.prefix else "") for term in search.terms
        )

    # -- backups ---------------------------------------------------------------------------

    def dump(
        self, engine: Engine, payload: Path, facts: Facts
    ) -> tuple[str | None, dict[str, Any]]:
        return None, sqlite_backup.dump(engine, payload, facts)

    def load(self, url: URL, payload: Path, schema: str | None, force: bool) -> None:
        sqlite_backup.load(url, payload, force)


@lru_cache(maxsize=64)
def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


def numbered(sql: str, names: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """``sql`` with SQLite's ``?NNN`` placeholders for its ``?`` ones (``names``: the
    parameter of each, in order), so that a parameter used in several places is bound once:
    the visibility rule names the viewer's principals once per table it guards, and a look-up
    statement guards several. Returns the SQL and the parameter names by number."""
    parts = sql.split("?")
    if len(parts) != len(names) + 1:  # a "?" that is not a placeholder: leave it alone
        return sql, names
    number: dict[str, int] = {}
    for name in names:
        number.setdefault(name, len(number) + 1)
    text = parts[0] + "".join(
        f"?{number[name]}{rest}" for name, rest in zip(names, parts[1:], strict=True)
    )
    return text, tuple(number)


def _begin(conn: Connection) -> None:
    immediate = conn.get_execution_options().get(WRITE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _pragmas(dbapi_connection: Any, _record: Any) -> None:
    assert isinstance(dbapi_connection, sqlite3.Connection)
    dbapi_connection.isolation_level = None  # BEGIN is issued by the "begin" listener
    cursor = dbapi_connection.cursor()
    # Takes effect only when the database file is created (older stores keep their 16 KiB).
    cursor.execute(f"PRAGMA page_size={PAGE_SIZE}")
    # WAL lets readers go on while one writer writes; NORMAL is durable at each checkpoint.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA cache_size=-65536")
    # Reads straight from the mapped file instead of copying each page (look-ups read many
    # index pages); writes still go through the WAL.
    cursor.execute("PRAGMA mmap_size=1073741824")
    # Checkpoints run on a background thread (accord.store.checkpoint); a commit checkpoints
    # only when the log has grown far beyond what that thread keeps it at.
    cursor.execute(f"PRAGMA wal_autocheckpoint={checkpoint.BACKSTOP_BYTES // PAGE_SIZE}")
    # After a complete checkpoint, the next writer cuts the log file back to this size, so
    # that the file's size tells the checkpointer how much the log holds.
    cursor.execute(f"PRAGMA journal_size_limit={checkpoint.KEEP_BYTES}")
    cursor.close()


# -- how the constructs of accord.store.dialects.elements read on SQLite -----------------------


@compiles(InList, "sqlite")
@compiles(InIntList, "sqlite")
def _in_list(element: InList, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    return f"{column} IN (SELECT value FROM json_each({compiler.process(element.param, **kw)}))"


@compiles(Values, "sqlite")
def _values(element: Values, compiler: SQLCompiler, **kw: Any) -> str:
    if not kw.get("asfrom"):
        return element.name
    return f"json_each({compiler.process(element.param, **kw)}) AS {element.name}"


@compiles(Ordered, "sqlite")
def _ordered(
    join: Ordered, compiler: SQLCompiler, asfrom: bool = False, from_linter: Any = None, **kw: Any
) -> str:
    # CROSS JOIN: the left table is always the outer loop
    # (https://sqlite.org/optoverview.html#manual_control_of_query_plans_using_cross_join).
    if from_linter:
        from_linter.edges.update(
            itertools.product(join.left._from_objects, join.right._from_objects)
        )
    left = join.left._compiler_dispatch(compiler, asfrom=True, from_linter=from_linter, **kw)
    right = join.right._compiler_dispatch(compiler, asfrom=True, from_linter=from_linter, **kw)
    assert join.onclause is not None
    onclause = join.onclause._compiler_dispatch(compiler, from_linter=from_linter, **kw)
    return f"{left} CROSS JOIN {right} ON {onclause}"


@compiles(Indexed, "sqlite")
def _indexed(element: Indexed, compiler: SQLCompiler, **kw: Any) -> str:
    found = str(compiler.visit_alias(element, **kw))  # type: ignore[no-untyped-call]
    if kw.get("asfrom"):
        found += f" INDEXED BY {element.index}"
    return found


@compiles(Unindexed, "sqlite")
def _unindexed(element: Unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return f"+{compiler.process(element.column, **kw)}"


@compiles(LikelyTrue, "sqlite")
def _likely_true(element: LikelyTrue, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite's planner has no statistics until ANALYZE runs, and then reads ``is_latest = 1``
    # as selective; likelihood() tells it otherwise
    # (https://sqlite.org/lang_corefunc.html#likelihood).
    return f"likelihood({compiler.process(element.condition, **kw)}, 0.99)"
