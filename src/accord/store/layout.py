"""Where each named column sits in the rows of a statement run on the driver's cursor
(`accord.store.prepared`), which come back as plain tuples.

A `Layout` is built from the same column lists the statement selects, once, at import; the
positions it gives (`Layout.at`) are kept in module constants, so that a hot loop still
indexes its tuples by int (a module constant costs what a literal does) and a statement that
selects its columns in another order moves them with it::

    SEARCH_ROW = Layout(OBJECT_COLUMNS, (observables.c.kind, observables.c.value))
    KIND, VALUE = SEARCH_ROW.at("kind", "value")
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement


class Layout:
    """The positions of the columns of one row shape: ``parts`` of columns (or their names),
    one after the other."""

    def __init__(self, *parts: Iterable[ColumnElement[Any] | str]) -> None:
        self._starts: list[int] = []
        self._names: list[str] = []
        for part in parts:
            self._starts.append(len(self._names))
            self._names.extend(item if isinstance(item, str) else _name(item) for item in part)

    def at(self, *names: str) -> tuple[int, ...]:
        """The position of each of ``names``; a name missing or held twice is an error."""
        found = []
        for name in names:
            where = [i for i, held in enumerate(self._names) if held == name]
            if len(where) != 1:
                raise KeyError(f"{name!r} is in {len(where)} columns of {self._names}")
            found.append(where[0])
        return tuple(found)

    def start(self, part: int) -> int:
        """The position of the first column of part number ``part`` (from 0)."""
        return self._starts[part]

    def __len__(self) -> int:
        return len(self._names)


def _name(column: ColumnElement[Any]) -> str:
    name = getattr(column, "key", None) or getattr(column, "name", None)
    if not isinstance(name, str):
        raise TypeError(f"an unnamed column in a layout: {column!r}")
    return name
