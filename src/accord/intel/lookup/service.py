"""Answering look-ups: values in, answers out, from what the viewer may see, audited.

For each value: a verdict and a score (docs/verdict.md), the reasons (each naming the object
and its TLP), first and last seen, sightings and reporting organisations, and the objects one
hop away through relationships (malware, actors, intrusion sets, campaigns, ATT&CK
techniques, reports). Everything is read through the store, so through the visibility rule: a
value that only hidden objects know answers exactly like a value nobody knows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from datetime import UTC, datetime
from typing import Protocol

import orjson
from sqlalchemy import Connection

from accord.intel.benign import BenignCheck, BenignLists
from accord.intel.lookup.answer import Answer, AuditItem, audit_item
from accord.intel.lookup.evidence import EvidenceCache, distinct, fill_answer, strongest
from accord.intel.lookup.graph import add_over_hubs, read_graph
from accord.match.indicator_index import IndicatorPatterns, observation_of
from accord.model.observables import Observable, ObservableError, parse_query
from accord.model.visibility import Viewer
from accord.settings import Settings
from accord.store.audit import Event
from accord.store.correlation.exclusion import Exclude, excluding
from accord.store.dialects import backend_for
from accord.store.node import Store
from accord.store.records import CORRELATED, UNKNOWN

# Up to this many values, the search also says which of the graph's three queries could find
# anything (accord.store.hints), and the others are skipped: for one value that saves more
# than the search costs. A bulk look-up runs each query once for all its values anyway, and
# among thousands of answers some need each.
HINTS_UP_TO = 16

log = logging.getLogger(__name__)


class Lookup:
    """Answers look-ups for one viewer; records each in the audit log."""

    def __init__(
        self,
        store: Store,
        viewer: Viewer,
        benign_check: BenignCheck | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        exclude: Exclude | None = None,
        patterns: IndicatorPatterns | None = None,
    ) -> None:
        """``exclude``: the values that do not correlate (`BenignLists.warninglisted`, which
        remembers its answers across look-ups); by default, those ``benign_check`` flags.
        The viewer's allowlist applies to correlations either way. ``patterns``: the
        store's indicator patterns (`accord.match.indicator_index`), for the indicators
        whose STIX pattern matches a value without naming it (LIKE, MATCHES, ...)."""
        self.store = store
        self.viewer = viewer
        self.benign_check = benign_check
        self.now = now
        self.exclude = exclude if exclude is not None else excluding(benign_check)
        self.patterns = patterns

    def one(self, text: str, kind: str | None = None) -> Answer:
        return self.many([text], kind)[0]

    def many(
        self, texts: Sequence[str], kind: str | None = None, connection: Connection | None = None
    ) -> list[Answer]:
        """The answers, in order. ``connection``: the caller's (a route that records the
        look-up on the same connection saves a checkout)."""
        if connection is not None:
            return self._many(texts, kind, connection)
        with self.store.replicas.connect() as conn:  # a read replica where there are some
            return self._many(texts, kind, conn)

    def _many(self, texts: Sequence[str], kind: str | None, conn: Connection) -> list[Answer]:
        answers: list[Answer] = []
        parsed: list[tuple[int, Observable]] = []
        for position, text in enumerate(texts):
            try:
                observable = parse_query(text, kind)
            except ObservableError as exc:
                answers.append(Answer(text, None, None, error=str(exc)))
                continue
            answers.append(Answer(text, observable.kind, observable.value))
            parsed.append((position, observable))
        # One connection for the whole look-up: a checkout per query costs more than a query.
        # A few values: the search says which of the graph's queries could find anything.
        hints = len(parsed) <= HINTS_UP_TO
        observables = [o for _, o in parsed]
        found = self.store.index.search_many(
            self.viewer,
            observables,
            conn,
            context=hints,
            versions=self._pattern_versions(observables, conn),
        )
        totals = [distinct(matches) for matches in found]
        found = [strongest(matches) for matches in found]
        matched = {m.obj.id: m.obj.seq for matches in found for m in matches}
        wanted = UNKNOWN  # without hints every match says UNKNOWN: no need to look
        if hints:
            wanted = 0
            for matches in found:
                for match in matches:
                    wanted |= match.context
        graph = read_graph(self.store, self.viewer, matched, conn, wanted, self.exclude)
        if wanted & CORRELATED:
            add_over_hubs(graph, found, conn, self.viewer, self.exclude)
        now = self.now()
        evidence = EvidenceCache(graph, now)
        benign_check = self.benign_check
        for (position, observable), matches, (total, orgs) in zip(
            parsed, found, totals, strict=True
        ):
            answer = answers[position]
            answer.reasons_total = total
            if benign_check is not None:
                answer.lists = benign_check(observable)
            if matches or answer.lists:
                fill_answer(answer, matches, evidence, orgs)
        return answers

    def _pattern_versions(
        self, observables: Sequence[Observable], conn: Connection
    ) -> list[list[int]] | None:
        """Per value, the indicator versions whose pattern matches it (found in memory over
        every indicator, so only candidates: the search reads them through the rule)."""
        patterns = self.patterns
        if patterns is None:
            return None
        patterns.refresh(conn)
        if not len(patterns):
            return None
        found: list[list[int]] = []
        for observable in observables:
            observation = observation_of(observable)
            found.append([] if observation is None else patterns.matching(observation))
        return found

    def audit_events(self, answers: Sequence[Answer], user_id: str | None) -> list[Event]:
        """One audit entry per looked-up value: who, which value, which objects answered."""
        return [
            Event(
                action="lookup",
                user_id=user_id,
                org_id=self.viewer.org_id,
                target=answer.value or answer.query,
                detail={"verdict": answer.verdict, "answered_by": answer.answered_by},
            )
            for answer in answers
        ]

    def audit_event_bulk(self, items: Sequence[AuditItem], user_id: str | None) -> Event:
        """One audit entry for a bulk look-up that still names, per value in order, the
        value looked up, its verdict and the objects that answered (``items``, from
        `audit_item`; an entry per value would cost ten thousand chained hashes and rows for
        one request)."""
        return Event(
            action="lookup",
            user_id=user_id,
            org_id=self.viewer.org_id,
            target=None,
            detail={
                "count": len(items),
                "values": [value for value, _, _ in items],
                "verdicts": [verdict for _, verdict, _ in items],
                "answered_by": [answered_by for _, _, answered_by in items],
            },
        )


Encoded = tuple[bytes, list[AuditItem]]
"""Answers as a JSON array, and what the look-up's audit entry keeps of each."""


class Helper(Protocol):
    """Another process that answers the first half of a large bulk look-up meanwhile
    (`accord.api.lookup_workers`)."""

    split_from: int  # values from which a bulk look-up is shared with it
    wait_seconds: float  # for its half, before answering it here instead

    def submit(
        self, viewer: Viewer, values: Sequence[str], kind: str | None
    ) -> Future[Encoded] | None:
        """Its answers to ``values``, to come; None while it cannot take them."""
        ...


class LookupService:
    """The node's look-ups: its store and its benign lists (the warninglists it uses, each
    organisation's allowlist). The one place a `Lookup` is built: callers say who is
    calling, the service builds that viewer's benign check and runs the look-up in a look-up
    session of the store (`Store.lookup_session`)."""

    def __init__(
        self,
        store: Store,
        lists: BenignLists | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.lists = lists
        self.now = now
        # The store's indicator patterns, built at the first look-up and kept fresh: for
        # every look-up of this service, and the match of observed-data (POST
        # /api/v1/patterns/match).
        self.patterns = IndicatorPatterns(store)

    @classmethod
    def load(cls, store: Store, settings: Settings) -> LookupService:
        """With the lists ``settings`` (the node's) name; a ValueError if they name a
        warninglist the node does not have."""
        lists = (
            BenignLists.load(
                store, settings.warninglists_ignore, classes=settings.warninglist_classes
            )
            if settings.warninglists
            else None
        )
        return cls(store, lists)

    @property
    def waits_on_database(self) -> bool:
        """Whether a look-up's reads wait on a database server outside this process (then
        concurrent look-ups overlap those waits on look-up threads: `accord.api.
        lookup_threads`); SQLite reads are this process's own work."""
        return backend_for(self.store.engine).writes_in_thread

    @property
    def exclude(self) -> Exclude | None:
        """The values that do not correlate: those on the node's warninglists."""
        return None if self.lists is None else self.lists.warninglisted

    def lookup(self, viewer: Viewer) -> Lookup:
        """The look-up of ``viewer``: the warninglists and its organisation's allowlist."""
        lists = self.lists
        return Lookup(
            self.store,
            viewer,
            lists.for_viewer(viewer) if lists is not None else None,
            now=self.now,
            exclude=lists.warninglisted if lists is not None else None,
            patterns=self.patterns,
        )

    def answered(
        self, viewer: Viewer, values: Sequence[str], kind: str | None, user_id: str | None
    ) -> list[Answer]:
        """The answers, in order, each audited (an entry per value)."""
        lookup = self.lookup(viewer)
        answers = lookup.many(values, kind)
        self.store.audit.append(*lookup.audit_events(answers, user_id))
        return answers

    def one(self, viewer: Viewer, value: str, kind: str | None, user_id: str | None) -> Answer:
        """A single look-up, audited: its answer once its audit entry is committed."""
        answer, recorded = self.one_pending(viewer, value, kind, user_id)
        recorded.result()
        return answer

    def one_pending(
        self, viewer: Viewer, value: str, kind: str | None, user_id: str | None
    ) -> tuple[Answer, Future[None]]:
        """A single look-up on the API (inline on the event loop's thread, on the store's
        held connection) and the commit of its audit entry, to come: the answer must not be
        given before that commit (`accord.store.audit.AuditLog.submit`; on PostgreSQL the
        entries of look-ups that arrive together share one commit)."""
        lookup = self.lookup(viewer)
        conn: Connection | None = None
        try:
            with self.store.lookup_session(hold=True) as conn:
                return self._audited(lookup, conn, value, kind, user_id)
        except Exception:
            # The held connection was lost (the database server restarted): once more, on a
            # new one, as a pooled connection's liveness check would have done.
            if conn is None or not self.store.lookup_sessions.lost(conn):
                raise
        with self.store.lookup_session(hold=True) as conn:
            return self._audited(lookup, conn, value, kind, user_id)

    def _audited(
        self, lookup: Lookup, conn: Connection, value: str, kind: str | None, user: str | None
    ) -> tuple[Answer, Future[None]]:
        """The look-up of ``value`` on ``conn``, and its audit entry's commit to come (on the
        primary when ``conn`` is a read replica's). The answer is not given before it."""
        answer = lookup.many([value], kind, conn)[0]
        return answer, self.store.audit.submit(*lookup.audit_events([answer], user), on=conn)

    def encoded(self, viewer: Viewer, values: Sequence[str], kind: str | None) -> Encoded:
        """The answers, not audited (a bulk look-up's helper: the request audits)."""
        with self.store.lookup_session(pause_collector=True) as conn:
            return _encoded(self.lookup(viewer).many(values, kind, conn))

    def bulk(
        self,
        viewer: Viewer,
        values: list[str],
        kind: str | None,
        user_id: str | None,
        helper: Helper | None = None,
    ) -> bytes:
        """A bulk look-up as the JSON of its answers, audited as one entry that names every
        value and its answerers. From ``helper.split_from`` values, ``helper`` answers the
        first half meanwhile."""
        lookup = self.lookup(viewer)
        half = len(values) // 2
        with self.store.lookup_session(pause_collector=True) as conn:
            shared, wait = None, 0.0
            if helper is not None and len(values) >= helper.split_from:
                shared, wait = helper.submit(viewer, values[:half], kind), helper.wait_seconds
            own = values[half:] if shared is not None else values
            answers, items = _encoded(lookup.many(own, kind, conn))
            conn.rollback()  # ends the read: no snapshot kept while the helper answers
            if shared is not None:
                try:
                    first, first_items = shared.result(timeout=wait)
                except Exception as exc:  # the helper failed: this thread answers its half too
                    log.warning("bulk look-up helper failed (%s); answering here", exc)
                    first, first_items = _encoded(lookup.many(values[:half], kind, conn))
                answers, items = join_arrays(first, answers), first_items + items
            self.store.audit.append(lookup.audit_event_bulk(items, user_id))
            return b'{"answers":' + answers + b"}"

    def close(self) -> None:
        """Give the store's held look-up connection back and commit the audit entries still
        queued (the server is stopping)."""
        self.store.lookup_sessions.close()
        self.store.audit.close()


def _encoded(answers: Sequence[Answer]) -> Encoded:
    return orjson.dumps([answer.as_json() for answer in answers]), [
        audit_item(answer) for answer in answers
    ]


def join_arrays(first: bytes, second: bytes) -> bytes:
    """Two JSON arrays as one, in order."""
    if first == b"[]":
        return second
    if second == b"[]":
        return first
    return first[:-1] + b"," + second[1:]
