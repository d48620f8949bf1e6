"""STIX 2.1 bundles out: the latest versions a viewer may see, as stored, streamed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence

from accord.model.visibility import Viewer
from accord.store.node import Store


def export_bundle(store: Store, viewer: Viewer, types: Sequence[str] = ()) -> Iterator[str]:
    """Chunks of one STIX 2.1 bundle; objects are served exactly as they were stored.

    Streaming keeps memory flat however large the store is.
    """
    yield f'{{"type":"bundle","id":"bundle--{uuid.uuid4()}","objects":['
    first = True
    for stored in store.objects.iterate(viewer, types):
        yield stored.raw if first else "," + stored.raw
        first = False
    yield "]}\n"
