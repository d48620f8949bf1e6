"""From MISP values to STIX 2.1 observations: cyber-observables and pattern comparisons.

Every MISP attribute (and every attribute of a MISP object) is described here by
*components*: one STIX object path and one value, e.g. ``file`` / ``hashes.MD5`` /
``b2a5...``. The same components give both representations misp-stix produces
(documentation/mapping/misp_attributes_to_stix21.json):

- an indicator's pattern, ``[file:name = 'a.exe' AND file:hashes.MD5 = '...']``, for
  ``to_ids`` attributes;
- cyber-observable objects (STIX 2.1 section 6) referenced by an observed-data, for the rest.

The export side reads the same paths back (``accord.export.misp``), so the two directions
cannot drift apart.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from accord.model.extension import ACCORD_EXTENSION_ID

# Namespace for ids Accord derives (relationships, second SCOs of one type): uuid5 of it and a
# stable name, so that importing the same event twice yields the same ids (duplicates).
MISP_NAMESPACE: Final = uuid.UUID("0e3c0b7e-6f43-4b59-9a3e-accd0000a15b")

# Properties whose STIX type is an integer (STIX 2.1 sections 6.3, 6.7, 6.12).
_INTEGER_PROPERTIES: Final = frozenset({"dst_port", "src_port", "number", "size", "pid"})
# The type of the SCO a reference property points to, when it does not depend on the value.
_REF_TYPES: Final[dict[str, str]] = {
    "from_ref": "email-addr",
    "sender_ref": "email-addr",
    "to_refs": "email-addr",
    "cc_refs": "email-addr",
    "bcc_refs": "email-addr",
    "parent_directory_ref": "directory",
    "content_ref": "artifact",
    "image_ref": "file",
    "parent_ref": "process",
    "child_refs": "process",
    "creator_user_ref": "user-account",
    "body_raw_ref": "file",
}
_PATTERN_ONLY: Final = ("extensions.",)
# Pattern paths name e-mail headers in snake case; the observable keeps the header's name.
_HEADER_NAMES: Final[dict[str, str]] = {"reply_to": "Reply-To", "x_mailer": "X-Mailer"}
_HASH_KEY: Final = re.compile(r"^[A-Za-z0-9_]+$")


def derived_id(object_type: str, *names: str) -> str:
    """A deterministic id for an object Accord derives from MISP content."""
    return f"{object_type}--{uuid.uuid5(MISP_NAMESPACE, '|'.join(names))}"


def escape(value: str) -> str:
    """A STIX pattern string literal's content (section 9.4: ``\\`` and ``'`` escaped)."""
    return value.replace("\\", "\\\\").replace("'", "\\'")


def pattern_path(path: str) -> str:
    """Quote the keys STIX patterns need quoted, e.g. ``hashes.'SHA-256'``."""
    parts = path.split(".")
    out: list[str] = []
    for index, part in enumerate(parts):
        if index > 0 and not part.startswith("'") and _HASH_KEY.match(part) is None:
            out.append(f"'{part}'")
        else:
            out.append(part)
    return ".".join(out)


# Not frozen, for speed: see accord.model.observable_types.Observable.
@dataclass(slots=True, unsafe_hash=True)
class Component:
    """One value at one STIX object path."""

    sco_type: str
    path: str
    value: str

    def comparison(self) -> str:
        return f"{self.sco_type}:{pattern_path(self.path)} = '{escape(self.value)}'"


def pattern_of(components: Iterable[Component], extra: Iterable[str] = ()) -> str:
    comparisons = [*extra, *(component.comparison() for component in components)]
    return "[" + " AND ".join(comparisons) + "]"


def address_type(value: str) -> str:
    """The SCO type a network address value is: IPv4, IPv6 or (else) a domain name."""
    text = value.strip().split("/")[0]
    if ":" in text:
        return "ipv6-addr"
    if text.replace(".", "").isdigit():
        return "ipv4-addr"
    return "domain-name"


def _as_int(value: str) -> int | None:
    text = value.strip()
    if text.upper().startswith("AS"):
        text = text[2:]
    return int(text) if text.isdigit() else None


@dataclass(slots=True)
class _Builder:
    """Builds the SCOs of one observation; ids come from the MISP uuid, as misp-stix does."""

    base: str
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> SCO, in order
    main: dict[str, str] = field(default_factory=dict)  # sco type -> id of its main SCO

    def new(self, sco_type: str) -> dict[str, Any]:
        object_id = f"{sco_type}--{self.base}"
        if object_id in self.objects:
            object_id = derived_id(sco_type, self.base, str(len(self.objects)))
        sco: dict[str, Any] = {"type": sco_type, "spec_version": "2.1", "id": object_id}
        self.objects[object_id] = sco
        return sco

    def of_type(self, sco_type: str) -> dict[str, Any]:
        found = self.main.get(sco_type)
        if found is None:
            sco = self.new(sco_type)
            self.main[sco_type] = sco["id"]
            return sco
        return self.objects[found]

    def add(self, component: Component) -> None:
        if component.path.startswith(_PATTERN_ONLY):
            return
        sco = self.of_type(component.sco_type)
        if component.path == "value" and sco.get("value", component.value) != component.value:
            sco = self.new(component.sco_type)  # a second address of an object: its own SCO
        _set(self, sco, component.path, component.value)


def _set(builder: _Builder, sco: dict[str, Any], path: str, value: str) -> None:
    head, _, rest = path.partition(".")
    many = head.endswith("[*]")
    name = head.removesuffix("[*]")
    if name.endswith(("_ref", "_refs")) and rest:
        child_type = _REF_TYPES.get(name) or address_type(value)
        if name == "body_multipart":  # pragma: no cover - handled below
            return
        existing = sco.get(name)
        if not many and isinstance(existing, str) and existing in builder.objects:
            child = builder.objects[existing]
        else:
            child = builder.new(child_type)
            if name.endswith("_refs"):
                sco.setdefault(name, []).append(child["id"])
            else:
                sco[name] = child["id"]
        _set(builder, child, rest, value)
        return
    if name == "body_multipart":  # email attachments: body_multipart[*].body_raw_ref.name
        child = builder.new("file")
        _set(builder, child, rest.partition(".")[2] or "name", value)
        sco.setdefault("body_multipart", []).append(
            {
                "body_raw_ref": child["id"],
                "content_disposition": f"attachment; filename='{value}'",
            }
        )
        sco["is_multipart"] = True
        return
    if name == "values" and rest:  # windows-registry-key values[*].data
        values = sco.setdefault("values", [{}])
        if rest in values[-1]:
            values.append({})
        values[-1][rest] = value
        return
    if rest:
        container = sco.setdefault(name, {})
        if isinstance(container, dict):
            key = rest.strip("'")
            container.setdefault(_HEADER_NAMES.get(key, key), value)
        return
    if name in _INTEGER_PROPERTIES:
        number = _as_int(value)
        if number is not None:
            sco.setdefault(name, number)
        return
    if name == "received_lines":
        sco.setdefault(name, []).append(value)
        return
    sco.setdefault(name, value)


def observables_of(
    components: Sequence[Component], base: str, extra: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The SCOs for these components, main SCO first (ids from ``base``, a MISP uuid)."""
    builder = _Builder(base)
    for component in components:
        builder.add(component)
    for sco in builder.objects.values():
        _complete(sco, builder)
    if extra:
        first = next(iter(builder.objects.values()), None)
        if first is not None:
            for key, value in extra.items():
                first.setdefault(key, value)
    return list(builder.objects.values())


def _complete(sco: dict[str, Any], builder: _Builder) -> None:
    """Properties STIX requires that MISP does not carry (protocols, is_multipart, ...)."""
    sco_type = sco["type"]
    if sco_type == "network-traffic":
        if "src_ref" not in sco and "dst_ref" not in sco:
            for other in ("ipv4-addr", "ipv6-addr", "domain-name"):
                if other in builder.main:
                    sco["dst_ref"] = builder.main[other]
                    break
        sco.setdefault("protocols", ["tcp"])
    elif sco_type == "email-message":
        sco.setdefault("is_multipart", False)


# Not frozen, for speed: see accord.model.observable_types.Observable.
@dataclass(slots=True, unsafe_hash=True)
class Envelope:
    """What every object made from one MISP attribute or object carries."""

    created: str
    modified: str
    created_by_ref: str | None = None
    markings: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    extension: Mapping[str, Any] | None = None  # Accord recipients, when there are any
    first_seen: str | None = None
    last_seen: str | None = None
    description: str | None = None

    def sdo(self, object_type: str, object_id: str, **properties: Any) -> dict[str, Any]:
        """A domain object (or SRO) with the common properties, then ``properties``."""
        obj: dict[str, Any] = {"type": object_type, "spec_version": "2.1", "id": object_id}
        if self.created_by_ref:
            obj["created_by_ref"] = self.created_by_ref
        obj["created"] = self.created
        obj["modified"] = self.modified
        if self.description and object_type not in ("observed-data", "relationship"):
            obj["description"] = self.description
        obj.update(properties)
        if self.labels:
            obj["labels"] = list(self.labels)
        if self.markings:
            obj["object_marking_refs"] = list(self.markings)
        if self.extension:
            obj["extensions"] = {ACCORD_EXTENSION_ID: dict(self.extension)}
        return obj

    def sco(self, sco: dict[str, Any]) -> dict[str, Any]:
        """SCOs carry the markings (and recipients) of what they were observed in."""
        if self.markings:
            sco["object_marking_refs"] = list(self.markings)
        if self.extension:
            sco.setdefault("extensions", {})[ACCORD_EXTENSION_ID] = dict(self.extension)
        return sco

    def observed_data(self, object_id: str, scos: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """An observed-data (STIX 2.1 section 4.13) over these SCOs."""
        first = self.first_seen or self.created
        last = self.last_seen or first
        return self.sdo(
            "observed-data",
            object_id,
            first_observed=first,
            last_observed=max(first, last),
            number_observed=1,
            object_refs=[sco["id"] for sco in scos],
        )

    def relationship(self, source: str, kind: str, target: str) -> dict[str, Any]:
        """A relationship with a deterministic id (the same event gives the same ids)."""
        return Envelope(
            self.created, self.modified, self.created_by_ref, self.markings, (), self.extension
        ).sdo(
            "relationship",
            derived_id("relationship", source, kind, target),
            relationship_type=kind,
            source_ref=source,
            target_ref=target,
        )
