"""Every difference between the databases the store runs on, behind one `Backend` each.

`backend_for` gives a connection's or an engine's backend; `backend_for_url` the backend of a
database URL, before there is an engine. The protocol is `accord.store.dialects.base`; the
backends are `accord.store.dialects.sqlite` and `accord.store.dialects.postgresql`, which
also register how the constructs of `accord.store.dialects.elements` read on their database.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import URL, Dialect, make_url
from sqlalchemy.types import TypeEngine

from accord.store.dialects.base import Backend
from accord.store.dialects.postgresql import PostgreSQL
from accord.store.dialects.sqlite import SQLite

__all__ = ["Backend", "backend_for", "backend_for_url", "backend_named", "seq_type"]

_BACKENDS: dict[str, Backend] = {backend.name: backend for backend in (SQLite(), PostgreSQL())}
# Where `backend_for` keeps a dialect's backend: on the dialect itself (one per engine), so
# that finding it again costs one attribute read, on every look-up.
_CACHED = "_accord_backend"


def backend_named(name: str) -> Backend:
    """The backend of SQLAlchemy's dialect ``name``."""
    try:
        return _BACKENDS[name]
    except KeyError:
        raise ValueError(f"unsupported database: {name} (use SQLite or PostgreSQL)") from None


def backend_for(bind: Connection | Engine) -> Backend:
    """The backend of the database ``bind`` talks to."""
    dialect = bind.dialect
    found: Backend | None = getattr(dialect, _CACHED, None)
    if found is None:
        found = _remember(dialect)
    return found


def _remember(dialect: Dialect) -> Backend:
    found = backend_named(dialect.name)
    setattr(dialect, _CACHED, found)
    return found


def backend_for_url(url: str | URL) -> Backend:
    return backend_named(make_url(url).get_backend_name())


def seq_type() -> TypeEngine[int]:
    """The type of the sequence-number primary keys, as each backend declares it."""
    found: TypeEngine[int] = PostgreSQL.seq_type
    for backend in _BACKENDS.values():
        if backend.seq_type is not found:
            found = found.with_variant(backend.seq_type, backend.name)
    return found
