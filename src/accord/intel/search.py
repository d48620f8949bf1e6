"""What a viewer may see about one value: the objects that know it exactly, through a
containing network, through a parent domain, or through a URL's host."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from accord.model.observables import Observable, parse_query
from accord.model.visibility import Viewer
from accord.store.node import Store
from accord.store.records import ValueMatch


@dataclass(frozen=True, slots=True)
class SearchResult:
    query: str
    observable: Observable | None
    matches: list[ValueMatch]

    def as_json(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "kind": self.observable.kind if self.observable else None,
            "value": self.observable.value if self.observable else None,
            "matches": [match_json(match) for match in self.matches],
        }


def match_json(match: ValueMatch) -> dict[str, Any]:
    obj = match.obj.json()
    found: dict[str, Any] = {
        "relation": match.relation,
        "indexed_kind": match.kind,
        "indexed_value": match.value,
        "path": match.path,
        "id": match.obj.id,
        "type": match.obj.type,
        "name": obj.get("name"),
        "tlp": match.obj.tlp.label,
        "modified": obj.get("modified"),
        "revoked": match.obj.revoked,
    }
    if match.obj.type == "indicator":
        found["pattern"] = obj.get("pattern")
        found["simple_pattern"] = match.simple
    return found


def search_value(store: Store, viewer: Viewer, text: str, kind: str | None = None) -> SearchResult:
    observable = parse_query(text, kind)
    return SearchResult(text, observable, store.index.search(viewer, observable))
