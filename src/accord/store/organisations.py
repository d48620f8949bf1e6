"""Organisations, users, API keys and sharing groups.

API keys are 32 random bytes (``secrets.token_urlsafe``) behind a public prefix; only the
SHA-256 of the secret is stored, and it is compared in constant time. A slow password hash
buys nothing for a 256-bit random secret.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, insert, select, update

from accord.model.roles import Role
from accord.model.visibility import Viewer
from accord.store.engine import write_transaction
from accord.store.objects import now_key
from accord.store.peers import crossing_for_account
from accord.store.schema import (
    api_keys,
    organisations,
    sharing_group_members,
    sharing_groups,
    users,
)

KEY_PREFIX = "acc"


class NotFound(LookupError):
    """A named organisation, user or group does not exist."""


class AlreadyExists(ValueError):
    """A name or e-mail address is already taken."""


@dataclass(frozen=True, slots=True)
class Organisation:
    id: str
    name: str
    sector: str | None
    country: str | None
    home_node: str | None = None  # the peer node that hosts it; None: this node hosts it


@dataclass(frozen=True, slots=True)
class User:
    id: str
    email: str
    org_id: str
    role: Role


@dataclass(frozen=True, slots=True)
class SharingGroup:
    id: str
    name: str
    org_ids: tuple[str, ...]


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Directory:
    """Who is who on this node."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # organisations -----------------------------------------------------------------------

    def add_org(
        self,
        name: str,
        sector: str | None = None,
        country: str | None = None,
        org_id: str | None = None,
    ) -> Organisation:
        org = Organisation(org_id or f"identity--{uuid.uuid4()}", name, sector, country)
        with write_transaction(self.engine) as conn:
            if conn.execute(select(organisations.c.id).where(organisations.c.name == name)).first():
                raise AlreadyExists(f"an organisation named {name!r} exists already")
            conn.execute(
                insert(organisations).values(
                    id=org.id, name=name, sector=sector, country=country, created=now_key()
                )
            )
        return org

    def hosted_org_ids(self) -> frozenset[str]:
        """The organisations this node hosts (not those registered for its peers)."""
        with self.engine.connect() as conn:
            return frozenset(
                conn.execute(
                    select(organisations.c.id).where(organisations.c.home_node.is_(None))
                ).scalars()
            )

    def orgs(self) -> list[Organisation]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(organisations).order_by(organisations.c.name))
            return [Organisation(r.id, r.name, r.sector, r.country, r.home_node) for r in rows]

    def org(self, name_or_id: str) -> Organisation:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(organisations).where(
                    (organisations.c.name == name_or_id) | (organisations.c.id == name_or_id)
                )
            ).first()
        if row is None:
            raise NotFound(f"no organisation {name_or_id!r}: see `accord org list`")
        return Organisation(row.id, row.name, row.sector, row.country, row.home_node)

    # users and keys ------------------------------------------------------------------------

    def add_user(self, email: str, org_name: str, role: Role) -> tuple[User, str]:
        """Create a user and its first API key; the key is returned once and never again."""
        org = self.org(org_name)
        user = User(str(uuid.uuid4()), email.strip().lower(), org.id, role)
        with write_transaction(self.engine) as conn:
            if conn.execute(select(users.c.id).where(users.c.email == user.email)).first():
                raise AlreadyExists(f"a user {user.email!r} exists already")
            conn.execute(
                insert(users).values(
                    id=user.id,
                    email=user.email,
                    org_id=org.id,
                    role=role.value,
                    created=now_key(),
                    disabled=False,
                )
            )
            key = self._new_key(conn, user.id)
        return user, key

    def new_key(self, email: str) -> str:
        user = self.user(email)
        with write_transaction(self.engine) as conn:
            return self._new_key(conn, user.id)

    def _new_key(self, conn: Connection, user_id: str) -> str:
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)  # 32 random bytes
        conn.execute(
            insert(api_keys).values(
                id=key_id,
                user_id=user_id,
                secret_sha256=_hash(secret),
                created=now_key(),
                revoked=False,
            )
        )
        return f"{KEY_PREFIX}_{key_id}_{secret}"

    def revoke_key(self, key_id: str) -> str:
        """Revoke a key by its public id; answer the id of the user it belonged to."""
        with write_transaction(self.engine) as conn:
            owner = conn.execute(select(api_keys.c.user_id).where(api_keys.c.id == key_id)).scalar()
            if owner is None:
                raise NotFound(f"no API key {key_id!r}")
            conn.execute(update(api_keys).where(api_keys.c.id == key_id).values(revoked=True))
        return str(owner)

    def key_owner(self, key_id: str) -> User | None:
        """The user a key (by its public id) was issued to."""
        with self.engine.connect() as conn:
            owner = conn.execute(select(api_keys.c.user_id).where(api_keys.c.id == key_id)).scalar()
        return None if owner is None else self.user_by_id(str(owner))

    def keys(self, user_id: str) -> list[tuple[str, str, bool]]:
        """(key id, created, revoked) of a user's keys; the secrets are never kept."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(api_keys.c.id, api_keys.c.created, api_keys.c.revoked)
                .where(api_keys.c.user_id == user_id)
                .order_by(api_keys.c.created)
            )
            return [(r.id, r.created, bool(r.revoked)) for r in rows]

    def user_by_id(self, user_id: str) -> User:
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.id == user_id)).first()
        if row is None:
            raise NotFound(f"no user {user_id!r}")
        return User(row.id, row.email, row.org_id, Role(row.role))

    def user(self, email: str) -> User:
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.email == email.strip().lower())).first()
        if row is None:
            raise NotFound(f"no user {email!r}: add one with `accord user add`")
        return User(row.id, row.email, row.org_id, Role(row.role))

    def users(self, org_id: str | None = None) -> list[User]:
        stmt = select(users).order_by(users.c.email)
        if org_id is not None:
            stmt = stmt.where(users.c.org_id == org_id)
        with self.engine.connect() as conn:
            return [User(r.id, r.email, r.org_id, Role(r.role)) for r in conn.execute(stmt)]

    def user_for_key(self, key: str) -> User | None:
        """The user a key belongs to, or None for a malformed, unknown or revoked key."""
        parts = key.split("_", 2)
        if len(parts) != 3 or parts[0] != KEY_PREFIX:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(
                select(api_keys.c.secret_sha256, users)
                .join(users, users.c.id == api_keys.c.user_id)
                .where(api_keys.c.id == parts[1])
                .where(~api_keys.c.revoked)
                .where(~users.c.disabled)
            ).first()
        if row is None or not hmac.compare_digest(row.secret_sha256, _hash(parts[2])):
            return None
        return User(row.id, row.email, row.org_id, Role(row.role))

    # sharing groups ------------------------------------------------------------------------

    def add_group(self, name: str, org_names: list[str]) -> SharingGroup:
        members = [self.org(org_name).id for org_name in org_names]
        group = SharingGroup(str(uuid.uuid4()), name, tuple(members))
        with write_transaction(self.engine) as conn:
            if conn.execute(
                select(sharing_groups.c.id).where(sharing_groups.c.name == name)
            ).first():
                raise AlreadyExists(f"a sharing group {name!r} exists already")
            conn.execute(insert(sharing_groups).values(id=group.id, name=name, created=now_key()))
            if members:
                conn.execute(
                    insert(sharing_group_members),
                    [{"group_id": group.id, "org_id": org_id} for org_id in members],
                )
        return group

    def group(self, name_or_id: str) -> SharingGroup:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(sharing_groups).where(
                    (sharing_groups.c.name == name_or_id) | (sharing_groups.c.id == name_or_id)
                )
            ).first()
            if row is None:
                raise NotFound(f"no sharing group {name_or_id!r}")
            members = conn.execute(
                select(sharing_group_members.c.org_id).where(
                    sharing_group_members.c.group_id == row.id
                )
            ).scalars()
            return SharingGroup(row.id, row.name, tuple(members))

    def groups(self) -> list[SharingGroup]:
        """Every sharing group with its member organisations, by name."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(sharing_groups).order_by(sharing_groups.c.name)).all()
            members: dict[str, list[str]] = {row.id: [] for row in rows}
            for group_id, org_id in conn.execute(
                select(sharing_group_members.c.group_id, sharing_group_members.c.org_id).order_by(
                    sharing_group_members.c.org_id
                )
            ):
                members.setdefault(group_id, []).append(org_id)
        return [SharingGroup(row.id, row.name, tuple(members[row.id])) for row in rows]

    def viewer(self, user: User) -> Viewer:
        """The viewer a user reads as: their organisation, themselves and their groups; a
        peer node's account reads with the hop rule instead (accord.model.visibility)."""
        with self.engine.connect() as conn:
            if user.role is Role.PEER:
                crossing = crossing_for_account(conn, user.org_id)
                return Viewer(org_id=user.org_id, user_id=user.id, crossing=crossing)
            groups = conn.execute(
                select(sharing_group_members.c.group_id).where(
                    sharing_group_members.c.org_id == user.org_id
                )
            ).scalars()
            return Viewer(org_id=user.org_id, user_id=user.id, group_ids=frozenset(groups))
