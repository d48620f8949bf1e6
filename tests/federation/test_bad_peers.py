"""Peers that misbehave: each is refused with a clear error in `accord peer status` and the
audit log, and nothing already stored is touched.

The receiving node runs `accord serve` (for pushes); its peers are a real Accord node given a
wrong key, and hostile peers: a tiny HTTP server in a thread that answers the TAXII paths with
garbage, with 10 MB objects, or with objects a peer may not send (claiming an organisation the
receiver hosts, AMBER for none of its organisations, RED, no TLP). The same objects are pushed
through the TAXII POST route with a peer account's key.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from federation_support import (
    Node,
    audit_events,
    indicator,
    make_node,
    peer,
    share,
    start_all,
    stored_rows,
    versions_seen,
)
from typer.testing import CliRunner

from accord.cli.main import app
from accord.federation.peer_registry import register
from accord.federation.peer_sync import run
from accord.model.extension import ACCORD_EXTENSION_ID
from accord.model.tlp import Tlp
from accord.store.peers import PULL, Peer
from accord.store.taxii import EVERYTHING, EVERYTHING_ID, Match

TAXII = "application/taxii+json;version=2.1"
HOME = ["Home CERT", "Home Water"]
FAR = ["Far CERT"]
MB = 1 << 20
runner = CliRunner()


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Node, Node]]:
    """The receiving node ``home`` and a real peer ``far``, both serving; ``home`` already
    stores an object of its own (which no peer may touch)."""
    folder = tmp_path_factory.mktemp("bad-peers")
    home = make_node("home", f"sqlite:///{folder / 'home.db'}", HOME, folder)
    far = make_node("far", f"sqlite:///{folder / 'far.db'}", FAR, folder)
    share(home, "Home CERT", [indicator(1, Tlp.GREEN, creator=home.orgs["Home CERT"].id)])
    share(far, "Far CERT", [indicator(2, Tlp.CLEAR)])
    try:
        start_all([home, far])
        yield home, far
    finally:
        for node in (home, far):
            node.stop()
            node.store.close()


Answer = tuple[int, str, bytes]  # status, content type, body


class HostilePeer:
    """A TAXII server in a thread: a valid API root, and ``objects`` answering whatever the
    test sets (a callable, so that a test can make it of any size)."""

    def __init__(self) -> None:
        self.objects: Callable[[], Answer] = lambda: (200, TAXII, b'{"objects": []}')
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if "/objects/" in self.path:
                    status, kind, body = outer.objects()
                else:
                    root = {"title": "hostile", "versions": [TAXII], "max_content_length": 1}
                    status, kind, body = 200, TAXII, orjson.dumps(root)
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/taxii2/hostile/"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _card(name: str) -> tuple[dict[str, Any], str]:
    """A made-up node's card, and its operator's id."""
    operator = f"identity--{uuid.uuid4()}"
    node = {
        "type": "identity",
        "spec_version": "2.1",
        "id": f"identity--{uuid.uuid4()}",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": f"{name} node",
        "identity_class": "system",
    }
    org = {"id": operator, "name": f"{name} operator"}
    return {"identity": node, "operator": org, "hosted_organizations": [org]}, operator


@pytest.fixture
def hostile(nodes: tuple[Node, Node]) -> Iterator[tuple[HostilePeer, Peer, str]]:
    """A hostile peer registered on ``home`` (pulled from; its account there can push): the
    server, the peer as ``home`` knows it, and its account's key on ``home``."""
    home, _far = nodes
    server = HostilePeer()
    name = f"hostile-{uuid.uuid4().hex[:6]}"
    card, _operator = _card(name)
    registered = register(
        home.store, name, card, url=server.url, secret="k", collection=EVERYTHING_ID, pull=True
    )
    assert registered.key is not None
    try:
        yield server, registered.peer, registered.key
    finally:
        server.close()


def _status(node: Node, name: str) -> dict[str, Any]:
    result = runner.invoke(app, ["--db", node.url, "peer", "status", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in orjson.loads(result.stdout)}
    return dict(rows[name])


def _last_run(node: Node, name: str, action: str = "federation-pull") -> dict[str, Any]:
    return next(e for e in reversed(audit_events(node, action)) if e.get("peer") == name)


def _with_extension(obj: dict[str, Any], **fields: Any) -> dict[str, Any]:
    obj.setdefault("extensions", {}).setdefault(
        ACCORD_EXTENSION_ID, {"extension_type": "property-extension"}
    ).update(fields)
    return obj


def _hostile_objects(home: Node, base: int) -> dict[str, dict[str, Any]]:
    """What no peer may send ``home`` (and one object it may, to prove the page was read)."""
    cert, water = home.orgs["Home CERT"].id, home.orgs["Home Water"].id
    unmarked = indicator(base + 5, Tlp.CLEAR)
    del unmarked["object_marking_refs"]
    return {
        # A newer version of Home CERT's own object, "by" Home CERT: a forgery.
        "forged-creator": indicator(
            1, Tlp.GREEN, creator=cert, modified="2026-06-01T00:00:00.000Z"
        ),
        "forged-holder": _with_extension(indicator(base + 1, Tlp.CLEAR), holder_organization=water),
        "amber-elsewhere": indicator(base + 2, Tlp.AMBER, recipients=[f"identity--{uuid.uuid4()}"]),
        "red": indicator(base + 3, Tlp.RED, recipients=[water]),
        "unmarked": unmarked,
        "huge": indicator(base + 4, Tlp.CLEAR) | {"description": "x" * (10 * MB)},
        "fine": indicator(base + 6, Tlp.CLEAR),
    }


def _envelope(objects: list[dict[str, Any]]) -> Answer:
    stamp = "2026-01-01T00:00:00.000Z"
    return 200, TAXII, orjson.dumps({"objects": objects, "more": False, "added": stamp})


def _home_cert_object(home: Node) -> list[tuple[str, str]]:
    """Home CERT's own object as stored: every version, with its JSON."""
    own = str(indicator(1, Tlp.GREEN)["id"])
    viewer = home.store.directory.viewer(home.analysts["Home CERT"])
    entries = home.store.taxii.page(viewer, EVERYTHING, Match(ids=(own,), versions=("all",)))
    assert entries, "Home CERT's object is missing"
    return [(entry.modified, str(entry.raw)) for entry in entries]


def test_a_wrong_key_is_an_error_in_status_and_stores_nothing(nodes: tuple[Node, Node]) -> None:
    home, far = nodes
    peer(home, far, pull=True)  # far registers home (its account), home registers far
    home.store.peers.add(
        "far", far.store.identity.card(), url=far.taxii, secret="not-the-key",
        collection=EVERYTHING_ID, pull=True,
    )  # fmt: skip
    before = stored_rows(home)
    report = run(home.store, home.store.peers.get("far"), PULL)
    assert report.error is not None and report.error.startswith("401"), report
    assert stored_rows(home) == before
    status = _status(home, "far")
    assert status["last_pull_error"].startswith("401") and status["last_pull"] is None
    assert _last_run(home, "far")["error"] == report.error
    # The right key works (the far node was fine all along).
    home.store.peers.add(
        "far", far.store.identity.card(), url=far.taxii, secret=far.peer_keys["home"],
        collection=EVERYTHING_ID, pull=True,
    )  # fmt: skip
    assert run(home.store, home.store.peers.get("far"), PULL).error is None
    assert _status(home, "far")["last_pull_error"] is None


GARBAGE: dict[str, tuple[Answer, str]] = {
    "html": ((200, "text/html", b"<html><body>Welcome to nginx!</body></html>"), "not TAXII"),
    "not-json": ((200, TAXII, b"this is not JSON"), "answered no JSON"),
    "truncated": ((200, TAXII, b'{"objects": [{"type": "indicator", "id": "indic'), "no JSON"),
    "a-list": ((200, TAXII, b"[1, 2, 3]"), "expected a JSON object"),
    "error-page": ((502, "text/html", b"<h1>Bad Gateway</h1>"), "502"),
}


@pytest.mark.parametrize("kind", list(GARBAGE))
def test_a_peer_answering_garbage(
    nodes: tuple[Node, Node], hostile: tuple[HostilePeer, Peer, str], kind: str
) -> None:
    home, _far = nodes
    server, registered, _key = hostile
    answer, said = GARBAGE[kind]
    server.objects = lambda: answer
    before = stored_rows(home, None)
    report = run(home.store, registered, PULL)
    assert report.error is not None and said in report.error, report
    assert report.pages == 0 and stored_rows(home, None) == before
    assert said in _status(home, registered.name)["last_pull_error"]
    assert said in _last_run(home, registered.name)["error"]


def test_objects_a_peer_may_not_send_are_refused_one_by_one(
    nodes: tuple[Node, Node], hostile: tuple[HostilePeer, Peer, str]
) -> None:
    home, _far = nodes
    server, registered, _key = hostile
    sent = _hostile_objects(home, 0x100)
    server.objects = lambda: _envelope(list(sent.values()))
    own = _home_cert_object(home)
    report = run(home.store, registered, PULL)
    assert report.error is None
    assert (report.objects, report.stored, report.refused) == (len(sent), 1, len(sent) - 1)
    reasons = " ".join(report.refusals)
    for said in ("claims", "bytes", "for none of this node's organisations", "TLP:RED", "without"):
        assert said in reasons, (said, reasons)
    assert _home_cert_object(home) == own, "an object of a hosted organisation was touched"
    seen = {version.split("@")[0] for version in versions_seen(home, "Home Water")}
    refused_ids = {str(sent[n]["id"]) for n in sent if n not in ("fine", "forged-creator")}
    assert str(sent["fine"]["id"]) in seen and not refused_ids & seen
    status = _status(home, registered.name)
    assert status["last_pull_error"].startswith(f"{len(sent) - 1} object(s) refused")
    refused = _last_run(home, registered.name, "federation-refused")
    assert refused["count"] == len(sent) - 1
    assert {r["id"] for r in refused["refusals"]} == {
        str(sent[n]["id"]) for n in sent if n != "fine"
    }


def test_a_peer_pushing_the_same_is_refused_one_by_one(
    nodes: tuple[Node, Node], hostile: tuple[HostilePeer, Peer, str]
) -> None:
    home, _far = nodes
    _server, registered, key = hostile
    sent = _hostile_objects(home, 0x200)
    own = _home_cert_object(home)
    before = stored_rows(home, None)
    url = f"{home.taxii}collections/{EVERYTHING_ID}/objects/"
    body = orjson.dumps({"objects": list(sent.values())})
    headers = {"Content-Type": TAXII, "Accept": TAXII}
    wrong = httpx.post(url, content=body, headers=headers | {"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and stored_rows(home, None) == before
    answer = httpx.post(
        url, content=body, headers=headers | {"Authorization": f"Bearer {key}"}, timeout=120
    )
    assert answer.status_code == 202, answer.text
    status = answer.json()
    assert status["success_count"] == 1 and status["failure_count"] == len(sent) - 1
    failures = {item["id"]: item["message"] for item in status["failures"]}
    assert set(failures) == {str(sent[n]["id"]) for n in sent if n != "fine"}
    assert "claims" in failures[str(sent["forged-holder"]["id"])]
    assert "bytes" in failures[str(sent["huge"]["id"])]
    assert _home_cert_object(home) == own
    assert stored_rows(home, None) == before + 1
    refused = _last_run(home, registered.name, "federation-refused")
    assert refused["count"] == len(sent) - 1 and "TAXII POST" in refused["source"]


def test_a_card_claiming_a_hosted_organisation_is_refused_at_peer_add(
    nodes: tuple[Node, Node], tmp_path: Path
) -> None:
    home, _far = nodes
    card, _operator = _card("impostor")
    card["hosted_organizations"].append({"id": home.orgs["Home Water"].id, "name": "Water"})
    path = tmp_path / "card.json"
    path.write_bytes(orjson.dumps(card))
    result = runner.invoke(app, ["--db", home.url, "peer", "add", "impostor", "--card", str(path)])
    assert result.exit_code == 2, result.output
    assert "an organisation this node hosts" in result.output
    listed = runner.invoke(app, ["--db", home.url, "peer", "list", "--json"])
    assert "impostor" not in {p["name"] for p in orjson.loads(listed.stdout)}
    assert home.store.directory.org(home.orgs["Home Water"].id).home_node is None
