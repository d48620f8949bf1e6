"""How correlation runs on one database: the policy, and the cap it takes from the node's
settings."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from accord.store.engine_state import own_state
from accord.store.node_settings import CORRELATION_CAP, NodeSettings

DEFAULT_CAP = 100


@dataclass(frozen=True, slots=True)
class CorrelationPolicy:
    """How correlation runs on one database."""

    enabled: bool = True
    """Off: nothing is correlated at ingest (the benchmark's baseline)."""
    cap: int = DEFAULT_CAP
    """A hub joining more objects than this is over-correlating (the node setting
    ``correlation.cap``)."""
    ssdeep_min_score: int = 60
    """ssdeep comparison score (0-100) from which two hashes are similar."""
    tlsh_max_distance: int = 40
    """TLSH distance up to which two hashes are similar (0 is identical); shown as
    similarity ``100 - distance``."""
    fuzzy_candidates: int = 5000
    """At most this many stored hashes of the same bucket are compared with a new one."""


_KEY = "correlation.policy"


def set_policy(engine: Engine, policy: CorrelationPolicy) -> None:
    """Use ``policy`` for everything written and read through ``engine``."""
    own_state(engine).derived[_KEY] = policy


def policy_for(engine: Engine) -> CorrelationPolicy:
    """The engine's policy; by default with the cap stored in the node's settings
    (``accord settings set correlation.cap N``), the same for every process of the node.
    Kept with the engine's state (`accord.store.engine_state`), read once."""
    derived = own_state(engine).derived
    found = derived.get(_KEY)
    if found is None:
        try:
            stored = NodeSettings(engine).get(CORRELATION_CAP)
        except DBAPIError:  # a database not migrated to 0009 yet (a migration's test)
            stored = None
        cap = int(stored) if stored is not None else DEFAULT_CAP
        found = derived[_KEY] = CorrelationPolicy(cap=cap)
    assert isinstance(found, CorrelationPolicy)
    return found


def forget_policy(engine: Engine) -> None:
    """Read the policy again from the node's settings next time (the cap was changed)."""
    own_state(engine).derived.pop(_KEY, None)
