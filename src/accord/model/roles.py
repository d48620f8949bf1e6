"""User roles and what each may do."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A user's role within their organisation (admin is node-wide)."""

    ADMIN = "admin"  # node operator: organisations, users and keys; no extra read rights
    ORG_ADMIN = "org-admin"  # manages the users, keys and allowlist of one organisation
    ANALYST = "analyst"  # reads and writes intelligence for the organisation
    READER = "reader"  # reads and looks up
    SENSOR = "sensor"  # a machine: pulls what it may see, reports sightings

    @classmethod
    def parse(cls, text: str) -> Role:
        try:
            return cls(text.strip().lower())
        except ValueError:
            choices = ", ".join(role.value for role in cls)
            raise ValueError(f"unknown role {text!r}: use one of {choices}") from None

    @property
    def may_ingest(self) -> bool:
        return self in (Role.ADMIN, Role.ORG_ADMIN, Role.ANALYST)
