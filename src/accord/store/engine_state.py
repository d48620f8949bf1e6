"""What the store keeps per open database: the background work installed with its engine.

A SQLite file has a `accord.store.checkpoint.WalCheckpointer` (WAL checkpoints off the
writer's commit), a PostgreSQL database a `accord.store.statistics.StatisticsTracker`
(ANALYZE after large writes) and a `accord.store.text_indexer.TextIndexer` (the full-text
index filled off the writer's path). `accord.store.engine.open_engine` builds one `EngineState` for
each engine it opens (its parts are the backend's, `Backend.engine_state`) and sets it as an
attribute of the engine, once: no module keeps a registry of engines. Stores that need a part
take it from here when they are built; the modules that know only a connection or an engine
(a write transaction, the audit append that commits through the driver, a migration) reach
it with `engine_state` or `committed`, which read that one attribute: cheaper than the
weak-keyed dictionary look-up it replaces, so a look-up's audited commit costs no more.

An engine that `open_engine` did not open (a test's own) has no background work: it reads
as `NO_STATE`, and `own_state` gives it a state of its own where one is needed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine

from accord.store.checkpoint import WalCheckpointer
from accord.store.statistics import StatisticsTracker
from accord.store.text_indexer import TextIndexer

_ATTRIBUTE = "accord_state"


@dataclass(slots=True)
class ObjectChanges:
    """Object versions written and deleted through one engine in this process: counters a
    cache over stored objects compares to know, without a query, that nothing changed here
    (`accord.store.pattern_indicators`). Another process's writes are not counted: such a
    cache also asks the database now and then. Bumped under the store's write lock."""

    written: int = 0
    deleted: int = 0


@dataclass(frozen=True, slots=True)
class EngineState:
    """One engine's background work."""

    checkpointer: WalCheckpointer | None = None
    """SQLite file: checkpoints the write-ahead log after commits that grew it."""
    statistics: StatisticsTracker | None = None
    """PostgreSQL: analyses the tables that large writes grew."""
    text_indexer: TextIndexer | None = None
    """PostgreSQL: indexes the words of new versions after their commit."""
    derived: dict[str, object] = field(default_factory=dict)
    """Values derived from the node's settings, read once per engine and dropped when the
    setting changes (`accord.store.correlation.policy.policy_for`). Typed `object` here so
    that this module, which the engine needs, imports nothing of the stores above it."""
    object_changes: ObjectChanges = field(default_factory=ObjectChanges)
    """Versions written and deleted in this process (`ObjectChanges`)."""

    def close(self) -> None:
        """Stop the background work (the engine is being closed)."""
        if self.checkpointer is not None:
            self.checkpointer.close()
        if self.text_indexer is not None:
            self.text_indexer.close()


NO_STATE = EngineState()


def attach(engine: Engine, state: EngineState) -> None:
    """Give ``engine`` its state; called once, by `accord.store.engine.open_engine`."""
    setattr(engine, _ATTRIBUTE, state)


def engine_state(engine: Engine) -> EngineState:
    """The state ``engine`` was opened with."""
    state: EngineState = getattr(engine, _ATTRIBUTE, NO_STATE)
    return state


def own_state(engine: Engine) -> EngineState:
    """``engine``'s state, given a fresh (empty) one if `open_engine` did not open it, so that
    what is kept for it is not kept in the shared `NO_STATE`."""
    state = engine_state(engine)
    if state is NO_STATE:
        state = EngineState()
        attach(engine, state)
    return state


def committed(engine: Engine, small: bool = False) -> None:
    """A write transaction committed on ``engine``: tell its checkpointer and its text
    indexer, if it has them; ``small``: one of a few pages (an audit entry: no text)."""
    state: EngineState = getattr(engine, _ATTRIBUTE, NO_STATE)
    if state.checkpointer is not None:
        state.checkpointer.poke(small)
    if state.text_indexer is not None and not small:
        state.text_indexer.poke()
