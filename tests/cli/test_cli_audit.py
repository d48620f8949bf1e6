"""Every command that writes leaves one audit entry, like the API's (issue 14, item 8): the
acting user (or the local operator, without ``--as``), the action, the target and what was
done; the chain still verifies. On SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from accord.cli import demo
from accord.cli.context import LOCAL_OPERATOR
from accord.cli.main import app
from accord.jobs.definitions import pull_due_feeds
from accord.model.roles import Role
from accord.settings import Settings
from accord.store.node import Store

runner = CliRunner()
REPO_CACHE = Path(__file__).resolve().parents[2] / "var" / "cache"

ANALYST = "analyst@cert.example"
BOSS = "boss@cert.example"
ROOT = "root@node.example"
INDICATOR = "indicator--00000000-0000-4000-8000-000000000001"

BUNDLE = {
    "type": "bundle",
    "id": "bundle--1d4b8d7d-2e4b-4f83-b9d7-0f0f0f0f0f0f",
    "objects": [
        {
            "type": "indicator",
            "spec_version": "2.1",
            "id": INDICATOR,
            "created": "2026-01-01T00:00:00.000Z",
            "modified": "2026-01-01T00:00:00.000Z",
            "name": "indicator 1",
            "pattern": "[ipv4-addr:value = '198.51.100.7']",
            "pattern_type": "stix",
            "valid_from": "2026-01-01T00:00:00Z",
        }
    ],
}
MISP_EVENT = {
    "Event": {
        "uuid": "5f1a3c2e-1111-4222-8333-444455556666",
        "info": "a MISP event",
        "date": "2026-01-02",
        "timestamp": "1767312000",
        "Tag": [{"name": "tlp:green"}],
        "Attribute": [
            {
                "uuid": "5f1a3c2e-1111-4222-8333-444455556667",
                "type": "ip-dst",
                "category": "Network activity",
                "value": "198.51.100.8",
                "to_ids": True,
                "timestamp": "1767312000",
            }
        ],
    }
}
REPORT = "The actor used 203.0.113.77 and evil-domain.example for command and control.\n"

# (command, the --as user or None, the action, the target is set)
COMMANDS: list[tuple[list[str], str | None, str]] = [
    (["org", "add", "Rail Operator"], None, "admin"),
    (["org", "add", "Rail Operator", "--as", ROOT], ROOT, "admin"),
    (["group", "add", "Utilities", "--orgs", "CERT-EX,Water Utility"], None, "admin"),
    (["user", "add", "new@cert.example", "--org", "CERT-EX"], None, "admin"),
    (["user", "add", "new@cert.example", "--org", "CERT-EX", "--as", BOSS], BOSS, "admin"),
    (["user", "passwd", ANALYST], None, "admin"),
    (["user", "passwd", ANALYST, "--as", BOSS], BOSS, "admin"),
    (["user", "totp-reset", ANALYST, "--as", BOSS], BOSS, "admin"),
    (["user", "sign-out", ANALYST], None, "admin"),
    (["org", "require-totp", "CERT-EX", "--on", "--as", BOSS], BOSS, "admin"),
    (["key", "add", ANALYST], None, "admin"),
    (["key", "add", ANALYST, "--as", BOSS], BOSS, "admin"),
    (["key", "revoke", "{analyst_key}"], None, "admin"),
    (["key", "revoke", "{analyst_key}", "--as", BOSS], BOSS, "admin"),
    (["allowlist", "add", "10.0.0.0/8", "--as", BOSS], BOSS, "admin"),
    (["allowlist", "remove", "192.0.2.0/24", "--as", BOSS], BOSS, "admin"),
    (["ingest", "{bundle}", "--as", ANALYST], ANALYST, "write"),
    (["ingest", "misp", "{misp}", "--as", ANALYST], ANALYST, "write"),
    (["ingest", "list", "{list}", "--as", ANALYST], ANALYST, "write"),
    (["ingest", "report", "{report}", "--as", ANALYST], ANALYST, "write"),
    (["sight", "198.51.100.7", "--as", ANALYST], ANALYST, "write"),
    (
        [
            "feed",
            "add",
            "Peer",
            "--taxii",
            "http://127.0.0.1:9/taxii2/",
            "--collection",
            "c1",
            "--as",
            ANALYST,
        ],
        ANALYST,
        "admin",
    ),
    (["feed", "pull", "Existing"], None, "write"),
    (["taxii", "collection-add", "Green things", "--tlp", "green"], None, "admin"),
    (["demo"], None, "write"),
    (["settings", "set", "tlp.default", "green"], None, "admin"),
    (["settings", "unset", "tlp.default", "--as", ROOT], ROOT, "admin"),
]


def accord(db: str, *args: str, code: int = 0) -> Any:
    # `user passwd` reads the new password from standard input.
    stdin = "correct horse battery staple\n" if "passwd" in args else None
    result = runner.invoke(app, ["--db", db, *args], input=stdin)
    assert result.exit_code == code, result.output
    return result


@pytest.fixture
def db(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("ACCORD_CACHE_DIR", str(REPO_CACHE))
    monkeypatch.setattr(demo, "_attack_files", list)  # the demo without ATT&CK: quicker
    accord(store_url, "init")
    accord(store_url, "org", "add", "CERT-EX")
    accord(store_url, "org", "add", "Water Utility")
    accord(store_url, "user", "add", ROOT, "--org", "CERT-EX", "--role", "admin")
    accord(store_url, "user", "add", BOSS, "--org", "CERT-EX", "--role", "org-admin")
    analyst = orjson.loads(
        accord(store_url, "user", "add", ANALYST, "--org", "CERT-EX", "--json").stdout
    )
    accord(store_url, "allowlist", "add", "192.0.2.0/24", "--as", BOSS)
    accord(store_url, "ingest", _write(tmp_path, "seed.json", BUNDLE), "--as", ANALYST)
    accord(
        store_url,
        "feed",
        "add",
        "Existing",
        "--taxii",
        "http://127.0.0.1:9/taxii2/",
        "--collection",
        "c0",
        "--as",
        ANALYST,
    )
    lines = tmp_path / "iocs.txt"
    lines.write_text("203.0.113.50\nevil.example\n")
    report = tmp_path / "report.txt"
    report.write_text(REPORT)
    return {
        "url": store_url,
        "analyst_key": analyst["api_key"].split("_")[1],
        "bundle": _write(
            tmp_path,
            "bundle.json",
            BUNDLE | {"objects": [BUNDLE["objects"][0] | {"id": INDICATOR[:-1] + "2"}]},
        ),
        "misp": _write(tmp_path, "event.json", MISP_EVENT),
        "list": str(lines),
        "report": str(report),
    }


def _write(tmp_path: Path, name: str, document: object) -> str:
    path = tmp_path / name
    path.write_bytes(orjson.dumps(document))
    return str(path)


@pytest.mark.parametrize(
    ("command", "actor", "action"),
    COMMANDS,
    ids=[" ".join(c[0][:2]) + (" --as" if c[1] else "") for c in COMMANDS],
)
def test_every_writing_command_is_audited(
    db: dict[str, str], command: list[str], actor: str | None, action: str
) -> None:
    url = db["url"]
    store = Store.open(url)
    try:
        before = store.audit.entries(limit=100_000)
        args = [arg.format(**db) for arg in command]
        code = 1 if command[:2] == ["feed", "pull"] else 0  # nobody answers at port 9
        accord(url, *args, code=code)
        after = store.audit.entries(limit=100_000)
        new = after[len(before) :]
        if command == ["demo"]:
            # The demo also stores its warninglists setting, gives its users their demo
            # passwords, and shows (so audits) what each gets for its featured value.
            setting, passwords, lookups, new = new[0], new[1:5], new[5:-1], new[-1:]
            assert setting.action == "admin" and setting.target == "warninglists.ignore"
            assert setting.detail["via"] == "accord demo"
            assert {(e.action, e.detail["change"]) for e in passwords} == {
                ("admin", "set password")
            }
            assert len(lookups) == 4 and {e.action for e in lookups} == {"lookup"}
        assert len(new) == 1, [e.detail for e in new]
        entry = new[0]
        assert entry.action == action
        assert entry.detail["via"].startswith(f"accord {command[0]}")
        if actor is None:
            assert entry.detail["actor"] == LOCAL_OPERATOR and entry.user_id is None
        else:
            user = store.directory.user(actor)
            assert entry.detail["actor"] == actor
            assert (entry.user_id, entry.org_id) == (user.id, user.org_id)
        assert entry.target is not None or action == "write"
        count, breaks = store.audit.verify()
        assert count == len(after) and breaks == []
    finally:
        store.close()
    verified = accord(url, "audit", "verify", "--json")
    assert orjson.loads(verified.stdout)["breaks"] == []


@pytest.mark.parametrize(
    ("command", "refused"),
    [
        (["key", "add", ROOT, "--as", BOSS], "no user 'root@node.example' whose keys"),
        (["key", "list", ROOT, "--as", BOSS], "no user 'root@node.example' whose keys"),
        (["key", "add", "nobody@x.example", "--as", BOSS], "no user 'nobody@x.example' whose"),
        (["key", "add", BOSS, "--as", ANALYST], "no user 'boss@cert.example' whose keys"),
        (["key", "revoke", "{root_key}", "--as", BOSS], "that you may revoke"),
        (
            ["user", "add", "x@cert.example", "--org", "CERT-EX", "--role", "admin", "--as", BOSS],
            "may not add a user with role admin",
        ),
        (
            [
                "user",
                "add",
                "x@cert.example",
                "--org",
                "CERT-EX",
                "--role",
                "org-admin",
                "--as",
                BOSS,
            ],
            "may not add a user with role org-admin",
        ),
        (
            ["user", "add", "x@water.example", "--org", "Water Utility", "--as", BOSS],
            "may not add a user with role analyst",
        ),
        (["user", "list", "--as", ANALYST], "this needs admin, org-admin"),
        (["org", "add", "Rail", "--as", BOSS], "this needs admin"),
        (["group", "add", "G", "--orgs", "CERT-EX", "--as", BOSS], "this needs admin"),
        (["taxii", "collection-add", "G", "--tlp", "green", "--as", BOSS], "this needs admin"),
    ],
)
def test_the_cli_as_a_user_follows_the_apis_rule(
    db: dict[str, str], command: list[str], refused: str
) -> None:
    """With --as, the command line applies the API's rule (`accord.model.roles`), and a
    refusal changes nothing and is not audited as a change."""
    url = db["url"]
    store = Store.open(url)
    try:
        root = store.directory.user(ROOT)
        root_key = store.directory.keys(root.id)
        if not root_key:
            store.directory.new_key(ROOT)
            root_key = store.directory.keys(root.id)
        before = (
            store.audit.entries(limit=100_000),
            store.directory.users(),
            store.directory.keys(root.id),
            store.directory.orgs(),
        )
        result = accord(url, *[a.format(root_key=root_key[0][0]) for a in command], code=2)
        assert refused in " ".join(result.output.split())
        after = (
            store.audit.entries(limit=100_000),
            store.directory.users(),
            store.directory.keys(root.id),
            store.directory.orgs(),
        )
        assert after == before
    finally:
        store.close()


def test_a_scheduled_feed_pull_is_audited(store: Store, store_url: str) -> None:
    """The server's scheduled pulls write too: one entry per pull, under the feed's user."""
    store.directory.add_org("CERT-EX")
    user, _ = store.directory.add_user(ANALYST, "CERT-EX", Role.ANALYST)
    feed = store.feeds.add(
        "Peer", "taxii", user.id, url="http://127.0.0.1:9/taxii2/", collection="c", interval=60
    )
    assert pull_due_feeds(store, Settings(database_url=store_url)) == 1
    [entry] = store.audit.entries()
    assert (entry.action, entry.user_id, entry.org_id, entry.target) == (
        "write",
        user.id,
        user.org_id,
        feed.id,
    )
    assert entry.detail["via"] == "scheduled feed pull" and entry.detail["error"]
    assert store.audit.verify()[1] == []
