"""Reading MISP documents: single events, lists, ``{"response": [...]}`` and feed directories.

Real MISP exports are not always valid JSON (trailing commas are common) and a folder of them
may hold files that are not MISP at all. Every document is read on its own: a broken one
gives an error that names the file and where in it, and the rest of a batch goes on
(docs/architecture.md, principle 6).

Shapes accepted (as MISP and PyMISP write them):

- ``{"Event": {...}}``: one event;
- ``{"response": [{"Event": {...}}, ...]}``: a search or export result;
- ``[{"Event": {...}}, ...]``: a list of events;
- a bare event ``{"info": ..., "Attribute": [...], ...}`` (PyMISP's ``to_json``);
- a feed directory: ``manifest.json`` naming ``<uuid>.json`` event files, and ``hashes.csv``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from accord.model.jsondoc import JsonDocumentError, JsonLimitError
from accord.model.jsondoc import loads as json_loads

# A JSON string (skipped as a whole, so that commas inside strings are left alone) or a comma
# followed only by white space and a closing bracket.
_TRAILING_COMMA = re.compile(r'"(?:[^"\\]|\\.)*"|,(\s*[\]}])', re.DOTALL)
# A MISP event uuid (MISP writes RFC 4122 uuids, lower case; upper case is tolerated).
_EVENT_UUID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
# Keys only a MISP event has; a bare event needs one of them.
_EVENT_KEYS = frozenset({"info", "Attribute", "Object", "Galaxy", "Orgc", "threat_level_id"})


class MispDocumentError(ValueError):
    """A document that is not valid JSON or not MISP; the message names the file and where."""


@dataclass(slots=True)
class MispDocument:
    """The events of one file, or why it has none."""

    source: str
    events: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None


def loads_lenient(data: bytes, source: str) -> tuple[Any, list[str]]:
    """Parse JSON, tolerating trailing commas (with a warning naming the file and line)."""
    try:
        return json_loads(data), []
    except JsonLimitError as exc:
        raise MispDocumentError(f"{source}: {exc}") from None
    except JsonDocumentError as first:
        text = data.decode("utf-8", errors="replace")
        found: list[int] = []

        def drop(match: re.Match[str]) -> str:
            if match.group(1) is None:
                return match.group(0)
            found.append(match.start())
            return match.group(1)

        fixed = _TRAILING_COMMA.sub(drop, text)
        if found:
            try:
                document = json_loads(fixed.encode())
            except JsonLimitError as exc:
                raise MispDocumentError(f"{source}: {exc}") from None
            except JsonDocumentError:
                pass
            else:
                lines = sorted({text.count("\n", 0, offset) + 1 for offset in found})
                shown = ", ".join(str(line) for line in lines[:5])
                more = f" and {len(lines) - 5} more" if len(lines) > 5 else ""
                warning = (
                    f"{source}: {len(found)} trailing comma(s) tolerated "
                    f"(line {shown}{more}); this is not valid JSON"
                )
                return document, [warning]
        raise MispDocumentError(f"{source}: {first}") from None


def events_in(document: Any, source: str) -> list[dict[str, Any]]:
    """The events of a parsed MISP document, each as the inner ``Event`` dict."""
    if isinstance(document, dict) and "response" in document:
        response = document["response"]
        if not isinstance(response, list):
            raise MispDocumentError(f"{source}: 'response' must be a list of events")
        return [_event(item, source, f"response[{index}]") for index, item in enumerate(response)]
    if isinstance(document, list):
        return [_event(item, source, f"[{index}]") for index, item in enumerate(document)]
    return [_event(document, source, "the top level")]


def _event(item: Any, source: str, where: str) -> dict[str, Any]:
    if isinstance(item, dict):
        inner = item.get("Event")
        if isinstance(inner, dict):
            return inner
        if _EVENT_KEYS.intersection(item):
            return item  # a bare event, as PyMISP writes it
        keys = ", ".join(sorted(item)[:6]) or "no keys"
        raise MispDocumentError(
            f"{source}: not a MISP event at {where}: expected an 'Event' object, "
            f"found a JSON object with {keys}"
        )
    raise MispDocumentError(
        f"{source}: not a MISP event at {where}: expected a JSON object, "
        f"found {type(item).__name__}"
    )


def read_bytes(data: bytes, source: str) -> MispDocument:
    try:
        document, warnings = loads_lenient(data, source)
        return MispDocument(source, events_in(document, source), warnings)
    except MispDocumentError as exc:
        return MispDocument(source, error=str(exc))


def read_file(path: Path) -> MispDocument:
    try:
        data = path.read_bytes()
    except OSError as exc:
        return MispDocument(str(path), error=f"{path}: cannot read: {exc.strerror}")
    return read_bytes(data, str(path))


def read_feed(directory: Path) -> Iterator[MispDocument]:
    """The events of a MISP feed directory, one document per event file of its manifest."""
    manifest_path = directory / "manifest.json"
    try:
        document, _ = loads_lenient(manifest_path.read_bytes(), str(manifest_path))
    except MispDocumentError as exc:
        yield MispDocument(str(manifest_path), error=str(exc))
        return
    if not isinstance(document, dict):
        yield MispDocument(
            str(manifest_path),
            error=f"{manifest_path}: a feed manifest must map event uuids to summaries",
        )
        return
    inside = directory.resolve()
    for event_uuid in document:
        if not isinstance(event_uuid, str) or _EVENT_UUID.fullmatch(event_uuid) is None:
            # Only <uuid>.json in the feed folder is ever read: a name such as "../outside" or
            # "/etc/passwd" would make the manifest choose any file on the machine.
            yield MispDocument(
                str(manifest_path),
                error=(
                    f"{manifest_path}: bad manifest entry {event_uuid!r}: an entry must be an "
                    "event uuid (its file is <uuid>.json in the feed folder); skipped"
                ),
            )
            continue
        event_path = directory / f"{event_uuid}.json"
        if event_path.is_symlink() and event_path.resolve().parent != inside:
            yield MispDocument(
                str(event_path),
                error=(
                    f"{manifest_path}: bad manifest entry {event_uuid!r}: {event_path.name} "
                    "links outside the feed folder; skipped"
                ),
            )
            continue
        if not event_path.is_file():
            yield MispDocument(
                str(event_path),
                error=(
                    f"{manifest_path}: names event {event_uuid}, but {event_path.name} is missing"
                ),
            )
            continue
        yield read_file(event_path)


def read_path(path: Path) -> Iterator[MispDocument]:
    """A file, a feed directory (with ``manifest.json``), or a folder of ``*.json`` files."""
    if path.is_dir():
        if (path / "manifest.json").is_file():
            yield from read_feed(path)
            return
        for found in sorted(path.rglob("*.json")):
            yield read_file(found)
        return
    if not path.exists():
        yield MispDocument(str(path), error=f"{path}: no such file or directory")
        return
    yield read_file(path)
