"""An anonymous report does not answer to its reporter's name: the creator filter of
`GET /api/v1/objects` (and the portal's search, which reads the same store query) finds
another organisation's sightings, observed-data and observables only where they name their
creator (`accord.model.holdings.holder_disclosed`)."""

from __future__ import annotations

from typing import Any

from accord.model.tlp import Tlp
from leakdata import indicator, load_matrix


def _ids(api: Any, email: str, **params: str) -> set[str]:
    answer = api.http.get(
        "/api/v1/objects", params=params, headers={"Authorization": f"Bearer {api.keys[email]}"}
    )
    assert answer.status_code == 200, answer.text
    return {o["id"] for o in answer.json()["objects"]}


def test_an_anonymous_sighting_is_not_found_by_its_reporter(api: Any) -> None:
    load_matrix(api.store, api.community)
    operator = api.community.operator.email  # the water utility
    for anonymous in (True, False):
        sent = api.http.post(
            "/api/v1/sightings",
            json={
                "indicator": str(indicator(Tlp.GREEN)["id"]),
                "anonymous": anonymous,
                "tlp": "green",
            },
            headers={"Authorization": f"Bearer {api.keys[operator]}"},
        )
        assert sent.status_code == 201, sent.text
        created = set(sent.json()["created"])
        analyst = api.community.analyst.email
        everything = _ids(api, analyst, type="sighting")
        assert created & everything  # the analyst may see the sighting itself
        by_water = _ids(api, analyst, type="sighting", creator="Water Utility")
        assert bool(created & by_water) == (not anonymous)
        # The reporter's own organisation finds its own sightings either way.
        assert created & _ids(api, operator, type="sighting", creator="Water Utility")
