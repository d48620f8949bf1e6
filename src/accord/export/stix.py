"""STIX 2.1 bundles out: the latest versions a viewer may see, as stored, streamed."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence

from accord.model.visibility import Viewer
from accord.store.node import Store
from accord.store.records import StoredObject


def export_bundle(
    store: Store,
    viewer: Viewer,
    types: Sequence[str] = (),
    read: Callable[[StoredObject], None] | None = None,
    bundle_id: str | None = None,
) -> Iterator[str]:
    """Chunks of one STIX 2.1 bundle; objects are served exactly as they were stored.
    ``read``: called with each object put in the bundle (the caller's audit of reads);
    ``bundle_id``: the bundle's id (a fresh one by default).

    Streaming keeps memory flat however large the store is.
    """
    bundle_id = bundle_id or f"bundle--{uuid.uuid4()}"
    yield f'{{"type":"bundle","id":"{bundle_id}","objects":['
    first = True
    for stored in store.objects.iterate(viewer, types):
        if read is not None:
            read(stored)
        yield stored.raw if first else "," + stored.raw
        first = False
    yield "]}\n"
