"""Answering look-ups: values in, answers out, from what the viewer may see, audited.

For each value: a verdict and a score (docs/verdict.md), the reasons (each naming the object
and its TLP), first and last seen, sightings and reporting organisations, and the objects one
hop away through relationships (malware, actors, intrusion sets, campaigns, ATT&CK
techniques, reports). Everything is read through the store, so through the visibility rule: a
value that only hidden objects know answers exactly like a value nobody knows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from sqlalchemy import Connection

from accord.intel.benign import BenignCheck
from accord.intel.lookup.answer import Answer, AuditItem, parse_query
from accord.intel.lookup.evidence import EvidenceCache, distinct, fill_answer, strongest
from accord.intel.lookup.graph import add_over_hubs, read_graph
from accord.model.observables import Observable, ObservableError
from accord.model.visibility import Viewer
from accord.store.audit import Event
from accord.store.correlation.exclusion import Exclude, excluding
from accord.store.node import Store
from accord.store.records import CORRELATED, UNKNOWN

# Up to this many values, the search also says which of the graph's three queries could find
# anything (accord.store.hints), and the others are skipped: for one value that saves more
# than the search costs. A bulk look-up runs each query once for all its values anyway, and
# among thousands of answers some need each.
HINTS_UP_TO = 16


class Lookup:
    """Answers look-ups for one viewer; records each in the audit log."""

    def __init__(
        self,
        store: Store,
        viewer: Viewer,
        benign_check: BenignCheck | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        exclude: Exclude | None = None,
    ) -> None:
        """``exclude``: the values that do not correlate (`BenignLists.warninglisted`, which
        remembers its answers across look-ups); by default, those ``benign_check`` flags.
        The viewer's allowlist applies to correlations either way."""
        self.store = store
        self.viewer = viewer
        self.benign_check = benign_check
        self.now = now
        self.exclude = exclude if exclude is not None else excluding(benign_check)

    def one(self, text: str, kind: str | None = None) -> Answer:
        return self.many([text], kind)[0]

    def many(
        self, texts: Sequence[str], kind: str | None = None, connection: Connection | None = None
    ) -> list[Answer]:
        """The answers, in order. ``connection``: the caller's (a route that records the
        look-up on the same connection saves a checkout)."""
        if connection is not None:
            return self._many(texts, kind, connection)
        with self.store.engine.connect() as conn:
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
        found = self.store.index.search_many(
            self.viewer, [o for _, o in parsed], conn, context=hints
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
