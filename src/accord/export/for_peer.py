"""STIX as it leaves for a peer node (docs/federation.md): each version the hop rule lets
cross (the store chose them: `accord.store.visibility.visible_to` with the peer's crossing)
carries its TLP marking as stored, and Accord's extension names its holder, its audience as
organisations and this node (`accord.model.extension.for_peer`).

Sharing groups in an audience become their member organisations: a group's name means
something on this node only. An anonymous sighting names this node's operator as its holder,
never the organisation that reported it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from accord.model.extension import extension_of, for_peer
from accord.model.visibility import GROUP, ORG
from accord.store.node import Store
from accord.store.taxii import Entry


def dressed_for_peer(store: Store, entries: Sequence[Entry]) -> list[dict[str, Any]]:
    """The objects of ``entries`` (with their JSON) as a peer receives them."""
    if not entries:
        return []
    node = store.identity.get()
    holders = store.taxii.holders([entry.seq for entry in entries])
    members = {group.id: group.org_ids for group in store.directory.groups()}
    found: list[dict[str, Any]] = []
    for entry in entries:
        obj = orjson.loads(entry.raw or "{}")
        holder, principals = holders.get(entry.seq, (node.operator_org, frozenset()))
        orgs: set[str] = set()
        for principal in principals:
            if principal.startswith(ORG):
                orgs.add(principal.removeprefix(ORG))
            elif principal.startswith(GROUP):
                orgs.update(members.get(principal.removeprefix(GROUP), ()))
        if obj.get("type") == "sighting" and extension_of(obj).get("anonymous") is True:
            orgs.discard(holder)
            holder = node.operator_org
        found.append(for_peer(obj, holder, frozenset(orgs), node.id))
    return found
