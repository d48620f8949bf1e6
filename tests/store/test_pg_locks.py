"""PostgreSQL advisory locks are taken per schema: two nodes sharing a database in separate
schemas never wait on each other, while appends within one schema still take turns."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from accord.store.audit import Event
from accord.store.node import Store

pytestmark = pytest.mark.postgres


def _append_in_thread(store: Store) -> threading.Thread:
    thread = threading.Thread(
        target=store.audit.append, args=(Event("admin", None, None, "waiter"),), daemon=True
    )
    thread.start()
    return thread


def test_audit_lock_is_per_schema(pg_schemas: Callable[[], str]) -> None:
    first, second = Store.open(pg_schemas()), Store.open(pg_schemas())
    first.init()
    second.init()
    try:
        with first.engine.begin() as holding:
            # An open transaction in the first schema holds its audit lock.
            first.audit.append(Event("admin", None, None, "holder"), connection=holding)
            other_schema = _append_in_thread(second)
            other_schema.join(timeout=10)
            assert not other_schema.is_alive(), "an append in another schema waited"
            same_schema = _append_in_thread(first)
            same_schema.join(timeout=0.5)
            assert same_schema.is_alive(), "an append in the same schema did not wait"
        same_schema.join(timeout=10)
        assert not same_schema.is_alive()
        assert [e.target for e in first.audit.entries()] == ["holder", "waiter"]
        assert first.audit.verify() == (2, [])
        assert [e.target for e in second.audit.entries()] == ["waiter"]
    finally:
        first.close()
        second.close()


def test_write_lock_is_per_schema(pg_schemas: Callable[[], str]) -> None:
    from sqlalchemy import text

    from accord.store.dialects.postgresql import lock_sql as pg_lock_sql
    from accord.store.objects import WRITE_LOCK

    first, second = Store.open(pg_schemas()), Store.open(pg_schemas())
    try:
        with first.engine.begin() as a, second.engine.begin() as b:
            a.execute(text(pg_lock_sql(WRITE_LOCK)))
            b.execute(text("SET LOCAL lock_timeout = '2s'"))
            b.execute(text(pg_lock_sql(WRITE_LOCK)))  # raises if it had to wait 2 s
    finally:
        first.close()
        second.close()
