"""Who this node is, for federation (docs/federation.md): a STIX ``identity`` of class
``organization`` or ``system``, run by one of the organisations it hosts (its operator).

Kept as one JSON row of ``node_settings`` (name ``node.identity``): it is written once, by
``accord node init`` (or the demo), and read by every process. The organisations the node
hosts are its ``organisations`` rows without a ``home_node``; peers learn both from its
*card* (:func:`card`), which a peer fetches over the API or an operator hands over.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Engine, select

from accord.store.engine import write_transaction
from accord.store.objects import now_key
from accord.store.schema import node_settings, organisations

SETTING = "node.identity"
CLASSES = ("organization", "system")


class NoIdentity(ValueError):
    """The node has no identity yet: ``accord node init`` gives it one."""

    def __init__(self) -> None:
        super().__init__(
            "this node has no identity yet: give it one with "
            "`accord node init --name NAME --operator ORG`"
        )


@dataclass(frozen=True, slots=True)
class NodeIdentity:
    id: str  # identity--...
    name: str
    identity_class: str
    operator_org: str  # the identity id of the hosted organisation that runs the node
    created: str

    def stix(self) -> dict[str, Any]:
        """The node's STIX 2.1 identity object (section 4.8)."""
        return {
            "type": "identity",
            "spec_version": "2.1",
            "id": self.id,
            "created": self.created,
            "modified": self.created,
            "name": self.name,
            "identity_class": self.identity_class,
            "created_by_ref": self.operator_org,
        }


def hosted_orgs(engine: Engine) -> list[dict[str, Any]]:
    """The organisations this node hosts (not those registered for peers)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                organisations.c.id,
                organisations.c.name,
                organisations.c.sector,
                organisations.c.country,
            )
            .where(organisations.c.home_node.is_(None))
            .order_by(organisations.c.name)
        ).all()
    return [
        {"id": row.id, "name": row.name, "sector": row.sector, "country": row.country}
        for row in rows
    ]


class NodeIdentities:
    """Read and set the node's identity."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self) -> NodeIdentity:
        found = self.find()
        if found is None:
            raise NoIdentity()
        return found

    def find(self) -> NodeIdentity | None:
        with self.engine.connect() as conn:
            text = conn.execute(
                select(node_settings.c.value).where(node_settings.c.name == SETTING)
            ).scalar()
        if text is None:
            return None
        data = orjson.loads(text)
        return NodeIdentity(
            data["id"], data["name"], data["identity_class"], data["operator_org"], data["created"]
        )

    def set(self, name: str, operator_org: str, identity_class: str = "system") -> NodeIdentity:
        """Give the node its identity, or rename it (its id never changes once made)."""
        if identity_class not in CLASSES:
            raise ValueError(f"identity class must be one of: {', '.join(CLASSES)}")
        with write_transaction(self.engine) as conn:
            hosted = conn.execute(
                select(organisations.c.id)
                .where(organisations.c.id == operator_org)
                .where(organisations.c.home_node.is_(None))
            ).scalar()
            if hosted is None:
                raise ValueError(
                    f"the operator must be an organisation this node hosts, not {operator_org!r}"
                )
            text = conn.execute(
                select(node_settings.c.value).where(node_settings.c.name == SETTING)
            ).scalar()
            old = orjson.loads(text) if text is not None else None
            identity = NodeIdentity(
                old["id"] if old else f"identity--{uuid.uuid4()}",
                name,
                identity_class,
                operator_org,
                old["created"] if old else now_key(),
            )
            value = orjson.dumps(
                {
                    "id": identity.id,
                    "name": identity.name,
                    "identity_class": identity.identity_class,
                    "operator_org": identity.operator_org,
                    "created": identity.created,
                }
            ).decode()
            conn.execute(node_settings.delete().where(node_settings.c.name == SETTING))
            conn.execute(node_settings.insert().values(name=SETTING, value=value))
        return identity

    def card(self) -> dict[str, Any]:
        """What a peer needs to know of this node: its identity, its operator and the
        organisations it hosts, each by STIX identity id (the same on every node)."""
        identity = self.get()
        hosted = hosted_orgs(self.engine)
        operator = next((org for org in hosted if org["id"] == identity.operator_org), None)
        return {
            "identity": identity.stix(),
            "operator": operator,
            "hosted_organizations": hosted,
        }
