"""The vocabulary of extraction: what was found, where, and why it may not be an indicator."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from accord.model.addresses import dotted_quad
from accord.model.domains import reverse_domain
from accord.model.observable_types import KINDS, Observable
from accord.model.observables import normalise

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
CONTEXT: Final = 40
"""Characters of context on each side of a value (`Finding.context`)."""


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
    source: str = field(repr=False, compare=False)
    """The document's text that `start` and `end` point into. `raw` and `context` are cut
    from it when asked for: most findings of a scan are never shown, and cutting and joining
    a context line for each costs as much as finding it."""
    defanged: bool
    """Whether the writer defanged it (a strong sign they meant it as an indicator)."""
    normalised: Observable | None = field(default=None, repr=False, compare=False)
    """`observable`, once made (the scanner hands over those it made on the way)."""
    port: int | None = None
    """For an address written with a port ("1.2.3.4:443", "1.2.3.4 port 443")."""
    count: int = 1
    flags: list[Flag] = field(default_factory=list)
    derived: str | None = None
    """Set when the value was rebuilt rather than read verbatim (e.g. a URL assembled from a
    traffic line "1.2.3.4 port 80 - evil.com - GET /x"); says how."""

    @property
    def observable(self) -> Observable | None:
        """The normalised observable, for kinds the observable index keeps.

        Made when first asked for where the scanner did not need it: `value` is canonical
        already, and most findings are never looked up or matched (an `Observable` for every
        domain, address and hash of a report costs as much as finding them)."""
        if self.normalised is None and self.kind in KINDS:
            self.normalised = _canonical_observable(self.kind, self.value)
        return self.normalised

    @property
    def raw(self) -> str:
        """The text as written, defanged or not."""
        return self.source[self.start : self.end]

    @property
    def context(self) -> str:
        """A short line of text around the first occurrence: the value with up to `CONTEXT`
        characters each side, white space runs made one space."""
        source, start = self.source, self.start
        return " ".join(source[max(0, start - CONTEXT) : self.end + CONTEXT].split())

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


_HEX_KINDS: Final = frozenset({"md5", "sha1", "sha256", "sha512"})


def _canonical_observable(kind: str, value: str) -> Observable:
    """`normalise(kind, value)` for a `value` the scanner made canonical, built directly
    for the kinds where that is plain (an `Observable` per value of a long report, when a
    flagger asks for them all, costs less so)."""
    if kind == "domain":
        return Observable("domain", value, rdomain=reverse_domain(value))
    if kind in _HEX_KINDS:
        return Observable(kind, value)
    if kind == "ipv4":
        quad = dotted_quad(value)
        if quad is not None:
            return quad
    return normalise(kind, value)
