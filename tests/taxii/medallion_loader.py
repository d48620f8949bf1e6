"""Test helper: loading a medallion data file (its memory backend's JSON: API roots, collections with
their objects) into the node, so that the same collections serve the same objects.

Each collection becomes a feed of kind ``import`` holding its objects (with provenance) and a
feed collection with the collection's id, title and description. Whether a caller may read or
write is Accord's rule (role and organisation), not the file's ``can_read``/``can_write``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accord.federation.feed_pull import store_page
from accord.federation.taxii_client import Page
from accord.ingest.stix import Ingester, IngestOptions
from accord.model.tlp import Tlp
from accord.store.node import Store
from accord.store.organisations import User
from accord.taxii.collections import Collection, define


def load_medallion(
    store: Store,
    data: Mapping[str, Any],
    user: User,
    api_root: str,
    tlp: Tlp = Tlp.GREEN,
) -> list[Collection]:
    """Make the collections of ``api_root`` in ``data``; objects without a TLP marking take
    ``tlp``. Answers the collections made, in the file's order."""
    made = []
    ingester = Ingester(store, user, tlp)
    for source in data[api_root].get("collections", []):
        name = f"{api_root}/{source['id']}"
        feed = store.feeds.add(name, "import", user.id, tlp=tlp)
        page = Page(list(source.get("objects", [])), False, None, None, None)
        store_page(store, feed, ingester, IngestOptions(tlp=tlp, partial=True), page)
        made.append(
            define(
                store,
                source.get("title", name),
                feed=feed.id,
                description=source.get("description"),
                collection_id=source["id"],
            )
        )
    return made
