"""The portal's sessions: one row each, so a session can be listed, revoked and timed out.

The browser holds a random 256-bit token (the cookie); the row is keyed by its SHA-256, so a
copy of the table opens nothing. A session ends when it has been idle longer than the idle
timeout, at its absolute end whatever the activity, when revoked (signing out, an
administrator, a password change), or when its user is disabled. Each row carries the CSRF
token that the session's forms and htmx requests must send back (the synchroniser-token
pattern: a cross-site page can make the browser send the cookie, not read the token).

``last_seen`` is written at most once a minute per session, so that reading pages does not
turn every request into a write.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, insert, select, update

from accord.model.roles import Role
from accord.store.engine import write_transaction
from accord.store.organisations import User
from accord.store.schema import users, web_sessions

TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class WebSession:
    token_sha256: str
    user: User
    csrf: str
    created: str
    last_seen: str
    expires: str
    second_factor: bool  # TOTP checked in this session

    @property
    def id(self) -> str:
        """A name for the session that is safe to show (not the token)."""
        return self.token_sha256[:12]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _key(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class WebSessions:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(
        self,
        user_id: str,
        lifetime: timedelta,
        second_factor: bool = False,
        address: str | None = None,
        user_agent: str | None = None,
    ) -> str:
        """Open a session; answer the token for the cookie (returned once, kept hashed)."""
        token = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        with write_transaction(self.engine) as conn:
            conn.execute(
                insert(web_sessions).values(
                    token_sha256=_digest(token),
                    user_id=user_id,
                    csrf=secrets.token_urlsafe(32),
                    created=_key(now),
                    last_seen=_key(now),
                    expires=_key(now + lifetime),
                    second_factor=second_factor,
                    address=(address or "")[:64] or None,
                    user_agent=(user_agent or "")[:300] or None,
                )
            )
        return token

    def get(self, token: str, idle: timedelta) -> WebSession | None:
        """The live session of ``token``, or None (unknown, revoked, idle too long, past its
        end, or its user disabled). A live session's ``last_seen`` moves on."""
        if not token or len(token) > 100:
            return None
        digest = _digest(token)
        now = datetime.now(UTC)
        with self.engine.connect() as conn:
            row = conn.execute(
                select(web_sessions, users.c.email, users.c.org_id, users.c.role)
                .join(users, users.c.id == web_sessions.c.user_id)
                .where(web_sessions.c.token_sha256 == digest)
                .where(~users.c.disabled)
            ).first()
        if row is None:
            return None
        if row.expires <= _key(now) or row.last_seen <= _key(now - idle):
            self.revoke(token)
            return None
        last_seen = row.last_seen
        if row.last_seen <= _key(now - TOUCH_EVERY):
            last_seen = _key(now)
            with write_transaction(self.engine) as conn:
                conn.execute(
                    update(web_sessions)
                    .where(web_sessions.c.token_sha256 == digest)
                    .values(last_seen=last_seen)
                )
        user = User(row.user_id, row.email, row.org_id, Role(row.role))
        return WebSession(
            digest, user, row.csrf, row.created, last_seen, row.expires, bool(row.second_factor)
        )

    def pass_second_factor(self, token: str) -> None:
        """The session's user has given a good TOTP code."""
        with write_transaction(self.engine) as conn:
            conn.execute(
                update(web_sessions)
                .where(web_sessions.c.token_sha256 == _digest(token))
                .values(second_factor=True)
            )

    def revoke(self, token: str) -> None:
        with write_transaction(self.engine) as conn:
            conn.execute(delete(web_sessions).where(web_sessions.c.token_sha256 == _digest(token)))

    def revoke_by_id(self, user_id: str, session_id: str) -> bool:
        """Revoke one of a user's sessions by its shown id (`WebSession.id`)."""
        with write_transaction(self.engine) as conn:
            done = conn.execute(
                delete(web_sessions)
                .where(web_sessions.c.user_id == user_id)
                .where(web_sessions.c.token_sha256.startswith(session_id, autoescape=True))
            )
            return done.rowcount > 0

    def revoke_user(self, user_id: str, keep: str | None = None) -> int:
        """End every session of a user (a password change, a reset, disabling), except
        ``keep`` (the token of the session that made the change)."""
        stmt = delete(web_sessions).where(web_sessions.c.user_id == user_id)
        if keep is not None:
            stmt = stmt.where(web_sessions.c.token_sha256 != _digest(keep))
        with write_transaction(self.engine) as conn:
            return int(conn.execute(stmt).rowcount)

    def revoke_without_second_factor(self, org_id: str) -> int:
        """End the sessions of ``org_id``'s users that have not given a second factor (the
        organisation now requires one: they sign in again and set it up)."""
        members = select(users.c.id).where(users.c.org_id == org_id)
        with write_transaction(self.engine) as conn:
            done = conn.execute(
                delete(web_sessions)
                .where(web_sessions.c.user_id.in_(members))
                .where(~web_sessions.c.second_factor)
            )
            return int(done.rowcount)

    def of_user(self, user_id: str) -> list[tuple[str, str, str, str | None, str | None]]:
        """(id, created, last seen, address, user agent) of a user's sessions, newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(web_sessions)
                .where(web_sessions.c.user_id == user_id)
                .order_by(web_sessions.c.created.desc())
            )
            return [
                (r.token_sha256[:12], r.created, r.last_seen, r.address, r.user_agent) for r in rows
            ]

    def purge(self) -> int:
        """Delete the rows of sessions past their absolute end."""
        with write_transaction(self.engine) as conn:
            done = conn.execute(
                delete(web_sessions).where(web_sessions.c.expires <= _key(datetime.now(UTC)))
            )
            return int(done.rowcount)
