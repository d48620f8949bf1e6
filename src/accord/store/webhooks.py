"""Webhooks of organisations: where each delivers, whose view, how far it got, and the log
of its last attempts (docs/webhooks.md).

A webhook's cursor is a position in the store's insertion sequence (``objects.seq``): writers
take turns on the write lock, so sequences commit in order and a version stored later always
comes after the cursor. The dispatcher (`accord.federation.webhooks`) moves the cursor only
after the receiver answered 2xx, and only from where it found it (compare and set), so that
two rounds never both move it.

A round holds its webhook by a lease in the database (``claimed_until``), as a feed pull does
(`accord.store.feeds.Feeds.claim_due`): of several server workers, or nodes over one
PostgreSQL, one delivers a webhook at a time; a worker that dies lets its lease run out.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, and_, delete, func, insert, or_, select, update

from accord.model.roles import Role
from accord.model.webhooks import WebhookFilters
from accord.store.engine import write_transaction
from accord.store.objects import now_key
from accord.store.organisations import NotFound, User
from accord.store.schema import objects, users, webhook_deliveries, webhooks

KEEP_DELIVERIES = 50  # attempts kept per webhook, newest first


@dataclass(frozen=True, slots=True)
class Webhook:
    """A webhook and how its deliveries go."""

    id: str
    org_id: str
    user_id: str  # the creating user: it delivers what they may see
    url: str
    filters: WebhookFilters
    created: str
    cursor: int  # objects.seq delivered up to
    last_success: str | None
    last_error: str | None
    failures: int  # in a row
    next_attempt: str | None  # after a failure: not before then
    claimed_until: str | None
    secret: str = field(repr=False, default="")  # signs deliveries; shown once, at creation

    def delivering(self, now: str) -> bool:
        """Whether a round holds it now."""
        return self.claimed_until is not None and self.claimed_until > now

    def as_json(self, now: str) -> dict[str, Any]:
        """What ``accord webhook status --json`` and ``GET /api/v1/webhooks`` show (never
        the secret)."""
        return {
            "id": self.id,
            "organisation": self.org_id,
            "user": self.user_id,
            "url": self.url,
            "filters": self.filters.as_json(),
            "created": self.created,
            "cursor": self.cursor,
            "last_success": self.last_success,
            "last_error": self.last_error,
            "failures": self.failures,
            "next_attempt": self.next_attempt,
            "delivering": self.delivering(now),
        }


@dataclass(frozen=True, slots=True)
class Delivery:
    """One attempt: a batch of events, or a ping."""

    at: str
    kind: str  # "events" or "ping"
    events: int
    last_seq: int | None
    status: int | None  # the HTTP status; None: no answer (refused, timed out, unreachable)
    error: str | None
    milliseconds: int

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def as_json(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "kind": self.kind,
            "events": self.events,
            "last_seq": self.last_seq,
            "status": self.status,
            "error": self.error,
            "milliseconds": self.milliseconds,
        }


@dataclass(frozen=True, slots=True)
class Creator:
    """The webhook's user as deliveries need them: None when removed."""

    user: User | None
    disabled: bool


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _webhook(row: Any) -> Webhook:
    return Webhook(
        id=row.id,
        org_id=row.org_id,
        user_id=row.user_id,
        url=row.url,
        filters=WebhookFilters.from_json(orjson.loads(row.filters)),
        created=row.created,
        cursor=int(row.cursor),
        last_success=row.last_success,
        last_error=row.last_error,
        failures=int(row.failures),
        next_attempt=row.next_attempt,
        claimed_until=row.claimed_until,
        secret=row.secret,
    )


class Webhooks:
    """Webhooks, their cursors, leases and delivery logs."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, user: User, url: str, filters: WebhookFilters) -> tuple[Webhook, str]:
        """A new webhook of ``user``'s organisation, reading as ``user``, and its secret (the
        only time it is given out). It starts at the newest stored version: it delivers what
        is stored from now on."""
        hook_id = str(uuid.uuid4())
        secret = secrets.token_hex(32)  # 256 bits
        with write_transaction(self.engine) as conn:
            newest = conn.execute(select(func.max(objects.c.seq))).scalar()
            conn.execute(
                insert(webhooks).values(
                    id=hook_id,
                    org_id=user.org_id,
                    user_id=user.id,
                    url=url,
                    secret=secret,
                    filters=orjson.dumps(filters.as_json()).decode(),
                    created=now_key(),
                    cursor=int(newest or 0),
                    failures=0,
                )
            )
        return self.get(hook_id), secret

    def get(self, hook_id: str) -> Webhook:
        with self.engine.connect() as conn:
            row = conn.execute(select(webhooks).where(webhooks.c.id == hook_id)).first()
        if row is None:
            raise NotFound(f"no webhook {hook_id!r} (see `accord webhook list`)")
        return _webhook(row)

    def all(self, org_id: str | None = None) -> list[Webhook]:
        """Every webhook (of one organisation), oldest first."""
        stmt = select(webhooks).order_by(webhooks.c.created, webhooks.c.id)
        if org_id is not None:
            stmt = stmt.where(webhooks.c.org_id == org_id)
        with self.engine.connect() as conn:
            return [_webhook(row) for row in conn.execute(stmt)]

    def remove(self, hook_id: str) -> Webhook:
        """Remove a webhook and its log (a round delivering it now stops at its next step)."""
        hook = self.get(hook_id)
        with write_transaction(self.engine) as conn:
            conn.execute(
                delete(webhook_deliveries).where(webhook_deliveries.c.webhook_id == hook_id)
            )
            conn.execute(delete(webhooks).where(webhooks.c.id == hook_id))
        return hook

    def creator(self, hook: Webhook) -> Creator:
        """The webhook's user, read afresh for each round (disabled, removed: no delivery)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.id == hook.user_id)).first()
        if row is None:
            return Creator(None, True)
        return Creator(User(row.id, row.email, row.org_id, Role(row.role)), bool(row.disabled))

    # -- rounds ---------------------------------------------------------------------------

    def claim_due(self, lease_seconds: float = 600) -> list[Webhook]:
        """The webhooks no round holds and whose retry time (after a failure) has come, each
        claimed for ``lease_seconds`` in the same transaction."""
        now = datetime.now(UTC)
        stamp, until = _stamp(now), _stamp(now + timedelta(seconds=lease_seconds))
        free = or_(webhooks.c.claimed_until.is_(None), webhooks.c.claimed_until < stamp)
        ready = or_(webhooks.c.next_attempt.is_(None), webhooks.c.next_attempt <= stamp)
        claimed = []
        with write_transaction(self.engine) as conn:
            ids = conn.execute(select(webhooks.c.id).where(free).where(ready)).scalars().all()
            for hook_id in ids:
                done = conn.execute(
                    update(webhooks)
                    .where(and_(webhooks.c.id == hook_id, free, ready))
                    .values(claimed_until=until)
                )
                if done.rowcount == 1:
                    claimed.append(hook_id)
            rows = conn.execute(select(webhooks).where(webhooks.c.id.in_(claimed))).all()
        return sorted((_webhook(row) for row in rows), key=lambda hook: hook.created)

    def claim(self, hook_id: str, lease_seconds: float = 600) -> Webhook | None:
        """Claim one webhook now (by hand: whatever its retry time), unless a round holds it;
        None then."""
        now = datetime.now(UTC)
        stamp, until = _stamp(now), _stamp(now + timedelta(seconds=lease_seconds))
        with write_transaction(self.engine) as conn:
            done = conn.execute(
                update(webhooks)
                .where(webhooks.c.id == hook_id)
                .where(or_(webhooks.c.claimed_until.is_(None), webhooks.c.claimed_until < stamp))
                .values(claimed_until=until)
            )
            if done.rowcount != 1:
                return None
            row = conn.execute(select(webhooks).where(webhooks.c.id == hook_id)).first()
        return None if row is None else _webhook(row)

    def advance(self, hook_id: str, start: int, cursor: int, attempt: Delivery | None) -> bool:
        """Move the cursor from ``start`` to ``cursor`` after the receiver took what lies
        between (``attempt``: the batch that went out, logged in the same transaction; None:
        only versions the filters leave out were passed); False when the cursor is no longer
        at ``start`` (the webhook was removed, or another round moved it), and the caller
        stops."""
        values: dict[str, Any] = {"cursor": cursor}
        if attempt is not None:
            values |= {"last_success": attempt.at, "last_error": None, "failures": 0}
            values["next_attempt"] = None
        with write_transaction(self.engine) as conn:
            done = conn.execute(
                update(webhooks)
                .where(webhooks.c.id == hook_id)
                .where(webhooks.c.cursor == start)
                .values(**values)
            )
            if attempt is not None and done.rowcount == 1:
                self._log(conn, hook_id, attempt)
        return done.rowcount == 1

    def failed(
        self, hook_id: str, error: str, retry_in: float, attempt: Delivery | None = None
    ) -> None:
        """Record a failure (and the attempt that failed, if one went out): one more in a
        row, and not before ``retry_in`` seconds again."""
        retry_at = _stamp(datetime.now(UTC) + timedelta(seconds=retry_in))
        with write_transaction(self.engine) as conn:
            done = conn.execute(
                update(webhooks)
                .where(webhooks.c.id == hook_id)
                .values(last_error=error, failures=webhooks.c.failures + 1, next_attempt=retry_at)
            )
            if attempt is not None and done.rowcount == 1:
                self._log(conn, hook_id, attempt)

    def release(self, hook_id: str) -> None:
        """End a round: the webhook is free for the next."""
        with write_transaction(self.engine) as conn:
            conn.execute(
                update(webhooks).where(webhooks.c.id == hook_id).values(claimed_until=None)
            )

    # -- the log --------------------------------------------------------------------------

    def log(self, hook_id: str, attempt: Delivery) -> None:
        """Keep ``attempt`` (a ping), and only the newest `KEEP_DELIVERIES` of the webhook."""
        with write_transaction(self.engine) as conn:
            if conn.execute(select(webhooks.c.id).where(webhooks.c.id == hook_id)).first():
                self._log(conn, hook_id, attempt)

    def _log(self, conn: Connection, hook_id: str, attempt: Delivery) -> None:
        conn.execute(
            insert(webhook_deliveries).values(
                webhook_id=hook_id,
                at=attempt.at,
                kind=attempt.kind,
                events=attempt.events,
                last_seq=attempt.last_seq,
                status=attempt.status,
                error=attempt.error,
                milliseconds=attempt.milliseconds,
            )
        )
        # The attempts past the newest KEEP_DELIVERIES go (the index on webhook_id, seq
        # finds the boundary; with fewer rows it is null and nothing goes).
        boundary = (
            select(webhook_deliveries.c.seq)
            .where(webhook_deliveries.c.webhook_id == hook_id)
            .order_by(webhook_deliveries.c.seq.desc())
            .offset(KEEP_DELIVERIES - 1)
            .limit(1)
            .scalar_subquery()
        )
        conn.execute(
            delete(webhook_deliveries)
            .where(webhook_deliveries.c.webhook_id == hook_id)
            .where(webhook_deliveries.c.seq < boundary)
        )

    def deliveries(self, hook_id: str, limit: int = 10) -> list[Delivery]:
        """The webhook's last attempts, newest first."""
        stmt = (
            select(webhook_deliveries)
            .where(webhook_deliveries.c.webhook_id == hook_id)
            .order_by(webhook_deliveries.c.seq.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [
                Delivery(r.at, r.kind, r.events, r.last_seq, r.status, r.error, r.milliseconds)
                for r in conn.execute(stmt)
            ]
