"""Feeds (where pulled objects come from), their cursors, and provenance.

A feed is a TAXII 2.1 collection on another server that ``accord feed pull`` (or the server's
scheduler) pulls from, or a one-off import such as a fixture loaded from a file. Each stored
version a feed brought is recorded in ``object_feeds``, so that a collection can serve "what
came from feed X" and an analyst can ask where an object came from.

The cursor is the ``added_after`` (TAXII 2.1 section 3.5) of the feed's next pull: a pull
moves it only past objects it has stored, so that an interrupted pull resumes without gaps.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, func, insert, or_, select, update

from accord.model.tlp import Tlp
from accord.store.dialects import backend_for
from accord.store.engine import write_transaction
from accord.store.objects import now_key
from accord.store.organisations import AlreadyExists, NotFound
from accord.store.schema import feeds, object_feeds, objects, users

CHUNK = 500


@dataclass(frozen=True, slots=True)
class Feed:
    """A source of objects, and how to pull from it."""

    id: str
    name: str
    kind: str  # "taxii" or "import"
    url: str | None  # API root URL of the remote TAXII server
    collection: str | None  # its collection id
    username: str | None  # HTTP Basic user; None with a key (sent as Bearer)
    secret: str | None  # password or key
    as_user: str  # id of the local user whose name the objects are stored under
    tlp: Tlp | None  # for objects that carry no TLP marking
    org_ids: tuple[str, ...] = ()  # recipients of AMBER objects without their own
    group_ids: tuple[str, ...] = ()
    interval: int | None = None  # seconds between scheduled pulls
    cursor: str | None = None  # added_after of the next pull
    last_pull: str | None = None
    last_error: str | None = None
    created: str = field(default="")


@dataclass(frozen=True, slots=True)
class FeedStatus:
    """How a feed's pulls go, without how to pull it (no address, account or secret)."""

    name: str
    kind: str  # "taxii" or "import"
    last_pull: str | None  # when the last pull ended
    last_error: str | None  # why it failed (None: it succeeded)
    next_pull: str | None  # when the scheduler pulls next (None: only by hand)
    pulling: bool  # a pull is running now

    def due(self, now: str) -> bool:
        """Whether the scheduler would pull it at ``now`` (a stored timestamp)."""
        return not self.pulling and self.next_pull is not None and self.next_pull <= now


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _feed(row: Any) -> Feed:
    recipients = orjson.loads(row.recipients or "{}")
    tlp = row.tlp
    return Feed(
        id=row.id,
        name=row.name,
        kind=row.kind,
        url=row.url,
        collection=row.collection,
        username=row.username,
        secret=row.secret,
        as_user=row.as_user,
        tlp=None if tlp is None else Tlp(tlp),
        org_ids=tuple(recipients.get("orgs", ())),
        group_ids=tuple(recipients.get("groups", ())),
        interval=row.interval,
        cursor=row.cursor,
        last_pull=row.last_pull,
        last_error=row.last_error,
        created=row.created,
    )


class Feeds:
    """Feeds, their cursors and the provenance of what they brought."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(
        self,
        name: str,
        kind: str,
        as_user: str,
        url: str | None = None,
        collection: str | None = None,
        username: str | None = None,
        secret: str | None = None,
        tlp: Tlp | None = None,
        org_ids: Sequence[str] = (),
        group_ids: Sequence[str] = (),
        interval: int | None = None,
    ) -> Feed:
        feed_id = str(uuid.uuid4())
        recipients = orjson.dumps({"orgs": sorted(org_ids), "groups": sorted(group_ids)}).decode()
        with write_transaction(self.engine) as conn:
            taken = conn.execute(select(feeds.c.id).where(feeds.c.name == name)).first()
            if taken is not None:
                raise AlreadyExists(f"there is a feed named {name!r} already")
            conn.execute(
                insert(feeds).values(
                    id=feed_id,
                    name=name,
                    kind=kind,
                    url=url,
                    collection=collection,
                    username=username,
                    secret=secret,
                    as_user=as_user,
                    tlp=None if tlp is None else int(tlp),
                    recipients=recipients,
                    interval=interval,
                    created=now_key(),
                )
            )
        return self.get(name)

    def get(self, name_or_id: str) -> Feed:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(feeds).where(or_(feeds.c.name == name_or_id, feeds.c.id == name_or_id))
            ).first()
        if row is None:
            raise NotFound(f"no feed {name_or_id!r} (see `accord feed list`)")
        return _feed(row)

    def all(self) -> list[Feed]:
        with self.engine.connect() as conn:
            return [_feed(row) for row in conn.execute(select(feeds).order_by(feeds.c.name))]

    def statuses(self, org_id: str | None = None) -> list[FeedStatus]:
        """Every feed's pull status, by name; with ``org_id``, only the feeds that store
        what they pull as a user of that organisation (its own feeds)."""
        stmt = select(feeds).order_by(feeds.c.name)
        if org_id is not None:
            stmt = stmt.join(users, users.c.id == feeds.c.as_user).where(users.c.org_id == org_id)
        now = _stamp(datetime.now(UTC))
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        found = []
        for row in rows:
            following = None
            if row.kind == "taxii" and row.interval is not None:
                # The scheduler's rule (`claim_due`): due once the interval has passed since
                # the last pull; a feed never pulled is due since it was added.
                following = (
                    _stamp(_parse(row.last_pull) + timedelta(seconds=row.interval))
                    if row.last_pull is not None
                    else row.created
                )
            pulling = row.claimed_until is not None and row.claimed_until > now
            found.append(
                FeedStatus(row.name, row.kind, row.last_pull, row.last_error, following, pulling)
            )
        return found

    # -- pulling --------------------------------------------------------------------------

    def set_cursor(self, feed_id: str, cursor: str | None) -> None:
        """Move the feed's cursor (after the objects before it are stored)."""
        with write_transaction(self.engine) as conn:
            conn.execute(update(feeds).where(feeds.c.id == feed_id).values(cursor=cursor))

    def finish(self, feed_id: str, error: str | None) -> None:
        """Record the end of a pull, and release the feed for the next one."""
        with write_transaction(self.engine) as conn:
            conn.execute(
                update(feeds)
                .where(feeds.c.id == feed_id)
                .values(last_pull=now_key(), last_error=error, claimed_until=None)
            )

    def claim(self, feed_id: str, lease_seconds: float = 600) -> Feed | None:
        """Claim one TAXII feed for a pull now (by hand), unless a worker is pulling it: the
        same lease as `claim_due`, so that a pull by hand and a scheduled one never run
        together. None when it is taken (or not a TAXII feed)."""
        now = datetime.now(UTC)
        stamp = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        until = (now + timedelta(seconds=lease_seconds)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        with write_transaction(self.engine) as conn:
            done = conn.execute(
                update(feeds)
                .where(feeds.c.id == feed_id)
                .where(feeds.c.kind == "taxii")
                .where(or_(feeds.c.claimed_until.is_(None), feeds.c.claimed_until < stamp))
                .values(claimed_until=until)
            )
            if done.rowcount != 1:
                return None
            row = conn.execute(select(feeds).where(feeds.c.id == feed_id)).first()
        return None if row is None else _feed(row)

    def claim_due(self, lease_seconds: float = 600) -> list[Feed]:
        """Scheduled feeds whose interval has passed and that no worker is pulling; each is
        claimed (for ``lease_seconds``) in the same transaction, so that of several server
        workers only one pulls it."""
        now = datetime.now(UTC)
        stamp = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        until = (now + timedelta(seconds=lease_seconds)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        claimed: list[Feed] = []
        with write_transaction(self.engine) as conn:
            rows = conn.execute(
                select(feeds)
                .where(feeds.c.kind == "taxii")
                .where(feeds.c.interval.is_not(None))
                .where(or_(feeds.c.claimed_until.is_(None), feeds.c.claimed_until < stamp))
            ).all()
            for row in rows:
                feed = _feed(row)
                assert feed.interval is not None
                if feed.last_pull is not None:
                    last = datetime.strptime(feed.last_pull, "%Y-%m-%dT%H:%M:%S.%fZ")
                    if last.replace(tzinfo=UTC) + timedelta(seconds=feed.interval) > now:
                        continue
                done = conn.execute(
                    update(feeds)
                    .where(feeds.c.id == feed.id)
                    .where(or_(feeds.c.claimed_until.is_(None), feeds.c.claimed_until < stamp))
                    .values(claimed_until=until)
                )
                if done.rowcount == 1:
                    claimed.append(feed)
        return claimed

    # -- provenance -----------------------------------------------------------------------

    def record(self, feed_id: str, keys: Sequence[tuple[str, str]]) -> int:
        """Record that the versions ``(id, modified key)`` came from the feed (stored now or
        before); answers how many versions were found."""
        if not keys:
            return 0
        wanted = set(keys)
        with write_transaction(self.engine) as conn:
            seqs = self._seqs(conn, sorted({object_id for object_id, _ in keys}), wanted)
            backend_for(conn).insert_missing(
                conn, object_feeds, [{"feed_id": feed_id, "seq": s} for s in seqs]
            )
        return len(seqs)

    def _seqs(self, conn: Connection, ids: list[str], wanted: set[tuple[str, str]]) -> list[int]:
        rows = backend_for(conn).versions_of(conn, ids)
        return [seq for seq, object_id, modified in rows if (object_id, modified) in wanted]

    def sources(self, seq: int) -> list[str]:
        """Names of the feeds a stored version came from."""
        stmt = (
            select(feeds.c.name)
            .select_from(object_feeds.join(feeds, feeds.c.id == object_feeds.c.feed_id))
            .where(object_feeds.c.seq == seq)
            .order_by(feeds.c.name)
        )
        with self.engine.connect() as conn:
            return [name for (name,) in conn.execute(stmt)]

    def count(self, feed_id: str) -> int:
        """How many stored versions came from the feed (for `accord feed list`)."""
        stmt = (
            select(func.count())
            .select_from(object_feeds.join(objects, objects.c.seq == object_feeds.c.seq))
            .where(object_feeds.c.feed_id == feed_id)
        )
        with self.engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())
