"""The audit log read newest first with filters (`AuditLog.newest`), the whole chain's check
(`AuditLog.verify_chain`), and the added directory and feed reads the portal uses
(`Directory.groups`, `Feeds.claim`)."""

from __future__ import annotations

from sqlalchemy import update

from accord.model.roles import Role
from accord.store.audit import CONTENT_CHANGED, ORDER_BROKEN, AuditQuery, Event
from accord.store.node import Store
from accord.store.schema import audit_log


def _fill(store: Store) -> None:
    events = [
        Event("lookup", "u1", "org-a", "198.51.100.1"),
        Event("write", "u1", "org-a", "indicator--1"),
        Event("admin", "u2", "org-b", "user-x", {"change": "add user"}),
        Event("read", "u3", "org-a", "indicator--1"),
        Event("lookup", "u2", "org-b", "indicator--1"),
    ]
    for event in events:
        store.audit.append(event)


def test_newest_first_with_each_filter(store: Store) -> None:
    _fill(store)
    log = store.audit
    assert [e.seq for e in log.newest(AuditQuery())] == [5, 4, 3, 2, 1]
    assert [e.seq for e in log.newest(AuditQuery(org_id="org-a"))] == [4, 2, 1]
    assert [e.seq for e in log.newest(AuditQuery(user_id="u2"))] == [5, 3]
    assert [e.seq for e in log.newest(AuditQuery(action="lookup"))] == [5, 1]
    assert [e.seq for e in log.newest(AuditQuery(target="indicator--1"))] == [5, 4, 2]
    only = AuditQuery(target="indicator--1", actions=frozenset({"lookup", "admin"}))
    assert [e.seq for e in log.newest(only)] == [5]
    both = AuditQuery(action="write", actions=frozenset({"lookup"}))
    assert log.newest(both) == []
    third = log.newest(AuditQuery())[2]
    assert [e.seq for e in log.newest(AuditQuery(since=third.at))] == [5, 4, 3]
    assert [e.seq for e in log.newest(AuditQuery(until=third.at))] == [2, 1]


def test_keyset_pages(store: Store) -> None:
    _fill(store)
    first = store.audit.newest(AuditQuery(), None, 2)
    second = store.audit.newest(AuditQuery(), first[-1].seq, 2)
    third = store.audit.newest(AuditQuery(), second[-1].seq, 2)
    assert [e.seq for e in first + second + third] == [5, 4, 3, 2, 1]


def test_verify_chain_names_the_newest_entry_and_each_break(store: Store) -> None:
    empty = store.audit.verify_chain()
    assert empty.intact and empty.count == 0 and empty.last_seq is None
    _fill(store)
    check = store.audit.verify_chain()
    assert check.intact and check.count == 5 and check.last_seq == 5
    assert check.last_at == store.audit.newest(AuditQuery(), None, 1)[0].at
    with store.engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 3).values(target="someone else"))
    broken = store.audit.verify_chain()
    assert not broken.intact
    assert [(b.seq, b.kind, b.org_id) for b in broken.breaks] == [(3, CONTENT_CHANGED, "org-b")]
    with store.engine.begin() as conn:
        conn.execute(audit_log.delete().where(audit_log.c.seq == 4))
    kinds = [(b.seq, b.kind) for b in store.audit.verify_chain().breaks]
    assert kinds == [(3, CONTENT_CHANGED), (5, ORDER_BROKEN)]
    assert store.audit.verify() == (4, list(store.audit.verify_chain().breaks))


def test_groups_are_listed_with_their_members(store: Store) -> None:
    d = store.directory
    assert d.groups() == []
    a, b = d.add_org("A"), d.add_org("B")
    d.add_org("C")
    made = d.add_group("Pair", ["A", "B"])
    lonely = d.add_group("Empty", [])
    found = d.groups()
    assert [g.name for g in found] == ["Empty", "Pair"]
    assert found[0] == lonely
    assert found[1].id == made.id and set(found[1].org_ids) == {a.id, b.id}


def test_a_feed_is_claimed_once(store: Store) -> None:
    store.directory.add_org("A")
    user, _ = store.directory.add_user("a@a.example", "A", Role.ADMIN)
    feed = store.feeds.add("F", "taxii", user.id, url="http://127.0.0.1:9/", collection="c")
    claimed = store.feeds.claim(feed.id)
    assert claimed is not None and claimed.id == feed.id
    assert store.feeds.claim(feed.id) is None  # leased
    store.feeds.finish(feed.id, None)  # the pull ends: the lease is released
    assert store.feeds.claim(feed.id) is not None
    imported = store.feeds.add("I", "import", user.id)
    assert store.feeds.claim(imported.id) is None
    assert store.feeds.claim("no-such-feed") is None
