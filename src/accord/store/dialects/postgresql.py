"""PostgreSQL: the production store.

Writers take turns on transaction advisory locks (`lock_sql`). Lists travel as one text
parameter split by the server (``string_to_array``): psycopg would build an array literal from
a Python list element by element, which costs more than the query. Bulk inserts use COPY.
The planner hints of `accord.store.plans` render as plain SQL: PostgreSQL plans from the
statistics autovacuum keeps, and `accord.store.statistics` analyses the tables a large write
grew, in that write's transaction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import (
    BigInteger,
    BindParameter,
    Column,
    ColumnElement,
    Connection,
    Engine,
    MetaData,
    Table,
    column,
    create_engine,
    func,
    literal_column,
    select,
    table,
    text,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import URL
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

from accord.model.search_text import TextSearch
from accord.store.dialects import postgresql_backup
from accord.store.dialects.base import (
    GENERIC_PLANS,
    Backend,
    Facts,
    RestoreRefused,
    Row,
    RowsAfter,
    TextMatches,
)
from accord.store.dialects.elements import InIntList, InList, Values
from accord.store.engine_state import EngineState, engine_state
from accord.store.statistics import StatisticsTracker
from accord.store.text_indexer import TextIndexer

SEPARATOR = "\x1f"  # ASCII unit separator: never in a STIX id, a principal or a value
CHUNK = 10_000  # ids per list parameter

# The full-text index: each version's words as a tsvector, found through a GIN index
# (https://www.postgresql.org/docs/current/textsearch-tables.html). A write copies the text
# into object_text_pending; `accord.store.text_indexer` makes the tsvectors after the commit
# and moves the rows into object_text (only the tsvector is kept there: a deleted version's
# row goes by its key), and a search reads both tables. The ``simple`` configuration stems
# nothing (``APT28`` and a hash stay whole) and drops no stop words. Its parser would read
# ``c2.example.net`` or ``T1059.001`` as one host or version token; punctuation becomes spaces
# first, so that words are runs of letters and digits as SQLite's ``unicode61`` (and
# `accord.model.search_text.tokens`) see them. (``[[:punct:]]`` holds every ASCII punctuation
# character whatever the locale, and more where the locale says so: ``unicode61`` separates
# words at every punctuation character.)
TEXT_INDEX = "object_text"
PENDING = "object_text_pending"
_WORDS = "to_tsvector('simple', regexp_replace({}, '[[:punct:]]+', ' ', 'g'))"
_TEXT_TABLE = table(TEXT_INDEX, column("seq", BigInteger()), column("doc"))
_PENDING_TABLE = table(PENDING, column("seq", BigInteger()), column("body"))
_PENDING_ROWS = Table(PENDING, MetaData(), Column("seq"), Column("body"))  # for COPY
# The text indexer's statements (accord.store.text_indexer).
# Two statements, not one: as ``DELETE ... WHERE seq IN (SELECT ... LIMIT ... FOR UPDATE SKIP
# LOCKED)`` the planner, believing the pending table empty (it is analysed when a drain has
# emptied it, then a bulk load fills it), ran the locked subquery again for every pending row:
# 2,000 x 130,000 row visits a batch, a drain that never ended (bench/scale.py, 150,000
# indicators). Picked first, the rows are then moved by key, whatever the statistics say.
_PICK = f"SELECT seq FROM {PENDING} ORDER BY seq LIMIT %(batch)s FOR UPDATE SKIP LOCKED"
_MOVE = (
    f"WITH moved AS (DELETE FROM {PENDING} WHERE seq = ANY(CAST(%(seqs)s AS bigint[])) "
    f"RETURNING seq, body) INSERT INTO {TEXT_INDEX} (seq, doc) "
    f"SELECT seq, {_WORDS.format('body')} FROM moved"
)
_TIDY = f"VACUUM (ANALYZE) {PENDING}"
_SIZE = f"SELECT reltuples FROM pg_class WHERE oid = '{TEXT_INDEX}'::regclass"
_ANALYSE = f"ANALYZE {TEXT_INDEX}"


def lock_sql(key: int) -> str:
    """The statement that takes transaction advisory lock ``key`` for the connection's
    current schema. Advisory locks belong to the database, not to a schema: with the schema's
    name in the lock, nodes (or test workers) that share one database in separate schemas do
    not queue behind each other's writes. (The function is strict: a NULL schema would take
    no lock at all, hence the coalesce.)"""
    return f"SELECT pg_advisory_xact_lock({int(key)}, hashtext(coalesce(current_schema(), '')))"


class PostgreSQL(Backend):
    name = "postgresql"
    seq_type = BigInteger()
    # The server inserts in its own process while psycopg waits on the socket with the GIL
    # released: a writer thread overlaps with validation (accord.store.chunk_writer).
    writes_in_thread = True
    migrates_by_copy = False
    groups_audit_commits = True  # each commit waits for the WAL flush, which a group shares

    # -- opening ---------------------------------------------------------------------------

    def open_engine(self, url: URL) -> Engine:
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        # No JIT compilation, on every connection: the node's statements are short, but the
        # planner's estimates for range joins over the observable index (correlation at
        # ingest) pass jit_above_cost as the store grows, and compiling then cost 330 ms
        # of a 336 ms statement, three times per 10,000 indicators ingested (measured,
        # bench/scale.py --profile). Set as a start-up option: no round trip. Given to the
        # driver beside the URL, not in it: the URL is handed on as it came (to procrastinate,
        # pg_dump), and libpq does not read a ``+`` in a URL's query as a space.
        options = url.query.get("options", "")
        if isinstance(options, tuple):
            options = " ".join(options)
        if "jit=" in options:
            return create_engine(url, pool_pre_ping=True)
        started = f"{options} -c jit=off".strip()
        return create_engine(url, pool_pre_ping=True, connect_args={"options": started})

    def engine_state(self, engine: Engine, url: URL) -> EngineState:
        # Fresh planner statistics after large writes; the words of new versions indexed
        # after their commit.
        return EngineState(
            statistics=StatisticsTracker(engine),
            text_indexer=TextIndexer(engine, _PICK, _MOVE, _TIDY, _SIZE, _ANALYSE),
        )

    def for_lookups(self, conn: Connection) -> Connection:
        # Autocommit, so that a look-up's reads cost no BEGIN and COMMIT round trips (the
        # audit entry opens its own transaction), and every statement planned generically: a
        # look-up's statements take list parameters, for which the generic plan is as good
        # as a custom one and planning anew costs more than running them.
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        driver = conn.connection.driver_connection
        assert driver is not None
        driver.execute("SET plan_cache_mode = force_generic_plan")
        conn.info[GENERIC_PLANS] = True
        return conn

    def for_aggregates(self, conn: Connection) -> None:
        # No JIT compilation: the planner's cost of a scan through the visibility rule of
        # twenty thousand rows passes jit_above_cost, and compiling then costs some 40 ms,
        # more than the query saves by it. ``SET LOCAL``: it ends with the transaction.
        driver = conn.connection.driver_connection
        assert driver is not None
        driver.execute("SELECT set_config('jit', 'off', true)")

    def plan_generically(self, conn: Connection) -> None:
        # psycopg prepares a statement run five times; PostgreSQL then still plans each
        # execution anew while a custom plan looks cheaper. ``set_config(..., true)`` is
        # ``SET LOCAL``: it ends with the transaction.
        if not conn.info.get(GENERIC_PLANS):  # a look-up connection plans so already
            driver = conn.connection.driver_connection
            assert driver is not None
            driver.execute("SELECT set_config('plan_cache_mode', 'force_generic_plan', true)")

    # -- list parameters -------------------------------------------------------------------

    def encode_list(self, values: Sequence[str]) -> str:
        return SEPARATOR.join(value for value in values if SEPARATOR not in value)

    def encode_ints(self, values: Sequence[int]) -> str:
        return ",".join(str(int(value)) for value in values)

    def placeholders(
        self, sql: str, names: tuple[str, ...] | None
    ) -> tuple[str, tuple[str, ...] | None]:
        # PostgreSQL's own $n placeholders, numbered once here, for psycopg's raw cursor
        # (`statement_cursor`): psycopg's cursor parses a statement's %(name)s placeholders
        # at every execution when its text passes 4,096 bytes (it caches only shorter
        # ones), and a look-up's search through the visibility rule is 7.5 KB: that parse
        # was a tenth of a worker's time under load (measured with py-spy, bench/load.py).
        if names is not None:
            return sql, names
        return numbered_pyformat(sql)

    def statement_cursor(self, driver: Any, positional: bool) -> Any:
        if not positional:
            return driver.cursor()
        return psycopg.RawCursor(driver)

    def values_sql(self, param: str) -> str:
        return f"unnest(CAST(:{param} AS text[])) AS wanted(value)"

    def values_param(self, values: Sequence[str]) -> Any:
        return list(values)  # an array: values_sql's list holds any text

    def tuples_sql(
        self, alias: str, columns: Sequence[str], rows: Sequence[Sequence[str]]
    ) -> tuple[str, dict[str, Any], dict[str, str]]:
        arrays = ", ".join(f"CAST(:c{i} AS text[])" for i in range(len(columns)))
        params: dict[str, Any] = {f"c{i}": [row[i] for row in rows] for i in range(len(columns))}
        read = {name: f"{alias}.{name}" for name in columns}
        return f"unnest({arrays}) AS {alias}({', '.join(columns)})", params, read

    def likely_sql(self, column: str) -> str:
        return column

    def by_key_sql(self, source: str, table: str, alias: str, key: str) -> str:
        # One index probe per value, whatever the statistics: as a join, the planner hashed
        # the whole table for a chunk's 4,500 values until the table passed some 1.7 million
        # rows (correlation_hubs at ingest: 0.13 s a chunk at 4,000,000 indicators, growing;
        # the probes take 15-45 ms). LIMIT 1 (``key`` is unique) keeps the subquery a loop.
        return (
            f"{source} CROSS JOIN LATERAL (SELECT * FROM {table} "
            f"WHERE {table}.{key} = wanted.value LIMIT 1) {alias}"
        )

    def first_rows_sql(self, source: str, key: str, joined: str, on: str, rest: str) -> str:
        # A LATERAL subquery with its own LIMIT: one index range scan per source row,
        # stopped at the limit. As a window over a join, the planner misjudged the range
        # conditions and hashed the whole observable index on ``kind`` for every chunk
        # (a scan that grew with the store: 1 s per 10,000 indicators at 300,000, measured
        # with bench/scale.py --profile).
        return (
            f"SELECT {key} AS key, x.seq, x.value, x.kind FROM {source} CROSS JOIN LATERAL ("
            f"SELECT ob.seq AS seq, ob.value AS value, ob.kind AS kind FROM {joined} {rest} "
            f"AND {on} LIMIT :limit) x"
        )

    # -- writing ---------------------------------------------------------------------------

    def lock_writes(self, conn: Connection, key: int) -> None:
        conn.execute(text(lock_sql(key)))

    def append_chained(
        self,
        conn: Connection,
        key: int,
        table: str,
        columns: Sequence[str],
        newest: str,
        rows_after: RowsAfter,
    ) -> None:
        # The commit waits for the WAL flush like every other: the audit log is evidence, and
        # a look-up that answered must stay recorded if the database server crashes after it
        # (synchronous_commit off for this transaction was measured and declined).
        driver: Any = conn.connection.driver_connection

        def chain(cursor: Any) -> None:
            cursor.execute(lock_sql(key))  # held to the end of the transaction
            cursor.execute(newest)
            rows = list(rows_after(cursor.fetchone()))
            # One statement for a group (a look-ups' group commit holds up to a thousand
            # entries): a third less server CPU a row than one INSERT each, and one Python
            # call instead of one per row. Within the protocol's 65,535 parameters.
            most = MOST_PARAMETERS // len(columns)
            for start in range(0, len(rows), most):
                part = rows[start : start + most]
                values = [value for row in part for value in row]
                cursor.execute(_insert_sql(table, tuple(columns), len(part)), values)

        if driver.autocommit:  # a look-up connection (`for_lookups`)
            # Pipelined (psycopg's pipeline mode): BEGIN, the lock and the newest row go in
            # one round trip, the inserts and COMMIT in a second. Plain statements, not
            # psycopg's transaction(), which waits for each step (measured: 0.39 against
            # 0.67 ms an entry).
            try:
                with driver.pipeline(), driver.cursor() as cursor:
                    cursor.execute("BEGIN")
                    chain(cursor)
                    cursor.execute("COMMIT")
            except BaseException:
                if not driver.broken:
                    driver.execute("ROLLBACK")
                raise
            return
        try:
            with driver.pipeline(), driver.cursor() as cursor:
                chain(cursor)
                driver.commit()
        except BaseException:
            driver.rollback()
            raise

    def allocate_seqs(
        self, conn: Connection, table: Table, count: int, above: int = 0
    ) -> list[int]:
        # Writers hold the write lock (`lock_writes`), so the range after one nextval is
        # ours: moving the sequence past it reserves it in two statements instead of fetching
        # a row per number. ``above`` is below it already: such numbers come from the
        # sequence too.
        sequence = f"pg_get_serial_sequence('{table.name}', 'seq')"
        first = int(conn.execute(text(f"SELECT nextval({sequence})")).scalar_one())
        if count > 1:
            conn.execute(text(f"SELECT setval({sequence}, :last)"), {"last": first + count - 1})
        return list(range(first, first + count))

    def bulk_insert(
        self, conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Row]
    ) -> None:
        if not rows:
            return
        driver = conn.connection.driver_connection
        assert driver is not None
        names = ", ".join(columns)
        with (
            driver.cursor() as cursor,
            cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)

    def insert_missing(self, conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
        if rows:
            conn.execute(pg_insert(table).on_conflict_do_nothing(), rows)

    # -- version look-ups ------------------------------------------------------------------

    def _held_versions(self, conn: Connection, ids: Sequence[str], owner_org: str) -> Iterable[Row]:
        chunks: list[dict[str, Any]]
        if not any(SEPARATOR in i for i in ids):
            stmt = text(
                "SELECT o.id, o.modified, o.is_latest FROM objects o "
                "JOIN unnest(string_to_array(:ids, :sep)) AS wanted(id) ON o.id = wanted.id "
                "WHERE o.owner_org = :org"
            )
            chunks = [
                {"ids": SEPARATOR.join(ids[i : i + CHUNK]), "sep": SEPARATOR, "org": owner_org}
                for i in range(0, len(ids), CHUNK)
            ]
        else:  # cannot be sent as one string: an array, built by psycopg element by element
            stmt = text(
                "SELECT o.id, o.modified, o.is_latest FROM objects o "
                "JOIN unnest(CAST(:ids AS text[])) AS wanted(id) ON o.id = wanted.id "
                "WHERE o.owner_org = :org"
            )
            chunks = [
                {"ids": list(ids[i : i + CHUNK]), "org": owner_org}
                for i in range(0, len(ids), CHUNK)
            ]
        return (row for chunk in chunks for row in conn.execute(stmt, chunk))

    def count_stored(
        self, conn: Connection, keys: Sequence[tuple[str, str]], owner_org: str, node: str
    ) -> tuple[int, int]:
        if any(SEPARATOR in k[0] for k in keys):
            return -1, -1  # cannot be sent this way; the caller takes the long road
        stmt = text(
            "SELECT count(*) FILTER (WHERE o.modified = wanted.modified "
            "AND o.owner_org IN (:org, :node)), count(*) FROM unnest(string_to_array(:ids, :sep), "
            "string_to_array(:mods, :sep)) AS wanted(id, modified) "
            "JOIN objects o ON o.id = wanted.id"
        )
        params = {
            "ids": SEPARATOR.join(k[0] for k in keys),
            "mods": SEPARATOR.join(k[1] for k in keys),
            "sep": SEPARATOR,
            "org": owner_org,
            "node": node,
        }
        own, anyone = conn.execute(stmt, params).one()
        return int(own or 0), int(anyone)

    def versions_of(self, conn: Connection, ids: Sequence[str]) -> Iterable[Row]:
        stmt = text(
            "SELECT o.seq, o.id, o.modified FROM objects o "
            "JOIN unnest(CAST(:ids AS text[])) AS wanted(id) ON o.id = wanted.id"
        )
        return (
            row
            for i in range(0, len(ids), CHUNK)
            for row in conn.execute(stmt, {"ids": list(ids[i : i + CHUNK])})
        )

    # -- the full-text index -----------------------------------------------------------------

    def create_text_index(self, conn: Connection) -> None:
        conn.exec_driver_sql(
            f"CREATE TABLE {TEXT_INDEX} (seq bigint PRIMARY KEY, doc tsvector NOT NULL)"
        )
        conn.exec_driver_sql(f"CREATE INDEX ix_{TEXT_INDEX}_doc ON {TEXT_INDEX} USING gin (doc)")
        conn.exec_driver_sql(f"CREATE TABLE {PENDING} (seq bigint PRIMARY KEY, body text NOT NULL)")

    def drop_text_index(self, conn: Connection) -> None:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {PENDING}")
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {TEXT_INDEX}")

    def index_text(self, conn: Connection, rows: Sequence[tuple[int, str]]) -> None:
        if not rows:
            return
        self.bulk_insert(conn, _PENDING_ROWS, ("seq", "body"), rows)
        indexer = engine_state(conn.engine).text_indexer
        if indexer is not None:
            indexer.wrote()  # woken when this transaction commits

    def unindex_text(self, conn: Connection, seqs: Sequence[int]) -> None:
        if not seqs:
            return
        # The pending rows first: a row the indexer is moving is waited for, and the next
        # statement (a new snapshot) then finds it in the index.
        for name in (PENDING, TEXT_INDEX):
            conn.execute(
                text(f"DELETE FROM {name} WHERE seq = ANY(CAST(:seqs AS bigint[]))"),
                {"seqs": list(seqs)},
            )

    def text_matches(self, query: BindParameter[str]) -> TextMatches:
        # The indexed rows through the GIN index, and the pending ones (the indexer has not
        # come round to them yet) with their tsvectors made as they are read.
        tsquery = func.to_tsquery(literal_column("'simple'"), query)
        words: ColumnElement[Any] = literal_column(_WORDS.format(f"{PENDING}.body"))
        found = union_all(
            select(_TEXT_TABLE.c.seq).where(_TEXT_TABLE.c.doc.op("@@")(tsquery)),
            select(_PENDING_TABLE.c.seq).where(words.op("@@")(tsquery)),
        ).subquery("text_matches")
        return TextMatches(found, found.c.seq, None)

    def text_query(self, search: TextSearch) -> str:
        # A tsquery (https://www.postgresql.org/docs/current/datatype-textsearch.html): each
        # word a quoted lexeme, the words of a term in a row (<->), the last with :* for a
        # prefix, terms joined by &. Words hold letters and digits only: no quote, backslash
        # or operator can reach the server.
        return " & ".join(
            " <-> ".join(f"'{word}'" for word in term.words) + (":*" if term.prefix else "")
            for term in search.terms
        )

    # -- backups ---------------------------------------------------------------------------

    def dump(
        self, engine: Engine, payload: Path, facts: Facts
    ) -> tuple[str | None, dict[str, Any]]:
        return postgresql_backup.dump(engine, engine.url, payload, facts)

    def load(self, url: URL, payload: Path, schema: str | None, force: bool) -> None:
        if schema is None:
            raise RestoreRefused("the backup names no PostgreSQL schema")
        engine = self.open_engine(url)
        try:
            postgresql_backup.load(engine, url, payload, schema, force)
        finally:
            engine.dispose()


MOST_PARAMETERS = 65_535  # bound parameters in one statement (the wire protocol's limit)


@lru_cache(maxsize=256)
def _insert_sql(table: str, columns: tuple[str, ...], rows: int = 1) -> str:
    marks = "(" + ", ".join(["%s"] * len(columns)) + ")"
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([marks] * rows)}"


# -- how the constructs of accord.store.dialects.elements read on PostgreSQL -------------------


@compiles(InList, "postgresql")
def _in_list(element: InList, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    param = compiler.process(element.param, **kw)
    return f"{column} = ANY(string_to_array({param}, E'\\x1f'))"


@compiles(InIntList, "postgresql")
def _in_int_list(element: InIntList, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    param = compiler.process(element.param, **kw)
    return f"{column} = ANY(CAST(string_to_array({param}, ',') AS bigint[]))"


@compiles(Values, "postgresql")
def _values(element: Values, compiler: SQLCompiler, **kw: Any) -> str:
    if not kw.get("asfrom"):
        return element.name
    param = compiler.process(element.param, **kw)
    return f"unnest(string_to_array({param}, E'\\x1f')) AS {element.name}(value)"


# What SQLAlchemy's psycopg dialect writes in a statement's text: a named placeholder, or a
# literal % doubled; any other % is left to psycopg (`numbered_pyformat` gives up).
_PYFORMAT = re.compile(r"%\(([^)]+)\)s|%%|%")


def numbered_pyformat(sql: str) -> tuple[str, tuple[str, ...] | None]:
    """``sql`` with ``$n`` for its ``%(name)s`` placeholders and ``%`` for its ``%%``, as
    psycopg itself converts it before sending it (a name used twice is one number, numbered
    in order of first use), and the parameter names by number. Unchanged, with None for the
    names, where it holds any other ``%`` (psycopg's own conversion then runs it)."""
    number: dict[str, int] = {}
    unknown = False

    def swap(match: re.Match[str]) -> str:
        nonlocal unknown
        name = match.group(1)
        if name is not None:
            return f"${number.setdefault(name, len(number) + 1)}"
        if match.group(0) == "%%":
            return "%"
        unknown = True
        return "%"

    text = _PYFORMAT.sub(swap, sql)
    if unknown or not number:
        return sql, None
    return text, tuple(number)
