"""The vocabulary of extraction: what was found, where, and why it may not be an indicator."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from accord.model.observable_types import KINDS, Observable

# Kinds the extractor finds beyond the observable index's `accord.model.observables.Kind`.
EXTRA_KINDS: Final = (
    "cve",
    "attack-technique",
    "registry-key",
    "file-path",
    "onion",
    "bitcoin",
    "ethereum",
)
EXTRACT_KINDS: Final[frozenset[str]] = KINDS | frozenset(EXTRA_KINDS)


@dataclass(frozen=True, slots=True)
class Flag:
    """Why a value may be benign or not an indicator at all."""

    code: str
    """Short and stable: "documentation", "private", "version", "file-name", "benign-host",
    "reference", "empty-hash", "warninglist", ... (an injected flagger chooses its own)."""
    reason: str
    """One sentence for the analyst."""

    def json(self) -> dict[str, str]:
        return {"code": self.code, "reason": self.reason}


@dataclass(slots=True)
class Finding:
    """One value found in a document (the first place it was seen; `count` says how often)."""

    kind: str
    """An `Observable` kind (ipv4, domain, url, sha256, ...) or one of `EXTRA_KINDS`."""
    value: str
    """Refanged and canonical: for observable kinds exactly what the index stores."""
    start: int
    """Offset of the first occurrence in the document's text (after HTML/PDF to text)."""
    end: int
    raw: str
    """The text as written, defanged or not."""
    context: str
    """A short line of text around the first occurrence."""
    defanged: bool
    """Whether the writer defanged it (a strong sign they meant it as an indicator)."""
    observable: Observable | None = None
    """The normalised observable, for kinds the observable index keeps."""
    port: int | None = None
    """For an address written with a port ("1.2.3.4:443", "1.2.3.4 port 443")."""
    count: int = 1
    flags: list[Flag] = field(default_factory=list)
    derived: str | None = None
    """Set when the value was rebuilt rather than read verbatim (e.g. a URL assembled from a
    traffic line "1.2.3.4 port 80 - evil.com - GET /x"); says how."""

    @property
    def flagged(self) -> bool:
        return bool(self.flags)

    def json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": self.kind,
            "value": self.value,
            "raw": self.raw,
            "offset": self.start,
            "context": self.context,
            "count": self.count,
            "defanged": self.defanged,
            "flags": [flag.json() for flag in self.flags],
        }
        if self.port is not None:
            out["port"] = self.port
        if self.derived is not None:
            out["derived"] = self.derived
        return out
