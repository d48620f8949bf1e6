"""Statements on the look-up path, compiled once per database and run on the driver's cursor.

A look-up runs four small indexed queries; SQLAlchemy's per-execution work (parameter
processing, result rows) costs more than SQLite's own. These statements are still built with
SQLAlchemy Core, from the same visibility rule as every other read, and compiled by it; only
their execution skips the layers that a hot path cannot afford.

Lists travel as ONE parameter (`ListParam`): a JSON array read by ``json_each`` on SQLite,
a delimited string split by ``string_to_array`` on PostgreSQL. So a statement's text never
depends on how many values it is given, and can be compiled once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from sqlalchemy import BindParameter, ColumnElement, Connection, Select, String, bindparam
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import NullType

SEPARATOR = "\x1f"  # ASCII unit separator: never in a STIX id, a principal or a value


class InList(ColumnElement[bool]):
    """``column IN (the values of one list parameter)``."""

    inherit_cache = True
    _traverse_internals = [  # noqa: RUF012
        ("column", InternalTraversal.dp_clauseelement),
        ("param", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: ColumnElement[Any], param: BindParameter[Any]) -> None:
        self.column = column
        self.param = param
        # Not Boolean: SQLAlchemy would write "(x IN (...)) = 1" for SQLite, which no index
        # can serve.
        self.type = NullType()  # type: ignore[assignment]


@compiles(InList, "sqlite")
def _in_list_sqlite(element: InList, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    return f"{column} IN (SELECT value FROM json_each({compiler.process(element.param, **kw)}))"


@compiles(InList, "postgresql")
def _in_list_postgresql(element: InList, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    param = compiler.process(element.param, **kw)
    return f"{column} = ANY(string_to_array({param}, E'\\x1f'))"


def list_param(name: str) -> BindParameter[Any]:
    return bindparam(name, type_=String())


def encode_list(dialect: str, values: Sequence[str]) -> str:
    """A list as the one parameter `InList` reads, for this database."""
    if dialect == "postgresql":
        return SEPARATOR.join(value for value in values if SEPARATOR not in value)
    return orjson.dumps(list(values)).decode()


def numbered(sql: str, names: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """``sql`` with SQLite's ``?NNN`` placeholders for its ``?`` ones (``names``: the
    parameter of each, in order), so that a parameter used in several places is bound once:
    the visibility rule names the viewer's principals once per table it guards, and a look-up
    statement guards several. Returns the SQL and the parameter names by number."""
    parts = sql.split("?")
    if len(parts) != len(names) + 1:  # a "?" that is not a placeholder: leave it alone
        return sql, names
    number: dict[str, int] = {}
    for name in names:
        number.setdefault(name, len(number) + 1)
    text = parts[0] + "".join(
        f"?{number[name]}{rest}" for name, rest in zip(names, parts[1:], strict=True)
    )
    return text, tuple(number)


class Prepared:
    """One SELECT, compiled per database on first use."""

    def __init__(self, build: Callable[[str], Select[Any]]) -> None:
        self._build = build
        self._compiled: dict[str, tuple[str, tuple[str, ...] | None, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def _compile(self, conn: Connection) -> tuple[str, tuple[str, ...] | None, dict[str, Any]]:
        name = conn.dialect.name
        found = self._compiled.get(name)
        if found is None:
            compiled = self._build(name).compile(dialect=conn.dialect)
            sql = compiled.string
            positions = tuple(compiled.positiontup) if compiled.positiontup else None
            if positions is not None and name == "sqlite":
                sql, positions = numbered(sql, positions)
            found = (sql, positions, dict(compiled.params))
            with self._lock:
                self._compiled[name] = found
        return found

    def rows(self, conn: Connection, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        sql, positions, defaults = self._compile(conn)
        merged = defaults | params
        driver = conn.connection.driver_connection
        assert driver is not None
        cursor = driver.cursor()
        try:
            if positions is None:
                cursor.execute(sql, merged)
            else:
                cursor.execute(sql, [merged[name] for name in positions])
            return list(cursor.fetchall())
        finally:
            cursor.close()
