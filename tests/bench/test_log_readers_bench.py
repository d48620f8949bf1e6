"""The log reader benchmark runs (quick mode): the reader finds the hits the split-and-set
loop finds, in one process, in two, and through gzip."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[2]


def test_quick_bench_prints_json_lines() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "log_readers.py"), "--quick"],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    lines = [orjson.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    by_name = {line["bench"]: line for line in lines}
    assert by_name["log_readers.floor"]["hits"] > 0
    for name in ("batches+set", "two-processes", "gzip"):
        entry = by_name[f"log_readers.{name}"]
        assert entry["same_hits"] is True, entry
        assert entry["mb_per_s"] > 0
    assert by_name["log_readers.records"]["lines_per_s"] > 0
