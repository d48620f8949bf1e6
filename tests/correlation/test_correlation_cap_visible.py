"""Issue 14, item 5(a): the correlation cap counts what the viewer may see. Hidden objects
holding a value must not make a visible correlation disappear from a look-up."""

from __future__ import annotations

from correlation_support import ident, ingest, value_indicator

from accord.intel.lookup import Lookup
from accord.model.tlp import Tlp
from accord.model.visibility import Viewer
from accord.store.correlation.policy import CorrelationPolicy, set_policy
from accord.store.node import Store
from community import Community

VALUE = "203.0.113.200"
PATH = "ipv4-addr:value"


def _correlated_names(store: Store, viewer: Viewer) -> set[str]:
    [answer] = Lookup(store, viewer).many([VALUE])
    names = set()
    for correlation in answer.correlations:
        names.add(str(correlation.obj.json().get("name")))
    for reason in answer.reasons:
        names.discard(str(reason.get("name")) if isinstance(reason, dict) else "")
    return names


def test_hidden_holders_do_not_hide_a_visible_correlation(
    store: Store, community: Community
) -> None:
    set_policy(store.engine, CorrelationPolicy(cap=3))
    ingest(store, community.analyst, [value_indicator("cert-green", PATH, VALUE, Tlp.GREEN)])
    ingest(store, community.investigator, [value_indicator("police-green", PATH, VALUE, Tlp.GREEN)])
    water = Viewer(community.water.id, community.operator.id)
    before = _correlated_names(store, water)
    assert {"cert-green", "police-green"} & before  # the two GREEN objects correlate

    # Three RED objects of one analyst hold the value too: the hub passes the cap of 3.
    ingest(
        store,
        community.colleague,
        [value_indicator(f"red-{n}", PATH, VALUE, Tlp.RED) for n in range(3)],
    )
    after = _correlated_names(store, water)
    assert after == before  # the outsider's look-up is unchanged
    assert not any(name.startswith("red-") for name in after)
    # The colleague sees the RED ones and the GREEN ones: five holders, over its cap.
    colleague = Viewer(community.cert.id, community.colleague.id)
    [answer] = Lookup(store, colleague).many([VALUE])
    assert {c.obj.id for c in answer.correlations} <= {
        ident(n) for n in ("cert-green", "police-green", "red-0", "red-1", "red-2")
    }


def test_hidden_holders_of_an_over_correlating_value_set_no_hint(
    store: Store, community: Community
) -> None:
    """The look-up's hint for correlations (accord.store.hints) counts only holders the
    viewer may see: an outsider runs the same queries whether or not hidden objects made the
    value over-correlating."""
    from accord.model.observables import detect
    from accord.store.records import CORRELATED

    set_policy(store.engine, CorrelationPolicy(cap=3))
    ingest(store, community.operator, [value_indicator("water-green", PATH, VALUE, Tlp.GREEN)])
    ingest(
        store,
        community.colleague,
        [value_indicator(f"red-{n}", PATH, VALUE, Tlp.RED) for n in range(4)],
    )
    observable = detect(VALUE)
    assert observable is not None

    def bits(viewer: Viewer) -> int:
        with store.engine.connect() as conn:
            [matches] = store.index.search_many(viewer, [observable], conn, context=True)
        return max(m.context for m in matches)

    water = Viewer(community.water.id, community.operator.id)
    assert not bits(water) & CORRELATED  # only hidden holders besides its own
    colleague = Viewer(community.cert.id, community.colleague.id)
    assert bits(colleague) & CORRELATED  # it sees the other RED holders
