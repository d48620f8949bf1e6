"""Reporting a sighting from the look-up card: through the API's one path (audited), only for
roles that may report, and only about what the reporter may see."""

from __future__ import annotations

from portal_support import Portal
from sqlalchemy import text

from accord.model.tlp import Tlp
from leakdata import ADDRESS, indicator, load_matrix


def _sightings_of(portal: Portal, indicator_id: str) -> int:
    with portal.store.engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM objects WHERE type = 'sighting' AND raw LIKE :i"),
                {"i": f"%{indicator_id}%"},
            ).scalar_one()
        )


def test_a_member_reports_and_a_reader_may_not(portal: Portal) -> None:
    load_matrix(portal.store, portal.community)
    target = str(indicator(Tlp.GREEN)["id"])
    analyst = portal.sign_in(portal.emails["analyst"])
    done = analyst.post(
        "/sightings",
        {"value": ADDRESS[Tlp.GREEN], "kind": "false-positive"},
        follow_redirects=False,
    )
    assert done.status_code == 303  # type: ignore[attr-defined]
    assert "reported=false-positive" in done.headers["location"]  # type: ignore[attr-defined]
    assert _sightings_of(portal, target) == 1
    with portal.store.engine.connect() as conn:
        audited = conn.execute(
            text(
                "SELECT count(*) FROM audit_log WHERE action = 'write' AND target = :t "
                "AND detail LIKE :via"
            ),
            {"t": target, "via": "%portal%"},
        ).scalar_one()
    assert audited == 1  # audited as the API's write, saying where it came from
    # A reader may look up, not report: the same page as for a path that is not there.
    reader = portal.sign_in(portal.emails["reader"])
    refused = reader.post("/sightings", {"value": ADDRESS[Tlp.GREEN], "kind": "seen"})
    missing = reader.http.get("/no-such-page")
    assert refused.status_code == missing.status_code == 404  # type: ignore[attr-defined]
    assert _sightings_of(portal, target) == 1
    # A value only hidden objects know: nothing is stored, the card says so.
    outsider = portal.sign_in(portal.emails["operator"])
    hidden = outsider.post(
        "/sightings",
        {"value": ADDRESS[Tlp.RED], "kind": "seen", "anonymous": "on"},
        follow_redirects=False,
    )
    assert "reported=refused" in hidden.headers["location"]  # type: ignore[attr-defined]
    assert _sightings_of(portal, str(indicator(Tlp.RED)["id"])) == 0
