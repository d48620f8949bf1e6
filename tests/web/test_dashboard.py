"""The dashboard (/dashboard) and the look-up card's sightings over time: every number is one
the reader may see (two organisations' indicators at every TLP level, counted per reader),
the charts' data, the organisation's own look-ups only, the feeds' pulls, and the names of
reporting organisations (never an anonymous reporter's)."""

from __future__ import annotations

import os
import re
import statistics
import time
from datetime import UTC, datetime, timedelta
from html import unescape as html_unescape
from typing import Any

import orjson
import pytest
from dashboard_data import (
    DAYS_AGO,
    SEES_CERT,
    SEES_POLICE,
    SHARED_AMBER,
    SHARED_GREEN,
    SHARED_RED,
    VIEWERS,
    expected_counts,
    holders,
    indicator_id,
    name_of,
    own_value,
    seed,
)
from dashboard_load import load
from portal_support import Browsing, Portal

from accord.ingest.sighting_reports import report_sighting
from accord.ingest.sightings import SightingRequest
from accord.model.extension import ACCORD_IDENTITY_ID
from accord.model.tlp import Tlp
from accord.store.objects import ObjectQuery

_CELL = re.compile(r'data-(tlp|type)="([^"]+)">([\d,]+)<')


def counts_on(html: str) -> tuple[dict[str, int], dict[str, int]]:
    """The page's counts: by TLP label, by type."""
    found: dict[str, dict[str, int]] = {"tlp": {}, "type": {}}
    for column, key, number in _CELL.findall(html):
        found[column][key] = int(number.replace(",", ""))
    return found["tlp"], found["type"]


def json_block(html: str, block: str) -> Any:
    found = re.search(rf'<script type="application/json" id="{block}">(.*?)</script>', html, re.S)
    assert found, f"no JSON block {block}"
    return orjson.loads(found.group(1))


def chart_attribute(html: str) -> Any:
    """The data of a chart carried in its element (a fragment's: htmx drops <script>)."""
    found = re.search(r"data-chart-json='([^']*)'", html)
    assert found, "no chart data"
    return orjson.loads(html_unescape(found.group(1)))


def table_rows(html: str, table: str) -> list[list[str]]:
    """The cells' text of a table's body rows."""
    found = re.search(rf'<table id="{table}">.*?<tbody>(.*?)</tbody>', html, re.S)
    if found is None:
        return []
    rows = re.findall(r"<tr>(.*?)</tr>", found.group(1), re.S)
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)
        ]
        for r in rows
    ]


def signed_in(portal: Portal) -> dict[str, Browsing]:
    return {name: portal.sign_in(portal.emails[name]) for name in VIEWERS}


def test_counts_are_exactly_what_each_reader_may_see(portal: Portal) -> None:
    seed(portal.store, portal.community)
    for name, me in signed_in(portal).items():
        viewer = portal.store.directory.viewer(portal.store.directory.user(portal.emails[name]))
        # The hand-written table agrees with the store's own rule.
        visible = {
            o.id for o in portal.store.objects.query(viewer, ObjectQuery(types=["indicator"]))
        }
        for level in Tlp:
            for creator, sees in (("cert", SEES_CERT), ("police", SEES_POLICE)):
                assert (indicator_id(creator, level) in visible) == (name in sees[level])
        page = me.http.get("/dashboard")
        assert page.status_code == 200
        by_tlp, by_type = counts_on(page.text)
        want = expected_counts(name)
        assert by_tlp == {level.label: want[level] for level in Tlp}, name
        assert by_type == {"indicator": sum(want.values())}, name
        assert f'<p class="big-number">{sum(want.values())}</p>' in page.text


def test_an_outsiders_dashboard_is_the_same_with_or_without_hidden_objects(
    portal: Portal,
) -> None:
    """The water utility sees CLEAR and GREEN only: adding AMBER and RED objects (and
    sightings it may not count) changes nothing on its page, byte for byte."""
    seed(portal.store, portal.community, (Tlp.CLEAR, Tlp.GREEN))
    me = portal.sign_in(portal.emails["operator"])
    before = me.http.get("/dashboard").text
    seed(portal.store, portal.community, (Tlp.AMBER, Tlp.AMBER_STRICT, Tlp.RED))
    investigator = portal.community.investigator
    report_sighting(
        portal.store,
        investigator,
        portal.store.directory.viewer(investigator),
        SightingRequest(count=5, tlp=Tlp.AMBER),
        Tlp.AMBER,
        value=own_value("cert", Tlp.AMBER),
    )
    after = me.http.get("/dashboard").text
    assert after == before
    for creator, sees in (("cert", SEES_CERT), ("police", SEES_POLICE)):
        for level in Tlp:
            if "operator" not in sees[level]:
                for secret in (indicator_id(creator, level), name_of(creator, level)):
                    assert secret not in after
                assert own_value(creator, level) not in after
    assert SHARED_AMBER not in after and SHARED_RED not in after


def test_the_most_shared_values_count_only_visible_holders(portal: Portal) -> None:
    seed(portal.store, portal.community)
    for name, me in signed_in(portal).items():
        page = me.http.get("/dashboard").text
        rows = {row[0].split()[0]: int(row[1]) for row in table_rows(page, "shared")}
        want = {
            value: holders(value, name)
            for value in (SHARED_GREEN, SHARED_AMBER, SHARED_RED)
            if holders(value, name) >= 2
        }
        assert rows == want, name


def test_shared_values_shown_are_audited_as_reads_of_amber_and_above(portal: Portal) -> None:
    seed(portal.store, portal.community)
    for name in ("analyst", "operator"):
        portal.sign_in(portal.emails[name]).http.get("/dashboard")
    reads = [
        e
        for e in portal.store.audit.entries(action="read")
        if e.detail.get("via") == "portal dashboard"
    ]
    analyst = portal.store.directory.user(portal.emails["analyst"])
    # The analyst was shown SHARED_GREEN, which the CERT's AMBER indicator holds; the water
    # utility was shown nothing above GREEN.
    assert [(e.user_id, e.detail["ids"]) for e in reads] == [
        (analyst.id, [indicator_id("cert", Tlp.AMBER)])
    ]


def test_the_charts_data_per_day(portal: Portal) -> None:
    seed(portal.store, portal.community)
    investigator = portal.community.investigator
    as_police = portal.store.directory.viewer(investigator)
    today = datetime.now(UTC).date()

    def ago(days: int) -> str:
        return (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    # Seen by the police 10 days ago, shared with the police only; and 2 days ago,
    # anonymously, at GREEN: counted by everyone who may see the CERT's GREEN indicator.
    value = own_value("cert", Tlp.GREEN)
    for request in (
        SightingRequest(count=3, first_seen=ago(10), tlp=Tlp.AMBER),
        SightingRequest(count=2, first_seen=ago(2), tlp=Tlp.GREEN, anonymous=True),
    ):
        report_sighting(portal.store, investigator, as_police, request, Tlp.AMBER, value=value)
    for name, me in signed_in(portal).items():
        chart = json_block(me.http.get("/dashboard").text, "activity-data")
        assert len(chart["days"]) == 90 and chart["days"][-1] == today.isoformat()
        assert len(chart["added"]) == len(chart["seen"]) == 90
        seen = {90 - 1 - i: n for i, n in enumerate(chart["seen"]) if n}
        assert seen == ({10: 3, 2: 2} if name in ("investigator", "reader") else {2: 2}), name
        added = {90 - 1 - i: n for i, n in enumerate(chart["added"]) if n}
        for (creator, level), days in DAYS_AGO.items():
            sees = (SEES_CERT if creator == "cert" else SEES_POLICE)[level]
            assert added.get(days, 0) == int(name in sees), (name, creator, level)
        viewer = portal.store.directory.viewer(portal.store.directory.user(portal.emails[name]))
        today_ids = {
            o.id
            for o in portal.store.objects.query(viewer, ObjectQuery(limit=10_000))
            if o.date_added.startswith(today.isoformat()) and o.owner_org != ACCORD_IDENTITY_ID
        }
        assert added.get(0, 0) == len(today_ids), name


def test_most_looked_up_values_are_the_organisations_own(portal: Portal) -> None:
    people = signed_in(portal)
    for name, value, times in (
        ("analyst", "198.51.100.7", 2),
        ("colleague", "198.51.100.8", 1),
        ("analyst", "198.51.100.8", 2),
        ("investigator", "police-case.example.net", 3),
    ):
        for _ in range(times):
            assert people[name].http.get("/", params={"q": value}).status_code == 200
    # A list looked up at once is not counted.
    people["analyst"].post("/lookup", {"q": "198.51.100.9\n198.51.100.7"})
    for name, want in (
        ("analyst", [["198.51.100.8", "3"], ["198.51.100.7", "2"]]),
        ("colleague", [["198.51.100.8", "3"], ["198.51.100.7", "2"]]),
        ("investigator", [["police-case.example.net", "3"]]),
        ("operator", []),
    ):
        page = people[name].http.get("/dashboard").text
        assert table_rows(page, "looked-up") == want, name
        if name == "analyst":
            assert "police-case.example.net" not in page and "198.51.100.9" not in page


def test_feeds_of_the_organisation_or_of_the_node_for_its_admin(portal: Portal) -> None:
    feeds = portal.store.feeds
    analyst = portal.community.analyst
    operator = portal.community.operator
    feeds.add(
        "cert-feed",
        "taxii",
        analyst.id,
        url="https://peer.example/api1/",
        collection="c1",
        username="cert-user",
        secret="s3cret-cert",
        interval=3600,
    )
    water = feeds.add(
        "water-feed",
        "taxii",
        operator.id,
        url="https://other.example/api2/",
        collection="c2",
        secret="s3cret-water",
        interval=600,
    )
    feeds.finish(water.id, "the server answered 503")
    feeds.add("manual", "import", analyst.id)
    for name, want in (
        ("analyst", {"cert-feed", "manual"}),
        ("operator", {"water-feed"}),
        ("orgadmin", {"water-feed"}),
        ("investigator", set()),
        ("admin", {"cert-feed", "manual", "water-feed"}),
    ):
        page = portal.sign_in(portal.emails[name]).http.get("/dashboard").text
        rows = table_rows(page, "feeds")
        assert {row[0].split(" ")[0] for row in rows} == want, name
        for secret in ("s3cret", "peer.example", "other.example", "cert-user"):
            assert secret not in page
        if "water-feed" in want:
            row = next(r for r in rows if r[0] == "water-feed")
            assert "503" in row[3] and "failed" in row[3]
        if "cert-feed" in want:
            row = next(r for r in rows if r[0] == "cert-feed")
            assert row[1] == "never" and row[2] == "due now"


def test_the_page_needs_a_session_and_reads_without_javascript(portal: Portal) -> None:
    answer = portal.client().get("/dashboard", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/sign-in")
    seed(portal.store, portal.community)
    page = portal.sign_in(portal.emails["analyst"]).http.get("/dashboard")
    html = page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    # No inline code: every <script> is a file of this node or a JSON block.
    for tag in re.findall(r"<script[^>]*>", html):
        assert 'type="application/json"' in tag or re.search(r'src="/static/[^"]+"', tag), tag
    assert " style=" not in html and " onclick" not in html
    # The numbers of the charts are on the page as a table (open without JavaScript).
    assert '<details class="chart-table" open>' in html
    assert table_rows(html, "activity-table")[0][0] == datetime.now(UTC).date().isoformat()


# -- the look-up card ------------------------------------------------------------------


def _card(me: Browsing, value: str) -> str:
    page = me.http.get("/", params={"q": value})
    assert page.status_code == 200
    return page.text


def test_the_card_charts_the_sightings_the_reader_may_count(portal: Portal) -> None:
    seed(portal.store, portal.community)
    investigator = portal.community.investigator
    as_police = portal.store.directory.viewer(investigator)
    value = own_value("cert", Tlp.GREEN)
    day = datetime.now(UTC) - timedelta(days=4)
    report_sighting(
        portal.store,
        investigator,
        as_police,
        SightingRequest(count=4, first_seen=day.strftime("%Y-%m-%dT%H:%M:%S.000Z"), tlp=Tlp.AMBER),
        Tlp.AMBER,
        value=value,
    )
    report_sighting(
        portal.store,
        investigator,
        as_police,
        SightingRequest(count=2, tlp=Tlp.GREEN, anonymous=True),
        Tlp.GREEN,
        value=value,
    )
    people = signed_in(portal)
    today = datetime.now(UTC).date().isoformat()
    for name in ("analyst", "investigator", "operator"):
        html = _card(people[name], value)
        chart = chart_attribute(html)
        counted = {d: n for d, n in zip(chart["days"], chart["seen"], strict=True) if n}
        police = name == "investigator"
        want = {today: 2} | ({day.date().isoformat(): 4} if police else {})
        assert counted == want, name
        assert len(chart["days"]) >= 90 and chart["days"][-1] == today
        assert [r for r in table_rows(html, "sightings-table")] == [
            [d, str(n)] for d, n in sorted(want.items(), reverse=True)
        ]
        reporters = re.findall(r'<span class="reporter">([^<]+)</span>', html)
        # The CERT made the indicator (it says so); the police is named only by its own
        # AMBER sighting, never by the anonymous one that everyone here counts.
        assert reporters == (["CERT-EX", "Police Cyber Unit"] if police else ["CERT-EX"]), name
        if not police:
            assert "Police Cyber Unit" not in html


def test_a_card_without_sightings_has_no_chart(portal: Portal) -> None:
    seed(portal.store, portal.community)
    html = _card(portal.sign_in(portal.emails["analyst"]), own_value("police", Tlp.GREEN))
    assert "data-chart-json" not in html
    assert re.findall(r'<span class="reporter">([^<]+)</span>', html) == ["Police Cyber Unit"]
    nothing = _card(portal.sign_in(portal.emails["operator"]), own_value("police", Tlp.RED))
    assert "Police Cyber Unit" not in nothing and "data-chart-json" not in nothing


@pytest.mark.parametrize("fragment", [True, False])
def test_the_card_fragment_carries_its_chart_data(portal: Portal, fragment: bool) -> None:
    seed(portal.store, portal.community)
    investigator = portal.community.investigator
    report_sighting(
        portal.store,
        investigator,
        portal.store.directory.viewer(investigator),
        SightingRequest(count=1, tlp=Tlp.GREEN),
        Tlp.GREEN,
        value=own_value("cert", Tlp.CLEAR),
    )
    me = portal.sign_in(portal.emails["operator"])
    headers = {"HX-Request": "true", "X-CSRF-Token": me.csrf} if fragment else {}
    answer = me.http.post(
        "/lookup", data={"q": own_value("cert", Tlp.CLEAR), "csrf": me.csrf}, headers=headers
    )
    assert answer.status_code == 200
    assert ("<html" in answer.text) is not fragment
    # In the chart's own element: htmx drops a fragment's <script> elements, JSON too.
    assert chart_attribute(answer.text)["seen"][-1] == 1
    if fragment:
        assert "<script" not in answer.text


# -- speed -------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_dashboard_of_20000_objects_answers_in_under_300_ms(portal: Portal) -> None:
    """Measured in-process (TestClient: session, queries, template), nine times after a first
    request. The machine is shared with other test runs, so two measures: on SQLite, which
    runs in this process, the CPU time the request costs (whatever else the machine does);
    and the fastest of the nine in wall-clock time (the cost without waiting for a core),
    held to the target unless the machine is busier than twice its cores."""
    load(portal.store, portal.community, total=20_000)
    in_process = portal.store.engine.dialect.name == "sqlite"
    for name in ("analyst", "operator"):
        me = portal.sign_in(portal.emails[name])
        me.http.get("/dashboard")  # the first: templates compiled, statements planned
        times: list[tuple[float, float]] = []
        for _ in range(9):
            started, cpu = time.perf_counter(), time.process_time()
            answer = me.http.get("/dashboard")
            times.append((time.perf_counter() - started, time.process_time() - cpu))
            assert answer.status_code == 200
        wall = sorted(t for t, _ in times)
        cpu_p50 = statistics.median(c for _, c in times)
        busy = os.getloadavg()[0] > 2 * (os.cpu_count() or 1)
        print(
            f"\ndashboard of 20,000 objects for the {name}: fastest {wall[0] * 1000:.0f} ms, "
            f"p50 {statistics.median(wall) * 1000:.0f} ms, CPU p50 {cpu_p50 * 1000:.0f} ms "
            f"(this process{', the database in it' if in_process else ''}), "
            f"load average {os.getloadavg()[0]:.1f}"
        )
        if in_process:
            assert cpu_p50 < 0.3, f"{name}: {cpu_p50 * 1000:.0f} ms of CPU"
        if not busy:
            assert wall[0] < 0.3, f"{name}: {wall[0] * 1000:.0f} ms"
