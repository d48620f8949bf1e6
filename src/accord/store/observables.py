"""Searching the observable index: exact values, containing networks, parent domains and the
hosts of URLs, for one value or ten thousand at once. Every search joins the objects table
through the visibility rule, so a hidden object never answers. What to look for (the
candidate values of an observable) is `accord.store.candidates`."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Literal

from sqlalchemy import (
    Boolean,
    Connection,
    Engine,
    String,
    case,
    cast,
    false,
    literal,
    literal_column,
    null,
    select,
    union_all,
)

from accord.model.observables import Observable
from accord.model.visibility import Viewer
from accord.store.candidates import Relation, candidates, load_prefixes
from accord.store.dialects import backend_for
from accord.store.hints import context_column
from accord.store.objects import OBJECT_COLUMNS, _reading, stored_from_tuple
from accord.store.plans import indexed, ordered, values_of
from accord.store.prepared import InIntList, Prepared, list_param
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
        versions: Sequence[Sequence[int]] | None = None,
    ) -> list[list[ValueMatch]]:
        """For each observable, in order, the visible objects that know it. ``context``:
        also say what else about each the viewer may see (`ValueMatch.context`, from
        `accord.store.hints`), which costs a few index probes per matched row; without it
        every match says `UNKNOWN`.

        ``versions``: per observable, object versions (sequence numbers) that a pattern
        index in memory found for it (`accord.match.indicator_index`); each answers, with
        relation "pattern", if it is still the latest, unrevoked and the viewer may see it.
        They are read in the same statement as the values, so a version the viewer may not
        see costs one index probe inside it, not a query of its own."""
        statement = _SEARCH_WITH_CONTEXT if context else _SEARCH
        with _reading(self.engine, connection) as conn:
            prefixes = self.prefixes.get(conn)
            wanted = [candidates(observable, prefixes) for observable in searched]
            values = sorted({value for c in wanted for value in c.values})
            hosts = sorted({c.host for c in wanted if c.host is not None})
            seqs = sorted({seq for found in versions or () for seq in found})
            rows = self._rows(conn, statement, viewer, values, hosts, seqs)
        by_value: dict[str, list[tuple[Any, ...]]] = {}
        by_host: dict[str, list[tuple[Any, ...]]] = {}
        by_seq: dict[int, list[tuple[Any, ...]]] = {}
        for row in rows:
            matched_by = row[_MATCHED_BY]
            if matched_by == "value":
                by_value.setdefault(row[_VALUE], []).append(row)
            elif matched_by == "host":
                by_host.setdefault(row[_HOST], []).append(row)
            elif not row[_REVOKED_AT]:  # a revoked pattern says nothing (docs/verdict.md)
                by_seq.setdefault(row[_SEQ], []).append(row)
        stored: dict[int, StoredObject] = {}  # one per version, however many values it answers
        answers: list[list[ValueMatch]] = []
        value_rows, host_rows = by_value.get, by_host.get
        for position, found in enumerate(wanted):
            # Most candidate values (the parents, the networks) match nothing.
            pairs: list[tuple[tuple[Any, ...], Relation | Literal["pattern"]]] = []
            for value, relation in found.values.items():
                known = value_rows(value)
                if known is not None:
                    pairs.extend((row, relation) for row in known)
            if found.host is not None:
                known = host_rows(found.host)
                if known is not None:
                    pairs.extend((row, "host") for row in known)
            if by_seq and versions is not None:
                for seq in versions[position]:
                    known = by_seq.get(seq)
                    if known is not None:
                        pairs.extend((row, "pattern") for row in known)
            if not pairs:
                answers.append([])
                continue
            seen: set[tuple[int, str]] = set()
            answered: set[int] = set()  # versions that answer by a value
            matches: list[ValueMatch] = []
            searched_value = searched[position]
            for row, how in pairs:
                seq = row[_SEQ]
                if how == "pattern":
                    if seq in answered:
                        continue  # already a reason by a value: one reason per version
                    kind, value, path = searched_value.kind, searched_value.value, ""
                else:
                    kind, value, path = row[_KIND], row[_VALUE], row[_PATH]
                    answered.add(seq)
                key = (seq, value)
                if key in seen:
                    continue
                seen.add(key)
                obj = stored.get(seq)
                if obj is None:
                    obj = stored[seq] = stored_from_tuple(row)
                matches.append(
                    ValueMatch(
                        how,
                        kind,
                        value,
                        path,
                        bool(row[_SIMPLE]),
                        obj,
                        row[_CONTEXT] if context else UNKNOWN,
                    )
                )
            if len(matches) > 1:
                matches.sort(key=_by_seq)
            answers.append(matches)
        return answers

    def visible_versions(
        self,
        viewer: Viewer,
        searched: Sequence[Observable],
        seqs: Sequence[int],
        connection: Connection | None = None,
    ) -> list[StoredObject]:
        """The latest visible versions that know any of ``searched`` (in any relation) or
        are among ``seqs`` (unrevoked), each once, in storage order: the candidates of a
        match of observations against everything the viewer may see (`accord.match.
        indicator_match`). One statement, whatever it is given."""
        with _reading(self.engine, connection) as conn:
            prefixes = self.prefixes.get(conn)
            wanted = [candidates(observable, prefixes) for observable in searched]
            values = sorted({value for c in wanted for value in c.values})
            hosts = sorted({c.host for c in wanted if c.host is not None})
            rows = self._rows(conn, _SEARCH, viewer, values, hosts, sorted(set(seqs)))
        found: dict[int, StoredObject] = {}
        for row in rows:
            if row[_MATCHED_BY] == "seq" and row[_REVOKED_AT]:
                continue
            if row[_SEQ] not in found:
                found[row[_SEQ]] = stored_from_tuple(row)
        return [found[seq] for seq in sorted(found)]

    @staticmethod
    def _rows(
        conn: Connection,
        statement: Prepared,
        viewer: Viewer,
        values: list[str],
        hosts: list[str],
        seqs: list[int],
    ) -> list[tuple[Any, ...]]:
        if not (values or hosts or seqs):
            return []
        backend = backend_for(conn)
        params = {
            **cached_viewer_params(backend, viewer),
            "values": backend.encode_list(values),
            "hosts": backend.encode_list(hosts),
            "seqs": backend.encode_ints(seqs),
        }
        # These statements (unions under the visibility rule) cost ten times their
        # execution to plan anew each time; their generic plans are good for one value and
        # for ten thousand (list parameters, index probes).
        backend.plan_generically(conn)
        return statement.rows(conn, params)


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
    ``context``, each row ends with the object's hint bits (`accord.store.hints`), written
    once over the union's rows rather than in each of its branches: PostgreSQL sets up every
    subquery of a (generic) plan at each execution, run or not, and the hints are most of
    the plan (in each branch, they made a look-up's search 0.1 ms slower on the server,
    measured with EXPLAIN ANALYZE; the rows are the same).

    The plan is written out (`accord.store.plans`): each list drives, the index rows are read
    through the value (or host) index, their objects by primary key."""

    def part(column: str, param: str) -> Any:
        index = "ix_observables_value" if column == "value" else "ix_observables_host"
        found = indexed(observables, index)
        match_on = found.c.value if column == "value" else found.c.host
        wanted = values_of("wanted", list_param(param))
        return (
            select(
                *OBJECT_COLUMNS,
                found.c.kind,
                found.c.value,
                found.c.host,
                found.c.path,
                found.c.simple,
                literal(column, String()).label("matched_by"),
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

    def versions() -> Any:
        # Versions named by their sequence number (a pattern index's candidates): read by
        # primary key, under the same rule; no index row, so its columns are empty.
        empty = cast(null(), String())
        return (
            select(
                *OBJECT_COLUMNS,
                empty.label("kind"),
                empty.label("value"),
                empty.label("host"),
                empty.label("path"),
                cast(false(), Boolean()).label("simple"),
                literal("seq", String()).label("matched_by"),
            )
            .where(InIntList(objects.c.seq, list_param("seqs")))
            .where(latest(objects))
            .where(visible_rule(objects))
        )

    rows = union_all(part("value", "values"), part("host", "hosts"), versions())
    if not context:
        return rows
    found = rows.subquery("found")
    # A version named by its sequence number says UNKNOWN (the graph looks for each): the
    # hints cost more than that branch's rare rows save.
    hints = case(
        (found.c.matched_by == literal("seq", String()), literal_column(str(UNKNOWN))),
        else_=context_column(found),
    )
    return select(*found.c, hints.label("context"))


_SEARCH = Prepared(_search_statement())
_SEARCH_WITH_CONTEXT = Prepared(_search_statement(context=True))
# The rows: OBJECT_COLUMNS, then the index row's columns, how it matched, and (with context)
# the object's hint bits.
_SEQ, _KIND, _VALUE, _HOST, _PATH, _SIMPLE, _MATCHED_BY, _CONTEXT = _SEARCH_WITH_CONTEXT.layout.at(
    "seq", "kind", "value", "host", "path", "simple", "matched_by", "context"
)
(_REVOKED_AT,) = _SEARCH.layout.at("revoked")
assert _SEARCH.layout.at("seq", "kind", "value", "host", "path", "simple", "matched_by") == (
    _SEQ,
    _KIND,
    _VALUE,
    _HOST,
    _PATH,
    _SIMPLE,
    _MATCHED_BY,
)
