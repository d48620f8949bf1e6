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
    misp, maltrail = [
        orjson.loads(text) for text in done.stdout.splitlines() if text.startswith("{")
    ]
    assert misp["bench"] == "misp-import-eset-quick"
    assert misp["accord"] > 0 and misp["anchor"] > 0 and misp["unit"] == "s"
    assert maltrail["bench"] == "maltrail-import-quick" and maltrail["files"] == 8
    assert maltrail["entries"] > 0 and maltrail["stored"] > 0
