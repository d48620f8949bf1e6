"""Opaque ``next`` tokens for TAXII pagination (TAXII 2.1 section 3.4).

A token is an `accord.store.cursors` cursor: the insertion sequence of the last version
served (the keyset; ``objects.seq`` follows ``date_added``), encrypted and authenticated
under the node's key, bound to the caller and to the request's endpoint, collection and
filters. The server keeps no per-client state: any worker can continue any client's paging,
a token survives restarts, reveals nothing of the sequence (whose gaps would count hidden
objects), and cannot be forged, reused by another caller or with other filters (that
answers 400). Objects added while a client pages get larger sequence numbers and so appear
on later pages, never twice.
"""

from __future__ import annotations

from accord.model.visibility import Viewer
from accord.store.cursors import BadCursor, Cursors
from accord.taxii.errors import TaxiiError


def encode(cursors: Cursors, viewer: Viewer, seq: int, filters: bytes) -> str:
    return cursors.seal(seq, viewer, b"taxii:" + filters)


def decode(cursors: Cursors, viewer: Viewer, token: str, filters: bytes) -> int:
    """The sequence number after which the next page starts; 400 for a token this node did
    not give out to this caller for these filters."""
    try:
        return cursors.open(token, viewer, b"taxii:" + filters)
    except BadCursor:
        raise TaxiiError(
            400,
            "the 'next' token is not one this server gave out to you for this request "
            "(filters must stay the same from page to page)",
        ) from None
