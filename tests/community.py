"""The cast of the leak matrix: three organisations and their users."""

from __future__ import annotations

from dataclasses import dataclass

from accord.model.roles import Role
from accord.store.node import Store
from accord.store.organisations import Organisation, User


@dataclass
class Community:
    """Three organisations and their users: the cast of the leak matrix."""

    cert: Organisation
    police: Organisation
    water: Organisation
    analyst: User  # CERT analyst: the creator in most tests
    colleague: User  # another CERT analyst (same organisation, different user)
    investigator: User  # police: a named recipient
    operator: User  # water utility: an outsider unless named


def make_community(store: Store) -> Community:
    d = store.directory
    cert = d.add_org("CERT-EX", "government", "EX")
    police = d.add_org("Police Cyber Unit", "law-enforcement", "EX")
    water = d.add_org("Water Utility", "water", "EY")
    analyst, _ = d.add_user("analyst@cert.example", "CERT-EX", Role.ANALYST)
    colleague, _ = d.add_user("colleague@cert.example", "CERT-EX", Role.ANALYST)
    investigator, _ = d.add_user("investigator@police.example", "Police Cyber Unit", Role.ANALYST)
    operator, _ = d.add_user("soc@water.example", "Water Utility", Role.SENSOR)
    return Community(cert, police, water, analyst, colleague, investigator, operator)
