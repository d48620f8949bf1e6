"""`accord demo` shows what it promises: one value, four organisations, four answers (CLEAR,
GREEN, AMBER to an organisation, RED to one user), in a table readable at 80 columns, with
`Try:` commands that work as printed and agree with the API (issue 15, items 3 and 4), and a
portal password for each user, printed as the demo's own (issue 17)."""

from __future__ import annotations

import base64
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from accord.api.app import create_app
from accord.cli.demo import DEMO_PASSWORDS, FEATURED, ORGS
from accord.settings import Settings
from accord.store.node import Store

REPO = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("ACCORD_CACHE_DIR", REPO / "var" / "cache"))


def _env(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("COLUMNS", "LINES", "ACCORD_DATABASE_URL")
    }
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    env["ACCORD_CACHE_DIR"] = str(CACHE)
    env.update(extra)
    return env


def _run(args: list[str], **env: str) -> str:
    done = subprocess.run(
        args, capture_output=True, text=True, env=_env(**env), timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _table(output: str) -> dict[str, tuple[str, int, int, tuple[str, ...]]]:
    """The demo table's rows: organisation -> (verdict, score, reasons, TLP levels)."""
    rows: dict[str, tuple[str, int, int, tuple[str, ...]]] = {}
    names = [name for name, *_ in ORGS]
    for line in output.splitlines():
        for name in names:
            found = re.fullmatch(
                rf"\s*{re.escape(name)}\s+(\w+)\s+(\d+)\s+(\d+)\s+([A-Z+ ]+?)\s*", line
            )
            if found:
                verdict, score, reasons, levels = found.groups()
                rows[name] = (verdict, int(score), int(reasons), tuple(levels.split()))
    return rows


def _api_answer(answer: dict[str, Any]) -> tuple[str, int, int, tuple[str, ...]]:
    levels = {reason["tlp"] for reason in answer["reasons"]}
    ordered = ("TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED")
    return (
        answer["verdict"],
        answer["score"],
        answer["reasons_total"],
        tuple(level.removeprefix("TLP:") for level in ordered if level in levels),
    )


def test_demo_shows_one_value_four_answers_at_80_columns(store_url: str) -> None:
    output = _run(
        [sys.executable, "-m", "accord.cli.main", "--db", store_url, "demo", "--no-attack"],
        COLUMNS="80",
    )
    assert "…" not in output and "..." not in output  # nothing cut off
    table = _table(output)
    assert set(table) == {name for name, *_ in ORGS}, output
    start = output.index(f"{FEATURED}, looked up by each organisation")
    for line in output[start : output.index("Users (")].splitlines():
        assert len(line) <= 80, line
    # Four organisations, four different answers, each resting on different TLP levels.
    assert len(set(table.values())) == 4
    assert len({levels for *_, levels in table.values()}) == 4
    assert table["Bluefin Security"][3] == ("CLEAR", "GREEN")
    assert table["Riverside Water"][3] == ("CLEAR", "GREEN", "AMBER")  # AMBER to its org
    assert table["CERT-Nordland"][3] == ("CLEAR", "GREEN", "RED")  # its analyst wrote the RED
    assert table["Police Cyber Unit Sudmark"][3] == ("CLEAR", "GREEN", "AMBER", "RED")
    assert len({verdict for verdict, *_ in table.values()}) >= 2

    # The API (the node's own settings, nothing passed in) gives each user the same answer.
    keys = {
        org: key for _email, org, key in re.findall(r"(\S+@\S+) \((.+)\)\n +API key: (\S+)", output)
    }
    assert set(keys) == set(table)

    # Every demo user signs in to the portal with the password printed beside their key,
    # printed as the demo's own (issue 17); a password does not open the API.
    passwords = dict(
        re.findall(
            r"(\S+@\S+) \(.+\)\n +API key: \S+\n +portal password: (\S+) \(demo only\)", output
        )
    )
    assert passwords == DEMO_PASSWORDS
    assert "never use them on a" in output and "real node" in output
    store = Store.open(store_url)
    try:
        for email, password in passwords.items():
            signed_in = store.credentials.check_password(email, password)
            assert signed_in is not None and signed_in.email == email
    finally:
        store.close()
    with TestClient(create_app(Settings(database_url=store_url))) as http:
        some_user, some_password = next(iter(passwords.items()))
        basic = base64.b64encode(f"{some_user}:{some_password}".encode()).decode()
        refused = http.get(
            "/api/v1/lookup",
            params={"value": FEATURED},
            headers={"Authorization": f"Basic {basic}"},
        )
        assert refused.status_code == 401
        for org, key in keys.items():
            answer = http.get(
                "/api/v1/lookup",
                params={"value": FEATURED},
                headers={"Authorization": f"Bearer {key}"},
            )
            assert answer.status_code == 200, answer.text
            assert _api_answer(answer.json()) == table[org], org

        # The curl line, as printed, against the same API.
        curl = next(line.strip() for line in output.splitlines() if line.strip().startswith("curl"))
        words = shlex.split(curl)
        header = words[words.index("-H") + 1]
        name, _, value = header.partition(": ")
        url = words[-1].removeprefix("http://127.0.0.1:8470")
        answer = http.get(url, headers={name: value})
        assert answer.status_code == 200, answer.text
        assert _api_answer(answer.json()) == table["CERT-Nordland"]

    # Every `Try:` command, run exactly as printed, prints the verdict and score of its row.
    tries = output[output.index("Try ") : output.index("and, once")].splitlines()[1:]
    assert len(tries) == 4
    for line in tries:
        words = shlex.split(line)
        assert "--db" in words and words[words.index("--db") + 1] == store_url
        email = words[words.index("--as") + 1]
        org = next(name for name, *_, user in ORGS if user == email)
        printed = _run(words)
        verdict, score, *_ = table[org]
        assert f"ipv4 {FEATURED}: {verdict} (score {score}," in printed, printed


def test_demo_program_is_runnable() -> None:
    """The program a `Try:` line names runs the command line."""
    from accord.cli.demo import _program

    assert "--help" not in _program()
    assert _run([*shlex.split(_program()), "--help"])
