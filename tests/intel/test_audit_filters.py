"""`accord.intel.audit_view.query` and `chain_status`: a filter finds exactly what the reader
would find by eye in what `present` shows them, and the chain's state is told to an org-admin
about their own organisation's entries only."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from accord.intel.audit_view import chain_status, present, query
from accord.model.roles import Role
from accord.model.tlp import Tlp
from accord.store.audit import AuditQuery, Event
from accord.store.node import Store
from accord.store.schema import audit_log
from community import Community
from leakdata import indicator, load_matrix

RED = str(indicator(Tlp.RED)["id"])
GREEN = str(indicator(Tlp.GREEN)["id"])
UNKNOWN = "malware--0a1b2c3d-0000-4000-8000-00000000abcd"


def _log(store: Store, community: Community) -> None:
    """Entries of the CERT organisation that name the RED indicator (seen by its creator
    and the police investigator only) and the GREEN one, as target, in several actions."""
    cert = community.cert.id
    analyst = community.analyst.id
    for action in ("write", "read", "lookup", "admin", "delete"):
        for target in (RED, GREEN, UNKNOWN, "198.51.100.14"):
            store.audit.append(Event(action, analyst, cert, target, {"n": 1}))


@pytest.mark.parametrize("who", ["creator", "colleague"])
def test_a_target_filter_finds_what_the_reader_sees(
    store: Store, community: Community, who: str
) -> None:
    viewers = load_matrix(store, community)
    _log(store, community)
    reader, _ = store.directory.add_user(f"{who}-admin@cert.example", "CERT-EX", Role.ORG_ADMIN)
    viewer = viewers[who]
    everything = store.audit.newest(AuditQuery(org_id=community.cert.id), None, 1000)
    shown = present(everything, viewer, store.objects)
    for target in (RED, GREEN, UNKNOWN, "198.51.100.14"):
        asked = query(reader, viewer, store.objects, target=target)
        found = {e.seq for e in store.audit.newest(asked, None, 1000)}
        by_eye = {e["seq"] for e in shown if e["target"] == target}
        assert found == by_eye, (who, target)
    # The colleague may not see the RED indicator: only look-ups and directory entries that
    # show it whole are found; the creator finds every entry.
    red = {e.action for e in store.audit.newest(query(reader, viewer, store.objects, target=RED))}
    assert red == (
        {"lookup", "admin"}
        if who == "colleague"
        else {"write", "read", "lookup", "admin", "delete"}
    )


def test_the_query_keeps_the_readers_scope(store: Store, community: Community) -> None:
    store.directory.add_user("admin@cert.example", "CERT-EX", Role.ADMIN)
    boss, _ = store.directory.add_user("boss@water.example", "Water Utility", Role.ORG_ADMIN)
    node_admin = store.directory.user("admin@cert.example")
    viewer = store.directory.viewer(boss)
    assert query(boss, viewer, store.objects).org_id == community.water.id
    assert query(node_admin, store.directory.viewer(node_admin), store.objects).org_id is None


def test_an_org_admin_hears_of_breaks_elsewhere_only_as_a_count(
    store: Store, community: Community
) -> None:
    admin, _ = store.directory.add_user("admin@cert.example", "CERT-EX", Role.ADMIN)
    boss, _ = store.directory.add_user("boss@water.example", "Water Utility", Role.ORG_ADMIN)
    water, cert = community.water.id, community.cert.id
    store.audit.append(Event("lookup", boss.id, water, "198.51.100.1"))
    store.audit.append(Event("lookup", admin.id, cert, "198.51.100.2"))
    store.audit.append(Event("lookup", boss.id, water, "198.51.100.3"))
    store.audit.append(Event("lookup", admin.id, cert, "198.51.100.4"))
    whole = chain_status(store.audit, admin)
    assert whole.intact and whole.count == 4 and whole.last_seq == 4
    mine = chain_status(store.audit, boss)
    assert mine.intact and mine.count is None and mine.last_seq == 3
    with store.engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 2).values(target="x"))
    seen = chain_status(store.audit, boss)
    assert not seen.intact and seen.breaks == () and seen.breaks_elsewhere == 1
    assert [b.seq for b in chain_status(store.audit, admin).breaks] == [2]
    with store.engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 3).values(target="y"))
    seen = chain_status(store.audit, boss)
    assert [b.seq for b in seen.breaks] == [3] and seen.breaks_elsewhere == 1
