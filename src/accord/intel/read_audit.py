"""Reads of AMBER, AMBER+STRICT and RED content are recorded in the audit log: TLP 2.0 says
who may know; the log says who did. The REST API, the MISP feed and TAXII record them with
this one rule."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from accord.model.tlp import Tlp
from accord.model.visibility import Viewer
from accord.store.audit import Event
from accord.store.node import Store


class Read(Protocol):
    """Something read: a stored object version, or a TAXII entry."""

    @property
    def id(self) -> str: ...

    @property
    def tlp(self) -> Tlp: ...


def audit_reads(
    store: Store, viewer: Viewer, user_id: str | None, read: Iterable[Read], via: str
) -> None:
    """One entry for the AMBER-and-above ids among ``read`` (none if there are none)."""
    sensitive = [item.id for item in read if item.tlp >= Tlp.AMBER]
    if not sensitive:
        return
    store.audit.append(
        Event(
            action="read",
            user_id=user_id,
            org_id=viewer.org_id,
            target=sensitive[0] if len(sensitive) == 1 else None,
            detail={"via": via, "ids": sensitive},
        )
    )


@dataclass(frozen=True, slots=True)
class _ReadId:
    id: str
    tlp: Tlp


AUDIT_CHUNK = 1000  # ids per audit entry for a large read (an export, the MISP feed)


def audit_read_ids(
    store: Store, viewer: Viewer, user_id: str | None, read: Mapping[str, Tlp], via: str
) -> None:
    """`audit_reads` for an export that kept only the ids and levels it read (``read``: id ->
    TLP), in entries of at most `AUDIT_CHUNK` ids."""
    items = [_ReadId(object_id, level) for object_id, level in read.items()]
    for start in range(0, len(items), AUDIT_CHUNK):
        audit_reads(store, viewer, user_id, items[start : start + AUDIT_CHUNK], via)
