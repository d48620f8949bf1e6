"""What browsing and search find object versions by, besides their columns: their words (the
full-text index, which each backend keeps in its own way: `accord.store.dialects`) and their
labels (``object_labels``). Written with the versions, in the write's transaction
(`accord.store.objects.write_versions`), and deleted with them (`accord.store.taxii`).

What counts as an object's words and labels is `accord.model.search_text`; migration 0011
filled both for the versions stored before it. Changing `searchable_text` changes only what
is written from then on: the versions already indexed keep their words until a migration
rebuilds the index.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, delete

from accord.model.search_text import labels_of
from accord.store.dialects import backend_for
from accord.store.records import NewVersion
from accord.store.schema import object_labels


def index_versions(conn: Connection, rows: Sequence[tuple[int, NewVersion]]) -> None:
    """Index fresh versions (``(seq, version)``), in ``conn``'s transaction."""
    backend = backend_for(conn)
    backend.index_text(conn, [(seq, version.text) for seq, version in rows if version.text])
    backend.bulk_insert(
        conn,
        object_labels,
        ("label", "seq"),
        [(label, seq) for seq, version in rows for label in version.labels],
    )


def unindex_versions(conn: Connection, rows: Sequence[tuple[int, Mapping[str, Any]]]) -> None:
    """Take versions about to be deleted (``(seq, their JSON)``) out of the index."""
    if not rows:
        return
    backend_for(conn).unindex_text(conn, [seq for seq, _ in rows])
    # object_labels is keyed by label: its rows are found again from the versions' JSON.
    keys = [{"l": label, "s": seq} for seq, obj in rows for label in labels_of(obj)]
    if keys:
        conn.execute(
            delete(object_labels)
            .where(object_labels.c.label == bindparam("l"))
            .where(object_labels.c.seq == bindparam("s")),
            keys,
        )
