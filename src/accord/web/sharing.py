"""Who an ingest form shares with: the TLP level and the recipients it offers, and what was
chosen, as the command line's ``--tlp`` and ``--recipients`` take them (organisations by
name or id, sharing groups as ``group:NAME``; `accord.ingest.stix.recipients_from_names`).

Every member may list the node's organisations (as ``GET /api/v1/organisations``); the
sharing groups offered are those of the person's own organisation, and others can be named
as on the command line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from starlette.datastructures import FormData

from accord.ingest.stix import recipients_from_names
from accord.model.tlp import Tlp
from accord.model.visibility import Recipients
from accord.store.node import Store
from accord.store.organisations import NotFound
from accord.web.visitors import Visitor

MAX_RECIPIENTS: Final = 500


class SharingRefused(Exception):
    """A recipient this node does not have; ``name`` is as the person gave it."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


@dataclass(frozen=True, slots=True)
class Sharing:
    """What a form chose: the TLP and the names of the recipients, as posted."""

    tlp: Tlp
    names: tuple[str, ...] = ()
    other: str = ""  # the free field: more names, comma-separated
    picked: frozenset[str] = field(default_factory=frozenset)  # the boxes ticked

    def recipients(self, store: Store) -> Recipients:
        """The recipients named (`SharingRefused` for one the node does not have)."""
        for name in self.names:
            try:
                recipients_from_names(store, [name])
            except NotFound:
                raise SharingRefused(name) from None
        return recipients_from_names(store, self.names)


def chosen(form: FormData, default: Tlp) -> Sharing:
    """The TLP and recipients of a posted form (a ValueError for a TLP that is none)."""
    text = str(form.get("tlp") or "")
    tlp = Tlp.parse(text) if text else default
    picked = [str(value) for value in form.getlist("recipient")][:MAX_RECIPIENTS]
    other = str(form.get("recipients_other") or "")[:4000]
    names = [*picked, *(part.strip() for part in other.split(",") if part.strip())]
    unique = tuple(dict.fromkeys(names))[:MAX_RECIPIENTS]
    return Sharing(tlp, unique, other, frozenset(picked))


def choices(store: Store, visitor: Visitor, default: Tlp) -> dict[str, Any]:
    """What the form offers: the levels, the default, the organisations and own groups."""
    orgs = [(org.id, org.name) for org in store.directory.orgs() if org.id != visitor.org_id]
    groups = []
    for group_id in sorted(visitor.viewer.group_ids):
        try:
            groups.append(("group:" + group_id, store.directory.group(group_id).name))
        except NotFound:  # removed since the session began
            continue
    return {
        "levels": [(level.slug, level.label) for level in Tlp],
        "default_tlp": default.slug,
        "organisations": sorted(orgs, key=lambda pair: pair[1].lower()),
        "groups": sorted(groups, key=lambda pair: pair[1].lower()),
    }
