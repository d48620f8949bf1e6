"""Where each named column sits in the rows of a statement run on the driver's cursor
(`accord.store.prepared`), which come back as plain tuples.

A `Layout` is built from the columns a statement selects (`Prepared.layout`), once, at
import; the positions it gives (`Layout.at`) are kept in module constants, so that a hot loop
still indexes its tuples by int (a module constant costs what a literal does) and a
statement that selects its columns in another order moves them with it::

    _KIND, _VALUE = _SEARCH.layout.at("kind", "value")
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement


class Layout:
    """The positions of named columns in one row shape."""

    def __init__(self, columns: Iterable[ColumnElement[Any]]) -> None:
        self._names = [_name(column) for column in columns]

    def at(self, *names: str) -> tuple[int, ...]:
        """The position of each of ``names``; a name missing or held twice is an error."""
        found = []
        for name in names:
            where = [i for i, held in enumerate(self._names) if held == name]
            if len(where) != 1:
                raise KeyError(f"{name!r} is in {len(where)} columns of {self._names}")
            found.append(where[0])
        return tuple(found)


def _name(column: ColumnElement[Any]) -> str:
    name = getattr(column, "key", None) or getattr(column, "name", None)
    if not isinstance(name, str):
        raise TypeError(f"an unnamed column in a layout: {column!r}")
    return name
