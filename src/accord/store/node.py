"""The node's store: one engine (the primary), the object, index and directory stores over
it, and the read replicas that look-ups, searches and TAXII listings may read from
(`accord.store.replicas`, docs/replicas.md)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TypeVar

import orjson
from sqlalchemy import Connection, Engine

from accord.model.extension import (
    ACCORD_IDENTITY_ID,
    accord_identity,
    extension_definition,
)
from accord.model.search_text import labels_of, searchable_text
from accord.model.timestamps import timestamp_key
from accord.model.tlp import Tlp, tlp2_marking_definitions
from accord.store import migrate
from accord.store.allowlists import Allowlists
from accord.store.audit import AuditLog
from accord.store.correlation.policy import forget_policy
from accord.store.credentials import Credentials
from accord.store.cursors import Cursors
from accord.store.engine import close_engine, open_engine
from accord.store.feeds import Feeds
from accord.store.indicator_values import IndicatorValueReader
from accord.store.job_runs import JobRuns
from accord.store.lookup_session import LookupSessions
from accord.store.node_identity import NodeIdentities
from accord.store.node_settings import CORRELATION_CAP, NodeSettings
from accord.store.objects import ObjectStore
from accord.store.observables import ObservableIndex
from accord.store.organisations import Directory
from accord.store.peers import Peers
from accord.store.records import NewVersion
from accord.store.replicas import ReadReplicas, ReplicaOptions
from accord.store.taxii import TaxiiStore
from accord.store.version_writer import VersionWriter
from accord.store.web_sessions import WebSessions
from accord.store.webhooks import Webhooks

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Readers:
    """The stores a read from a replica may use: one set per database (the primary's are the
    `Store`'s own). Each applies the visibility rule in its queries, wherever they run."""

    objects: ObjectStore
    index: ObservableIndex
    taxii: TaxiiStore

    @classmethod
    def over(cls, engine: Engine) -> Readers:
        return cls(ObjectStore(engine), ObservableIndex(engine), TaxiiStore(engine))


class Store:
    """Everything the node keeps. Build one per process with :meth:`open`."""

    def __init__(self, engine: Engine, replicas: ReadReplicas | None = None) -> None:
        self.engine = engine
        # Where reads that may see a slightly older state go (docs/replicas.md); without
        # replicas, the primary.
        self.replicas = replicas if replicas is not None else ReadReplicas(engine)
        self.objects = ObjectStore(engine)
        self.writer = VersionWriter(engine)  # every write of object versions
        self.index = ObservableIndex(engine)
        self.indicator_values = IndicatorValueReader(engine)  # what sensor exports read
        self.directory = Directory(engine)
        self.allowlists = Allowlists(engine)
        self.audit = AuditLog(engine)
        self.taxii = TaxiiStore(engine)
        self.feeds = Feeds(engine)
        self.job_runs = JobRuns(engine)  # periodic background jobs (accord.jobs)
        self.cursors = Cursors(engine)
        self.settings = NodeSettings(engine, changed=self._setting_changed)
        self.lookup_sessions = LookupSessions(self.replicas)
        self.credentials = Credentials(engine)  # the portal's passwords and second factor
        self.web_sessions = WebSessions(engine)  # the portal's signed-in sessions
        self.identity = NodeIdentities(engine)  # who this node is, for its peers
        self.peers = Peers(engine)  # the nodes it federates with
        self.webhooks = Webhooks(engine)  # organisations' webhooks (docs/webhooks.md)
        self._readers = {replica: Readers.over(replica) for replica in self.replicas.replicas}
        self._readers[engine] = Readers(self.objects, self.index, self.taxii)

    @classmethod
    def open(cls, url: str, replicas: ReplicaOptions | None = None) -> Store:
        """The store at ``url``; with ``replicas``, reading from those (PostgreSQL only)."""
        engine = open_engine(url)
        if replicas is None or not replicas.urls:
            return cls(engine)
        try:
            if engine.dialect.name != "postgresql":
                raise ValueError("read replicas need a PostgreSQL primary (ACCORD_DATABASE_URL)")
            return cls(engine, ReadReplicas.open(engine, replicas))
        except Exception:
            close_engine(engine)
            raise

    def from_replica(self, read: Callable[[Readers], T]) -> T:
        """``read`` with the stores of a usable read replica, else the primary's: for reads
        that may see the node as it was a moment ago (up to the replicas' lag bound), never
        for a caller's read of its own fresh write (docs/replicas.md says which go where).
        If it fails on a replica, it runs again on the primary (`ReadReplicas.run`)."""
        return self.replicas.run(lambda engine: read(self._readers[engine]))

    def init(self) -> None:
        """Apply migrations and publish the node's own definitions (idempotent)."""
        migrate.upgrade(self.engine)
        published = [*tlp2_marking_definitions(), accord_identity(), extension_definition()]
        versions = [
            NewVersion(
                index=index,
                id=obj["id"],
                modified=timestamp_key(obj.get("modified", obj["created"])),
                type=obj["type"],
                spec_version="2.1",
                created_by_ref=obj.get("created_by_ref"),
                revoked=False,
                tlp=Tlp.CLEAR,
                audience=frozenset(),
                raw=orjson.dumps(obj).decode(),
                text=searchable_text(obj),
                labels=labels_of(obj),
            )
            for index, obj in enumerate(published)
        ]
        self.writer.put(versions, owner_org=ACCORD_IDENTITY_ID, owner_user=None)

    def _setting_changed(self, name: str) -> None:
        if name == CORRELATION_CAP:
            forget_policy(self.engine)  # read again on next use

    def lookup_session(
        self, *, hold: bool = False, pause_collector: bool = False
    ) -> AbstractContextManager[Connection]:
        """A connection for a look-up (`accord.store.lookup_session`): ``hold`` for a single
        look-up on the event loop's thread, ``pause_collector`` for a bulk one."""
        return self.lookup_sessions.session(hold=hold, pause_collector=pause_collector)

    def close(self) -> None:
        self.lookup_sessions.close()
        self.audit.close()
        self.replicas.close()
        close_engine(self.engine)
