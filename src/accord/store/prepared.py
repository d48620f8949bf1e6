"""Statements on the look-up path, compiled once per database and run on the driver's cursor.

A look-up runs four small indexed queries; SQLAlchemy's per-execution work (parameter
processing, result rows) costs more than SQLite's own. These statements are still built with
SQLAlchemy Core, from the same visibility rule as every other read, and compiled by it; only
their execution skips the layers that a hot path cannot afford.

Lists travel as ONE parameter (`list_param`, read by `InList`, encoded by the connection's
backend: `accord.store.dialects.base.Backend.encode_list`). So a statement's text never
depends on how many values it is given, and can be compiled once.

Rows come back as plain tuples; read them by name through the statement's `Prepared.layout`
(`accord.store.layout`).
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import BindParameter, CompoundSelect, Connection, Select, String, bindparam

from accord.store.dialects import Backend, backend_for
from accord.store.dialects.elements import InIntList, InList
from accord.store.layout import Layout

__all__ = ["InIntList", "InList", "Prepared", "list_param"]


def list_param(name: str) -> BindParameter[Any]:
    return bindparam(name, type_=String())


class Prepared:
    """One SELECT, compiled per database on first use. `layout`: where its columns are in
    the rows `rows` answers."""

    def __init__(self, statement: Select[Any] | CompoundSelect[Any]) -> None:
        self._statement = statement
        self.layout = Layout(statement.selected_columns)
        self._compiled: dict[Backend, tuple[str, tuple[str, ...] | None, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def _compile(self, conn: Connection) -> tuple[str, tuple[str, ...] | None, dict[str, Any]]:
        backend = backend_for(conn)
        found = self._compiled.get(backend)
        if found is None:
            compiled = self._statement.compile(dialect=conn.dialect)
            positions = tuple(compiled.positiontup) if compiled.positiontup else None
            sql, positions = backend.placeholders(compiled.string, positions)
            found = (sql, positions, dict(compiled.params))
            with self._lock:
                self._compiled[backend] = found
        return found

    def rows(self, conn: Connection, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        sql, positions, defaults = self._compile(conn)
        merged = defaults | params
        driver = conn.connection.driver_connection
        assert driver is not None
        cursor = backend_for(conn).statement_cursor(driver, positions is not None)
        try:
            if positions is None:
                cursor.execute(sql, merged)
            else:
                cursor.execute(sql, [merged[name] for name in positions])
            return list(cursor.fetchall())
        finally:
            cursor.close()
