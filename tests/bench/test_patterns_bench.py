"""bench/patterns.py --quick runs both parts (pairs beside stix2-matcher, the index at scale)
on a few hundred patterns and prints its JSON lines. The speed figures are not asserted (a
loaded CI machine must not fail the suite; `make bench` reports them), agreement is: Accord's
index, Accord's single-pattern evaluation and the OASIS matcher give the same matches."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "patterns.py"
KEYS = {"bench", "accord", "anchor", "unit", "ratio", "target", "pass"}


def test_quick_patterns_bench_runs_and_the_engines_agree() -> None:
    pytest.importorskip("stix2matcher.matcher")
    done = subprocess.run(
        [sys.executable, str(BENCH), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode in (0, 1), done.stderr  # 1: a target missed on this machine
    lines = {line["bench"]: line for line in map(orjson.loads, done.stdout.splitlines())}
    assert {
        "patterns.agreement.single_pattern",
        "patterns.agreement.stix2_matcher",
        "patterns.agreement.witnesses",
        "patterns.pairs_200x200.vs_stix2_matcher",
        "patterns.scale_5000.stats",
        "patterns.scale_5000.memory",
        "patterns.scale_5000.compile",
        "patterns.scale_5000.observations_per_s",
    } <= set(lines), done.stderr
    for name in ("single_pattern", "stix2_matcher", "witnesses"):
        agreement = lines[f"patterns.agreement.{name}"]
        assert agreement["pass"] and agreement["disagreements"] == 0, (agreement, done.stderr)
    witnesses = lines["patterns.agreement.witnesses"]
    assert witnesses["anchor_disagreements"] == 0
    assert witnesses["patterns_matching_own"] > 190  # not: two brackets on an observation seen once
    workload = lines["patterns.workload"]
    assert workload["stix_version"] == "2.1" and len(workload["shapes"]) >= 15
    stats = lines["patterns.scale_5000.stats"]
    assert stats["patterns"] == 5000 and stats["by_trigger"]["eq"] > 4000
    assert stats["by_trigger"]["regex"] > 0 and stats["by_trigger"]["net"] > 0
    stream = lines["patterns.scale_5000.observations_per_s"]
    assert stream["observations"] == 2000 and 0 < stream["observations_matching"] < 200
    for line in lines.values():
        if "pass" in line:
            assert set(line) >= KEYS and line["accord"] > 0 and line["anchor"] > 0
