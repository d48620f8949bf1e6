"""The portal's search page (accord.web.pages.search): filters, pages through the results,
htmx fragments, clear messages for bad input, Spanish, the audit of AMBER reads, and the leak
matrix: a hidden object's id and name never appear, and a search that finds only hidden
objects reads exactly like one that finds nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest
from markupsafe import escape
from portal_support import Browsing, Portal

from accord.ingest.stix import Ingester, IngestOptions
from accord.model.tlp import Tlp
from accord.model.visibility import Recipients
from leakdata import EXPECTED, indicator, load_matrix

EMAILS = {
    "creator": "analyst",
    "colleague": "colleague",
    "recipient": "investigator",
    "outsider": "operator",
}
_ID = re.compile(r"malware--00000000-0000-4000-8000-\d{12}")


def _malware(n: int, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "malware",
        "spec_version": "2.1",
        "id": f"malware--00000000-0000-4000-8000-{n:012d}",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": f"2026-02-{1 + n % 28:02d}T00:00:00.000Z",
        "name": name,
        "is_family": True,
        **extra,
    }


def _ingest(portal: Portal, objs: list[dict[str, Any]], **options: Any) -> None:
    report = Ingester(portal.store, portal.community.analyst).ingest_objects(
        objs, "2.1", "test", IngestOptions(**options)
    )
    assert report.ok, report.summary()


@pytest.fixture
def loaded(portal: Portal) -> Portal:
    _ingest(
        portal,
        [_malware(n, f"Heron loader {n}", labels=["loader"]) for n in range(60)]
        + [_malware(100, "GhostPump", description="Beacons over <b>HTTPS</b>.")],
        tlp=Tlp.GREEN,
    )
    police = Recipients(org_ids=frozenset({portal.community.police.id}))
    _ingest(
        portal,
        [_malware(200, "Zanzibar heron", labels=["loader"])],
        tlp=Tlp.AMBER,
        recipients=police,
    )
    return portal


def _ids(html: str) -> list[str]:
    return list(dict.fromkeys(_ID.findall(html)))


def test_search_needs_a_signed_in_member(portal: Portal) -> None:
    response = portal.client().get("/search?q=heron", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/sign-in?next=")


def test_the_form_and_the_results(loaded: Portal) -> None:
    me = loaded.sign_in(loaded.emails["operator"])
    html = me.http.get("/search", params={"q": "ghostpump"}).text
    assert 'role="search"' in html and 'value="ghostpump"' in html
    assert _ids(html) == ["malware--00000000-0000-4000-8000-000000000100"]
    assert "Beacons over &lt;b&gt;HTTPS&lt;/b&gt;." in html  # escaped, never markup
    assert "TLP:GREEN" in html and "CERT-EX" in html
    # Each filter, as the API takes it.
    assert len(_ids(me.http.get("/search", params={"label": "loader"}).text)) == 50
    one_day = {"modified_since": "2026-02-05", "modified_until": "2026-02-05", "type": "malware"}
    assert len(_ids(me.http.get("/search", params=one_day).text)) == 2  # n = 4 and 32
    assert _ids(me.http.get("/search", params={"q": "heron", "tlp": "amber"}).text) == []
    assert (
        _ids(me.http.get("/search", params={"q": "ghost*", "creator": "Water Utility"}).text) == []
    )


def test_pages_follow_next_without_gaps_or_repeats(loaded: Portal) -> None:
    me = loaded.sign_in(loaded.emails["operator"])
    seen: list[str] = []
    link: str | None = "/search?q=heron&order=oldest"
    while link:
        html = me.http.get(link.replace("&amp;", "&")).text
        seen += _ids(html)
        found = re.search(r'<a href="([^"]+)"[^>]*rel="next"', html)
        link = found.group(1) if found else None
    assert len(seen) == len(set(seen)) == 60
    assert seen == sorted(seen)  # stored in this order


def test_htmx_gets_the_results_only(loaded: Portal) -> None:
    me = loaded.sign_in(loaded.emails["operator"])
    fragment = me.http.get("/search", params={"q": "ghostpump"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and "<table" in fragment.text


@pytest.mark.parametrize(
    ("params", "status", "words"),
    [
        ({"q": "&|!"}, 422, "at least one word"),
        ({"q": "x" * 1001}, 422, "at least one word"),
        ({"modified_since": "yesterday"}, 422, "YYYY-MM-DD"),
        ({"modified_since": "2026-03-01", "modified_until": "2026-02-01"}, 422, "YYYY-MM-DD"),
        ({"creator": "Nobody"}, 422, "no organisation"),
        ({"tlp": "purple"}, 422, "TLP level"),
        ({"order": "sideways"}, 422, "order"),
        ({"cursor": "not-a-cursor"}, 400, "first page"),
    ],
)
def test_bad_input_answers_a_clear_message(
    loaded: Portal, params: dict[str, str], status: int, words: str
) -> None:
    me = loaded.sign_in(loaded.emails["operator"])
    response = me.http.get("/search", params=params)
    assert response.status_code == status
    assert 'role="alert"' in response.text and words in response.text
    assert 'role="search"' in response.text  # the form stays, to correct


def test_the_page_in_spanish(loaded: Portal) -> None:
    me = loaded.sign_in(loaded.emails["operator"])
    html = me.http.get("/search", params={"q": "&|!", "lang": "es"}).text
    assert "Buscar" in html and "Search and browse" not in html
    assert "at least one word" not in html


def test_amber_reads_shown_are_audited(loaded: Portal) -> None:
    me = loaded.sign_in(loaded.emails["investigator"])
    html = me.http.get("/search", params={"q": "zanzibar"}).text
    assert _ids(html) == ["malware--00000000-0000-4000-8000-000000000200"]
    entries = [e for e in loaded.store.audit.entries() if e.action == "read"]
    assert any("malware--00000000-0000-4000-8000-000000000200" in str(e.detail) for e in entries)


# -- the leak matrix over the search page ----------------------------------------------------


@pytest.fixture
def browsers(portal: Portal) -> dict[str, Browsing]:
    load_matrix(portal.store, portal.community)
    return {name: portal.sign_in(portal.emails[role]) for name, role in EMAILS.items()}


def _masked(html: str, *typed: str) -> str:
    for text in typed:
        html = html.replace(str(escape(text)), "TYPED").replace(text, "TYPED")
    html = re.sub(r'value="[A-Za-z0-9_\-]{30,}"', 'value="TOKEN"', html)
    return re.sub(r'"X-CSRF-Token": "[^"]+"', '"X-CSRF-Token": "TOKEN"', html)


@pytest.mark.parametrize("viewer", list(EMAILS))
def test_search_pages_show_only_what_the_viewer_may_see(
    browsers: dict[str, Browsing], viewer: str
) -> None:
    me = browsers[viewer]
    for level in Tlp:
        made = indicator(level)
        visible = viewer in EXPECTED[level]
        searches = [
            {"q": f'"{level.label} test"'},
            {"label": f"leak-{level.slug}"},
            {"q": f"{level.label}*", "label": f"leak-{level.slug}", "tlp": level.slug},
        ]
        for params in searches:
            for headers in ({}, {"HX-Request": "true"}):
                html = me.http.get("/search", params=params, headers=headers).text
                for secret in (str(made["id"]), str(made["name"])):
                    assert (secret in html) == visible, (viewer, level, params, secret)
                if not visible:  # reads exactly like a search that finds nothing
                    typed = [params[name] for name in ("q", "label") if name in params]
                    nothing = params | {
                        name: "nothingmatches" for name in ("q", "label") if name in params
                    }
                    other = me.http.get("/search", params=nothing, headers=headers).text
                    assert _masked(html, *typed) == _masked(other, "nothingmatches"), params
