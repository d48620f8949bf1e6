"""`accord node` and `accord peer` end to end, as two operators set up a federation by hand:
node init and card, peer add (from a card file, and from --url/--key), list, status, pull,
push, remove, with --json and the exit codes (2: bad input such as an unknown peer; 1: a run
that failed). Node ``a`` serves (`accord serve`); node ``b`` runs the commands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from federation_support import Node, indicator, share
from typer.testing import CliRunner

from accord.cli.main import app
from accord.model.roles import Role
from accord.model.tlp import Tlp
from accord.store.node import Store

runner = CliRunner()


def accord(db: str, *args: str, code: int = 0) -> Any:
    result = runner.invoke(app, ["--db", db, *args])
    assert result.exit_code == code, (args, result.output)
    return result


def as_json(result: Any) -> Any:
    return orjson.loads(result.stdout)


def _node(tmp_path: Path, name: str) -> tuple[str, Path]:
    """A node set up from the command line; its URL and its card's file."""
    db = f"sqlite:///{tmp_path / name}.db"
    accord(db, "init")
    accord(db, "org", "add", f"{name.upper()} CERT", "--sector", "national-cert")
    identity = as_json(
        accord(db, "node", "init", "--name", f"{name} node", "--operator", f"{name.upper()} CERT",
               "--json")
    )  # fmt: skip
    assert identity["type"] == "identity" and identity["name"] == f"{name} node"
    card_file = tmp_path / f"{name}-card.json"
    card_file.write_text(accord(db, "node", "card").stdout)
    card = orjson.loads(card_file.read_bytes())
    assert card["identity"]["id"] == identity["id"]
    assert [org["name"] for org in card["hosted_organizations"]] == [f"{name.upper()} CERT"]
    return db, card_file


def _analyst(node: Node, org: str) -> None:
    user, key = node.store.directory.add_user(f"analyst@{node.name}.example", org, Role.ANALYST)
    node.analysts[org], node.keys[user.email] = user, key
    node.orgs[org] = node.store.directory.org(org)


def test_two_operators_federate_from_the_command_line(tmp_path: Path) -> None:
    a_db, a_card = _node(tmp_path, "a")
    b_db, b_card = _node(tmp_path, "b")

    # On a: b's card makes b's account here (b of a's community: GREEN crosses to it), and
    # prints the key for b's operator.
    added = as_json(
        accord(a_db, "peer", "add", "b", "--card", str(b_card), "--community", "--json")
    )
    key = added["account_key"]
    assert key and added["account"].endswith("@peers.accord.invalid")
    assert added["url"] is None and not added["pull"] and not added["push"]

    a = Node("a", a_db, Store.open(a_db), {}, {}, {}, tmp_path / "a.log")
    b = Node("b", b_db, Store.open(b_db), {}, {}, {}, tmp_path / "b.log")
    try:
        _analyst(a, "A CERT")
        _analyst(b, "B CERT")
        share(a, "A CERT", [indicator(1, Tlp.CLEAR), indicator(2, Tlp.GREEN)])
        share(b, "B CERT", [indicator(3, Tlp.CLEAR), indicator(4, Tlp.RED)])
        a.start()

        # On b: a's card fetched from --url with --key; pull, push and community.
        peer = as_json(
            accord(b_db, "peer", "add", "a", "--url", a.taxii, "--key", key,
                   "--pull", "--push", "--community", "--json")
        )  # fmt: skip
        assert peer["node_id"] == orjson.loads(a_card.read_bytes())["identity"]["id"]
        assert (peer["pull"], peer["push"], peer["community"], peer["has_key"]) == (
            True, True, True, True,
        )  # fmt: skip
        listed = as_json(accord(b_db, "peer", "list", "--json"))
        assert [p["name"] for p in listed] == ["a"] and key not in orjson.dumps(listed).decode()
        assert "secret" not in listed[0]

        # Every pulled peer: the CLEAR one and the GREEN one (a marked b of its community).
        pulled = as_json(accord(b_db, "peer", "pull", "--json"))
        assert [(r["peer"], r["direction"], r["stored"], r["error"]) for r in pulled] == [
            ("a", "pull", 2, None)
        ]
        pushed = as_json(accord(b_db, "peer", "push", "a", "--json"))
        assert [(r["objects"], r["stored"], r["refused"], r["error"]) for r in pushed] == [
            (1, 1, 0, None)  # the CLEAR one; RED never leaves
        ]
        again = as_json(accord(b_db, "peer", "pull", "a", "--json"))
        assert again[0]["stored"] == 0 and again[0]["error"] is None
        status = as_json(accord(b_db, "peer", "status", "--json"))
        assert status[0]["name"] == "a" and status[0]["last_pull"] and status[0]["last_push"]
        assert status[0]["last_pull_error"] is None and status[0]["last_push_error"] is None
        assert status[0]["pull_cursor"] and status[0]["push_cursor"]
        plain = accord(b_db, "peer", "status").stdout
        assert "never" not in plain

        # Unknown peers are bad input (2); a run that fails is a failure (1), and says why.
        for command in ("pull", "push", "remove"):
            result = accord(b_db, "peer", command, "nowhere", code=2)
            assert "no peer 'nowhere'" in result.output
        a.stop()
        failed = as_json(accord(b_db, "peer", "pull", "a", "--json", code=1))
        assert "cannot reach" in failed[0]["error"]
        assert (
            "cannot reach"
            in as_json(accord(b_db, "peer", "status", "--json"))[0]["last_pull_error"]
        )
        share(b, "B CERT", [indicator(5, Tlp.CLEAR)])  # (with nothing to send, no call is made)
        assert "cannot reach" in accord(b_db, "peer", "push", "a", code=1).output

        # Bad input to peer add: nothing to learn the card from; --pull without a URL; a card
        # that is this node's own.
        accord(b_db, "peer", "add", "c", code=2)
        accord(b_db, "peer", "add", "c", "--card", str(a_card), "--pull", code=2)
        own = accord(b_db, "peer", "add", "self", "--card", str(b_card), code=2)
        assert "this node's own" in own.output

        removed = as_json(accord(b_db, "peer", "remove", "a", "--json"))
        assert removed == {"removed": "a"}
        assert as_json(accord(b_db, "peer", "list", "--json")) == []
        accord(b_db, "peer", "pull", code=2)  # no peer left to pull
    finally:
        for node in (a, b):
            node.stop()
            node.store.close()
