"""The one reader behind every sensor export (Suricata, Zeek, RPZ, hosts, CSV): the values of
the indicators a viewer may see, each with its indicator, TLP, score and dates, and a tally of
what was left out and why.

The store chooses the indicators by the visibility rule (`accord.store.indicator_values`);
this module only leaves out, for sensors, what should not alert: revoked indicators,
indicators past their ``valid_until``, patterns that are more than equalities (a value from
``[ipv4-addr:value = '198.51.100.7' AND network-traffic:dst_port = 443]`` alone would
alert on every port; `accord.model.patterns` says which are "simple"), values on a
benign-class warninglist or the viewer's allowlist (kept, flagged, with
``include_benign``), and, with ``min_score``, indicators whose score is lower. A formatter
leaves out, with its own reason, a value its format cannot carry (`Tally.leave_out`).

The judge of a value's lists and an indicator's score is passed in (`Judge`), so that the
layer of exports needs nothing of `accord.intel`: the commands and routes hand over
`accord.intel.export_judge.ExportJudge`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Protocol

import orjson

from accord.model.observable_types import HASH_KINDS, KINDS, Observable
from accord.model.timestamps import timestamp_key
from accord.model.tlp import Tlp
from accord.model.visibility import Viewer
from accord.store.node import Store
from accord.store.sightings import SightingTotals, sighting_totals

# `--type` names beside the index's kinds: "ipv4" also takes IPv4 networks (a sensor asking
# for addresses wants the networks too; "ipv4-net" alone asks for networks only).
TYPE_ALIASES: Final[Mapping[str, frozenset[str]]] = {
    "ipv4": frozenset({"ipv4", "ipv4-net"}),
    "ipv6": frozenset({"ipv6", "ipv6-net"}),
    "ip": frozenset({"ipv4", "ipv4-net", "ipv6", "ipv6-net"}),
    "hash": HASH_KINDS,
}
EXAMPLES_KEPT: Final = 20  # values left out by a formatter, named in the trailer and on stderr


class BadExportQuery(ValueError):
    """An export asked with a bad parameter; ``parameter`` names it."""

    def __init__(self, parameter: str, detail: str) -> None:
        super().__init__(f"{parameter}: {detail}")
        self.parameter = parameter
        self.detail = detail


def parse_types(names: Sequence[str]) -> frozenset[str]:
    """The observable kinds of ``--type`` names (comma-separated or repeated); empty: all."""
    kinds: set[str] = set()
    for text in names:
        for name in (part.strip().lower() for part in text.split(",")):
            if not name:
                continue
            if name in TYPE_ALIASES:
                kinds |= TYPE_ALIASES[name]
            elif name in KINDS:
                kinds.add(name)
            else:
                known = ", ".join(sorted(KINDS | set(TYPE_ALIASES)))
                raise BadExportQuery("type", f"{name!r} is not one of {known}")
    return frozenset(kinds)


def parse_since(text: str | None) -> str | None:
    """``--since``: an RFC 3339 timestamp or a day (YYYY-MM-DD), as a timestamp key."""
    if text is None or not text.strip():
        return None
    value = text.strip()
    if len(value) == 10:
        value += "T00:00:00Z"
    try:
        return timestamp_key(value)
    except ValueError:
        raise BadExportQuery(
            "since", f"{text!r} is not an RFC 3339 timestamp or a day (YYYY-MM-DD)"
        ) from None


@dataclass(frozen=True, slots=True)
class ExportQuery:
    """What a sensor asks for; every field optional."""

    kinds: frozenset[str] = frozenset()  # observable kinds (`parse_types`); empty: all
    since: str | None = None  # timestamp key: versions modified or stored here since
    min_score: int | None = None  # 0-100: indicators scoring lower are left out
    include_benign: bool = False  # keep values on benign lists, flagged

    def __post_init__(self) -> None:
        if self.min_score is not None and not 0 <= self.min_score <= 100:
            raise BadExportQuery("min_score", f"{self.min_score} is not between 0 and 100")

    def key(self) -> bytes:
        """The query as bytes, for an ETag."""
        return orjson.dumps([sorted(self.kinds), self.since, self.min_score, self.include_benign])


class Judge(Protocol):
    """What an export asks of the intelligence layer (`accord.intel.export_judge`)."""

    def lists(self, observable: Observable) -> list[str]:
        """The names of the benign-class lists (warninglists, the viewer's allowlist) that
        name the value itself; empty when it is on none."""
        ...

    def score(
        self, obj: Mapping[str, Any], kind: str, sightings: SightingTotals | None, received: str
    ) -> int:
        """The indicator's score (0-100) for a value of ``kind``, now."""
        ...


@dataclass(slots=True)
class ExportItem:
    """One value of one indicator, as every format writes it."""

    seq: int
    indicator_id: str
    modified: str  # timestamp key of the version
    tlp: Tlp
    name: str
    observable: Observable
    score: int
    confidence: int | None
    valid_from: str | None  # timestamp keys
    valid_until: str | None
    first_seen: str | None  # of the "seen" sightings the viewer may count
    last_seen: str | None
    lists: tuple[str, ...] = ()  # benign lists naming it (only with include_benign)

    @property
    def kind(self) -> str:
        return self.observable.kind

    @property
    def value(self) -> str:
        return self.observable.value


@dataclass
class Tally:
    """What an export left out and why, and what it was made from."""

    left_out: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)  # "value (indicator): reason"
    exported: int = 0
    newest_seq: int = 0  # of the indicator versions the export was made from
    next_expiry: str | None = None  # the soonest valid_until still ahead (timestamp key)
    sensitive: dict[str, Tlp] = field(default_factory=dict)  # AMBER+ ids read: the audit

    def leave_out(self, reason: str, item: ExportItem | None = None) -> None:
        """Count a value left out; a formatter's reasons are kept with a few examples."""
        self.left_out[reason] += 1
        if item is not None and len(self.examples) < EXAMPLES_KEPT:
            shown = item.value.encode("unicode_escape").decode("ascii")[:200]
            self.examples.append(f"{shown} ({item.indicator_id}): {reason}")

    def summary(self) -> list[str]:
        """Lines for a trailer comment and for standard error."""
        lines = [f"{self.exported} values exported"]
        lines += [f"left out, {reason}: {count}" for reason, count in sorted(self.left_out.items())]
        lines += [f"e.g. {example}" for example in self.examples]
        return lines

    def header_value(self) -> str:
        """The counts as one HTTP header value (``Accord-Left-Out``)."""
        return ", ".join(
            f"{reason.replace(',', ';')}={count}" for reason, count in sorted(self.left_out.items())
        )


def _name(obj: Mapping[str, Any]) -> str:
    name = obj.get("name")
    return name if isinstance(name, str) else ""


def _key(stamp: object) -> str | None:
    if not isinstance(stamp, str):
        return None
    try:
        return timestamp_key(stamp)
    except ValueError:
        return None


class IndicatorExport:
    """The values of the indicators ``viewer`` may see, as `items` yields them; `tally` says
    what was left out, once the items are consumed."""

    def __init__(
        self,
        store: Store,
        viewer: Viewer,
        query: ExportQuery,
        judge: Judge,
        now: datetime,
    ) -> None:
        self.store = store
        self.viewer = viewer
        self.query = query
        self.judge = judge
        self.now_key = timestamp_key(now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
        self.tally = Tally()

    def items(self) -> Iterator[ExportItem]:
        """The items, in storage order of their indicators (so that the older keep their
        Suricata SIDs when new ones arrive: `accord.export.sensors.suricata`)."""
        tally = self.tally
        query = self.query
        seen_ids: set[int] = set()  # hash of each indicator id exported from
        for page in self.store.indicator_values.pages(
            self.viewer, sorted(query.kinds), query.since
        ):
            with self.store.engine.connect() as conn:
                totals = sighting_totals(conn, self.viewer, [entry.obj.id for entry in page])
            for entry in page:
                obj = entry.obj
                tally.newest_seq = max(tally.newest_seq, obj.seq)
                # Organisations holding the same indicator each have their row: once.
                marker = hash(obj.id)
                if marker in seen_ids:
                    continue
                seen_ids.add(marker)
                if not entry.values:
                    continue
                if obj.revoked:
                    tally.left_out["revoked indicator"] += len(entry.values)
                    continue
                parsed = obj.json()
                valid_until = _key(parsed.get("valid_until"))
                if valid_until is not None and valid_until <= self.now_key:
                    tally.left_out["expired indicator (valid_until passed)"] += len(entry.values)
                    continue
                sightings = totals.get(obj.id)
                confidence = parsed.get("confidence")
                for indexed in entry.values:
                    observable = indexed.observable
                    if not indexed.simple:
                        tally.left_out["pattern is more than equalities"] += 1
                        continue
                    score = self.judge.score(parsed, observable.kind, sightings, obj.date_added)
                    if query.min_score is not None and score < query.min_score:
                        tally.left_out[f"score below {query.min_score}"] += 1
                        continue
                    lists = self.judge.lists(observable)
                    if lists and not query.include_benign:
                        tally.left_out["on a benign list (warninglist or allowlist)"] += 1
                        continue
                    if valid_until is not None and (
                        tally.next_expiry is None or valid_until < tally.next_expiry
                    ):
                        tally.next_expiry = valid_until
                    if obj.tlp >= Tlp.AMBER:
                        tally.sensitive[obj.id] = obj.tlp
                    yield ExportItem(
                        seq=obj.seq,
                        indicator_id=obj.id,
                        modified=obj.modified,
                        tlp=obj.tlp,
                        name=_name(parsed),
                        observable=observable,
                        score=score,
                        confidence=confidence
                        if isinstance(confidence, int) and not isinstance(confidence, bool)
                        else None,
                        valid_from=_key(parsed.get("valid_from")),
                        valid_until=valid_until,
                        first_seen=sightings.first_seen if sightings else None,
                        last_seen=sightings.last_seen if sightings else None,
                        lists=tuple(lists),
                    )
