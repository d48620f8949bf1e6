"""The correlation benchmark runs (a few thousand objects) and prints its JSON lines."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[2]


def test_small_bench_prints_json_lines() -> None:
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "correlation.py"),
            "--objects",
            "3000",
            "--queries",
            "50",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    lines = [orjson.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    by_name = {line["bench"]: line for line in lines}
    assert set(by_name) == {
        "correlation.sqlite.ingest",
        "correlation.sqlite.storage",
        "correlation.sqlite.query_p50",
    }, out.stderr
    for line in lines:
        assert {"bench", "accord", "anchor", "unit", "ratio", "target", "pass"} <= set(line)
    assert by_name["correlation.sqlite.storage"]["pass"]  # every hub within the cap
    assert by_name["correlation.sqlite.query_p50"]["accord"] < 50
