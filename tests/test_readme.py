"""The README's shell blocks run as written: each ```sh block (but those whose first line is
`# example: not run`) runs with bash against a scratch store, and every command in it must
exit 0. The blocks that are not run are still checked: each `accord` command and option they
name exists (its `--help` names the option), so that neither kind of block can drift."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from accord.cli.main import app

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
NOT_RUN = "# example: not run"
BLOCK = re.compile(r"^```sh\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def blocks() -> list[str]:
    return BLOCK.findall(README.read_text(encoding="utf-8"))


def _env(tmp_path: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST_", "ACCORD_"))
    }
    env.update(
        ACCORD_DATABASE_URL=f"sqlite:///{tmp_path / 'readme.db'}",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        TMPDIR=str(tmp_path),
        COLUMNS="80",
        HOME=str(tmp_path),
    )
    # The compiled warninglists, as the other tests keep them (compiling takes a while).
    env["ACCORD_CACHE_DIR"] = os.environ.get("ACCORD_CACHE_DIR") or str(ROOT / "var" / "cache")
    return env


def test_the_readme_has_blocks_to_run_and_examples() -> None:
    found = blocks()
    assert any(not b.startswith(NOT_RUN) for b in found)
    assert any(b.startswith(NOT_RUN) for b in found)


@pytest.mark.slow  # some thirty commands, a second or two each
def test_the_readme_blocks_run(tmp_path: Path) -> None:
    """Each block in a folder of its own; bash stops at the first command that exits non-zero
    and names it."""
    ran = 0
    for index, block in enumerate(blocks()):
        if block.startswith(NOT_RUN):
            continue
        folder = tmp_path / f"block-{index}"
        folder.mkdir()
        (folder / ".venv").symlink_to(Path(sys.prefix))  # `source .venv/bin/activate`
        script = (
            "set -eo pipefail\n"
            "trap 'echo \"README command failed ($?): $BASH_COMMAND\" >&2' ERR\n" + block
        )
        done = subprocess.run(
            ["bash", "-c", script],
            cwd=folder,
            env=_env(folder),
            capture_output=True,
            text=True,
            timeout=300,
            stdin=subprocess.DEVNULL,
        )
        assert done.returncode == 0, f"block {index}: " + done.stderr[-3000:] + done.stdout[-3000:]
        assert "README command failed" not in done.stderr
        ran += 1
    assert ran >= 1


def _accord_lines(block: str) -> list[list[str]]:
    """The `accord` commands of a block, continuation lines joined, comments dropped."""
    joined = block.replace("\\\n", " ")
    return [
        shlex.split(line, comments=True)
        for line in joined.splitlines()
        if line.startswith("accord ")
    ]


def test_the_commands_the_readme_does_not_run_exist() -> None:
    """In-process (the same `accord` application the console script runs, its help
    byte-for-byte the same at 200 columns): a subprocess per command took over a second each
    just to import the CLI."""
    runner = CliRunner()
    for block in blocks():
        if not block.startswith(NOT_RUN):
            continue
        for words in _accord_lines(block):
            path = [w for w in words[1:3] if not w.startswith("-")]
            done = runner.invoke(
                app, [*path[:2], "--help"], env={"COLUMNS": "200"}, prog_name="accord"
            )
            assert done.exit_code == 0, (words, done.output)
            assert f"accord {' '.join(path[:2])}" in done.stdout, (words, done.stdout)
            for option in (w.split("=")[0] for w in words if w.startswith("--")):
                assert option in done.stdout, (words, option)
