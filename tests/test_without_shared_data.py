"""A clone that is not beside ../shared passes: with the real-data folder hidden, the whole
tree collects without an error (no test reads it at import time), and every test that needs it
skips and says why."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_suite_collects_and_the_data_tests_skip_without_shared_data(tmp_path: Path) -> None:
    hidden = tmp_path / "no-shared-data"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST_", "ACCORD_TEST_DATABASE_URL"))
    }
    env["ACCORD_SHARED_DATA"] = str(hidden)
    done = subprocess.run(
        [
            sys.executable,
            *("-m", "pytest", "-p", "no:xdist", "-p", "no:cacheprovider", "-q", "-rs"),
            *("-m", "shared_data", "tests"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-4000:]
    summary = out.strip().splitlines()[-1]
    assert "error" not in summary and "passed" not in summary and "failed" not in summary, out
    skipped = int(re.search(r"(\d+) skipped", summary).group(1))  # type: ignore[union-attr]
    assert skipped >= 60, summary  # the tests that read ../shared/data
    reasons = [line for line in out.splitlines() if line.startswith("SKIPPED")]
    assert reasons and all(f"not at {hidden}" in line for line in reasons), reasons
