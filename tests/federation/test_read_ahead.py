"""accord.federation.read_ahead: the same items in the same order, one step ahead at most,
the walk's errors raised where their item would have been, and nothing left running once
closed."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from accord.federation.read_ahead import ReadAhead


def test_same_items_in_order_one_ahead_at_most() -> None:
    asked: list[int] = []

    def walk() -> Iterator[int]:
        for n in range(5):
            asked.append(n)
            yield n

    seen = []
    with ReadAhead(walk()) as items:
        for item in items:
            seen.append(item)
            assert len(asked) <= item + 2  # this item and at most the next one
    assert seen == [0, 1, 2, 3, 4]


def test_an_error_is_raised_where_its_item_would_have_been() -> None:
    def walk() -> Iterator[int]:
        yield 1
        raise RuntimeError("the peer went away")

    items = ReadAhead(walk())
    assert next(items) == 1
    with pytest.raises(RuntimeError, match="went away"):
        next(items)
    with pytest.raises(StopIteration):
        next(items)
    items.close()


def test_close_waits_for_the_step_in_flight_and_closes_the_walk() -> None:
    release = threading.Event()
    closed = threading.Event()

    def walk() -> Iterator[int]:
        try:
            yield 1
            release.wait(5)  # a slow request for the second page
            yield 2
            yield 3
        finally:
            closed.set()

    items = ReadAhead(walk())
    assert next(items) == 1  # the second page is now being fetched
    threading.Timer(0.2, release.set).start()
    items.close()
    assert release.is_set() and closed.is_set()
    with pytest.raises(StopIteration):
        next(items)


def test_an_empty_walk_and_closing_unused() -> None:
    assert list(ReadAhead(iter(()))) == []
    ReadAhead(iter((1, 2))).close()
