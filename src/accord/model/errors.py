"""What can be wrong with STIX input: one object's problems, or a whole document's.

Validation never raises for a bad object; it returns `Problem`s so that ingest can report every
defect of a bundle with its index and go on (docs/architecture.md, principle 6). `StixError` is
kept for the cases where there is no object to blame: not a bundle, bad JSON, an unknown spec
version.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Problem", "StixError"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one object."""

    property: str | None
    """Path of the offending property, e.g. ``created`` or ``kill_chain_phases[0].phase_name``;
    None when the object as a whole is at fault."""

    reason: str
    """Human readable; says how to fix it where that is possible."""

    def __str__(self) -> str:
        if self.property is None:
            return self.reason
        return f"{self.property}: {self.reason}"


class StixError(ValueError):
    """Raised for a whole-document problem (not a bundle, bad JSON, unknown spec version)."""
