"""The warninglists benchmark runs (quick mode) and prints its JSON lines."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[2]


def test_quick_bench_prints_json_lines(shared_data: Path) -> None:
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "warninglists.py"),
            "--quick",
            "--cache-dir",
            str(ROOT / "var" / "cache"),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    lines = [orjson.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    by_name = {line["bench"]: line for line in lines}
    assert {"warninglists.check", "warninglists.check_value", "warninglists.load"} <= set(by_name)
    check = by_name["warninglists.check"]
    assert check["values"] > 40_000 and check["flagged"] > 0 and check["ratio"] > 0
