"""What the store asks of a database, where SQLite and PostgreSQL answer differently.

One `Backend` per database (`accord.store.dialects.sqlite`, `accord.store.dialects.postgresql`);
`accord.store.dialects.backend_for` gives a connection's or an engine's. The rest of the store
never asks which database it runs on: it asks the backend to do the thing that differs.

The differences, by concern:

- opening: engine options, session settings (SQLite's pragmas), the look-up connection's
  settings, whether another process can open the same database, how a migration runs;
- list parameters: a list of values travels as ONE bound parameter (`encode_list`,
  `encode_ints`), read back by the constructs in `accord.store.dialects.elements`, so that a
  statement's text never depends on how many values it is given and can be compiled once;
- writing: the write lock, sequence numbers handed out up front, bulk inserts, inserts that
  skip rows already there, the audit log's short chained append;
- version look-ups by ids, for ingest and provenance;
- the full-text index (`accord.store.search_index`): an FTS5 table on SQLite, a tsvector
  table on PostgreSQL, how its rows are written and deleted, and how a search reads in each
  database's query language;
- planner hints (`accord.store.plans`): rendered by the backend modules' compile hooks;
- backups (`accord.store.backup`): a consistent copy of the store as one file (SQLite's
  online backup API, `pg_dump` of the node's schema), and putting such a copy in place.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import BindParameter, ColumnElement, Connection, Engine, Table
from sqlalchemy.engine import URL
from sqlalchemy.sql.selectable import FromClause
from sqlalchemy.types import TypeEngine

from accord.model.search_text import TextSearch
from accord.store.engine_state import EngineState

# Execution option of a connection whose transaction will write (`engine.write_transaction`):
# SQLite then takes its write lock at BEGIN.
WRITE = "accord_write"
# `Connection.info` key: the connection plans every statement generically (see
# `Backend.for_lookups`), so a search need not ask for it per transaction.
GENERIC_PLANS = "accord_generic_plans"

Row = Sequence[Any]
# Makes the rows to append from the newest row already there (None in an empty table).
RowsAfter = Callable[[Any], list[tuple[Any, ...]]]


@dataclass(frozen=True, slots=True)
class TextMatches:
    """The versions whose words match a search, as a statement reads them: what to join
    from, its column of object sequence numbers, and the condition to add to the statement's
    WHERE (None: ``table`` holds only matches)."""

    table: FromClause
    seq: ColumnElement[int]
    condition: ColumnElement[bool] | None


# Reads what a backup's manifest records of the store (`accord.store.backup`), on a
# connection that sees the same data as the copy.
Facts = Callable[[Connection], dict[str, Any]]


class RestoreRefused(ValueError):
    """A restore that would not be safe or cannot work as asked (bad input): nothing was
    changed."""


class BackupFailed(RuntimeError):
    """A backup or restore that failed while running (a tool missing or failing, a disk full):
    the store it would have replaced is as it was."""


class Backend(ABC):
    """One database's way of doing what differs. Stateless: one instance per database."""

    name: ClassVar[str]  # SQLAlchemy's name for the dialect
    # The type of the sequence-number primary keys, on this database.
    seq_type: ClassVar[TypeEngine[int]]
    # Whether a bundle's chunks are written by a thread of their own while the next ones are
    # validated (`accord.store.chunk_writer`): only where the database works outside this process.
    writes_in_thread: ClassVar[bool]
    # Whether Alembic changes a table by copying it (`render_as_batch`).
    migrates_by_copy: ClassVar[bool]
    # Whether look-ups' audit entries are committed in groups by a thread of their own
    # (`accord.store.audit_group`): where a commit waits for a flush to disk that concurrent
    # look-ups can share.
    groups_audit_commits: ClassVar[bool]

    # -- opening ---------------------------------------------------------------------------

    @abstractmethod
    def open_engine(self, url: URL) -> Engine:
        """An engine for ``url``, with this database's session set-up attached."""

    @abstractmethod
    def engine_state(self, engine: Engine, url: URL) -> EngineState:
        """The background work ``engine`` (opened for ``url``) keeps while it is open:
        `accord.store.engine.open_engine` attaches it (`accord.store.engine_state`)."""

    def shared_across_processes(self, url: URL) -> bool:
        """Whether another process opening ``url`` reaches the same database."""
        return True

    def for_lookups(self, conn: Connection) -> Connection:
        """``conn`` set up to be kept for single look-ups (`lookup_session.lookup_connection`)."""
        return conn

    @abstractmethod
    def for_aggregates(self, conn: Connection) -> None:
        """Set up ``conn``'s current transaction for a few aggregates, each of which reads
        many rows once (the dashboard's counts: `accord.store.overview`)."""

    @abstractmethod
    def plan_generically(self, conn: Connection) -> None:
        """Plan the statements of ``conn``'s current transaction generically, where the
        database would otherwise plan each execution of a prepared statement anew."""

    @contextmanager
    def migrating(self, engine: Engine) -> Iterator[Connection]:
        """A connection in a write transaction for Alembic, committed at the end."""
        with engine.connect() as conn:
            conn.execution_options(**{WRITE: True})
            with conn.begin():
                yield conn

    # -- list parameters -------------------------------------------------------------------

    @abstractmethod
    def encode_list(self, values: Sequence[str]) -> str:
        """A list of text values as the one parameter `InList` and `Values` read."""

    @abstractmethod
    def encode_ints(self, values: Sequence[int]) -> str:
        """A list of integers as the one parameter `InIntList` reads."""

    def placeholders(
        self, sql: str, names: tuple[str, ...] | None
    ) -> tuple[str, tuple[str, ...] | None]:
        """A compiled statement's text and positional parameter names as the driver's cursor
        is to run them (`accord.store.prepared`)."""
        return sql, names

    def statement_cursor(self, driver: Any, positional: bool) -> Any:
        """The driver's cursor for a statement `placeholders` gave (``positional``: it gave
        parameter names by position)."""
        return driver.cursor()

    # -- the same, for statements written as text (accord.store.correlation) --------------

    @abstractmethod
    def values_sql(self, param: str) -> str:
        """A FROM item ``wanted(value)``: the text values of parameter ``param`` (bound to
        `values_param`)."""

    @abstractmethod
    def values_param(self, values: Sequence[str]) -> Any:
        """The parameter `values_sql` reads."""

    @abstractmethod
    def tuples_sql(
        self, alias: str, columns: Sequence[str], rows: Sequence[Sequence[str]]
    ) -> tuple[str, dict[str, Any], dict[str, str]]:
        """``rows`` (text, in ``columns`` order) as a FROM item named ``alias``: its SQL, its
        parameters, and the SQL that reads each column."""

    @abstractmethod
    def likely_sql(self, column: str) -> str:
        """Boolean ``column`` as a condition true for most rows (`elements.LikelyTrue`)."""

    def by_key_sql(self, source: str, table: str, alias: str, key: str) -> str:
        """A FROM item: each value of ``source`` (`values_sql`, ``wanted(value)``) with the
        row of ``table`` (as ``alias``) whose unique column ``key`` equals it, if any."""
        return f"{source} JOIN {table} {alias} ON {alias}.{key} = wanted.value"

    def first_rows_sql(self, source: str, key: str, joined: str, on: str, rest: str) -> str:
        """For each row of ``source`` (a chunk's values, few), at most ``:limit`` rows of
        ``joined`` (``observables ob``) that meet ``on`` (a condition naming the source's
        columns), joined with ``rest`` (``JOIN ... WHERE ...``): ``(key, seq, value, kind)``.
        Which rows when there are more is not said (a caller that gets ``:limit`` rows
        takes the key as full). Here a window over the join, which SQLite drives from the
        source through the index; PostgreSQL's form differs (its planner did not)."""
        return (
            "SELECT key, seq, value, kind FROM ("
            f"SELECT {key} AS key, ob.seq AS seq, ob.value AS value, ob.kind AS kind, "
            f"row_number() OVER (PARTITION BY {key} ORDER BY ob.seq) AS n "
            f"FROM {source} JOIN {joined} ON {on} {rest}) found WHERE n <= :limit"
        )

    # -- writing ---------------------------------------------------------------------------

    @abstractmethod
    def lock_writes(self, conn: Connection, key: int) -> None:
        """Make writers that use lock ``key`` take turns until ``conn``'s transaction ends."""

    @abstractmethod
    def append_chained(
        self,
        conn: Connection,
        key: int,
        table: str,
        columns: Sequence[str],
        newest: str,
        rows_after: RowsAfter,
    ) -> None:
        """In a short transaction of its own, run on ``conn``'s driver connection (which must
        hold no transaction): take write lock ``key``, read the newest row (the query
        ``newest``), insert into ``table`` the rows ``rows_after`` makes of it, commit. For
        the audit log, which every look-up appends to."""

    @abstractmethod
    def allocate_seqs(
        self, conn: Connection, table: Table, count: int, above: int = 0
    ) -> list[int]:
        """Reserve ``count`` values of ``table``'s ``seq`` column for rows about to be
        inserted, all above ``above`` (a number given out without a row:
        `accord.store.change_marks`). Only inside the write lock (`lock_writes`)."""

    @abstractmethod
    def bulk_insert(
        self, conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Row]
    ) -> None:
        """Insert many rows (tuples in ``columns`` order)."""

    @abstractmethod
    def insert_missing(self, conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
        """Insert rows whose primary key is not there yet; leave the others alone."""

    # -- version look-ups ------------------------------------------------------------------

    def stored_versions(
        self, conn: Connection, ids: Sequence[str], owner_org: str
    ) -> dict[str, dict[str, bool]]:
        """For each id that ``owner_org`` holds versions of: ``{modified: is_latest}``
        (accord.model.holdings: each organisation's holding is its own)."""
        found: dict[str, dict[str, bool]] = {}
        for object_id, modified, is_latest in self._held_versions(conn, ids, owner_org):
            found.setdefault(object_id, {})[modified] = bool(is_latest)
        return found

    @abstractmethod
    def _held_versions(self, conn: Connection, ids: Sequence[str], owner_org: str) -> Iterable[Row]:
        """``(id, modified, is_latest)`` of each version of ``ids`` that ``owner_org`` holds."""

    @abstractmethod
    def count_stored(
        self, conn: Connection, keys: Sequence[tuple[str, str]], owner_org: str, node: str
    ) -> tuple[int, int]:
        """How many of these ``(id, modified)`` versions ``owner_org`` or ``node`` holds, and
        how many stored versions of anyone share an id with them; ``(-1, -1)`` when the keys
        cannot be sent this way."""

    @abstractmethod
    def versions_of(self, conn: Connection, ids: Sequence[str]) -> Iterable[Row]:
        """``(seq, id, modified)`` of every stored version of ``ids``, anyone's."""

    # -- the full-text index (accord.store.search_index) -----------------------------------

    @abstractmethod
    def create_text_index(self, conn: Connection) -> None:
        """Make the full-text index, empty (migration 0011)."""

    @abstractmethod
    def drop_text_index(self, conn: Connection) -> None:
        """Drop the full-text index (migration 0011's downgrade)."""

    @abstractmethod
    def index_text(self, conn: Connection, rows: Sequence[tuple[int, str]]) -> None:
        """Add ``(seq, text)`` rows (`accord.model.search_text.searchable_text`) to the
        index, in ``conn``'s transaction: found by searches once it commits."""

    @abstractmethod
    def unindex_text(self, conn: Connection, seqs: Sequence[int]) -> None:
        """Take these versions' rows out of the index."""

    @abstractmethod
    def text_matches(self, query: BindParameter[str]) -> TextMatches:
        """The versions whose words match ``query`` (bound to `text_query`'s answer)."""

    @abstractmethod
    def text_query(self, search: TextSearch) -> str:
        """``search`` in this database's query language, the parameter `text_matches`
        reads. Only words (letters and digits) reach it, so no input is an expression."""

    # -- backups (accord.store.backup) -----------------------------------------------------

    @abstractmethod
    def dump(
        self, engine: Engine, payload: Path, facts: Facts
    ) -> tuple[str | None, dict[str, Any]]:
        """Write a consistent copy of the store ``engine`` opens to the new file ``payload``,
        while the node goes on serving. Returns the schema the copy holds (None where the
        database has none) and what ``facts`` read from the same data."""

    @abstractmethod
    def load(self, url: URL, payload: Path, schema: str | None, force: bool) -> None:
        """Put the copy ``payload`` (made by `dump`, of ``schema``) in place of the store
        ``url`` names. A store already there is replaced only with ``force``; if the copy
        cannot be put in place, what was there stays (`RestoreRefused`, `BackupFailed`)."""
