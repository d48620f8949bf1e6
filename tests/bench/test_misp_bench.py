"""bench/misp.py --quick runs and prints its JSON lines (the figures are not asserted here:
a loaded CI machine must not fail the suite; `make bench` reports them)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson

BENCH = Path(__file__).resolve().parents[2] / "bench" / "misp.py"


def test_quick_bench_runs(shared_data: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--skip-warninglists"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    [line] = [orjson.loads(text) for text in done.stdout.splitlines() if text.startswith("{")]
    assert line["bench"] == "misp-import-eset-quick"
    assert line["accord"] > 0 and line["anchor"] > 0 and line["unit"] == "s"
