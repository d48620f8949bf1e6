"""A small slice of the extraction evaluation (bench/extract_eval.py) with floors, and a
smoke run of the speed bench, so that CI notices a regression in accuracy or a broken bench."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[2] / "bench"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_accuracy_floors_on_a_subset(shared_data: Path) -> None:
    bench = load("extract_eval")
    tools = {"accord": bench.run_accord}
    log: list[str] = []
    unit42 = bench.evaluate("unit42", bench.unit42_cases(8), tools, True, log)["accord"]
    eset = bench.evaluate("eset", bench.eset_cases(40), tools, False, log)["accord"]
    floors = {
        (unit42, "sha256", "recall"): 0.9,
        (unit42, "sha256", "precision"): 0.9,
        (unit42, "url", "recall"): 0.6,
        (unit42, "url", "precision"): 0.6,
        (unit42, "domain", "recall"): 0.9,
        (eset, "sha1", "recall"): 0.95,
        (eset, "domain", "recall"): 0.95,
        (eset, "ipv4", "recall"): 0.95,
        (eset, "url", "recall"): 0.6,
    }
    for (score, kind, measure), floor in floors.items():
        value = getattr(score, measure)(kind)
        assert value is not None and value >= floor, (kind, measure, value, log[:20])


def test_speed_bench_runs(shared_data: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH / "extract.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert '"bench": "extract.throughput.vs-ioc-finder.quick"' in result.stdout
