"""A single look-up skips the graph queries its search says would find nothing
(accord.store.hints). The answers must not change, for any viewer, and rows a viewer may not
see must not make the look-up run a query (so its timing does not tell that they exist)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from correlation_support import ident, ingest, value_indicator

import accord.intel.lookup.graph as graph_module
import accord.intel.lookup.service as service_module
from accord.intel.lookup.service import Lookup
from accord.model.extension import ACCORD_EXTENSION_ID
from accord.model.tlp import Tlp
from accord.model.visibility import Recipients, Viewer
from accord.store.node import Store
from community import Community

NS = uuid.UUID("6f1c7c53-5d2a-4c3e-9a55-0000000000c1")
HIDDEN_ONLY = "198.51.100.70"  # a CLEAR indicator that only AMBER objects refer to
EVERYTHING = "198.51.100.71"  # a CLEAR indicator with a CLEAR relationship, sighting, twin
NOTHING = "198.51.100.72"  # a CLEAR indicator alone
AMBER_ONLY = "198.51.100.73"  # known only to an AMBER indicator
ANONYMOUS = "198.51.100.75"  # a CLEAR indicator with an AMBER anonymous sighting
VALUES = [HIDDEN_ONLY, EVERYTHING, NOTHING, AMBER_ONLY, ANONYMOUS, "198.51.100.74", "a.example"]


def _id(kind: str, name: str) -> str:
    return f"{kind}--{uuid.uuid5(NS, name)}"


def _around(target: str, tlp: Tlp, name: str, anonymous: bool = False) -> list[dict[str, Any]]:
    """A malware the indicator ``target`` indicates, a sighting of it, and a second indicator
    of the same value (a correlation), all at ``tlp``."""
    stamp = "2026-01-01T00:00:00.000Z"
    common = {"spec_version": "2.1", "created": stamp, "modified": stamp}
    marking = {"object_marking_refs": [tlp.marking_id]}
    malware = {
        "type": "malware",
        "id": _id("malware", name),
        "name": f"{name} malware",
        "is_family": True,
        **common,
        **marking,
    }
    relationship = {
        "type": "relationship",
        "id": _id("relationship", name),
        "relationship_type": "indicates",
        "source_ref": target,
        "target_ref": malware["id"],
        **common,
        **marking,
    }
    sighting: dict[str, Any] = {
        "type": "sighting",
        "id": _id("sighting", name),
        "sighting_of_ref": target,
        "count": 3,
        "first_seen": "2026-03-01T00:00:00Z",
        **common,
        **marking,
    }
    if anonymous:
        sighting["extensions"] = {
            ACCORD_EXTENSION_ID: {"extension_type": "property-extension", "anonymous": True}
        }
    return [malware, relationship, sighting]


@pytest.fixture
def viewers(store: Store, community: Community) -> dict[str, Viewer]:
    police = Recipients(org_ids=frozenset({community.police.id}))
    clear = [
        value_indicator(name, "ipv4-addr:value", value, Tlp.CLEAR)
        for name, value in (("hidden-only", HIDDEN_ONLY), ("everything", EVERYTHING))
    ]
    clear.append(value_indicator("nothing", "ipv4-addr:value", NOTHING, Tlp.CLEAR))
    clear.append(value_indicator("anonymous", "ipv4-addr:value", ANONYMOUS, Tlp.CLEAR))
    ingest(store, community.analyst, clear)
    amber = _around(ident("hidden-only"), Tlp.AMBER, "hidden")
    amber.append(value_indicator("hidden twin", "ipv4-addr:value", HIDDEN_ONLY, Tlp.AMBER))
    amber.append(value_indicator("amber only", "ipv4-addr:value", AMBER_ONLY, Tlp.AMBER))
    amber.append(_around(ident("anonymous"), Tlp.AMBER, "anonymous", anonymous=True)[2])
    ingest(store, community.analyst, amber, police)
    shared = _around(ident("everything"), Tlp.CLEAR, "shared", anonymous=True)
    shared.append(value_indicator("twin", "ipv4-addr:value", EVERYTHING, Tlp.CLEAR))
    ingest(store, community.operator, shared)
    d = store.directory
    return {
        "creator": d.viewer(community.analyst),
        "recipient": d.viewer(community.investigator),
        "outsider": d.viewer(community.operator),
        "anonymous": Viewer.anonymous(),
    }


def _answers(store: Store, viewer: Viewer, values: list[str]) -> list[bytes]:
    lookup = Lookup(store, viewer, now=lambda: datetime(2026, 6, 1, tzinfo=UTC))
    return [orjson.dumps(answer.as_json()) for answer in lookup.many(values)]


def test_answers_are_the_same_with_and_without_hints(
    store: Store, viewers: dict[str, Viewer], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, viewer in viewers.items():
        hinted = [_answers(store, viewer, [value])[0] for value in VALUES]
        together = _answers(store, viewer, VALUES)
        monkeypatch.setattr(service_module, "HINTS_UP_TO", 0)
        plain = [_answers(store, viewer, [value])[0] for value in VALUES]
        assert _answers(store, viewer, VALUES) == plain, name
        monkeypatch.undo()
        assert hinted == plain, name
        assert together == plain, name
    # The data says what the test is about: the creator sees the hidden context, the
    # outsider does not, and both see the shared context.
    creator = orjson.loads(_answers(store, viewers["creator"], [HIDDEN_ONLY])[0])
    outsider = orjson.loads(_answers(store, viewers["outsider"], [HIDDEN_ONLY])[0])
    assert creator["related"] and creator["correlations"] and creator["sightings"] == 3
    assert not outsider["related"] and not outsider["correlations"]
    assert outsider["sightings"] == 0
    shared = orjson.loads(_answers(store, viewers["outsider"], [EVERYTHING])[0])
    assert shared["related"] and shared["correlations"] and shared["sightings"] == 3


def _queries_run(
    store: Store, viewer: Viewer, value: str, monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    ran: list[str] = []

    def counting(name: str, function: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            ran.append(name)
            return function(*args, **kwargs)

        return wrapper

    with monkeypatch.context() as patch:
        patch.setattr(
            graph_module, "sighting_totals", counting("sightings", graph_module.sighting_totals)
        )
        patch.setattr(
            graph_module,
            "correlated_with",
            counting("correlations", graph_module.correlated_with),
        )
        patch.setattr(
            store.objects, "referencing", counting("references", store.objects.referencing)
        )
        _answers(store, viewer, [value])
    return sorted(ran)


def test_hidden_rows_do_not_make_a_lookup_run_a_query(
    store: Store, viewers: dict[str, Viewer], monkeypatch: pytest.MonkeyPatch
) -> None:
    everything = ["correlations", "references", "sightings"]
    assert _queries_run(store, viewers["creator"], HIDDEN_ONLY, monkeypatch) == everything
    assert _queries_run(store, viewers["recipient"], HIDDEN_ONLY, monkeypatch) == everything
    # The outsider and an anonymous caller run exactly what they run for an indicator that
    # nothing refers to.
    for name in ("outsider", "anonymous"):
        assert _queries_run(store, viewers[name], HIDDEN_ONLY, monkeypatch) == [], name
        assert _queries_run(store, viewers[name], NOTHING, monkeypatch) == [], name
        assert _queries_run(store, viewers[name], AMBER_ONLY, monkeypatch) == [], name
    assert _queries_run(store, viewers["outsider"], EVERYTHING, monkeypatch) == everything
    # An anonymous sighting counts for whoever may see what it sighted, hidden or not.
    for name in ("outsider", "anonymous"):
        assert _queries_run(store, viewers[name], ANONYMOUS, monkeypatch) == ["sightings"]
        answer = orjson.loads(_answers(store, viewers[name], [ANONYMOUS])[0])
        assert answer["sightings"] == 3, name
