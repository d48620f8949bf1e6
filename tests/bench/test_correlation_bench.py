"""The correlation benchmark runs (a few thousand objects) and prints its JSON lines."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[2]


def _bench(*extra: str) -> tuple[dict[str, dict[str, Any]], str]:
    """The bench's lines by name, and what it wrote to stderr."""
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "correlation.py"),
            "--objects",
            "3000",
            "--queries",
            "50",
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
    )
    lines = [orjson.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    return {line["bench"]: line for line in lines}, out.stderr


def test_small_bench_prints_json_lines() -> None:
    by_name, stderr = _bench()
    assert set(by_name) == {
        "correlation.sqlite.ingest",
        "correlation.sqlite.storage",
        "correlation.sqlite.query_p50",
    }, stderr
    for line in by_name.values():
        assert {"bench", "accord", "anchor", "unit", "ratio", "target", "pass"} <= set(line)
    assert by_name["correlation.sqlite.storage"]["pass"]  # every hub within the cap
    assert by_name["correlation.sqlite.query_p50"]["accord"] < 50


def test_small_bench_with_correlation_deferred_catches_up_to_the_inline_rows() -> None:
    by_name, stderr = _bench("--defer-correlation")
    assert {"correlation.sqlite.deferred_ingest", "correlation.sqlite.catch_up"} <= set(by_name), (
        stderr
    )
    caught_up = by_name["correlation.sqlite.catch_up"]
    assert caught_up["pass"] and caught_up["rows"] == caught_up["inline_rows"] > 0
    assert caught_up["accord"] > 0 and caught_up["ingest_and_catch_up"] > 0
