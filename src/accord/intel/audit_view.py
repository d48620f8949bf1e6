"""The audit log as one reader may see it.

Audit readers (the node admin: every entry; an org-admin: their organisation's) see who did
what and when: the actor, the action, the values looked up, the time. What an entry says
about intelligence (the objects that answered a look-up, the ids read, written or deleted,
the verdict they gave) is shown through the reader's own visibility:

- every detail that names an object (a STIX id) is kept only if the reader may see that
  object, as the store's visibility rule decides (`ObjectStore.get_many`); a hidden id is
  left out of its list (or its field is null), so neither it nor how many there were shows;
- a look-up's verdict is kept only if the reader may see every object that answered it;
  otherwise it is null;
- an entry from which anything was left out says ``"withheld": true``;
- no entry shows its hash: each hash commits to its full entry and, through the chain, to
  every entry before it, so with what the reader sees it would confirm a guess of what was
  left out (the ids of value-derived SCOs can be guessed, and a reader may know an id from
  elsewhere).

The stored entry is never changed: `accord.store.audit.AuditLog.verify` checks the chain over
the full entries. Who may read the log at all: `READERS`, and `scope`.

Filters follow what is shown (`query`): a filter on a target that names an object the reader
may not see finds only the entries that show that target whole (look-ups, directory actions),
so the filter cannot confirm what `present` withholds. The chain's state (`chain_status`)
is told to an org-admin about their organisation's entries: the newest of theirs that was
checked, and the breaks among them; of other organisations' entries only how many broke.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from accord.model.roles import Role
from accord.model.stix_identifiers import ID_RE
from accord.model.visibility import Viewer
from accord.store.audit import AuditEntry, AuditLog, AuditQuery, Break
from accord.store.objects import ObjectStore
from accord.store.organisations import User

READERS = (Role.ADMIN, Role.ORG_ADMIN)
"""The roles that may read the audit log."""

# Entries about organisations, users and keys, not intelligence: shown in full (an
# organisation's id is a STIX identity id, but the directory's, not an object's).
_DIRECTORY_ACTIONS = frozenset({"admin"})
# Entries whose target `present` always shows whole (a look-up's target is the value asked).
_WHOLE_TARGET_ACTIONS = _DIRECTORY_ACTIONS | {"lookup"}
_CHUNK = 5000  # ids per visibility query


def scope(user: User) -> str | None:
    """The organisation whose entries ``user`` may read (None: every entry). The caller has
    checked that the user's role is one of `READERS`."""
    return None if user.role == Role.ADMIN else user.org_id


def may_read(user: User) -> bool:
    return user.role in READERS


def _is_object_id(value: object) -> bool:
    """A STIX identifier (STIX 2.1 section 2.9), as ingest accepts them (any case of hex)."""
    return isinstance(value, str) and ID_RE.fullmatch(value) is not None


def _object_ids(value: Any) -> Iterable[str]:
    """Every STIX id anywhere in a detail's JSON."""
    if isinstance(value, str):
        if _is_object_id(value):
            yield value
    elif isinstance(value, list):
        for item in value:
            yield from _object_ids(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _object_ids(item)


def _is_lookup(entry: AuditEntry) -> bool:
    return entry.action == "lookup"


def _references(entry: AuditEntry) -> Iterable[str]:
    """The object ids an entry names. A look-up's target and values are what was looked up,
    not objects."""
    if _is_lookup(entry):
        detail = {k: v for k, v in entry.detail.items() if k not in ("values",)}
        yield from _object_ids(detail)
        return
    if entry.action in _DIRECTORY_ACTIONS:
        return
    if entry.target is not None and _is_object_id(entry.target):
        yield entry.target
    yield from _object_ids(entry.detail)


class _Filter:
    """Removes the ids a reader may not see from one entry, and says if it removed any."""

    def __init__(self, visible: set[str]) -> None:
        self.visible = visible
        self.withheld = False

    def ids(self, value: Any) -> Any:
        """``value`` with every hidden STIX id left out (from a list) or nulled."""
        if isinstance(value, str):
            if _is_object_id(value) and value not in self.visible:
                self.withheld = True
                return None
            return value
        if isinstance(value, list):
            kept = []
            for item in value:
                if isinstance(item, str) and _is_object_id(item) and item not in self.visible:
                    self.withheld = True
                    continue
                kept.append(self.ids(item))
            return kept
        if isinstance(value, dict):
            return {key: self.ids(item) for key, item in value.items()}
        return value

    def all_visible(self, ids: Any) -> bool:
        return isinstance(ids, list) and all(not _is_object_id(i) or i in self.visible for i in ids)

    def lookup(self, detail: dict[str, Any]) -> dict[str, Any]:
        """A look-up's detail: the values looked up stay; each verdict only if every object
        behind it is visible."""
        shown = {key: item if key == "values" else self.ids(item) for key, item in detail.items()}
        answered = detail.get("answered_by")
        if "values" in detail:  # a bulk look-up: parallel lists, one item per value
            verdicts = detail.get("verdicts")
            if isinstance(verdicts, list):
                kept = []
                for index, verdict in enumerate(verdicts):
                    basis = (
                        answered[index]
                        if isinstance(answered, list) and index < len(answered)
                        else None
                    )
                    kept.append(verdict if self.all_visible(basis) else None)
                    self.withheld |= kept[-1] is None
                shown["verdicts"] = kept
        elif "verdict" in detail and not self.all_visible(answered):
            shown["verdict"] = None
            self.withheld = True
        return shown


def present(
    entries: Sequence[AuditEntry], viewer: Viewer, objects: ObjectStore
) -> list[dict[str, Any]]:
    """``entries`` as ``viewer`` may see them (see the module's docstring), in order."""
    wanted = sorted({ref for entry in entries for ref in _references(entry)})
    visible: set[str] = set()
    for start in range(0, len(wanted), _CHUNK):
        visible.update(o.id for o in objects.get_many(viewer, wanted[start : start + _CHUNK]))
    shown = []
    for entry in entries:
        check = _Filter(visible)
        target, detail = entry.target, entry.detail
        if _is_lookup(entry):
            detail = check.lookup(entry.detail)
        elif entry.action not in _DIRECTORY_ACTIONS:
            target, detail = check.ids(entry.target), check.ids(entry.detail)
        if check.withheld:
            detail = detail | {"withheld": True}
        shown.append(
            {
                "seq": entry.seq,
                "at": entry.at,
                "user_id": entry.user_id,
                "org_id": entry.org_id,
                "action": entry.action,
                "target": target,
                "detail": detail,
            }
        )
    return shown


def query(
    user: User,
    viewer: Viewer,
    objects: ObjectStore,
    *,
    user_id: str | None = None,
    action: str | None = None,
    target: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> AuditQuery:
    """The store's query for a reader's filters, within their `scope`. A ``target`` that
    names an object the reader may not see narrows the listing to the actions whose target
    `present` shows whole, so that what it finds is what the reader would find by eye."""
    actions = None
    if target is not None and _is_object_id(target) and not objects.get_many(viewer, [target]):
        actions = _WHOLE_TARGET_ACTIONS
    return AuditQuery(
        org_id=scope(user),
        user_id=user_id,
        action=action,
        actions=actions,
        target=target,
        since=since,
        until=until,
    )


@dataclass(frozen=True, slots=True)
class ChainStatus:
    """The hash chain's state as one reader is told it."""

    intact: bool  # the whole chain, every organisation's entries
    count: int | None  # entries checked (for the node admin; None for an org-admin)
    last_seq: int | None  # the newest checked entry the reader may read
    last_at: str | None
    breaks: tuple[Break, ...]  # the breaks in entries the reader may read
    breaks_elsewhere: int  # how many in entries they may not read


def chain_status(log: AuditLog, user: User) -> ChainStatus:
    """Walk the whole chain (`AuditLog.verify_chain`) and tell ``user`` what they may know
    of it: see the module's docstring. The walk reads every entry: seconds for millions."""
    check = log.verify_chain()
    org = scope(user)
    if org is None:
        return ChainStatus(
            check.intact, check.count, check.last_seq, check.last_at, check.breaks, 0
        )
    newest = []
    if check.last_seq is not None:
        newest = log.newest(AuditQuery(org_id=org), before_seq=check.last_seq + 1, limit=1)
    mine = tuple(b for b in check.breaks if b.org_id == org)
    return ChainStatus(
        check.intact,
        None,
        newest[0].seq if newest else None,
        newest[0].at if newest else None,
        mine,
        len(check.breaks) - len(mine),
    )
