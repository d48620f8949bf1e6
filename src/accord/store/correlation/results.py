"""What a reader of correlations gets: the correlations it may see, and the over-correlating
values it may only count."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from accord.store.records import StoredObject


# Not frozen, for speed: see accord.model.observable_types.Observable.
@dataclass(slots=True, unsafe_hash=True)
class Correlation:
    """One object the viewer may see that correlates with another it may see."""

    source: str  # the id of the object correlated from
    relation: str
    value: str  # the source's observable
    other_value: str  # the other object's observable
    hub: str
    similarity: int | None
    obj: StoredObject

    def as_json(self) -> dict[str, Any]:
        body = self.obj.json()
        name = body.get("name")
        found: dict[str, Any] = {
            "id": self.obj.id,
            "type": self.obj.type,
            "name": name if isinstance(name, str) else None,
            "tlp": self.obj.tlp.label,
            "relation": self.relation,
            "value": self.value,
            "other_value": self.other_value,
        }
        if self.similarity is not None:
            found["similarity"] = self.similarity
        return found


@dataclass(frozen=True, slots=True)
class OverCorrelation:
    """A value joining more objects (that the viewer may see) than the cap: counted only."""

    value: str
    count: int

    def as_json(self) -> dict[str, Any]:
        return {"value": self.value, "count": self.count}


@dataclass(slots=True)
class CorrelationResult:
    obj: StoredObject
    correlations: list[Correlation]
    over_correlating: list[OverCorrelation]
    truncated: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.obj.id,
            "correlations": [c.as_json() for c in self.correlations],
            "over_correlating": [o.as_json() for o in self.over_correlating],
            "truncated": self.truncated,
        }
