"""procrastinate's tables in the node's PostgreSQL schema: installed when missing, brought up
to date, and read for ``accord jobs`` (`accord.jobs.procrastinate_runner` runs the worker).

procrastinate's SQL names nothing by schema, so its tables, types and functions land in the
first schema of the connection's ``search_path``: the node's own (a URL may carry
``options=-csearch_path=<schema>``, as the tests' do), beside the node's tables, and dropped
with them. Which migrations are applied is kept as a comment on ``procrastinate_jobs``
(procrastinate keeps no record of its own): a later version of procrastinate applies the
migration files newer than that one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, text

from accord.store.engine import write_transaction

_LOCK_CLASS = 7_420_013  # pg_advisory_xact_lock(class, schema): one installer per schema
_MARK = "accord: procrastinate schema at "


@dataclass(frozen=True)
class Migration:
    """One of procrastinate's migration files: its name (which sorts in release order) and
    its SQL."""

    name: str
    sql: str


@dataclass(frozen=True)
class QueuedJob:
    """A job in procrastinate's table, as ``accord jobs`` shows it (times in UTC)."""

    id: int
    task: str
    status: str  # todo, doing, succeeded, failed, cancelled, aborted
    attempts: int
    scheduled_at: str | None
    started: str | None
    ended: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "task": self.task,
            "status": self.status,
            "attempts": self.attempts,
            "scheduled_at": self.scheduled_at,
            "started": self.started,
            "ended": self.ended,
        }


def install(engine: Engine, schema_sql: str, migrations: Sequence[Migration]) -> str:
    """Install procrastinate's schema into the node's schema unless it is there, else apply
    the ``migrations`` newer than the last one applied; idempotent, and safe when several
    processes start at once (they take turns on an advisory lock). Answers what it did."""
    latest = max((m.name for m in migrations), default="")
    with write_transaction(engine) as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar()
        if schema is None:
            raise ValueError(
                "the database URL's search_path names no schema that exists: create the "
                "schema, or correct options=-csearch_path=... in the URL"
            )
        conn.execute(
            text("SELECT pg_advisory_xact_lock(:cls, hashtext(current_schema()))"),
            {"cls": _LOCK_CLASS},
        )
        if not _present(conn):
            _run(conn, schema_sql)
            _mark(conn, latest)
            return f"installed procrastinate's schema into {schema}"
        applied = _applied(conn)
        newer = sorted((m for m in migrations if m.name > applied), key=lambda m: m.name)
        for migration in newer:
            _run(conn, migration.sql)
        if newer:
            _mark(conn, latest)
            return f"applied {len(newer)} procrastinate migrations in {schema}"
        return f"procrastinate's schema in {schema} is up to date"


def current_schema(engine: Engine) -> str:
    """The schema the node's tables (and procrastinate's) are in."""
    with engine.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar()
    if not isinstance(schema, str):
        raise ValueError(
            "the database URL's search_path names no schema that exists: create the "
            "schema, or correct options=-csearch_path=... in the URL"
        )
    return schema


def installed(engine: Engine) -> bool:
    with engine.connect() as conn:
        return _present(conn)


def recent(engine: Engine, queue: str, limit: int) -> list[QueuedJob]:
    """The last ``limit`` jobs of ``queue``, newest first, with when each started and ended
    (from procrastinate's event table); none before a worker installed the schema."""
    if not installed(engine):
        return []
    stmt = text(
        "SELECT j.id, j.task_name, j.status::text AS status, j.attempts, j.scheduled_at, "
        "(SELECT max(e.at) FROM procrastinate_events e "
        " WHERE e.job_id = j.id AND e.type = 'started') AS started, "
        "(SELECT max(e.at) FROM procrastinate_events e WHERE e.job_id = j.id "
        " AND e.type IN ('succeeded', 'failed', 'deferred_for_retry', 'cancelled', 'aborted')"
        ") AS ended "
        "FROM procrastinate_jobs j WHERE j.queue_name = :queue ORDER BY j.id DESC LIMIT :n"
    )
    with engine.connect() as conn:
        rows = conn.execute(stmt, {"queue": queue, "n": limit}).mappings().all()
    return [
        QueuedJob(
            id=row["id"],
            task=row["task_name"],
            status=row["status"],
            attempts=row["attempts"],
            scheduled_at=_iso(row["scheduled_at"]),
            started=_iso(row["started"]),
            ended=_iso(row["ended"]),
        )
        for row in rows
    ]


def counts(engine: Engine, queue: str) -> dict[str, dict[str, int]]:
    """How many jobs of ``queue`` each task has in each status (todo, doing, failed, ...),
    over what procrastinate keeps (a week of finished jobs); none before a worker installed
    the schema."""
    if not installed(engine):
        return {}
    stmt = text(
        "SELECT task_name, status::text AS status, count(*) AS n FROM procrastinate_jobs "
        "WHERE queue_name = :queue GROUP BY task_name, status ORDER BY task_name, status"
    )
    found: dict[str, dict[str, int]] = {}
    with engine.connect() as conn:
        for row in conn.execute(stmt, {"queue": queue}).mappings():
            found.setdefault(row["task_name"], {})[row["status"]] = int(row["n"])
    return found


def _present(conn: Connection) -> bool:
    # In the current schema only: a procrastinate of another schema on the search_path (say
    # public) is another node's.
    found = conn.execute(
        text("SELECT to_regclass(quote_ident(current_schema()) || '.procrastinate_jobs')")
    ).scalar()
    return found is not None


def _applied(conn: Connection) -> str:
    comment = conn.execute(
        text(
            "SELECT obj_description(to_regclass(quote_ident(current_schema()) "
            "|| '.procrastinate_jobs'), 'pg_class')"
        )
    ).scalar()
    if not isinstance(comment, str) or not comment.startswith(_MARK):
        raise ValueError(
            "procrastinate's tables in this schema were not installed by Accord (their "
            "version is unknown): drop them (DROP TABLE procrastinate_jobs CASCADE, ...) and "
            "start the worker again, or mark them with COMMENT ON TABLE procrastinate_jobs "
            f"IS '{_MARK}<last applied migration file name>'"
        )
    return comment[len(_MARK) :]


def _mark(conn: Connection, latest: str) -> None:
    conn.execute(text(f"COMMENT ON TABLE procrastinate_jobs IS '{_MARK}{_quoted(latest)}'"))


def _quoted(name: str) -> str:
    return name.replace("'", "''")


def _run(conn: Connection, sql: str) -> None:
    # Many statements in one text, dollar-quoted functions among them: through the driver
    # without parameters, so that psycopg neither splits nor interpolates it.
    driver = conn.connection.driver_connection
    assert driver is not None
    driver.execute(sql.encode())


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
