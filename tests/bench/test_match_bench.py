"""The `accord match` benchmark runs (quick mode): Accord's scan, in two processes, and the
`accord match` command find exactly the hits of the straightforward references, on a
generated dns.log (domains by suffix) and conn.log (IPv4 and IPv6 networks); every figure
is there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[2]


def test_quick_bench_finds_the_reference_hits(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "match.py"), "--quick", "--dir", str(tmp_path)],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        # Without the warninglists: nothing to compile first, and no indicator left out.
        env={**os.environ, "ACCORD_WARNINGLISTS": "0", "ACCORD_CACHE_DIR": str(tmp_path)},
    )
    assert out.returncode == 0, out.stdout + out.stderr
    lines = [orjson.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    by_name = {line["bench"]: line for line in lines}
    for part in ("dns", "conn"):
        for check in ("same_hits", "cli_same_hits"):
            entry = by_name[f"match.{part}.{check}"]
            assert entry["same"] is True and entry["reference_hits"] > 50, entry
        assert by_name[f"match.{part}.compile"]["accord"] > 0
        assert by_name[f"match.{part}.load"]["accord"] > 0
        scan = by_name[f"match.{part}.scan"]
        assert scan["accord"] > 0 and scan["workers"] == 2 and scan["bad_lines"] == 0
        assert by_name[f"match.{part}.floor"]["mb_per_s"] > 0
    assert by_name["match.dns.grep"]["lines_matching"] > 0
    assert by_name["match.dns.ahocorasick"]["lines_matching"] > 0
    assert by_name["match.memory"]["peak_rss_mib"] > 0
    assert by_name["match.dns.cli"]["peak_rss_mib"] > 0
