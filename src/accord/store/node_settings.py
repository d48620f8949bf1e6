"""The node's settings that change its answers, kept in its database (``node_settings``).

Every process of a node (the command line, each API worker, the bulk look-up helper, the TAXII
server and feed scheduler) reads them from here, so that the same look-up gets the same answer
from every interface. Names and values are text: `accord.settings` knows what each means and
checks a value before it is stored; the store only keeps them (and reads no environment).
"""

from __future__ import annotations

from sqlalchemy import Engine, delete, insert, select

from accord.store.engine import write_transaction
from accord.store.schema import node_settings

CORRELATION_CAP = "correlation.cap"  # read here too: correlation runs inside the store


class NodeSettings:
    """Read and change the node's stored settings."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def all(self) -> dict[str, str]:
        """Every stored setting, by name (a setting not stored has its default)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(node_settings.c.name, node_settings.c.value)).all()
        return {name: value for name, value in rows}

    def get(self, name: str) -> str | None:
        with self.engine.connect() as conn:
            found = conn.execute(
                select(node_settings.c.value).where(node_settings.c.name == name)
            ).scalar()
        return None if found is None else str(found)

    def set(self, name: str, value: str | None) -> str | None:
        """Store ``value`` for ``name`` (None: remove it, back to the default); returns
        the value it had."""
        with write_transaction(self.engine) as conn:
            old = conn.execute(
                select(node_settings.c.value).where(node_settings.c.name == name)
            ).scalar()
            conn.execute(delete(node_settings).where(node_settings.c.name == name))
            if value is not None:
                conn.execute(insert(node_settings).values(name=name, value=value))
        if name == CORRELATION_CAP:
            from accord.store.correlation.policy import forget_policy

            forget_policy(self.engine)
        return None if old is None else str(old)
