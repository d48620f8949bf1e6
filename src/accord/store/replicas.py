"""Read replicas: read-only copies of the node's PostgreSQL database (streaming replicas), and
which of them a read goes to (docs/replicas.md).

`ReadReplicas` holds the primary's engine and one engine per replica. `engine` answers where
the next read goes: the usable replicas in turn, or the primary when none is. A replica is
usable while it answers and its lag is within ``max_lag_seconds``. Health is checked by a
thread every ``check_seconds``, not per request (a look-up costs well under a millisecond; a
check costs a round trip to every database). A read that fails on a replica between two
checks marks it unusable until the next check, and is tried once more on the primary
(`run`, `connect`), so that a replica that dies costs a client nothing.

The lag. ``now() - pg_last_xact_replay_timestamp()`` on the replica is the usual measure,
but it reads as stale on a replica that is fully caught up with an idle primary (the last
replayed transaction is old because nothing has committed since). So each check first reads
the primary's WAL position (``pg_current_wal_lsn()``) and keeps these samples for a while:
a replica that has replayed up to the primary's current position lags 0; otherwise its lag
is the time since the oldest sample it has not replayed yet (measured to within one check
interval, on this process's clock: no clock is compared with another machine's). Only when
the samples do not reach back far enough (just after start) does the replay timestamp
stand in, as an upper bound.

Only the primary is ever written to: replicas are opened without the background work
(`accord.store.engine_state`) an engine that writes carries.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from accord.store.dialects import backend_for_url

log = logging.getLogger(__name__)

T = TypeVar("T")

CONNECT_TIMEOUT_SECONDS = 3  # a replica behind a dead network must not hold a read for long

_PRIMARY_LSN = "SELECT pg_current_wal_lsn()::text"
_REPLICA = (
    "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text, "
    "EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8"
)


@dataclass(frozen=True, slots=True)
class ReplicaOptions:
    """Which replicas a node reads from, and how it judges them (`accord.settings.Settings`)."""

    urls: tuple[str, ...] = ()
    max_lag_seconds: float = 10.0
    check_seconds: float = 2.0


@dataclass(frozen=True, slots=True)
class ReplicaState:
    """What the last check found of one replica."""

    name: str  # its URL, password hidden
    usable: bool
    lag_seconds: float | None  # None: not known (unreachable, or not a replica)
    reason: str = ""  # why it is not usable


def lsn_number(text: str) -> int:
    """A PostgreSQL WAL position (``16/B374D848``) as a number."""
    high, _, low = text.partition("/")
    return (int(high, 16) << 32) | int(low, 16)


def open_replica(url: str) -> Engine:
    """An engine for a replica's ``url`` (PostgreSQL only), with a short connect timeout."""
    parsed = make_url(url)
    backend = backend_for_url(parsed)
    if backend.name != "postgresql":
        raise ValueError("read replicas must be PostgreSQL databases (streaming replicas)")
    if "connect_timeout" not in parsed.query:
        parsed = parsed.update_query_dict({"connect_timeout": str(CONNECT_TIMEOUT_SECONDS)})
    return backend.open_engine(parsed)


class ReadReplicas:
    """Where reads go: the usable replicas in turn, else the primary."""

    def __init__(
        self,
        primary: Engine,
        replicas: Sequence[Engine] = (),
        *,
        max_lag_seconds: float = 10.0,
        check_seconds: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.primary = primary
        self.replicas = tuple(replicas)
        self.max_lag_seconds = max_lag_seconds
        self.check_seconds = check_seconds
        self._clock = clock
        self._names = {e: e.url.render_as_string(hide_password=True) for e in self.replicas}
        self._states: dict[Engine, ReplicaState] = {}
        self._usable: tuple[Engine, ...] = ()
        self._turn = itertools.count()
        self._lock = threading.Lock()  # checks and failures change the states
        # (time, primary's WAL position) of recent checks, oldest first.
        self._samples: deque[tuple[float, int]] = deque()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if self.replicas:
            self.check()  # known before the first read
            self._thread = threading.Thread(
                target=self._watch, name="accord-read-replicas", daemon=True
            )
            self._thread.start()

    @classmethod
    def open(cls, primary: Engine, options: ReplicaOptions) -> ReadReplicas:
        return cls(
            primary,
            [open_replica(url) for url in options.urls],
            max_lag_seconds=options.max_lag_seconds,
            check_seconds=options.check_seconds,
        )

    # -- where a read goes -------------------------------------------------------------------

    def engine(self) -> Engine:
        """The engine for the next read: a usable replica (in turn), else the primary."""
        usable = self._usable
        if not usable:
            return self.primary
        return usable[next(self._turn) % len(usable)]

    def connect(self) -> Connection:
        """A connection for reading; a replica that cannot be reached is marked unusable and
        the next one (at last the primary) is tried."""
        while True:
            engine = self.engine()
            if engine is self.primary:
                return engine.connect()
            try:
                return engine.connect()
            except DBAPIError as exc:
                self.failed(engine, exc)

    def run(self, read: Callable[[Engine], T]) -> T:
        """``read`` on the engine for the next read; if it fails with a database error on a
        replica (gone, or a query cancelled by a conflict with the replay), that replica is
        marked unusable and ``read`` runs again on the primary."""
        engine = self.engine()
        if engine is self.primary:
            return read(engine)
        try:
            return read(engine)
        except DBAPIError as exc:
            self.failed(engine, exc)
        return read(self.primary)

    def in_use(self, engine: Engine) -> bool:
        """Whether reads may still go to ``engine``: a usable replica, or the primary while
        no replica is usable (a connection kept for reads is kept while this holds)."""
        usable = self._usable
        return engine in usable if usable else engine is self.primary

    def is_replica(self, engine: Engine) -> bool:
        return engine is not self.primary and engine in self._names

    def failed(self, engine: Engine, error: BaseException | None = None) -> None:
        """A read on replica ``engine`` failed: unusable until the next check finds it well."""
        if engine not in self._names:
            return
        reason = f"a read failed: {_first_line(error)}" if error is not None else "a read failed"
        with self._lock:
            before = self._states.get(engine)
            self._states[engine] = ReplicaState(self._names[engine], False, None, reason)
            self._usable = tuple(e for e in self._usable if e is not engine)
        if before is None or before.usable:
            log.warning("read replica %s skipped: %s", self._names[engine], reason)

    # -- health ------------------------------------------------------------------------------

    def states(self) -> list[ReplicaState]:
        """What the last check (or a failed read since) found of each replica."""
        states = self._states
        return [
            states.get(e, ReplicaState(self._names[e], False, None, "not checked yet"))
            for e in self.replicas
        ]

    def check(self) -> None:
        """Check every replica now (the thread does every ``check_seconds``)."""
        now = self._clock()
        primary_lsn = self._primary_lsn(now)
        found = {engine: self._check(engine, now, primary_lsn) for engine in self.replicas}
        with self._lock:
            for engine, state in found.items():
                before = self._states.get(engine)
                if before is not None and before.usable != state.usable:
                    if state.usable:
                        log.warning("read replica %s in use again", state.name)
                    else:
                        log.warning("read replica %s skipped: %s", state.name, state.reason)
            self._states = found
            self._usable = tuple(e for e in self.replicas if found[e].usable)

    def _primary_lsn(self, now: float) -> int | None:
        try:
            with self.primary.connect() as conn:
                text = conn.exec_driver_sql(_PRIMARY_LSN).scalar_one()
        except DBAPIError:
            return None  # the primary is down: nothing commits meanwhile
        lsn = lsn_number(str(text))
        samples = self._samples
        samples.append((now, lsn))
        # Enough history to see a lag past the bound; the newest sample is always kept.
        keep_from = now - (self.max_lag_seconds + 2 * self.check_seconds)
        while len(samples) > 1 and samples[0][0] < keep_from:
            samples.popleft()
        return lsn

    def _check(self, engine: Engine, now: float, primary_lsn: int | None) -> ReplicaState:
        name = self._names[engine]
        try:
            with engine.connect() as conn:
                recovering, replayed, replay_age = conn.exec_driver_sql(_REPLICA).one()
        except DBAPIError as exc:
            return ReplicaState(name, False, None, f"unreachable: {_first_line(exc)}")
        if not recovering or replayed is None:
            # Promoted, or the primary's own address: its data may not follow the primary's.
            return ReplicaState(name, False, None, "not a replica (not in recovery)")
        if primary_lsn is None:
            # The primary cannot be asked: keep the last verdict on the lag (nothing can
            # commit on a primary that is down, so the replica falls no further behind).
            before = self._states.get(engine)
            if before is not None and before.lag_seconds is not None:
                return ReplicaState(name, before.usable, before.lag_seconds, before.reason)
            return ReplicaState(name, False, None, "the primary cannot be reached to measure lag")
        lag = self._lag(now, lsn_number(str(replayed)), primary_lsn, replay_age)
        if lag is None:
            return ReplicaState(name, False, None, "behind the primary by an unknown time")
        if lag > self.max_lag_seconds:
            reason = f"lags {lag:.1f} s (more than {self.max_lag_seconds:g} s)"
            return ReplicaState(name, False, lag, reason)
        return ReplicaState(name, True, lag)

    def _lag(
        self, now: float, replayed: int, primary_lsn: int, replay_age: float | None
    ) -> float | None:
        if replayed >= primary_lsn:
            return 0.0  # caught up with what the primary had when this check began
        for index, (at, lsn) in enumerate(self._samples):
            if lsn > replayed:
                behind = now - at
                if index > 0:
                    return behind  # it had replayed the sample before this one
                # The oldest sample kept: it may have been behind for longer than that.
                return None if replay_age is None else max(behind, float(replay_age))
        return 0.0

    def _watch(self) -> None:
        while not self._stop.wait(self.check_seconds):
            try:
                self.check()
            except Exception:  # a check must never end the thread
                log.exception("checking the read replicas failed")

    def close(self) -> None:
        """Stop checking and close the replicas' connections (not the primary's)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        for engine in self.replicas:
            engine.dispose()


def _first_line(error: BaseException | None) -> str:
    if error is None:
        return ""
    cause = getattr(error, "orig", None) or error
    return str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
