"""Browsing and searching the latest versions a viewer may see: the statement behind
`accord.store.objects.ObjectStore.query`, built from an `ObjectQuery`.

A page is a keyset page on the versions' sequence numbers, in storage order or its reverse
(`ObjectQuery.newest_first`), after a cursor that the caller got sealed from
`accord.store.cursors` (a bare sequence number would tell a viewer how many hidden versions
lie between two it sees). Answers are pages, never totals: a count of the matches before the
visibility rule would count hidden objects.

Which rows a page starts from is written out, not left to SQLite's planner
(`accord.store.plans`): with words to find, the full-text index is read first, in sequence
order, and each match's version is then fetched by its key and checked; with a label, the
label's rows in sequence order; otherwise the versions themselves. Either way the visibility
rule (`accord.store.visibility`) and ``is_latest`` are conditions on every version answered.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, String, bindparam, exists, select

from accord.model.holdings import UNSIGNED_REPORT_TYPES
from accord.model.visibility import Viewer
from accord.store.dialects import Backend
from accord.store.plans import ordered
from accord.store.records import ObjectQuery
from accord.store.schema import object_labels, objects
from accord.store.visibility import visible_to


def statement(
    backend: Backend, viewer: Viewer, query: ObjectQuery, columns: tuple[Any, ...]
) -> Select[Any]:
    """The SELECT of ``columns`` (of ``objects``) answering one page of ``query``."""
    stmt = select(*columns)
    key: ColumnElement[int] = objects.c.seq
    if query.text is not None:
        words = bindparam("text_query", backend.text_query(query.text), type_=String())
        found = backend.text_matches(words)
        stmt = stmt.select_from(ordered(found.table, objects, objects.c.seq == found.seq))
        if found.condition is not None:
            stmt = stmt.where(found.condition)
        key = found.seq
        if query.label is not None:
            stmt = stmt.where(
                exists()
                .where(object_labels.c.label == query.label)
                .where(object_labels.c.seq == objects.c.seq)
            )
    elif query.label is not None:
        stmt = stmt.select_from(
            ordered(object_labels, objects, objects.c.seq == object_labels.c.seq)
        ).where(object_labels.c.label == query.label)
        key = object_labels.c.seq
    stmt = stmt.where(visible_to(viewer, objects)).where(objects.c.is_latest)
    if query.types:
        stmt = stmt.where(objects.c.type.in_(list(query.types)))
    if query.owner_org is not None:
        stmt = stmt.where(objects.c.owner_org == query.owner_org)
        if query.owner_org != viewer.org_id:
            # `accord.model.holdings.holder_disclosed` in SQL: another organisation's
            # holdings that may be anonymous reports do not answer to its name.
            stmt = stmt.where(
                objects.c.created_by_ref.is_not(None)
                | objects.c.type.not_in(sorted(UNSIGNED_REPORT_TYPES))
            )
    if query.tlp is not None:
        stmt = stmt.where(objects.c.tlp == int(query.tlp))
    if query.modified_since is not None:
        stmt = stmt.where(objects.c.modified >= query.modified_since)
    if query.modified_until is not None:
        stmt = stmt.where(objects.c.modified <= query.modified_until)
    if query.newest_first:
        if query.after_seq:
            stmt = stmt.where(key < query.after_seq)
        stmt = stmt.order_by(key.desc())
    else:
        if query.after_seq:  # (no "seq > 0" on a first page: PostgreSQL could take that
            stmt = stmt.where(key > query.after_seq)  # for a reason to read the key's index)
        stmt = stmt.order_by(key)
    return stmt.limit(query.limit)
