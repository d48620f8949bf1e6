"""The object page leaks nothing: for a reader who may not see an object, no id, name or
count of it appears on the page or in graph.json of an object it relates to, and its own
page, diff, graph.json and raw JSON answer exactly as a missing object's do."""

from __future__ import annotations

import uuid

import orjson
import pytest
from object_seed import Seeded, ingest, seed_neighbourhood
from portal_support import Portal

from accord.model.tlp import Tlp

PATHS = ("", "/diff", "/graph.json", "/raw", ".json")


@pytest.fixture
def seeded(portal: Portal) -> Seeded:
    return seed_neighbourhood(portal.store, portal.community)


def _secrets(obj: dict[str, object]) -> list[str]:
    found = [str(obj["id"])]
    if isinstance(obj.get("name"), str):
        found.append(str(obj["name"]))
    return found


def test_an_outsider_sees_no_hidden_neighbour(portal: Portal, seeded: Seeded) -> None:
    outsider = portal.sign_in(portal.emails["operator"])
    target = seeded.visible["id"]
    page = outsider.http.get(f"/objects/{target}")
    graph = outsider.http.get(f"/objects/{target}/graph.json")
    assert page.status_code == 200 and graph.status_code == 200
    assert "Visible community indicator" in page.text
    for hidden in seeded.hidden:
        for secret in _secrets(hidden):
            assert secret not in page.text, secret
            assert secret not in graph.text, secret
    # No count of them either: the police's AMBER sighting is not counted for the outsider,
    # and the neighbours are only the visible ones (none here: the GREEN relationship's
    # other end is hidden, so it is dropped whole).
    assert "Seen</dt>" not in page.text
    assert "No sighting of it that you may see." in page.text
    assert "No object that you may see relates to this one." in page.text
    assert "No other object that you may see shares a value with this one." in page.text
    data = orjson.loads(graph.content)
    assert [node["data"]["id"] for node in data["nodes"]] == [target]
    assert data["edges"] == []


def test_a_recipient_sees_them_all(portal: Portal, seeded: Seeded) -> None:
    """The same page for the police investigator (a named recipient of every hidden object):
    the leak test above would catch each of them."""
    investigator = portal.sign_in(portal.emails["investigator"])
    target = seeded.visible["id"]
    page = investigator.http.get(f"/objects/{target}").text
    graph = investigator.http.get(f"/objects/{target}/graph.json").text
    for hidden in seeded.hidden:
        name = hidden.get("name")
        if hidden["type"] in ("relationship", "sighting"):
            assert hidden["id"] in page  # linked: "(the relationship)", the sighting's row
        elif hidden["name"] == "Amber twin of the value":
            assert name in page  # a correlation: on the page, not a graph neighbour
        else:
            assert name in page, name
            assert hidden["id"] in graph
    assert "Seen</dt>" in page


def test_hidden_answers_exactly_as_missing(portal: Portal, seeded: Seeded) -> None:
    outsider = portal.sign_in(portal.emails["operator"])
    for hidden in seeded.hidden:
        missing = f"{hidden['type']}--{uuid.uuid4()}"
        for suffix in PATHS:
            shown = outsider.http.get(f"/objects/{hidden['id']}{suffix}")
            absent = outsider.http.get(f"/objects/{missing}{suffix}")
            assert shown.status_code == absent.status_code == 404, (hidden["id"], suffix)
            assert shown.text == absent.text, (hidden["id"], suffix)
            assert hidden["id"] not in shown.text


def test_a_hidden_version_answers_as_missing(portal: Portal, seeded: Seeded) -> None:
    """A newer version at AMBER: the outsider reads the GREEN one, and the AMBER one, asked
    for in a diff, answers as a version that does not exist."""
    newer = {
        **seeded.visible,
        "modified": "2026-04-01T10:00:00.000Z",
        "name": "Renamed in confidence",
        "object_marking_refs": [Tlp.AMBER.marking_id],
    }
    ingest(portal.store, portal.community.analyst, [newer])
    outsider = portal.sign_in(portal.emails["operator"])
    target = seeded.visible["id"]
    page = outsider.http.get(f"/objects/{target}")
    assert page.status_code == 200
    assert "Renamed in confidence" not in page.text
    assert "2026-04-01" not in page.text
    asked = outsider.http.get(
        f"/objects/{target}/diff",
        params={"from": seeded.visible["modified"], "to": newer["modified"]},
    )
    never = outsider.http.get(
        f"/objects/{target}/diff",
        params={"from": seeded.visible["modified"], "to": "2026-05-01T10:00:00.000Z"},
    )
    assert asked.status_code == never.status_code == 404
    assert asked.text == never.text
    colleague = portal.sign_in(portal.emails["colleague"])
    assert "Renamed in confidence" in colleague.http.get(f"/objects/{target}").text
