"""Browsing and full-text search in the store (accord.store.browse, accord.store.search_index),
on SQLite and PostgreSQL: each filter, pages without gaps or repeats, hostile searches, the
index agreeing with the reference (accord.model.search_text.matches), the index kept on
delete and filled by migration 0011, and hidden objects never found by their words."""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select, text

from accord.ingest.stix import Ingester, IngestOptions
from accord.model.search_text import BadSearch, matches, parse_search
from accord.model.tlp import Tlp
from accord.model.visibility import Recipients, Viewer
from accord.store import migrate
from accord.store.engine_state import engine_state
from accord.store.node import Store
from accord.store.records import ObjectQuery, StoredObject
from accord.store.schema import object_labels
from accord.store.taxii import Match, Scope
from community import Community

UUID = "00000000-0000-4000-8000-{:012d}"


def _sdo(kind: str, n: int, modified: str, **properties: Any) -> dict[str, Any]:
    stamp = f"2026-{modified}T00:00:00.000Z"
    return {
        "type": kind,
        "spec_version": "2.1",
        "id": f"{kind}--{UUID.format(n)}",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": stamp,
        **properties,
    }


INTRUSION_SET = _sdo(
    "intrusion-set",
    1,
    "01-10",
    name="APT28",
    description="Sofacy's tools talk to c2-server.example.net.",
    aliases=["Fancy Bear", "STRONTIUM"],
    labels=["nation-state"],
)
MIMIKATZ = _sdo(
    "malware",
    2,
    "02-01",
    name="Mimikatz",
    is_family=True,
    description="A credential dumping tool.",
    labels=["credential-access"],
)
COBALT = _sdo("tool", 3, "02-15", name="Cobalt Strike", description="Adversary simulation; beacon.")
LSASS = _sdo(
    "attack-pattern",
    4,
    "03-01",
    name="OS Credential Dumping: LSASS Memory",
    external_references=[{"source_name": "mitre-attack", "external_id": "T1003.001"}],
)
REPORT = _sdo(
    "report",
    5,
    "03-15",
    name="Report on c2-server.example.net",
    description="Seen with d41d8cd98f00b204e9800998ecf8427e and Ünïcode Сканер.",
    published="2026-03-15T00:00:00Z",
    object_refs=[INTRUSION_SET["id"], MIMIKATZ["id"]],
    labels=["nation-state", "report-label"],
)
USES = _sdo(
    "relationship",
    6,
    "03-20",
    relationship_type="uses",
    source_ref=INTRUSION_SET["id"],
    target_ref=MIMIKATZ["id"],
    description="APT28 uses Mimikatz, says Sofacy's report.",
)
CORPUS = [INTRUSION_SET, MIMIKATZ, COBALT, LSASS, REPORT, USES]
# Stored by the water utility (another creator).
WATER_MIMIKATZ = _sdo(
    "malware", 7, "04-01", name="Mimikatz variant", is_family=False, labels=["nation-state"]
)
# AMBER for the police only: the CERT's colleagues and the police see it, the water utility not.
HIDDEN = _sdo(
    "malware",
    8,
    "04-10",
    name="Zanzibar loader",
    is_family=True,
    description="Quuxinator beacon for nation-state work.",
    labels=["secret-label", "nation-state"],
)


def _ingest(store: Store, user: Any, objs: list[dict[str, Any]], **options: Any) -> None:
    report = Ingester(store, user).ingest_objects(objs, "2.1", "test", IngestOptions(**options))
    assert report.ok, report.summary()


@pytest.fixture
def corpus(store: Store, community: Community) -> dict[str, Viewer]:
    _ingest(store, community.analyst, CORPUS, tlp=Tlp.GREEN)
    _ingest(store, community.operator, [WATER_MIMIKATZ], tlp=Tlp.GREEN)
    police = Recipients(org_ids=frozenset({community.police.id}))
    _ingest(store, community.analyst, [HIDDEN], tlp=Tlp.AMBER, recipients=police)
    d = store.directory
    return {
        "creator": d.viewer(community.analyst),
        "recipient": d.viewer(community.investigator),
        "outsider": d.viewer(community.operator),
        "anonymous": Viewer.anonymous(),
    }


def _ids(store: Store, viewer: Viewer, **filters: Any) -> list[str]:
    if isinstance(filters.get("text"), str):
        filters["text"] = parse_search(filters["text"])
    return [o.id for o in store.objects.query(viewer, ObjectQuery(limit=10_000, **filters))]


def _everything(store: Store, viewer: Viewer) -> list[StoredObject]:
    return store.objects.query(viewer, ObjectQuery(limit=10_000))


def test_each_filter(store: Store, corpus: dict[str, Viewer], community: Community) -> None:
    viewer = corpus["creator"]
    assert _ids(store, viewer, types=["malware"]) == [
        MIMIKATZ["id"],
        WATER_MIMIKATZ["id"],
        HIDDEN["id"],
    ]
    assert _ids(store, viewer, types=["malware"], tlp=Tlp.AMBER) == [HIDDEN["id"]]
    assert _ids(store, viewer, types=["malware"], owner_org=community.water.id) == [
        WATER_MIMIKATZ["id"]
    ]
    assert _ids(store, viewer, label="nation-state") == [
        INTRUSION_SET["id"],
        REPORT["id"],
        WATER_MIMIKATZ["id"],
        HIDDEN["id"],
    ]
    assert _ids(store, viewer, label="Nation-State") == []  # labels match exactly
    assert _ids(store, viewer, label="report-label") == [REPORT["id"]]
    assert _ids(
        store, viewer, modified_since="2026-02-01T00:00:00.000000Z", types=["malware", "tool"]
    ) == [
        MIMIKATZ["id"],
        COBALT["id"],
        WATER_MIMIKATZ["id"],
        HIDDEN["id"],
    ]
    assert _ids(
        store,
        viewer,
        modified_since="2026-02-01T00:00:00.000000Z",
        modified_until="2026-03-01T00:00:00.000000Z",
    ) == [MIMIKATZ["id"], COBALT["id"], LSASS["id"]]
    assert _ids(store, viewer, text="mimikatz") == [MIMIKATZ["id"], WATER_MIMIKATZ["id"]]
    assert _ids(store, viewer, text="mimikatz", owner_org=community.cert.id) == [MIMIKATZ["id"]]
    assert _ids(store, viewer, text="beacon", label="nation-state") == [HIDDEN["id"]]
    assert _ids(store, viewer, text="beacon", types=["tool"]) == [COBALT["id"]]
    assert _ids(store, viewer, text="mimikatz", newest_first=True) == [
        WATER_MIMIKATZ["id"],
        MIMIKATZ["id"],
    ]


def test_only_latest_versions_are_found_by_their_words(
    store: Store, corpus: dict[str, Viewer], community: Community
) -> None:
    renamed = MIMIKATZ | {"modified": "2026-05-01T00:00:00.000Z", "name": "Kiwi"}
    renamed.pop("labels")
    _ingest(store, community.analyst, [renamed], tlp=Tlp.GREEN)
    viewer = corpus["creator"]
    assert _ids(store, viewer, text="kiwi") == [MIMIKATZ["id"]]
    assert _ids(store, viewer, text="mimikatz") == [WATER_MIMIKATZ["id"]]
    assert MIMIKATZ["id"] not in _ids(store, viewer, label="credential-access")


QUERIES = [
    "apt28",
    "APT*",
    "fancy bear",
    '"fancy bear"',
    '"bear fancy"',
    "c2-server.example.net",
    "example",
    "T1003.001",
    "t1003",
    "credential dump*",
    '"credential dumping"',
    "d41d8cd98f00b204e9800998ecf8427e",
    "d41d8cd9*",
    "Сканер",
    "СКАНЕР",
    "ünïcode",
    "unicode",
    "mimikatz uses",  # only the relationship says so: relationships have no text
    "sofacy's",
    "tlp",
    "nation state",
    "NEAR(apt28",
    "os:credential",
    "zanzibar",
    "quux*",
]


def test_the_index_agrees_with_the_reference(store: Store, corpus: dict[str, Viewer]) -> None:
    """The store finds by words exactly the visible latest versions whose text the pure-Python
    reference matches, on both databases, for every viewer."""
    for name, viewer in corpus.items():
        visible = _everything(store, viewer)
        for typed in QUERIES:
            search = parse_search(typed)
            want = [o.id for o in visible if matches(search, _text(o))]
            assert _ids(store, viewer, text=search) == want, (name, typed)


def _text(obj: StoredObject) -> str:
    from accord.model.search_text import searchable_text

    return searchable_text(obj.json())


HOSTILE = [
    '"',
    '""',
    '"""',
    "*",
    "**",
    "a*b*",
    "NEAR(",
    "NEAR(a b, 2)",
    "a:b",
    "body:apt28",
    "^apt28",
    "apt28 AND OR NOT",
    "&|!",
    "a & b | !c",
    "a <-> b",
    "'a'",
    "a'':*",
    "\\",
    "a\\'b",
    "(",
    ")",
    "{a b}",
    "+a -b",
    "a\x00b",
    "\u202e",
    "%",
    "_",
    "'; DROP TABLE objects; --",
    "a" * 200,
]


def test_hostile_searches_raise_no_database_error(store: Store, corpus: dict[str, Viewer]) -> None:
    """Either a clear `BadSearch` before the database, or a search for words, literally."""
    refused = 0
    for typed in HOSTILE:
        try:
            search = parse_search(typed)
        except BadSearch:
            refused += 1
            continue
        found = store.objects.query(corpus["creator"], ObjectQuery(text=search))
        assert all(matches(search, _text(o)) for o in found), typed
    assert 0 < refused < len(HOSTILE)


def test_pages_have_no_gaps_or_repeats(store: Store, community: Community) -> None:
    many = [
        _sdo("malware", 100 + n, "01-02", name=f"Loader {n}", is_family=True, labels=["paged"])
        for n in range(23)
    ]
    tools = [_sdo("tool", 200 + n, "01-02", name=f"Loader tool {n}") for n in range(5)]
    mixed = [obj for pair in zip(many, tools + [None] * 18, strict=True) for obj in pair if obj]
    _ingest(store, community.analyst, mixed, tlp=Tlp.GREEN)
    police = Recipients(org_ids=frozenset({community.police.id}))
    hidden = [
        _sdo(
            "malware", 300 + n, "01-02", name=f"Loader hidden {n}", is_family=True, labels=["paged"]
        )
        for n in range(4)
    ]
    _ingest(store, community.analyst, hidden, tlp=Tlp.AMBER, recipients=police)
    outsider = store.directory.viewer(community.operator)
    wanted = {o["id"] for o in many}
    for filters in (
        {"types": ["malware"], "modified_since": "2026-01-02T00:00:00.000000Z"},
        {"label": "paged"},
        {"text": parse_search("loader"), "types": ["malware"]},
        {"text": parse_search("load*"), "label": "paged"},
    ):
        for newest_first in (False, True):
            seen: list[StoredObject] = []
            after = 0
            for _ in range(20):
                page = store.objects.query(
                    outsider,
                    ObjectQuery(after_seq=after, limit=4, newest_first=newest_first, **filters),  # type: ignore[arg-type]
                )
                seen += page
                if len(page) < 4:
                    break
                after = page[-1].seq
            ids = [o.id for o in seen]
            assert len(ids) == len(set(ids)), filters
            assert set(ids) == wanted, filters
            seqs = [o.seq for o in seen]
            assert seqs == sorted(seqs, reverse=newest_first), filters


def test_hidden_objects_are_never_found_by_their_words_or_labels(
    store: Store, corpus: dict[str, Viewer]
) -> None:
    for name, sees in (
        ("creator", True),
        ("recipient", True),
        ("outsider", False),
        ("anonymous", False),
    ):
        viewer = corpus[name]
        for filters in (
            {"text": "zanzibar"},
            {"text": "quuxinator"},
            {"text": "quux*"},
            {"text": "zanzibar", "types": ["malware"]},
            {"text": "beacon", "label": "nation-state"},
            {"label": "secret-label"},
            {"text": "loader", "newest_first": True},
        ):
            found = HIDDEN["id"] in _ids(store, viewer, **filters)
            assert found is sees, (name, filters)


def test_a_taxii_delete_takes_the_words_and_labels_along(
    store: Store, corpus: dict[str, Viewer], community: Community
) -> None:
    viewer = corpus["creator"]
    outcome = store.taxii.delete(
        viewer, community.cert.id, community.analyst.id, str(REPORT["id"]), Scope(), Match()
    )
    assert outcome == ("deleted", 1)
    assert _ids(store, viewer, text="d41d8cd98f00b204e9800998ecf8427e") == []
    assert _ids(store, viewer, label="report-label") == []
    with store.engine.connect() as conn:
        left = conn.execute(
            select(func.count()).where(object_labels.c.label == "report-label")
        ).scalar_one()
    assert left == 0
    # A version written after it (on SQLite it may take the freed sequence number) is found by
    # its own words only.
    _ingest(store, community.analyst, [_sdo("tool", 9, "06-01", name="Newcomer")], tlp=Tlp.GREEN)
    assert _ids(store, viewer, text="newcomer") == [f"tool--{UUID.format(9)}"]
    assert _ids(store, viewer, text="d41d8cd98f00b204e9800998ecf8427e") == []


def test_migration_0011_indexes_what_was_stored_before(store_url: str) -> None:
    node = Store.open(store_url)
    try:
        migrate.upgrade(node.engine, "0010")
        # Written as 0010 had it (today's writer names columns of later revisions).
        with node.engine.begin() as conn:
            for obj in CORPUS:
                conn.execute(
                    text(
                        "INSERT INTO objects (id, modified, type, spec_version, revoked,"
                        " is_latest, tlp, owner_org, date_added, raw) VALUES (:id, :modified,"
                        " :type, '2.1', false, true, :tlp, 'identity--x', :modified, :raw)"
                    ),
                    {
                        "id": obj["id"],
                        "modified": obj["modified"].replace(".000Z", ".000000Z"),
                        "type": obj["type"],
                        "tlp": int(Tlp.CLEAR),
                        "raw": orjson.dumps(obj).decode(),
                    },
                )
        migrate.upgrade(node.engine)
        anyone = Viewer.anonymous()
        assert _ids(node, anyone, text="fancy bear") == [INTRUSION_SET["id"]]
        assert _ids(node, anyone, text="t1003.001") == [LSASS["id"]]
        assert _ids(node, anyone, text="sofacy") == [INTRUSION_SET["id"]]  # not the relationship
        assert _ids(node, anyone, label="nation-state") == [INTRUSION_SET["id"], REPORT["id"]]
        indexer = engine_state(node.engine).text_indexer
        if indexer is not None:  # PostgreSQL: what the migration left pending, indexed now
            # A drain skips the rows the indexer's own thread has taken (SKIP LOCKED): drain
            # until they are all moved, by either.
            deadline = time.monotonic() + 30
            while _count(node, "object_text") < 5 and time.monotonic() < deadline:
                indexer.drain()
                time.sleep(0.05)
        assert _count(node, "object_text") == 5  # the relationship has no text
    finally:
        node.close()


def _count(store: Store, table: str) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def _pending(store: Store) -> int:
    return _count(store, "object_text_pending")


def test_postgresql_finds_words_before_and_after_they_are_indexed(
    store: Store, community: Community, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL indexes words after the commit (accord.store.text_indexer); a search finds
    a version as soon as it is committed, and a delete takes pending words along."""
    indexer = engine_state(store.engine).text_indexer
    if indexer is None:
        pytest.skip("SQLite indexes the words in the write itself")
    monkeypatch.setattr(indexer, "poke", lambda: None)  # held back: the rows stay pending
    _ingest(store, community.analyst, CORPUS, tlp=Tlp.GREEN)
    viewer = store.directory.viewer(community.analyst)
    assert _pending(store) == 5  # the relationship has no text
    before = {typed: _ids(store, viewer, text=typed) for typed in QUERIES}
    assert before["fancy bear"] == [INTRUSION_SET["id"]]
    store.taxii.delete(
        viewer, community.cert.id, community.analyst.id, str(REPORT["id"]), Scope(), Match()
    )
    assert _pending(store) == 4
    assert indexer.drain() == 4
    assert _pending(store) == 0
    for typed, found in before.items():
        assert _ids(store, viewer, text=typed) == [i for i in found if i != REPORT["id"]], typed
    indexed = _count(store, "object_text")
    store.taxii.delete(
        viewer, community.cert.id, community.analyst.id, str(LSASS["id"]), Scope(), Match()
    )
    assert _count(store, "object_text") == indexed - 1  # an indexed version's words go too


def test_postgresql_indexes_words_on_its_own_after_the_commit(
    store: Store, community: Community
) -> None:
    indexer = engine_state(store.engine).text_indexer
    if indexer is None:
        pytest.skip("SQLite indexes the words in the write itself")
    _ingest(store, community.analyst, CORPUS, tlp=Tlp.GREEN)
    deadline = time.monotonic() + 20
    while _pending(store):
        assert time.monotonic() < deadline, "the pending words were not indexed"
        time.sleep(0.05)
    assert indexer.moved >= 5
