"""Searching the observable index: exact values, containing networks, parent domains and the
hosts of URLs, for one value or ten thousand at once. Every search joins the objects table
through the visibility rule, so a hidden object never answers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import orjson
from sqlalchemy import Connection, Engine, select, text

from accord.model.networks import containing_networks, family_of
from accord.model.observables import Observable, normalise, parent_domains
from accord.model.visibility import Viewer
from accord.store.bulk import SEPARATOR, is_postgres
from accord.store.objects import OBJECT_COLUMNS, stored_from_row
from accord.store.records import ValueMatch
from accord.store.schema import net_prefixes, objects, observables
from accord.store.visibility import latest, visible_to

Relation = Literal["exact", "cidr", "parent-domain", "url-host", "host"]

_ADDRESS_KINDS = ("ipv4", "ipv6")


@dataclass(frozen=True, slots=True)
class Candidates:
    """The indexed values that relate to one searched observable, and how."""

    values: dict[str, Relation]
    host: str | None  # a host whose URLs (and e-mail addresses) also answer


def _host_observable(host: str) -> Observable | None:
    for kind in ("ipv4", "ipv6", "domain"):
        try:
            return normalise(kind, host)
        except ValueError:
            continue
    return None


def candidates(observable: Observable, prefixes: dict[str, list[int]]) -> Candidates:
    """What to look for. ``prefixes``: the network prefix lengths present, per network kind."""
    wanted: dict[str, Relation] = {observable.value: "exact"}
    host: str | None = None
    family = family_of(observable.kind)
    if family is not None:
        for net in containing_networks(observable, prefixes.get(family, ())):
            wanted.setdefault(net, "cidr")
        if observable.kind in _ADDRESS_KINDS:
            host = observable.value
    elif observable.kind == "domain":
        for parent in parent_domains(observable.value):
            wanted.setdefault(parent, "parent-domain")
        host = observable.value
    elif observable.kind in ("url", "email") and observable.host:
        host_observable = _host_observable(observable.host)
        if host_observable is not None:
            wanted.setdefault(host_observable.value, "url-host")
            for value, relation in candidates(host_observable, prefixes).values.items():
                wanted.setdefault(value, relation)
    return Candidates(wanted, host)


class ObservableIndex:
    """Look-ups over the normalised observables of the latest visible versions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def search(self, viewer: Viewer, observable: Observable) -> list[ValueMatch]:
        return self.search_many(viewer, [observable])[0]

    def search_many(self, viewer: Viewer, searched: Sequence[Observable]) -> list[list[ValueMatch]]:
        """For each observable, in order, the visible objects that know it."""
        with self.engine.connect() as conn:
            prefixes = _prefixes(conn)
            wanted = [candidates(observable, prefixes) for observable in searched]
            values = sorted({value for c in wanted for value in c.values})
            hosts = sorted({c.host for c in wanted if c.host is not None})
            by_value: dict[str, list[Any]] = {}
            by_host: dict[str, list[Any]] = {}
            for row in _matching_rows(conn, viewer, "value", values):
                by_value.setdefault(row.ob_value, []).append(row)
            for row in _matching_rows(conn, viewer, "host", hosts):
                by_host.setdefault(row.ob_host, []).append(row)
        answers: list[list[ValueMatch]] = []
        for found in wanted:
            seen: set[tuple[int, str]] = set()
            matches: list[ValueMatch] = []
            rows = [
                (row, found.values[value])
                for value in found.values
                for row in by_value.get(value, ())
            ]
            if found.host is not None:
                rows.extend((row, "host") for row in by_host.get(found.host, ()))
            for row, relation in rows:
                key = (row.seq, row.ob_value)
                if key in seen:
                    continue
                seen.add(key)
                matches.append(
                    ValueMatch(
                        relation=relation,
                        kind=row.ob_kind,
                        value=row.ob_value,
                        path=row.ob_path,
                        simple=bool(row.ob_simple),
                        obj=stored_from_row(row),
                    )
                )
            matches.sort(key=lambda match: match.obj.seq)
            answers.append(matches)
        return answers


def _prefixes(conn: Connection) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for kind, prefix in conn.execute(select(net_prefixes.c.kind, net_prefixes.c.prefix)):
        found.setdefault(kind, []).append(int(prefix))
    return found


def _matching_rows(
    conn: Connection, viewer: Viewer, column: Literal["value", "host"], wanted: list[str]
) -> list[Any]:
    """Index rows whose ``column`` is one of ``wanted``, joined to their latest visible
    object. The wanted values travel as one parameter (a JSON array on SQLite, a delimited
    string on PostgreSQL), however many there are."""
    if not wanted:
        return []
    if is_postgres(conn):
        if any(SEPARATOR in value for value in wanted):
            wanted = [value for value in wanted if SEPARATOR not in value]
        source = text("unnest(string_to_array(:wanted, :sep)) AS wanted(value)")
        params: dict[str, str] = {"wanted": SEPARATOR.join(wanted), "sep": SEPARATOR}
    else:
        source = text("json_each(:wanted) AS wanted")
        params = {"wanted": orjson.dumps(wanted).decode()}
    key = observables.c.value if column == "value" else observables.c.host
    stmt = (
        select(
            *OBJECT_COLUMNS,
            observables.c.kind.label("ob_kind"),
            observables.c.value.label("ob_value"),
            observables.c.host.label("ob_host"),
            observables.c.path.label("ob_path"),
            observables.c.simple.label("ob_simple"),
        )
        .select_from(source)
        .join(observables, key == text("wanted.value"))
        .join(objects, objects.c.seq == observables.c.seq)
        .where(latest(objects))
        .where(visible_to(viewer, objects))
    )
    return list(conn.execute(stmt, params))
