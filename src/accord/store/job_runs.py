"""What the node's periodic background jobs last did, and the lease that lets one process run
a job for a period (``accord.jobs``).

Each job keeps one row in ``node_settings``, named ``job:<name>``, whose value is a small
JSON document (`JobRun`): no table of its own, so no migration. The settings commands read
only the names they know (`accord.settings.NODE_SETTINGS`), so these rows never show there.

The lease is what makes the in-process scheduler safe in several processes over one database
(``accord serve --workers N`` on SQLite): a period is numbered (its *tick*: seconds since the
epoch divided by the period), and `claim` hands each tick to one caller only, and none while
another still runs the job. On PostgreSQL procrastinate defers each tick once instead, and the
worker only records its runs here (`started`, `finished`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta

import orjson
from sqlalchemy import Connection, Engine, select, update

from accord.store.dialects import backend_for
from accord.store.engine import write_transaction
from accord.store.schema import node_settings

PREFIX = "job:"
ERROR_CHARS = 500  # an error is a hint for the operator; the log has the traceback


@dataclass(frozen=True)
class JobRun:
    """The state of one periodic job: its last run (times in UTC, the store's timestamp form)
    and counters since the node began recording."""

    name: str
    tick: int = -1  # the last period handed out by `claim` (in-process scheduler)
    running_until: str | None = None  # set while a run holds the lease
    started: str | None = None
    finished: str | None = None
    error: str | None = None  # of the last run; None when it succeeded
    runs: int = 0
    failures: int = 0

    def as_json(self) -> dict[str, object]:
        return asdict(self)


def _now() -> datetime:
    return datetime.now(UTC)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class JobRuns:
    """Read and record the runs of periodic jobs."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def all(self) -> list[JobRun]:
        """Every job that has run (or been claimed) on this node, by name."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(node_settings.c.value)
                .where(node_settings.c.name.startswith(PREFIX, autoescape=True))
                .order_by(node_settings.c.name)
            ).all()
        return [_parse(value) for (value,) in rows]

    def get(self, name: str) -> JobRun:
        with self.engine.connect() as conn:
            value = conn.execute(
                select(node_settings.c.value).where(node_settings.c.name == PREFIX + name)
            ).scalar()
        return JobRun(name) if value is None else _parse(str(value))

    def claim(self, name: str, tick: int, lease_seconds: float, again: bool = False) -> bool:
        """Take period ``tick`` of job ``name``: True for one caller only, and for none while
        a run holds the lease (an overrun job skips the periods it overlaps) or once a later
        tick was taken. The lease ends at `finished`, or after ``lease_seconds`` if the
        process died during the run. ``again``: take the period its caller took before,
        for a retry, unless another took a later one meanwhile."""
        now = _now()
        with write_transaction(self.engine) as conn:
            run = self._locked(conn, name)
            running = run.running_until is not None and run.running_until > _stamp(now)
            taken = run.tick != tick if again else run.tick >= tick
            if running or taken:
                return False
            until = _stamp(now + timedelta(seconds=lease_seconds))
            self._save(conn, replace(run, tick=tick, running_until=until, started=_stamp(now)))
        return True

    def started(self, name: str) -> None:
        """Record the start of a run that needed no claim (procrastinate's worker)."""
        with write_transaction(self.engine) as conn:
            run = self._locked(conn, name)
            self._save(conn, replace(run, started=_stamp(_now())))

    def finished(self, name: str, error: str | None) -> JobRun:
        """Record the end of a run (``error``: why it failed) and release the lease."""
        with write_transaction(self.engine) as conn:
            run = self._locked(conn, name)
            done = replace(
                run,
                running_until=None,
                finished=_stamp(_now()),
                error=None if error is None else error[:ERROR_CHARS],
                runs=run.runs + 1,
                failures=run.failures + (error is not None),
            )
            self._save(conn, done)
        return done

    def _locked(self, conn: Connection, name: str) -> JobRun:
        # The row first (inserted if missing), then read under a row lock, so that two
        # PostgreSQL transactions take turns; SQLite's writing transaction holds the
        # database's one write lock already (it began IMMEDIATE).
        key = PREFIX + name
        backend_for(conn).insert_missing(
            conn, node_settings, [{"name": key, "value": _dump(JobRun(name))}]
        )
        value = conn.execute(
            select(node_settings.c.value).where(node_settings.c.name == key).with_for_update()
        ).scalar_one()
        return _parse(str(value))

    def _save(self, conn: Connection, run: JobRun) -> None:
        conn.execute(
            update(node_settings)
            .where(node_settings.c.name == PREFIX + run.name)
            .values(value=_dump(run))
        )


def _dump(run: JobRun) -> str:
    return orjson.dumps(run.as_json()).decode()


def _parse(value: str) -> JobRun:
    found = orjson.loads(value)
    fields = {name: found[name] for name in JobRun.__dataclass_fields__ if name in found}
    return JobRun(**fields)
