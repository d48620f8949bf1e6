"""STIX bundles in: parse, upgrade 2.0 to 2.1, validate, decide access, index, store.

A bundle is taken whole or not at all (docs/architecture.md, principle 6): every object is
checked before anything is written, and the write is one transaction. With ``partial`` the valid
objects are stored and each rejected one is reported with its index, id, property and reason.
"""

from __future__ import annotations

import mmap
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import orjson
from sqlalchemy import Connection

from accord.ingest.pattern_meaning import pattern_meaning_warnings
from accord.ingest.version_keys import bundle_keys, version_key
from accord.model.errors import Problem, StixError
from accord.model.extension import NamedRecipients, recipients_in
from accord.model.holdings import Holding, decide
from accord.model.jsondoc import JsonDocumentError
from accord.model.jsondoc import loads as json_loads
from accord.model.observables import observables_from_object
from accord.model.references import references_of
from accord.model.search_text import labels_of, searchable_text
from accord.model.timestamps import timestamp_key
from accord.model.tlp import Tlp, tlp_of
from accord.model.upgrade import bundle_spec_version, upgrade_object
from accord.model.validation import validate_object
from accord.model.visibility import Recipients, Viewer, audience_for
from accord.store.audit import Event
from accord.store.gc_pause import collector_paused
from accord.store.node import Store
from accord.store.organisations import NotFound, User
from accord.store.records import NewVersion

Status = Literal["stored", "duplicate", "rejected", "not stored"]


NO_NAMES = NamedRecipients()
WRITE_CHUNK = 2000  # versions per hand-over to the writer thread


@dataclass(slots=True)
class ObjectReport:
    """What happened to one object of a bundle."""

    index: int
    id: str | None
    type: str | None
    status: Status
    problems: Sequence[Problem] = ()
    changes: Sequence[str] = ()  # what the 2.0 upgrade changed
    # Stored all the same: e.g. a YARA or Sigma pattern its parser here does not accept
    # (accord.model.validation, `warnings`).
    warnings: Sequence[Problem] = ()

    def describe(self) -> str:
        where = f"object {self.index}" + (f" ({self.id})" if self.id else "")
        reasons = "; ".join(str(problem) for problem in self.problems)
        return f"{where}: {reasons}" if reasons else where


@dataclass(slots=True)
class IngestReport:
    """The outcome of one bundle (one file)."""

    source: str
    objects: list[ObjectReport] = field(default_factory=list)
    error: str | None = None  # a problem with the document as a whole
    spec_version: str | None = None

    def count(self, status: Status) -> int:
        return sum(1 for report in self.objects if report.status == status)

    @property
    def ok(self) -> bool:
        return self.error is None and self.count("rejected") == 0

    def summary(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "spec_version": self.spec_version,
            "stored": self.count("stored"),
            "duplicates": self.count("duplicate"),
            "rejected": self.count("rejected"),
            "not_stored": self.count("not stored"),
            "error": self.error,
            "rejections": [
                {
                    "index": report.index,
                    "id": report.id,
                    "problems": [
                        {"property": p.property, "reason": p.reason} for p in report.problems
                    ],
                }
                for report in self.objects
                if report.status == "rejected"
            ],
            "warnings": [
                {
                    "index": report.index,
                    "id": report.id,
                    "problems": [
                        {"property": p.property, "reason": p.reason} for p in report.warnings
                    ],
                }
                for report in self.objects
                if report.warnings
            ],
        }


def ingest_totals(reports: Sequence[IngestReport]) -> dict[str, object]:
    """What the audit entry of an ingest (a command, a portal upload) says: the sources and
    how many objects were stored, already there and rejected (as the API's entry for a
    bundle)."""
    return {
        "files": [report.source for report in reports],
        "stored": sum(report.count("stored") for report in reports),
        "duplicates": sum(report.count("duplicate") for report in reports),
        "rejected": sum(report.count("rejected") for report in reports),
    }


@dataclass(frozen=True, slots=True)
class IngestOptions:
    """How to take a bundle in."""

    tlp: Tlp | None = None  # for objects that carry no TLP marking; else the node default
    recipients: Recipients = field(default_factory=Recipients)
    partial: bool = False  # store the valid objects of a bundle that has invalid ones
    strict_document: bool = False  # only a bundle of JSON objects (the API); files are lenient
    origin_node: str | None = None  # the peer node the objects came from (federation)
    # Written in the objects' transaction before it commits (a federation cursor).
    before_commit: Callable[[Connection], None] | None = None
    # A bulk load: correlation is left to the `correlation` job (accord.store.correlation_backlog).
    defer_correlation: bool = False


def parse_document(
    data: bytes | memoryview, source: str, strict: bool = False, version: str | None = None
) -> tuple[list[Any], str]:
    """The objects of a bundle and its spec version. Leniently (files): a bare list of
    objects, a single object, or a bundle without its ``type`` are taken as bundles.
    Strictly (the API, whose document promises a bundle): only a bundle of JSON objects.
    ``version``: the bundle's version already read from its keys (accord.ingest.version_keys)."""
    try:
        document = json_loads(data)
    except JsonDocumentError as exc:
        raise StixError(f"{source}: {exc}") from None
    if strict:
        _check_strict(document, source)
    if isinstance(document, list):
        document = {"type": "bundle", "objects": document}
    if not isinstance(document, dict):
        raise StixError(
            f"{source}: expected a STIX bundle (a JSON object), got {type(document).__name__}"
        )
    if document.get("type") is None and isinstance(document.get("objects"), list):
        document = {**document, "type": "bundle"}  # real producers forget it; the intent is clear
    if document.get("type") != "bundle":
        if isinstance(document.get("type"), str) and "id" in document:
            document = {"type": "bundle", "objects": [document]}
        else:
            raise StixError(f"{source}: expected a STIX bundle: its 'type' must be 'bundle'")
    objects = document.get("objects", [])
    if not isinstance(objects, list):
        raise StixError(f"{source}: the bundle's 'objects' must be a list")
    if version is not None:
        return objects, version
    try:
        version = bundle_spec_version(document)
    except StixError as exc:
        raise StixError(f"{source}: {exc}") from None
    return objects, version


def _check_strict(document: Any, source: str) -> None:
    if not isinstance(document, dict) or document.get("type") != "bundle":
        raise StixError(f"{source}: expected a STIX bundle: a JSON object whose type is 'bundle'")
    if not isinstance(document.get("id", ""), str):
        raise StixError(f"{source}: the bundle's 'id' must be a string (bundle--<UUID>)")
    objects = document.get("objects", [])
    if not isinstance(objects, list):
        raise StixError(f"{source}: the bundle's 'objects' must be a list")
    for index, obj in enumerate(objects):
        if not isinstance(obj, dict):
            raise StixError(f"{source}: objects[{index}] is not a JSON object")


class Ingester:
    """Turns parsed objects into stored versions on behalf of one user."""

    def __init__(self, store: Store, user: User, default_tlp: Tlp = Tlp.AMBER) -> None:
        self.store = store
        self.user = user
        self.default_tlp = default_tlp
        self._group_ids: dict[str, str | None] = {}
        self._user_ids: dict[str, str | None] = {}
        self._audiences: dict[tuple[Tlp, Recipients], frozenset[str]] = {}
        self._viewer: Viewer | None = None
        self._node_orgs: frozenset[str] | None = None

    def ingest_file(
        self,
        path: Path,
        options: IngestOptions,
        progress: Callable[[int], None] | None = None,
    ) -> IngestReport:
        with path.open("rb") as handle:
            if path.stat().st_size == 0:
                return self.ingest_bytes(b"", str(path), options, progress)
            # Mapped, not read: the parsers take a buffer, and a copy of a large bundle
            # would cost as much as finding that all of it is stored already.
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                view = memoryview(mapped)
                try:
                    return self.ingest_bytes(view, str(path), options, progress)
                finally:
                    view.release()

    def ingest_bytes(
        self,
        data: bytes | memoryview,
        source: str,
        options: IngestOptions,
        progress: Callable[[int], None] | None = None,
    ) -> IngestReport:
        # A bundle is millions of small dicts and lists that live until it is stored: the
        # cyclic garbage collector would walk them again and again for nothing. They are freed
        # when _ingest_bytes returns, before the collector is back: otherwise its first run
        # would walk every one of them (a tenth of a second for ATT&CK) just to find them dead.
        with collector_paused():
            return self._ingest_bytes(data, source, options, progress)

    def _ingest_bytes(
        self,
        data: bytes | memoryview,
        source: str,
        options: IngestOptions,
        progress: Callable[[int], None] | None,
    ) -> IngestReport:
        keys = bundle_keys(data)
        own, anyone = (
            (-1, -1)
            if keys is None
            else self.store.objects.count_stored(keys.keys, self.user.org_id)
        )
        if keys is not None and own == len(keys.keys):
            return _all_duplicates(source, keys.keys, keys.spec_version, progress)
        try:
            objects, version = parse_document(
                data, source, options.strict_document, None if keys is None else keys.spec_version
            )
        except StixError as exc:
            return IngestReport(source=source, error=str(exc))
        if keys is None or len(keys.keys) != len(objects):
            return self.ingest_objects(objects, version, source, options, progress)
        # No version of any of its ids stored yet (the usual new bundle): nothing to ask.
        known: dict[str, Holding] | None = {} if anyone == 0 else None
        return self.ingest_objects(objects, version, source, options, progress, known, keys.keys)

    def ingest_objects(
        self,
        objects: Sequence[Any],
        spec_version: str,
        source: str,
        options: IngestOptions,
        progress: Callable[[int], None] | None = None,
        known: dict[str, Holding] | None = None,
        keys: Sequence[tuple[str, str] | None] | None = None,
    ) -> IngestReport:
        """Store parsed objects; ``known``: :meth:`holdings` of their ids, if asked already."""
        report = IngestReport(source=source, spec_version=spec_version)
        prepared: list[NewVersion] = []  # validated, not yet handed to the writer
        written: list[NewVersion] = []
        if known is None:
            known = self.holdings(
                [o["id"] for o in objects if isinstance(o, dict) and isinstance(o.get("id"), str)]
            )
        refused: list[str] = []
        if keys is None:
            keys = [
                version_key(obj.get("id"), obj.get("modified"), obj.get("created"))
                if isinstance(obj, dict)
                else None
                for obj in objects
            ]
        rejected = False
        with self.store.writer.batch_writer(
            self.user.org_id,
            self.user.id,
            options.origin_node,
            options.before_commit,
            options.defer_correlation,
        ) as writer:
            for index, (obj, key) in enumerate(zip(objects, keys, strict=True)):
                holding = None if key is None else known.get(key[0])
                if holding is not None and key is not None and holding.holds(key[1]):
                    # Stored already: a duplicate needs no validation, indexing or writing.
                    report.objects.append(ObjectReport(index, key[0], obj.get("type"), "duplicate"))
                    continue
                object_report, version = self._prepare(index, obj, spec_version, options, key)
                if version is not None and holding is not None:
                    version = self._may_version(holding, version, object_report, refused)
                report.objects.append(object_report)
                rejected = rejected or object_report.status == "rejected"
                if version is not None:
                    prepared.append(version)
                if len(prepared) >= WRITE_CHUNK and (options.partial or not rejected):
                    writer.submit(prepared)
                    written.extend(prepared)
                    prepared = []
                if progress is not None and index % 1000 == 999:
                    progress(1000)
            if progress is not None:
                progress(len(objects) % 1000)
            if rejected and not options.partial:
                for object_report in report.objects:
                    if object_report.status != "rejected":
                        object_report.status = "not stored"
                outcomes = None  # leaving without commit rolls the writer back
            else:
                writer.submit(prepared)
                written.extend(prepared)
                outcomes = writer.commit()
        if refused:  # after the writer's transaction: the audit log takes the write lock
            self._audit_refused(refused, source)
        if outcomes is None:
            return report
        by_index = {
            version.index: outcome for version, outcome in zip(written, outcomes, strict=True)
        }
        for object_report in report.objects:
            if object_report.index in by_index:
                object_report.status = by_index[object_report.index]
        return report

    def holdings(self, ids: Sequence[str]) -> dict[str, Holding]:
        """What is stored of these ids, for the versioning rule (accord.model.holdings)."""
        if self._viewer is None:
            self._viewer = self.store.directory.viewer(self.user)
        return self.store.objects.holdings(self._viewer, ids)

    def _may_version(
        self,
        holding: Holding,
        version: NewVersion,
        report: ObjectReport,
        refused: list[str],
    ) -> NewVersion | None:
        """The version if this user's organisation may store it; else the report says why."""
        if self._node_orgs is None:
            self._node_orgs = self.store.directory.hosted_org_ids()
        decision = decide(
            holding,
            version.id,
            version.modified,
            version.created_by_ref,
            self.user.org_id,
            self._node_orgs,
        )
        if decision.status == "stored":
            return version
        if decision.status == "duplicate":
            report.status = "duplicate"
            return None
        report.status = "rejected"
        report.problems = [Problem("id", decision.reason or "may not be versioned here")]
        refused.append(version.id)
        return None

    def _audit_refused(self, ids: list[str], source: str) -> None:
        """A refused attempt to version another organisation's object is evidence."""
        self.store.audit.append(
            Event(
                action="refused-version",
                user_id=self.user.id,
                org_id=self.user.org_id,
                target=ids[0],
                detail={"source": source, "ids": ids[:1000], "count": len(ids)},
            )
        )

    def _prepare(
        self,
        index: int,
        obj: Any,
        spec_version: str,
        options: IngestOptions,
        key: tuple[str, str] | None,
    ) -> tuple[ObjectReport, NewVersion | None]:
        if not isinstance(obj, dict):
            problem = Problem(
                None, f"expected a STIX object (a JSON object), got {type(obj).__name__}"
            )
            return ObjectReport(index, None, None, "rejected", [problem]), None
        changes: list[str] = []
        if spec_version == "2.0":
            obj, changes = upgrade_object(obj)
        object_id = obj.get("id") if isinstance(obj.get("id"), str) else None
        object_type = obj.get("type") if isinstance(obj.get("type"), str) else None
        warnings: list[Problem] = []
        problems = validate_object(obj, spec_version, warnings)
        if not problems and object_type == "indicator":
            warnings.extend(pattern_meaning_warnings(obj, spec_version))
        recipients = options.recipients
        if "extensions" in obj:
            named, extension_problems = recipients_in(obj)
            problems.extend(extension_problems)
        else:
            named = NO_NAMES
        if named.organizations or named.sharing_groups or named.users:
            resolved, resolve_problems = self._resolve(
                named.organizations, named.sharing_groups, named.users
            )
            problems.extend(resolve_problems)
            recipients = recipients.merged(resolved)
        if problems:
            return ObjectReport(
                index, object_id, object_type, "rejected", problems, changes, warnings
            ), None
        assert object_id is not None and object_type is not None
        # Tlp.CLEAR is 0, so no `or` chain here.
        tlp = tlp_of(obj)
        if tlp is None:
            tlp = options.tlp if options.tlp is not None else self.default_tlp
            obj = with_marking(obj, tlp)
        if tlp == Tlp.RED and (recipients.org_ids or recipients.group_ids):
            # RED is for named people (TLP 2.0): an organisation given as a recipient would
            # be dropped without a word, and the sender would think it shared.
            problem = Problem(
                "object_marking_refs",
                "TLP:RED is shared with named people only: give recipient users, not "
                "organisations or sharing groups (or share at TLP:AMBER with them)",
            )
            return ObjectReport(index, object_id, object_type, "rejected", [problem], changes), None
        if key is None:  # valid objects always have a key; this is for the type checker
            key = version_key(object_id, obj.get("modified"), obj.get("created"))
            assert key is not None
        try:
            raw = orjson.dumps(obj).decode()
        except TypeError:  # the one thing JSON may hold that orjson cannot write back
            problem = Problem(
                None, "holds an integer beyond 64 bits (a STIX integer fits in 54 bits)"
            )
            return ObjectReport(index, object_id, object_type, "rejected", [problem], changes), None
        version = NewVersion(
            index=index,
            id=object_id,
            modified=key[1],
            type=object_type,
            spec_version=str(obj.get("spec_version", "2.1")),
            created_by_ref=obj.get("created_by_ref"),
            revoked=obj.get("revoked") is True,
            tlp=tlp,
            audience=self._audience(tlp, recipients),
            raw=raw,
            observables=observables_from_object(obj),
            references=references_of(obj),
            text=searchable_text(obj),
            labels=labels_of(obj),
            valid_until=_valid_until(obj),
        )
        return ObjectReport(index, object_id, object_type, "stored", [], changes, warnings), version

    def _audience(self, tlp: Tlp, recipients: Recipients) -> frozenset[str]:
        # A bundle has few distinct (TLP, recipients) pairs: compute each audience once.
        found = self._audiences.get((tlp, recipients))
        if found is None:
            found = audience_for(tlp, self.user.org_id, self.user.id, recipients)
            self._audiences[(tlp, recipients)] = found
        return found

    def _resolve(
        self, orgs: Iterable[str], groups: Iterable[str], emails: Iterable[str]
    ) -> tuple[Recipients, list[Problem]]:
        """Turn the names in an Accord recipients extension into principals of this node."""
        problems: list[Problem] = []
        group_ids: set[str] = set()
        for name in groups:
            if name not in self._group_ids:
                try:
                    self._group_ids[name] = self.store.directory.group(name).id
                except NotFound:
                    self._group_ids[name] = None
            found = self._group_ids[name]
            if found is None:
                problems.append(
                    Problem("extensions.sharing_groups", f"no sharing group {name!r} on this node")
                )
            else:
                group_ids.add(found)
        user_ids: set[str] = set()
        for email in emails:
            if email not in self._user_ids:
                try:
                    self._user_ids[email] = self.store.directory.user(email).id
                except NotFound:
                    self._user_ids[email] = None
            found = self._user_ids[email]
            if found is None:
                problems.append(
                    Problem("extensions.recipient_users", f"no user {email!r} on this node")
                )
            else:
                user_ids.add(found)
        return Recipients(frozenset(orgs), frozenset(group_ids), frozenset(user_ids)), problems


def with_marking(obj: dict[str, Any], tlp: Tlp) -> dict[str, Any]:
    """The object with the TLP 2.0 marking that governs it (from ``--tlp``, a collection's
    default or the node's) added to its ``object_marking_refs``: what leaves the node by any
    path (TAXII, REST, exports, MISP) carries its TLP, so a consumer downstream cannot lose
    the AMBER (issue 14). The dict is changed in place (a copy of every object of a large
    bundle costs a few percent of its ingest); the ingester owns the objects it is given."""
    markings = obj.get("object_marking_refs")
    refs = markings if isinstance(markings, list) else []
    obj["object_marking_refs"] = [*refs, tlp.marking_id]
    return obj


def _all_duplicates(
    source: str,
    keys: list[tuple[str, str]],
    spec_version: str,
    progress: Callable[[int], None] | None,
) -> IngestReport:
    report = IngestReport(source=source, spec_version=spec_version)
    report.objects = [
        ObjectReport(index, object_id, object_id.partition("--")[0], "duplicate")
        for index, (object_id, _) in enumerate(keys)
    ]
    if progress is not None:
        progress(len(keys))
    return report


def recipients_from_names(store: Store, names: Iterable[str]) -> Recipients:
    """``--recipients`` on the command line: organisation names or ids, or ``group:NAME``."""
    orgs: set[str] = set()
    groups: set[str] = set()
    for name in names:
        name = name.strip()
        if not name:
            continue
        if name.startswith("group:"):
            groups.add(store.directory.group(name.removeprefix("group:")).id)
        else:
            orgs.add(store.directory.org(name).id)
    return Recipients(frozenset(orgs), frozenset(groups))


def _valid_until(obj: dict[str, Any]) -> str | None:
    """An indicator's valid_until (validated already), stored so that its expiry is found by
    time (accord.store.expiry)."""
    stamp = obj.get("valid_until")
    if obj.get("type") != "indicator" or not isinstance(stamp, str):
        return None
    return timestamp_key(stamp)
