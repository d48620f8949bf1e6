"""Messages put the right indefinite article before a word they fill in."""

from __future__ import annotations

import pytest

from accord.model.roles import Role
from accord.model.wording import with_article


@pytest.mark.parametrize(
    "word, expected",
    [
        ("analyst", "an analyst"),
        ("org-admin", "an org-admin"),
        ("admin", "an admin"),
        ("reader", "a reader"),
        ("sensor", "a sensor"),
        ("indicator", "an indicator"),
        ("observed-data", "an observed-data"),
        ("email", "an email"),
        ("expired", "an expired"),
        ("false-positive", "a false-positive"),
        ("url", "a url"),
        ("user-account", "a user-account"),
        ("ipv4", "an ipv4"),
    ],
)
def test_with_article(word: str, expected: str) -> None:
    assert with_article(word) == expected


def test_every_role_has_its_article() -> None:
    assert [role.with_article for role in Role] == [
        "an admin",
        "an org-admin",
        "an analyst",
        "a reader",
        "a sensor",
        "a peer",
    ]
