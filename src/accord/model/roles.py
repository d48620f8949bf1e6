"""User roles, their rank, and who may act on whose account.

The rank orders what a role may do: node admin (3) > org-admin (2) > analyst (1) > reader,
sensor and peer (0). There is no auditor role: reading the audit log belongs to admins and
org-admins, whose rank already covers it.

Acting on an account (creating it with a role, listing, minting or revoking its keys) follows
one rule, :func:`may_act_on`, on every path (REST, and the command line under ``--as``):

- anyone may act on their own account (list, mint and revoke their own keys);
- a node admin may act on every account, other node admins included (the node admin is the
  top of the order: someone must be able to manage admins);
- an org-admin may act on the accounts of their own organisation whose rank is *below* their
  own (analysts, readers, sensors): not on a node admin, and not on another org-admin, whose
  keys would let them act as a peer (peers are appointed and managed by the node admin);
- nobody else acts on anyone else's account.

So nobody ever acts on an account whose role is above their own, and only the top role acts
on an account of its own rank.

The portal's sign-in follows the same rule (docs/accounts.md): setting a password, listing and
ending portal sessions are acting on an account (:func:`may_act_on`; the API asks for the
current password when a user changes their own). Two things are stricter:

- resetting a second factor (:func:`may_reset_second_factor`) is for a manager only, never the
  user themselves: a key or a stolen session must not be able to strip the factor that guards
  against it;
- whether an organisation requires a second factor (:func:`may_set_org_policy`) is for the
  node admin, and for the org-admins of that organisation.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from accord.model.wording import with_article


class Role(StrEnum):
    """A user's role within their organisation (admin is node-wide)."""

    ADMIN = "admin"  # node operator: organisations, users and keys; no extra read rights
    ORG_ADMIN = "org-admin"  # manages the users, keys and allowlist of one organisation
    ANALYST = "analyst"  # reads and writes intelligence for the organisation
    READER = "reader"  # reads and looks up
    SENSOR = "sensor"  # a machine: pulls what it may see, reports sightings
    # Another Accord node's account here (federation): it reads what the hop rule lets cross
    # to that node (accord.model.visibility.Crossing) and sends what its node may pass on.
    PEER = "peer"

    @classmethod
    def parse(cls, text: str) -> Role:
        try:
            return cls(text.strip().lower())
        except ValueError:
            choices = ", ".join(role.value for role in cls)
            raise ValueError(f"unknown role {text!r}: use one of {choices}") from None

    @property
    def with_article(self) -> str:
        """The role with its indefinite article, for messages: "an analyst", "a sensor"."""
        return with_article(self.value)

    @property
    def may_ingest(self) -> bool:
        return self in (Role.ADMIN, Role.ORG_ADMIN, Role.ANALYST)

    @property
    def rank(self) -> int:
        """Higher ranks may do more: admin 3, org-admin 2, analyst 1, reader and sensor 0."""
        return _RANK[self]


_RANK = {
    Role.ADMIN: 3,
    Role.ORG_ADMIN: 2,
    Role.ANALYST: 1,
    Role.READER: 0,
    Role.SENSOR: 0,
    Role.PEER: 0,
}


class Account(Protocol):
    """What the rule needs of a user (``accord.store.organisations.User`` has it)."""

    @property
    def id(self) -> str: ...

    @property
    def org_id(self) -> str: ...

    @property
    def role(self) -> Role: ...


def may_manage(actor: Account, role: Role, org_id: str) -> bool:
    """Whether ``actor`` may act on another account of ``role`` in organisation ``org_id``
    (create one, list, mint or revoke its keys): see the module's rule."""
    if actor.role is Role.ADMIN:
        return True
    if role is Role.PEER:  # a peer node's account is the node operator's to manage
        return False
    return actor.role is Role.ORG_ADMIN and org_id == actor.org_id and role.rank < actor.role.rank


def may_act_on(actor: Account, target: Account) -> bool:
    """Whether ``actor`` may act on the account ``target``: their own, or one they manage."""
    return actor.id == target.id or may_manage(actor, target.role, target.org_id)


def may_reset_second_factor(actor: Account, target: Account) -> bool:
    """Whether ``actor`` may forget ``target``'s TOTP second factor: someone who manages
    the account, never its own user."""
    return actor.id != target.id and may_manage(actor, target.role, target.org_id)


def may_set_org_policy(actor: Account, org_id: str) -> bool:
    """Whether ``actor`` may change a sign-in policy (requiring TOTP) of organisation
    ``org_id``: the node admin for every organisation, an org-admin for their own."""
    return actor.role is Role.ADMIN or (actor.role is Role.ORG_ADMIN and actor.org_id == org_id)


def may_keep_allowlist(actor: Account, org_id: str) -> bool:
    """Whether ``actor`` may read and change organisation ``org_id``'s allowlist (on every
    path: the command line under ``--as``, the portal): whoever sets its policies
    (:func:`may_set_org_policy`), the node admin for every organisation and an org-admin for
    their own."""
    return may_set_org_policy(actor, org_id)


def may_keep_webhooks(actor: Account, org_id: str) -> bool:
    """Whether ``actor`` may list, remove, test and deliver organisation ``org_id``'s webhooks
    (docs/webhooks.md): whoever sets its policies, the node admin for every organisation and
    an org-admin for their own. Adding one is narrower: a webhook delivers what its creating
    user may see, so it is always created in that user's own organisation
    (:func:`may_add_webhook`)."""
    return may_set_org_policy(actor, org_id)


def may_add_webhook(actor: Account) -> bool:
    """Whether ``actor`` may add a webhook (to their own organisation, reading as
    themselves): an org-admin, or the node admin."""
    return may_keep_webhooks(actor, actor.org_id)
