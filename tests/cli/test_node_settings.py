"""Settings that change answers live with the node, so that the command line and the API
answer a look-up alike (issue 15, item 4): `accord settings`, stored in the database."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from accord.api.app import create_app
from accord.cli.main import app
from accord.settings import NODE_SETTINGS, Settings
from accord.store.node import Store

runner = CliRunner()
REPO_CACHE = Path(__file__).resolve().parents[2] / "var" / "cache"
RFC5735 = "List of RFC 5735 CIDR blocks"  # 198.51.100.0/24 is TEST-NET-2
VALUE = "198.51.100.23"
ANALYST = "analyst@cert.example"
ADMIN = "root@node.example"

BUNDLE = {
    "type": "bundle",
    "id": "bundle--5e7a0000-0000-4000-8000-000000000001",
    "objects": [
        {
            "type": "indicator",
            "spec_version": "2.1",
            "id": "indicator--5e7a0000-0000-4000-8000-000000000002",
            "created": "2026-11-01T00:00:00.000Z",
            "modified": "2026-11-01T00:00:00.000Z",
            "name": "C2 on a documentation address",
            "pattern": f"[ipv4-addr:value = '{VALUE}']",
            "pattern_type": "stix",
            "valid_from": "2026-11-01T00:00:00.000Z",
            "confidence": 80,
        }
    ],
}


def accord(db: str, *args: str, code: int = 0) -> Any:
    result = runner.invoke(app, ["--db", db, *args])
    assert result.exit_code == code, result.output
    return result


@pytest.fixture
def node(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """A node with an analyst, a green indicator on 198.51.100.23, and the analyst's key."""
    monkeypatch.setenv("ACCORD_CACHE_DIR", os.environ.get("ACCORD_CACHE_DIR", str(REPO_CACHE)))
    accord(store_url, "init")
    accord(store_url, "org", "add", "CERT-EX")
    accord(store_url, "user", "add", ADMIN, "--org", "CERT-EX", "--role", "admin")
    added = accord(store_url, "user", "add", ANALYST, "--org", "CERT-EX", "--json")
    path = tmp_path / "bundle.json"
    path.write_bytes(orjson.dumps(BUNDLE))
    accord(store_url, "ingest", str(path), "--as", ANALYST, "--tlp", "green")
    return store_url, orjson.loads(added.stdout)["api_key"]


def _cli(db: str) -> tuple[str, int]:
    answer = orjson.loads(accord(db, "lookup", VALUE, "--as", ANALYST, "--json").stdout)[0]
    return answer["verdict"], answer["score"]


def _api(db: str, key: str) -> tuple[str, int]:
    with TestClient(create_app(Settings(database_url=db))) as http:
        found = http.get(
            "/api/v1/lookup", params={"value": VALUE}, headers={"Authorization": f"Bearer {key}"}
        )
    assert found.status_code == 200, found.text
    return found.json()["verdict"], found.json()["score"]


def test_cli_and_api_answer_alike_from_the_node_settings(node: tuple[str, str]) -> None:
    db, key = node
    # On the documentation-range warninglist: damped, the same from both.
    damped = _cli(db)
    assert damped[0] != "malicious" and damped == _api(db, key)

    shown = accord(db, "settings", "set", "warninglists.ignore", RFC5735, "--as", ADMIN)
    assert RFC5735 in shown.stdout
    store = Store.open(db)
    try:
        stored = {k: v for k, v in store.settings.all().items() if k in NODE_SETTINGS}
        assert stored == {"warninglists.ignore": RFC5735}  # kept in the node
        entries = store.audit.entries(None, None, "admin", 0, 100)
        assert any(
            entry.detail.get("setting") == "warninglists.ignore"
            and entry.detail.get("new") == RFC5735
            for entry in entries
        )
    finally:
        store.close()
    # The list left out: the CLI and the API (given no ignore list) say the same again.
    cli = _cli(db)
    assert cli == ("malicious", 80)
    assert _api(db, key) == cli

    listed = orjson.loads(accord(db, "settings", "show", "--json").stdout)
    row = next(row for row in listed if row["key"] == "warninglists.ignore")
    assert row["value"] == RFC5735 and row["stored"] is True

    accord(db, "settings", "unset", "warninglists.ignore")
    assert _cli(db) == damped == _api(db, key)


def test_settings_are_checked_and_need_a_node_admin(node: tuple[str, str]) -> None:
    db, _ = node
    refused = accord(db, "settings", "set", "warninglists.ignore", RFC5735, "--as", ANALYST, code=2)
    assert "analyst: this needs admin" in refused.output
    wrong = accord(db, "settings", "set", "warninglists.ignore", "No such list", code=2)
    assert "'No such list'" in wrong.output and "warninglists.ignore" in wrong.output
    assert "is not a node setting" in accord(db, "settings", "set", "nope", "1", code=2).output
    assert "correlation.cap" in accord(db, "settings", "set", "correlation.cap", "0", code=2).output
    accord(db, "settings", "set", "tlp.default", "green")
    listed = orjson.loads(accord(db, "settings", "show", "--json").stdout)
    assert {row["key"]: row["value"] for row in listed}["tlp.default"] == "TLP:GREEN"


def test_the_old_environment_variables_are_refused_not_ignored(
    node: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, _ = node
    monkeypatch.setenv("ACCORD_WARNINGLISTS_IGNORE", RFC5735)
    refused = accord(db, "lookup", VALUE, "--as", ANALYST, code=2)
    assert "accord settings set warninglists.ignore" in refused.output
    with pytest.raises(ValueError, match="ACCORD_WARNINGLISTS_IGNORE is no longer read"):
        Settings.from_env(db)


def test_the_correlation_cap_is_the_nodes(store: Store) -> None:
    """The store reads its cap from the node's settings (no environment)."""
    from accord.store.correlation.policy import policy_for

    assert policy_for(store.engine).cap == 100
    store.settings.set("correlation.cap", "7")
    assert policy_for(store.engine).cap == 7
    store.settings.set("correlation.cap", None)
    assert policy_for(store.engine).cap == 100
