"""A store of many objects for the dashboard's speed test: indicators of two organisations at
every TLP level over values that overlap as real feeds' do (a pool of addresses and domains
shared between indicators, hashes of their own), sightings of them (some anonymous), all
added over the last 120 days, and a month of the organisations' look-ups."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import orjson
from sqlalchemy import bindparam, text, update

from accord.ingest.stix import Ingester, IngestOptions
from accord.model.extension import ACCORD_EXTENSION_ID
from accord.model.tlp import Tlp
from accord.model.visibility import Recipients
from accord.store.audit import Event
from accord.store.node import Store
from accord.store.schema import objects
from community import Community

LEVELS = [Tlp.CLEAR] * 3 + [Tlp.GREEN] * 3 + [Tlp.AMBER] * 2 + [Tlp.AMBER_STRICT, Tlp.RED]
NAMESPACE = uuid.UUID("d45b0a2e-0000-4000-8000-000000000017")
BUNDLE = 5000


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def load(store: Store, community: Community, total: int = 20_000, seed: int = 17) -> None:
    """``total`` objects: four indicators for each sighting."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    addresses = [
        f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}" for _ in range(3000)
    ]
    domains = [f"{uuid.UUID(int=rng.getrandbits(128)).hex[:10]}.example.org" for _ in range(4000)]
    # Recipients of AMBER (an organisation) and of RED (a person): the CERT shares with the
    # police, the police with nobody.
    makers = [
        (
            community.analyst,
            community.cert.id,
            Recipients(org_ids=frozenset({community.police.id})),
            Recipients(user_ids=frozenset({community.investigator.id})),
        ),
        (community.investigator, community.police.id, Recipients(), Recipients()),
    ]
    indicators = total * 4 // 5
    made: list[list[str]] = [[], []]
    for side, (user, org_id, shared, named) in enumerate(makers):
        ingester = Ingester(store, user)
        batch: list[dict[str, object]] = []
        for n in range(indicators // 2):
            kind = rng.random()
            if kind < 0.4:
                term = f"[ipv4-addr:value = '{rng.choice(addresses)}']"
            elif kind < 0.8:
                term = f"[domain-name:value = '{rng.choice(domains)}']"
            else:
                term = f"[file:hashes.'SHA-256' = '{rng.getrandbits(256):064x}']"
            level = rng.choice(LEVELS)
            object_id = f"indicator--{uuid.uuid5(NAMESPACE, f'{side} {n}')}"
            made[side].append(object_id)
            batch.append(
                {
                    "type": "indicator",
                    "spec_version": "2.1",
                    "id": object_id,
                    "created_by_ref": org_id,
                    "created": "2026-01-01T00:00:00.000Z",
                    "modified": "2026-01-01T00:00:00.000Z",
                    "name": f"load indicator {side} {n}",
                    "pattern": term,
                    "pattern_type": "stix",
                    "valid_from": "2026-01-01T00:00:00Z",
                    "object_marking_refs": [level.marking_id],
                }
            )
            if len(batch) == BUNDLE:
                _ingest(ingester, batch, shared, named)
                batch = []
        _ingest(ingester, batch, shared, named)
    sightings = total - indicators
    for side, (user, org_id, shared, named) in enumerate(makers):
        ingester = Ingester(store, user)
        batch = []
        for n in range(sightings // 2):
            anonymous = rng.random() < 0.2
            seen = now - timedelta(days=rng.randrange(100), seconds=rng.randrange(86400))
            sighting: dict[str, object] = {
                "type": "sighting",
                "spec_version": "2.1",
                "id": f"sighting--{uuid.uuid5(NAMESPACE, f's {side} {n}')}",
                "created": "2026-01-01T00:00:00.000Z",
                "modified": "2026-01-01T00:00:00.000Z",
                "first_seen": _stamp(seen),
                "last_seen": _stamp(seen),
                "count": rng.randrange(1, 5),
                "sighting_of_ref": rng.choice(made[rng.randrange(2)]),
                "object_marking_refs": [rng.choice(LEVELS).marking_id],
            }
            if anonymous:
                sighting["extensions"] = {
                    ACCORD_EXTENSION_ID: {
                        "extension_type": "property-extension",
                        "sighting_kind": "seen",
                        "anonymous": True,
                    }
                }
            else:
                sighting["created_by_ref"] = org_id
                sighting["where_sighted_refs"] = [org_id]
            batch.append(sighting)
        _ingest(ingester, batch, shared, named)
    _spread(store, rng, now)
    _analyse(store)
    _look_ups(store, community, rng, addresses + domains)


def _ingest(
    ingester: Ingester, batch: list[dict[str, object]], shared: Recipients, named: Recipients
) -> None:
    """RED objects in a bundle of their own: TLP:RED is shared with named people only."""
    red = [o for o in batch if o["object_marking_refs"] == [Tlp.RED.marking_id]]
    rest = [o for o in batch if o["object_marking_refs"] != [Tlp.RED.marking_id]]
    for objects_, recipients in ((rest, shared), (red, named)):
        if not objects_:
            continue
        data = orjson.dumps(
            {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects_}
        )
        report = ingester.ingest_bytes(data, "load", IngestOptions(recipients=recipients))
        assert report.ok, str(report.summary())[:1000]


def _spread(store: Store, rng: random.Random, now: datetime) -> None:
    """Dates of addition over the last 120 days, as a node that has run that long has."""
    with store.engine.begin() as conn:
        seqs = [seq for (seq,) in conn.execute(objects.select().with_only_columns(objects.c.seq))]
        stmt = (
            update(objects)
            .where(objects.c.seq == bindparam("s"))
            .values(date_added=bindparam("when"))
        )
        conn.execute(
            stmt,
            [{"s": seq, "when": _stamp(now - timedelta(days=rng.randrange(120)))} for seq in seqs],
        )


def _analyse(store: Store) -> None:
    """PostgreSQL's statistics, as a node's own writes leave them (`accord.store.statistics`
    analyses after a large ingest): the dates rewritten above left every row of ``objects``
    twice on disk, and plans made from that would not be the node's."""
    if store.engine.dialect.name != "postgresql":
        return
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE objects, observables, object_audience, sighting_facts"))


def _look_ups(store: Store, community: Community, rng: random.Random, values: list[str]) -> None:
    """Single look-ups by the CERT and the police (all made now)."""
    events = [
        Event(
            action="lookup",
            user_id=user.id,
            org_id=user.org_id,
            target=rng.choice(values[:200]),
            detail={"verdict": "unknown", "answered_by": []},
        )
        for user in (community.analyst, community.investigator)
        for _ in range(1500)
    ]
    store.audit.append(*events)
