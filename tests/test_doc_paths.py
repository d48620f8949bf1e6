"""The file paths, modules and principles named in docs and comments exist (tools/check_paths.py).

`make lint` runs the same check; here the suite catches a move that left a stale name behind,
and the checker's rules are pinned on a small made-up tree.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_paths", ROOT / "tools" / "check_paths.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("check_paths", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


check_paths = _checker()


def test_every_path_named_in_docs_and_comments_exists() -> None:
    problems = check_paths.Checker(ROOT).run()
    assert not problems, "stale references (tools/check_paths.py):\n" + "\n".join(
        str(p) for p in problems
    )


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    _write(
        tmp_path,
        {
            "README.md": "See `docs/guide.md` and `docs/gone.md`; [guide](docs/guide.md#usage).\n",
            "docs/architecture.md": "# A\n\n## Principles\n\n1. **One.** x\n2. **Two.** y\n",
            "docs/guide.md": (
                "## Usage\n"
                "Code in `src/accord/store/objects.py`, `store/objects.py`, `store/old.py`,\n"
                "`accord.store.objects.now_key`, `accord.store.objects.vanished`, `accord.nothing`,\n"
                "`accord.store.nowhere.f`. Not paths: text/csv, IPv4/IPv6, var/cache/,\n"
                "../shared/data/x.json, https://example.org/src/missing.py, `store/*.py`,\n"
                "`tests/...`, `/api/v1/objects/{id}`. Principles 1 and 2; principle 7.\n"
                "[a link](missing.md), [another](guide.md#nowhere), see DESIGN.md.\n"
            ),
            "CHANGELOG.md": "- Moved `src/accord/store/old.py`; see `docs/gone.md`.\n",
            "src/accord/__init__.py": "",
            "src/accord/store/__init__.py": '"""The store (`store/objects.py`; missing in prose only)."""\n',
            "src/accord/store/objects.py": (
                '"""Objects (principle 1; tests/store/test_gone.py)."""\n'
                "\n"
                "PATH = 'src/accord/store/not_checked.py'  # code strings are code\n"
                "\n"
                "\n"
                "def now_key() -> None:\n"
                "    # accord.lookup('x') is a call on a variable; accord.store.missing is not\n"
                '    """Docstring naming bench/gone.py."""\n'
            ),
        },
    )
    return tmp_path


def test_stale_references_are_reported_with_file_and_line(tree: Path) -> None:
    found = {(p.file, p.line, p.reference) for p in check_paths.Checker(tree).run()}
    assert found == {
        ("README.md", 1, "docs/gone.md"),
        ("docs/guide.md", 2, "store/old.py"),
        ("docs/guide.md", 3, "accord.store.objects.vanished"),
        ("docs/guide.md", 3, "accord.nothing"),
        ("docs/guide.md", 4, "accord.store.nowhere.f"),
        ("docs/guide.md", 6, "principle 7"),
        ("docs/guide.md", 7, "missing.md"),
        ("docs/guide.md", 7, "guide.md#nowhere"),
        ("docs/guide.md", 7, "DESIGN.md"),
        ("CHANGELOG.md", 1, "docs/gone.md"),
        ("src/accord/store/objects.py", 1, "tests/store/test_gone.py"),
        ("src/accord/store/objects.py", 7, "accord.store.missing"),
        ("src/accord/store/objects.py", 8, "bench/gone.py"),
    }


def test_the_command_lists_problems_and_fails(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert check_paths.main(["check_paths.py", str(tree)]) == 1
    out = capsys.readouterr().out
    assert "docs/guide.md:2: store/old.py: no such file or folder" in out
    assert "docs/guide.md:6: principle 7: docs/architecture.md has no principle 7" in out
    (tree / "README.md").write_text("Fine: `docs/guide.md`.\n", encoding="utf-8")
    for name in ("docs/guide.md", "CHANGELOG.md", "src/accord/store/objects.py"):
        (tree / name).write_text("", encoding="utf-8")
    assert check_paths.main(["check_paths.py", str(tree)]) == 0
