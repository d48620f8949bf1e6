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


def test_small_bench_with_correlation_deferred_catches_up_to_the_inline_rows() -> None:
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "correlation.py"),
            "--objects",
            "3000",
            "--queries",
            "50",
            "--defer-correlation",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
    )
    lines = [orjson.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    by_name = {line["bench"]: line for line in lines}
    assert {"correlation.sqlite.deferred_ingest", "correlation.sqlite.catch_up"} <= set(by_name)
    caught_up = by_name["correlation.sqlite.catch_up"]
    assert caught_up["pass"] and caught_up["rows"] == caught_up["inline_rows"] > 0
    assert caught_up["accord"] > 0 and caught_up["ingest_and_catch_up"] > 0
