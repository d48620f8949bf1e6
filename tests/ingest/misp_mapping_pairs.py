"""The misp-stix documentation pairs, converted by Accord and compared with the reference."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from accord.ingest.misp.equivalence import summarise
from accord.ingest.misp.events import EventConverter

EVENT = {
    "uuid": "a1b2c3d4-0000-4000-8000-000000000001",
    "info": "mapping",
    "timestamp": "1603642920",
}


def _with_to_ids(items: list[dict[str, Any]], to_ids: bool) -> list[dict[str, Any]]:
    out = copy.deepcopy(items)
    for item in out:
        if "Attribute" in item:
            for attribute in item["Attribute"]:
                attribute["to_ids"] = to_ids
        else:
            item["to_ids"] = to_ids
    return out


def convert_pair(kind: str, misp: Any, both: bool = True) -> list[dict[str, Any]]:
    """Accord's STIX for one pair: to_ids on and off together, as the documentation shows."""
    converter = EventConverter()
    found: list[dict[str, Any]] = []
    items = misp if isinstance(misp, list) else [misp]
    for to_ids in (True, False) if both else (True,):
        if kind == "galaxies":
            event = {**EVENT, "Galaxy": copy.deepcopy(items)}
        elif kind == "objects":
            event = {**EVENT, "Object": _with_to_ids(items, to_ids)}
        else:
            event = {**EVENT, "Attribute": _with_to_ids(items, to_ids)}
        found.extend(o for o in converter.convert(event).objects if o["type"] != "report")
    return found


def compare(mapping_dir: Path, kind: str) -> Iterator[tuple[str, list[str]]]:
    """(type, differences) for every pair of one mapping file; [] means equivalent."""
    pairs = orjson.loads((mapping_dir / f"misp_{kind}_to_stix21.json").read_bytes())
    for name, pair in pairs.items():
        reference = pair["STIX"] if isinstance(pair["STIX"], list) else [pair["STIX"]]
        # A type with no observable form is documented by its indicator alone.
        both = kind != "attributes" or any(o["type"] == "observed-data" for o in reference)
        try:
            ours = convert_pair(kind, pair["MISP"], both)
        except Exception as exc:  # a crash is a difference, reported like the others
            yield name, [f"conversion failed: {exc!r}"]
            continue
        yield name, summarise(reference).differences(summarise(ours))
