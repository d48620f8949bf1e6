"""A real node on loopback (`accord serve`, two worker processes sharing one database), driven
over HTTP with keep-alive by the Python client; and the audit chain checked by the CLI after
someone edits the table by hand."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from accord.cli.main import app
from accord.client import Client
from accord.model.roles import Role
from accord.store.node import Store

runner = CliRunner()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def node(tmp_path: Path, store_url: str) -> Iterator[tuple[str, dict[str, str], str]]:
    """A served node with the demo's organisations (no ATT&CK: keep it quick)."""
    url = store_url
    assert runner.invoke(app, ["--db", url, "init"]).exit_code == 0
    keys = {}
    for org in ("CERT-EX", "Water Utility"):
        assert runner.invoke(app, ["--db", url, "org", "add", org]).exit_code == 0
    for email, org in (("a@cert.example", "CERT-EX"), ("s@water.example", "Water Utility")):
        made = runner.invoke(app, ["--db", url, "user", "add", email, "--org", org, "--json"])
        keys[email] = __import__("orjson").loads(made.stdout)["api_key"]
    port = _free_port()
    env = os.environ | {"PYTHONUNBUFFERED": "1"}
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "accord.cli.main",
            "--db",
            url,
            "serve",
            "--port",
            str(port),
            "--workers",
            "2",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError(
                f"the server did not start: {(tmp_path / 'server.log').read_text()}"
            )
        yield base, keys, url
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def test_served_node_over_http(node: tuple[str, dict[str, str], str]) -> None:
    base, keys, _ = node
    with (
        Client(base, keys["a@cert.example"]) as cert,
        Client(base, keys["s@water.example"]) as water,
    ):
        indicator = {
            "type": "indicator",
            "spec_version": "2.1",
            "id": "indicator--5a5a5a5a-0000-4000-8000-000000000001",
            "created": "2026-01-01T00:00:00Z",
            "modified": "2026-01-01T00:00:00Z",
            "pattern": "[domain-name:value = 'evil.example.com']",
            "pattern_type": "stix",
            "valid_from": "2026-01-01T00:00:00Z",
            "confidence": 80,
        }
        assert cert.ingest([indicator], tlp="amber")["stored"] == 1
        # many requests over one keep-alive connection, served by two workers in turn
        answers = [cert.lookup("login.evil.example.com")["verdict"] for _ in range(20)]
        assert set(answers) == {"suspicious"}  # through the parent domain: 0.7 x 80
        assert {water.lookup("login.evil.example.com")["verdict"] for _ in range(20)} == {"unknown"}
        assert water.lookup_many(["evil.example.com"] * 3)[2]["reasons"] == []
        big = cert.http.post(
            "/api/v1/lookup", content=b"[" * 10, headers={"Content-Type": "application/json"}
        )
        assert big.status_code == 422 and big.headers["content-type"] == "application/problem+json"


def test_audit_verify_detects_tampering(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    store = Store.open(url)
    store.init()
    from accord.store.audit import Event

    for number in range(5):
        store.audit.append(
            Event("lookup", "user-1", "org-1", f"192.0.2.{number}", {"answered_by": []})
        )
    assert runner.invoke(app, ["--db", url, "audit", "verify"]).exit_code == 0
    store.directory.add_org("CERT-EX")
    store.directory.add_user("admin@node.example", "CERT-EX", Role.ADMIN)
    shown = runner.invoke(
        app, ["--db", url, "audit", "show", "--as", "admin@node.example", "--json"]
    )
    assert shown.exit_code == 0 and len(__import__("orjson").loads(shown.stdout)) == 5

    def tamper(sql: str) -> list[int]:
        with store.engine.begin() as conn:
            conn.execute(text(sql))
        result = runner.invoke(app, ["--db", url, "audit", "verify", "--json"])
        assert result.exit_code == 1
        return [b["seq"] for b in __import__("orjson").loads(result.stdout)["breaks"]]

    assert tamper("UPDATE audit_log SET target = '203.0.113.9' WHERE seq = 2") == [2]
    with store.engine.begin() as conn:  # put it back
        conn.execute(text("UPDATE audit_log SET target = '192.0.2.1' WHERE seq = 2"))
    assert runner.invoke(app, ["--db", url, "audit", "verify"]).exit_code == 0
    assert tamper("DELETE FROM audit_log WHERE seq = 3") == [4]
    store.close()

    inserted = Store.open(f"sqlite:///{tmp_path / 'insert.db'}")
    inserted.init()
    for number in range(3):
        inserted.audit.append(Event("read", None, None, str(number)))
    with inserted.engine.begin() as conn:
        row = conn.execute(text("SELECT * FROM audit_log WHERE seq = 2")).mappings().one()
        conn.execute(
            text(
                "INSERT INTO audit_log (seq, at, action, target, detail, prev_hash, hash) VALUES (10, :at, 'read', 'forged', '{}', :prev, :hash)"
            ),
            {"at": row["at"], "prev": row["hash"], "hash": "0" * 64},
        )
    result = runner.invoke(app, ["--db", f"sqlite:///{tmp_path / 'insert.db'}", "audit", "verify"])
    assert result.exit_code == 1 and "entry 10" in result.output
    inserted.close()


def _descendants(pid: int) -> set[int]:
    """Processes below ``pid`` (from /proc: Linux, as CI)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if stat.rpartition(")")[2].split()[0] != "Z":  # a zombie has exited
            alive.add(pid)
    return alive


@pytest.mark.parametrize("stop", ["terminate", "kill"])
def test_the_bulk_helper_does_not_outlive_its_server(tmp_path: Path, stop: str) -> None:
    """Each server process spawns a helper for bulk look-ups (`accord.api.lookup_workers`):
    stopped with the server, and gone by itself if the server is killed outright."""
    url = f"sqlite:///{tmp_path / 'helper.db'}"
    assert runner.invoke(app, ["--db", url, "init"]).exit_code == 0
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "accord.cli.main", "--db", url, "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not _descendants(process.pid):  # the helper, spawned at start-up
            assert time.monotonic() < deadline, "no helper process was started"
            time.sleep(0.1)
        helpers = _descendants(process.pid)
        getattr(process, stop)()
        process.wait(timeout=30)
        deadline = time.monotonic() + 15
        while _alive(helpers):
            assert time.monotonic() < deadline, f"left running: {_alive(helpers)}"
            time.sleep(0.2)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
