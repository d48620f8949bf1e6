"""Searching the observable index: exact values, containing networks, parent domains and the
hosts of URLs, for one value or ten thousand at once. Every search joins the objects table
through the visibility rule, so a hidden object never answers. What to look for (the
candidate values of an observable) is `accord.store.candidates`."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, String, literal, select, union_all

from accord.model.observables import Observable
from accord.model.visibility import Viewer
from accord.store.candidates import Relation, candidates, load_prefixes
from accord.store.dialects import backend_for
from accord.store.hints import context_column
from accord.store.objects import OBJECT_COLUMNS, _reading, stored_from_tuple
from accord.store.plans import indexed, ordered, values_of
from accord.store.prepared import Prepared, list_param
from accord.store.records import UNKNOWN, StoredObject, ValueMatch
from accord.store.schema import objects, observables
from accord.store.visibility import cached_viewer_params, latest, visible_rule


class ObservableIndex:
    """Look-ups over the normalised observables of the latest visible versions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.prefixes = PrefixCache()  # one index per engine (`accord.store.node.Store`)

    def search(self, viewer: Viewer, observable: Observable) -> list[ValueMatch]:
        return self.search_many(viewer, [observable])[0]

    def search_many(
        self,
        viewer: Viewer,
        searched: Sequence[Observable],
        connection: Connection | None = None,
        context: bool = False,
    ) -> list[list[ValueMatch]]:
        """For each observable, in order, the visible objects that know it. ``context``:
        also say what else about each the viewer may see (`ValueMatch.context`, from
        `accord.store.hints`), which costs a few index probes per matched row; without it
        every match says `UNKNOWN`."""
        statement = _SEARCH_WITH_CONTEXT if context else _SEARCH
        with _reading(self.engine, connection) as conn:
            backend = backend_for(conn)
            prefixes = self.prefixes.get(conn)
            wanted = [candidates(observable, prefixes) for observable in searched]
            values = sorted({value for c in wanted for value in c.values})
            hosts = sorted({c.host for c in wanted if c.host is not None})
            params = {
                **cached_viewer_params(backend, viewer),
                "values": backend.encode_list(values),
                "hosts": backend.encode_list(hosts),
            }
            if not (values or hosts):
                rows = []
            else:
                # These statements (unions under the visibility rule) cost ten times their
                # execution to plan anew each time; their generic plans are good for one
                # value and for ten thousand (list parameters, index probes).
                backend.plan_generically(conn)
                rows = statement.rows(conn, params)
        by_value: dict[str, list[tuple[Any, ...]]] = {}
        by_host: dict[str, list[tuple[Any, ...]]] = {}
        for row in rows:
            if row[_MATCHED_BY] == "value":
                by_value.setdefault(row[_VALUE], []).append(row)
            else:
                by_host.setdefault(row[_HOST], []).append(row)
        stored: dict[int, StoredObject] = {}  # one per version, however many values it answers
        answers: list[list[ValueMatch]] = []
        value_rows, host_rows = by_value.get, by_host.get
        for found in wanted:
            # Most candidate values (the parents, the networks) match nothing.
            pairs: list[tuple[tuple[Any, ...], Relation]] = []
            for value, relation in found.values.items():
                known = value_rows(value)
                if known is not None:
                    pairs.extend((row, relation) for row in known)
            if found.host is not None:
                known = host_rows(found.host)
                if known is not None:
                    pairs.extend((row, "host") for row in known)
            if not pairs:
                answers.append([])
                continue
            seen: set[tuple[int, str]] = set()
            matches: list[ValueMatch] = []
            for row, relation in pairs:
                key = (row[_SEQ], row[_VALUE])
                if key in seen:
                    continue
                seen.add(key)
                obj = stored.get(row[_SEQ])
                if obj is None:
                    obj = stored[row[_SEQ]] = stored_from_tuple(row)
                matches.append(
                    ValueMatch(
                        relation,
                        row[_KIND],
                        row[_VALUE],
                        row[_PATH],
                        bool(row[_SIMPLE]),
                        obj,
                        row[_CONTEXT] if context else UNKNOWN,
                    )
                )
            if len(matches) > 1:
                matches.sort(key=_by_seq)
            answers.append(matches)
        return answers


def _by_seq(match: ValueMatch) -> int:
    return match.obj.seq


# How often to re-read the network prefix lengths present: they change only when a network
# of a length never seen before is first stored, so a worker may trust them for a moment.
PREFIX_CACHE_SECONDS = 2.0


class PrefixCache:
    """The network prefix lengths present in one database, re-read at most every
    ``PREFIX_CACHE_SECONDS``. Held by its engine's `ObservableIndex`, so a look-up reaches it
    through an attribute (no look-up by engine) and a closed store's cache goes with it."""

    __slots__ = ("_expires", "_found")

    def __init__(self) -> None:
        self._expires = 0.0
        self._found: dict[str, list[int]] = {}

    def get(self, conn: Connection) -> dict[str, list[int]]:
        now = time.monotonic()
        if self._expires > now:
            return self._found
        found = self._found = load_prefixes(conn)
        self._expires = now + PREFIX_CACHE_SECONDS
        return found

    def clear(self) -> None:
        """Read the prefixes again at the next look-up."""
        self._expires = 0.0


def _search_statement(context: bool = False) -> Any:
    """Index rows whose value is one of ``:values`` or whose host is one of ``:hosts``,
    joined to their latest visible object; one statement, two list parameters. With
    ``context``, each row ends with the object's hint bits (`accord.store.hints`).

    The plan is written out (`accord.store.plans`): each list drives, the index rows are read
    through the value (or host) index, their objects by primary key."""

    def part(column: str, param: str) -> Any:
        index = "ix_observables_value" if column == "value" else "ix_observables_host"
        found = indexed(observables, index)
        match_on = found.c.value if column == "value" else found.c.host
        wanted = values_of("wanted", list_param(param))
        hints = [context_column(objects)] if context else []
        return (
            select(
                *OBJECT_COLUMNS,
                found.c.kind,
                found.c.value,
                found.c.host,
                found.c.path,
                found.c.simple,
                literal(column, String()).label("matched_by"),
                *hints,
            )
            .select_from(
                ordered(
                    ordered(wanted, found, match_on == wanted.c.value),
                    objects,
                    objects.c.seq == found.c.seq,
                )
            )
            .where(latest(objects))
            .where(visible_rule(objects))
        )

    return union_all(part("value", "values"), part("host", "hosts"))


_SEARCH = Prepared(_search_statement())
_SEARCH_WITH_CONTEXT = Prepared(_search_statement(context=True))
# The rows: OBJECT_COLUMNS, then the index row's columns, how it matched, and (with context)
# the object's hint bits.
_SEQ, _KIND, _VALUE, _HOST, _PATH, _SIMPLE, _MATCHED_BY, _CONTEXT = _SEARCH_WITH_CONTEXT.layout.at(
    "seq", "kind", "value", "host", "path", "simple", "matched_by", "context"
)
assert _SEARCH.layout.at("seq", "kind", "value", "host", "path", "simple", "matched_by") == (
    _SEQ,
    _KIND,
    _VALUE,
    _HOST,
    _PATH,
    _SIMPLE,
    _MATCHED_BY,
)
