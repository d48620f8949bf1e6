"""The leak matrix over the portal's HTML: for each viewer and TLP level, a hidden object's
id, name and value never appear in a page or an htmx fragment, and the look-up of a value
known only to hidden objects reads exactly like the look-up of a value nobody knows."""

from __future__ import annotations

import re

import pytest
from portal_support import Browsing, Portal

from accord.model.tlp import Tlp
from leakdata import ADDRESS, DOMAIN, EXPECTED, indicator, load_matrix

EMAILS = {
    "creator": "analyst",
    "colleague": "colleague",
    "recipient": "investigator",
    "outsider": "operator",
}
UNKNOWN = "192.0.2.250"


@pytest.fixture
def browsers(portal: Portal) -> dict[str, Browsing]:
    load_matrix(portal.store, portal.community)
    return {name: portal.sign_in(portal.emails[role]) for name, role in EMAILS.items()}


def _secrets(level: Tlp) -> list[str]:
    made = indicator(level)
    return [str(made["id"]), str(made["name"])]


def _masked(html: str, value: str) -> str:
    """The page with the looked-up value, the CSRF token and times taken out."""
    html = html.replace(value, "VALUE")
    html = re.sub(r'value="[A-Za-z0-9_\-]{30,}"', 'value="TOKEN"', html)
    return re.sub(r'"X-CSRF-Token": "[^"]+"', '"X-CSRF-Token": "TOKEN"', html)


@pytest.mark.parametrize("viewer", list(EMAILS))
def test_lookup_pages_show_only_what_the_viewer_may_see(
    browsers: dict[str, Browsing], viewer: str
) -> None:
    me = browsers[viewer]
    for level in Tlp:
        visible = viewer in EXPECTED[level]
        cases = (
            (ADDRESS[level], UNKNOWN, False),
            ("a.b." + DOMAIN[level], "a.b.nobody-knows.example.net", True),
        )
        for value, unknown, fragment in cases:
            headers = {"HX-Request": "true"} if fragment else {}
            page = me.post("/lookup", {"q": value}, headers=headers)
            assert page.status_code == 200  # type: ignore[attr-defined]
            html = page.text  # type: ignore[attr-defined]
            for secret in _secrets(level):
                assert (secret in html) == visible, (viewer, level, value, secret)
            if not visible:
                other = me.post("/lookup", {"q": unknown}, headers=headers)
                assert _masked(html, value) == _masked(other.text, unknown)  # type: ignore[attr-defined]
        bulk = me.post("/lookup", {"q": f"{UNKNOWN}\n{ADDRESS[level]}"}).text  # type: ignore[attr-defined]
        if not visible:
            other = me.post("/lookup", {"q": f"{UNKNOWN}\n192.0.2.251"}).text  # type: ignore[attr-defined]
            assert _masked(bulk, ADDRESS[level]) == _masked(other, "192.0.2.251")
