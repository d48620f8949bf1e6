"""The look-up, search, TAXII and correlation statements keep their index plans with and
without planner statistics (issue 14, item 14; accord.store.plans, accord.store.statistics).

A store of a few thousand objects of mixed types is built through the ingest path; every
statement those reads run is captured with its parameters and explained: ``EXPLAIN QUERY
PLAN`` on SQLite, ``EXPLAIN (FORMAT JSON)`` on PostgreSQL (the custom plan, and for the
prepared statements the generic plan too, which look-up connections run). No table that an
index should serve may be read whole. Each is checked as ingest left the store (SQLite: never
analysed; PostgreSQL: as the store's own analysis after the large write left it, autovacuum
being off or not yet come round: each test's tables are new), and again after ``ANALYZE``
(and ``PRAGMA optimize`` on SQLite)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from sqlalchemy import event, text

from accord.ingest.stix import Ingester, IngestOptions
from accord.intel.lookup.service import Lookup
from accord.intel.search import search_value
from accord.model.search_text import parse_search
from accord.model.tlp import Tlp
from accord.model.visibility import Recipients, Viewer
from accord.store.correlation.policy import CorrelationPolicy, set_policy
from accord.store.correlation.read import Correlations
from accord.store.engine_state import engine_state
from accord.store.node import Store
from accord.store.prepared import Prepared
from accord.store.records import ObjectQuery
from accord.store.taxii import EVERYTHING, Match, Scope
from community import Community, make_community

NS = uuid.UUID("0d3c1a52-7f41-4b63-8c55-00000000aa14")
T0 = "2026-01-01T00:00:00.000Z"
INDICATORS = 2000
# Tables that are never read whole by these statements (net_prefixes, the list of prefix
# lengths, is: it has a few rows).
GUARDED = {
    "objects",
    "observables",
    "object_audience",
    "object_refs",
    "correlations",
    "sighting_facts",
    "correlation_hubs",
    "allowlist_entries",
    "object_labels",
    "object_text",
}

# The names those tables go by in the statements (scans of subqueries are not table scans).
ALIASES = {"one", "other", "correlated", "referrer", "sighting", "s", "t", "added", "earlier"}


def sid(kind: str, n: int) -> str:
    return f"{kind}--{uuid.uuid5(NS, f'{kind}{n}')}"


def _indicator(n: int, path: str, value: str, tlp: Tlp) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": sid("indicator", n),
        "created": T0,
        "modified": T0,
        "name": f"indicator {n}",
        "pattern": f"[{path} = '{value}']",
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
        "object_marking_refs": [tlp.marking_id],
    }


def _value(n: int) -> tuple[str, str]:
    kind = n % 5
    if kind == 0:
        return "ipv4-addr:value", f"10.{n % 7}.{n % 250}.{n % 200 + 1}"
    if kind == 1:
        return "domain-name:value", f"host{n % 300}.evil{n % 40}.example"
    if kind == 2:
        return "url:value", f"http://site{n % 90}.bad.example/p/{n}"
    if kind == 3:
        return "file:hashes.'SHA-256'", f"{n:064x}"
    return "ipv4-addr:value", f"10.{n % 7}.{n % 250}.0/24"


def build(store: Store, community: Community) -> None:
    """About 3,700 objects: indicators of every kind at CLEAR, GREEN and AMBER, malware,
    relationships, sightings, reports, SCOs, second versions; hubs over the cap."""
    set_policy(store.engine, CorrelationPolicy(cap=5))
    levels = [Tlp.CLEAR, Tlp.GREEN, Tlp.GREEN, Tlp.AMBER]
    objects: list[dict[str, Any]] = [
        _indicator(n, *_value(n), levels[n % 4]) for n in range(INDICATORS)
    ]
    extra = [
        ("domain-name:value", "evil3.example"),
        ("ipv4-addr:value", "10.1.0.0/16"),
        ("ipv4-addr:value", "10.9.9.9"),
    ]
    objects += [
        _indicator(INDICATORS + i, path, value, Tlp.GREEN) for i, (path, value) in enumerate(extra)
    ]
    objects += [
        _indicator(INDICATORS + 10 + i, "url:value", f"http://10.9.9.9/{i}", Tlp.GREEN)
        for i in range(8)
    ]
    for n in range(100):
        objects.append(
            {
                "type": "malware",
                "spec_version": "2.1",
                "id": sid("malware", n),
                "created": T0,
                "modified": T0,
                "name": f"malware {n}",
                "is_family": True,
                "labels": [f"family-{n % 5}"],
            }
        )
    for n in range(600):
        objects.append(
            {
                "type": "relationship",
                "spec_version": "2.1",
                "id": sid("relationship", n),
                "created": T0,
                "modified": T0,
                "relationship_type": "indicates",
                "source_ref": sid("indicator", (n * 7) % INDICATORS),
                "target_ref": sid("malware", n % 100),
            }
        )
    for n in range(400):
        objects.append(
            {
                "type": "sighting",
                "spec_version": "2.1",
                "id": sid("sighting", n),
                "created": T0,
                "modified": T0,
                "count": 1 + n % 3,
                "sighting_of_ref": sid("indicator", (n * 5) % INDICATORS),
            }
        )
    for n in range(60):
        objects.append(
            {
                "type": "report",
                "spec_version": "2.1",
                "id": sid("report", n),
                "created": T0,
                "modified": T0,
                "name": f"report {n}",
                "published": T0,
                "object_refs": [sid("indicator", (n * 10 + i) % INDICATORS) for i in range(10)],
            }
        )
    for n in range(500):
        objects.append(
            {
                "type": "ipv4-addr",
                "spec_version": "2.1",
                "id": sid("ipv4-addr", n),
                "value": f"192.0.{n % 256}.{n % 250 + 1}",
            }
        )
    amber_to = Recipients(org_ids=frozenset({community.police.id}))
    ingester = Ingester(store, community.analyst)
    report = ingester.ingest_objects(objects, "2.1", "plans", IngestOptions(recipients=amber_to))
    assert report.ok, report.summary()
    newer = [
        dict(obj, modified="2026-02-01T00:00:00.000Z", name=f"{obj['name']} (2)")
        for obj in objects[:300]
    ]
    report = ingester.ingest_objects(newer, "2.1", "plans", IngestOptions(recipients=amber_to))
    assert report.ok, report.summary()


@pytest.fixture
def planned(store: Store) -> tuple[Store, Viewer, Community]:
    community = make_community(store)
    build(store, community)
    return store, store.directory.viewer(community.analyst), community


# -- what runs --------------------------------------------------------------------------------

Statement = tuple[str, Any, bool]  # SQL, its parameters, prepared (run with a generic plan)


@contextmanager
def captured(store: Store) -> Iterator[list[Statement]]:
    """Every SELECT run in the block, with its parameters."""
    found: list[Statement] = []
    rows = Prepared.rows

    def recording(self: Prepared, conn: Any, params: dict[str, Any]) -> Any:
        sql, positions, defaults = self._compile(conn)
        merged = defaults | params
        found.append((sql, merged if positions is None else [merged[n] for n in positions], True))
        return rows(self, conn, params)

    def executed(conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool) -> None:
        if not many:
            found.append((sql, params, False))

    event.listen(store.engine, "before_cursor_execute", executed)
    Prepared.rows = recording  # type: ignore[method-assign]
    try:
        yield found
    finally:
        Prepared.rows = rows  # type: ignore[method-assign]
        event.remove(store.engine, "before_cursor_execute", executed)


def _reads(store: Store, viewer: Viewer, community: Community) -> dict[str, Callable[[], Any]]:
    lookup = Lookup(store, viewer)
    police = store.directory.viewer(community.investigator)
    values = [_value(n)[1] for n in range(0, 400, 3)]
    return {
        "lookup an address": lambda: lookup.one("10.3.3.4"),
        "lookup an address in a network": lambda: lookup.one("10.4.4.77"),
        "lookup a domain (parent domains)": lambda: lookup.one("sub.host1.evil1.example"),
        "lookup a URL (its host)": lambda: lookup.one("http://site2.bad.example/p/2"),
        "lookup a hash": lambda: lookup.one(f"{3:064x}"),
        "lookup as a recipient of AMBER": lambda: Lookup(store, police).one("10.3.3.4"),
        "bulk lookup": lambda: lookup.many(values),
        "search by value": lambda: search_value(store, viewer, "host1.evil1.example"),
        "search by host": lambda: search_value(store, viewer, "10.9.9.9"),
        "get_many": lambda: store.objects.get_many(
            viewer, [sid("indicator", n) for n in range(0, 50)]
        ),
        "referencing": lambda: store.objects.referencing(
            viewer, [sid("indicator", 7), sid("malware", 1)], ("source", "target", "member")
        ),
        "get": lambda: store.objects.get(viewer, sid("indicator", 8)),
        "correlations of a domain (subdomains)": lambda: Correlations(store.engine).of_object(
            viewer, sid("indicator", INDICATORS)
        ),
        "correlations of a network (addresses in it)": lambda: Correlations(store.engine).of_object(
            viewer, sid("indicator", INDICATORS + 1)
        ),
        "correlations of an address (URLs on it)": lambda: Correlations(store.engine).of_object(
            viewer, sid("indicator", INDICATORS + 2)
        ),
        "browse by words": lambda: store.objects.query(
            viewer, ObjectQuery(text=parse_search("indicator"), limit=50)
        ),
        "browse by words, a rare one, after a cursor": lambda: store.objects.query(
            viewer, ObjectQuery(text=parse_search("malware 7*"), after_seq=100, limit=50)
        ),
        "browse by words, newest first, of a type": lambda: store.objects.query(
            viewer,
            ObjectQuery(
                text=parse_search("report"), types=("report",), newest_first=True, limit=50
            ),
        ),
        "browse by label": lambda: store.objects.query(
            viewer, ObjectQuery(label="family-3", after_seq=10, limit=50)
        ),
        "browse by words and label": lambda: store.objects.query(
            viewer, ObjectQuery(text=parse_search("malware"), label="family-3", limit=50)
        ),
        "browse by type and dates": lambda: store.objects.query(
            viewer,
            ObjectQuery(
                types=("malware",),
                modified_since="2026-01-01T00:00:00.000000Z",
                modified_until="2026-01-31T00:00:00.000000Z",
                limit=50,
            ),
        ),
        "TAXII page": lambda: store.taxii.page(viewer, EVERYTHING, Match(), limit=50),
        "TAXII page after a position": lambda: store.taxii.page(
            viewer, EVERYTHING, Match(), after=1500, limit=50
        ),
        "TAXII page by type": lambda: store.taxii.page(
            viewer, EVERYTHING, Match(types=("indicator", "report")), limit=50
        ),
        "TAXII page added after": lambda: store.taxii.page(
            viewer, EVERYTHING, Match(added_after="2025-01-01T00:00:00.000000Z"), limit=50
        ),
        "TAXII page by id, first version": lambda: store.taxii.page(
            viewer, Scope(tlp=Tlp.GREEN), Match(ids=(sid("indicator", 5),), versions=("first",))
        ),
        "TAXII manifest, all versions": lambda: store.taxii.page(
            viewer, EVERYTHING, Match(versions=("all",)), limit=50, raw=False
        ),
    }


# -- how it is planned ------------------------------------------------------------------------


def _sqlite_scans(store: Store, sql: str, params: Any) -> list[str]:
    driver = _driver(store)
    plan = [row[3] for row in driver.execute(f"EXPLAIN QUERY PLAN {sql}", params or ())]
    scans = []
    for detail in plan:
        found = re.match(r"SCAN (\w+)", detail)
        if found and "VIRTUAL TABLE" not in detail and found.group(1) in GUARDED | ALIASES:
            scans.append(detail)
    return scans


def _driver(store: Store) -> Any:
    """One connection of the test's own for the EXPLAINs (closed after the test)."""
    if not _connections:
        _connections.append(store.engine.raw_connection())
    return _connections[0].driver_connection


_connections: list[Any] = []


def _pg_plans(store: Store, sql: str, params: Any, prepared: bool) -> list[dict[str, Any]]:
    """The custom plan, and for a prepared statement the generic one."""
    driver = _driver(store)
    with psycopg.ClientCursor(driver) as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        found = [cursor.fetchone()[0][0]["Plan"]]
    driver.rollback()
    if prepared:
        names: list[str] = []

        def number(match: re.Match[str]) -> str:
            if match.group(1) not in names:
                names.append(match.group(1))
            return f"${names.index(match.group(1)) + 1}"

        dollar = re.sub(r"%\((\w+)\)s", number, sql).replace("%%", "%")
        values = [params[name] for name in names]
        types = [
            "boolean" if isinstance(v, bool) else "bigint" if isinstance(v, int) else "text"
            for v in values
        ]
        with psycopg.ClientCursor(driver) as cursor:
            cursor.execute(f"PREPARE plan_probe({', '.join(types)}) AS {dollar}")
            cursor.execute("SET plan_cache_mode = force_generic_plan")
            marks = ", ".join(f"%s::{t}" for t in types)
            cursor.execute(f"EXPLAIN (FORMAT JSON) EXECUTE plan_probe({marks})", values)
            found.append(cursor.fetchone()[0][0]["Plan"])
            cursor.execute("DEALLOCATE plan_probe")
            cursor.execute("RESET plan_cache_mode")
        driver.rollback()
    return found


def _pg_scans(plan: dict[str, Any]) -> list[str]:
    found = []
    if plan["Node Type"] == "Seq Scan" and plan.get("Relation Name") in GUARDED:
        found.append(f"Seq Scan on {plan['Relation Name']} ({plan.get('Alias')})")
    for child in plan.get("Plans", ()):
        found += _pg_scans(child)
    return found


def full_scans(store: Store, statement: Statement) -> list[str]:
    sql, params, prepared = statement
    if store.engine.dialect.name == "sqlite":
        return _sqlite_scans(store, sql, params)
    return [scan for plan in _pg_plans(store, sql, params, prepared) for scan in _pg_scans(plan)]


def analyse(store: Store) -> None:
    with store.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
        if store.engine.dialect.name == "sqlite":
            conn.execute(text("PRAGMA optimize"))


def _close_raw() -> None:
    while _connections:
        _connections.pop().close()


def _statements(store: Store, viewer: Viewer, community: Community) -> dict[str, list[Statement]]:
    found = {}
    for name, read in _reads(store, viewer, community).items():
        with captured(store) as statements:
            read()
        found[name] = [s for s in statements if s[0].lstrip().upper().startswith("SELECT")]
        assert found[name], name
    return found


@pytest.mark.parametrize("analysed", [False, True], ids=["as-ingested", "analysed"])
def test_sqlite_reads_keep_their_index_plans(
    planned: tuple[Store, Viewer, Community], analysed: bool
) -> None:
    """SQLite: no table is read whole, with or without statistics (accord.store.plans)."""
    store, viewer, community = planned
    if store.engine.dialect.name != "sqlite":
        pytest.skip(
            "SQLite's plans; PostgreSQL's: test_a_large_write_refreshes_postgresql_statistics"
        )
    if analysed:
        analyse(store)
    failures: dict[str, list[str]] = {}
    try:
        for name, statements in _statements(store, viewer, community).items():
            for statement in statements:
                scans = full_scans(store, statement)
                if scans:
                    failures.setdefault(name, []).append(f"{scans}: {statement[0][:300]}")
    finally:
        _close_raw()  # before the fixtures drop the schema
    if failures:
        pytest.fail("\n".join(f"{name}: {found}" for name, found in failures.items()))


def _analyses(store: Store) -> int:
    """How many times the store analysed its tables (PostgreSQL only)."""
    tracker = engine_state(store.engine).statistics
    return 0 if tracker is None else tracker.analyses


def test_a_large_write_refreshes_postgresql_statistics(
    planned: tuple[Store, Viewer, Community],
) -> None:
    """The ingest above wrote 4,000 versions into new tables: the store analysed them in
    that write (autovacuum is off here, or has not come round), and small writes do not."""
    store, _, community = planned
    if store.engine.dialect.name != "postgresql":
        assert _analyses(store) == 0  # SQLite: never (accord.store.plans)
        return
    assert _analyses(store) >= 1
    with store.engine.connect() as conn:
        for table in ("objects", "observables", "object_audience", "object_refs", "correlations"):
            rows = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            tuples = conn.execute(
                text(f"SELECT reltuples FROM pg_class WHERE oid = '{table}'::regclass")
            ).scalar_one()
            # -1 (never analysed) before the fix; now what the first, large write left.
            assert tuples >= 0.5 * rows > 0, (table, tuples, rows)
    before = _analyses(store)
    ingester = Ingester(store, community.analyst)
    small = [
        _indicator(10_000 + n, "ipv4-addr:value", f"172.16.0.{n}", Tlp.GREEN) for n in range(5)
    ]
    assert ingester.ingest_objects(small, "2.1", "plans", IngestOptions()).ok
    assert _analyses(store) == before
