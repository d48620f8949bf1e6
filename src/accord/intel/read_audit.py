"""Reads of AMBER, AMBER+STRICT and RED content are recorded in the audit log: TLP 2.0 says
who may know; the log says who did. The REST API, the MISP feed and TAXII record them with
this one rule."""

from __future__ import annotations

from collections.abc import Iterable
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
