"""Check that the project files named in docs and comments exist (run by `make lint`).

Modules move; the prose that names them does not follow by itself. This scans

- docs/*.md, README.md, DEVELOPERS.md, and CHANGELOG.md: there only what a reader follows,
  paths under docs/ and top-level documents, not code (an entry records the code as it was
  when the change was made, so a module or test it names may since have moved or gone);
- comments and docstrings (a string that is a statement of its own) in src/, tests/, bench/
  and tools/; code strings are code, and the tests run them;

and reports, as `file:line: reference: why`, every one of these that does not resolve:

- a path whose first part is a top-level folder of the project (`src/`, `tests/`, `bench/`,
  `docs/`, `tools/`, `.ci/`), `accord/`, or a package of `src/accord/` (`store/dialects/base.py`,
  `ingest/stix.py`: the form this project's comments use), looked up from the project's root,
  `src/`, `src/accord/` and the naming file's own folder. Other slashed words (`text/csv`,
  `IPv4/IPv6`, `var/cache/`), URLs, `../shared/...` (data beside the project) and patterns
  (`*`, `...`, `<uuid>`, `{id}`) are not paths of the project and are left alone;
- a dotted name starting with `accord.` (`accord.store.objects.now_key`): the longest module
  prefix must exist and each name after it must be defined or imported there (a call such
  as `accord.lookup(value)`, where `lookup` is no module, is a method of a variable named
  `accord`, as in the client's example, and is left alone);
- the target of a Markdown link that is not a URL, and its `#anchor` among the target's
  headings;
- a bare upper-case Markdown name (`README.md`, `CHANGELOG.md`): a top-level document;
- "principle N": the numbered item N of the "Principles" section of docs/architecture.md,
  where the project's design principles are written.

Usage: `python tools/check_paths.py [ROOT]`; exit status 1 when something does not resolve.
"""

from __future__ import annotations

import ast
import io
import re
import sys
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

TOP_FOLDERS = frozenset({"src", "tests", "bench", "docs", "tools", ".ci"})
PYTHON_FOLDERS = ("src", "tests", "bench", "tools")
ARCHITECTURE = "docs/architecture.md"

# A slashed word: optional leading `../`s, then parts of letters, digits and `._+-*`.
_PATH = re.compile(r"(?<![\w./:@~$-])((?:\.\./)*[A-Za-z_.][\w.+-]*(?:/[\w.+*-]*)+)")
_DOTTED = re.compile(r"(?<![\w.@/-])accord(?:\.[A-Za-z_]\w*)+(?P<call>\()?")
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
_TOP_DOC = re.compile(r"(?<![\w./-])([A-Z][A-Z_]*\.md)\b")
_URL = re.compile(r"[a-z][a-z0-9+.-]*://\S+")
_PRINCIPLES = re.compile(r"\bprinciples?\s+(\d+(?:\s*(?:,|and|&|or)\s*\d+)*)", re.IGNORECASE)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_NUMBERED = re.compile(r"^(\d+)\.\s")


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    reference: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reference}: {self.reason}"


@dataclass(frozen=True)
class Text:
    """One line of prose to check, and where it is."""

    path: Path
    line: int
    text: str


def markdown_lines(path: Path) -> Iterator[Text]:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        yield Text(path, number, line)


def python_prose(path: Path) -> Iterator[Text]:
    """The comments and docstrings of a Python file, line by line."""
    source = path.read_text(encoding="utf-8")
    # A string starts a statement when the token before it ends a line or opens a block.
    starts = {tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING}
    previous = tokenize.NEWLINE
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            yield Text(path, token.start[0], token.string)
        elif token.type == tokenize.STRING and previous in starts:
            for offset, line in enumerate(token.string.splitlines()):
                yield Text(path, token.start[0] + offset, line)
        if token.type not in (tokenize.COMMENT, tokenize.NL):
            previous = token.type


class Checker:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.accord = root / "src" / "accord"
        self.packages = frozenset(
            p.name for p in self.accord.iterdir() if p.is_dir() and not p.name.startswith("_")
        )
        self.problems: list[Problem] = []
        self.checked = 0  # references looked up, for the summary line
        self._principles: frozenset[int] | None = None
        self._sources: dict[Path, str] = {}
        self._names: dict[Path, frozenset[str]] = {}

    # -- what is scanned ---------------------------------------------------------------------

    def run(self) -> list[Problem]:
        docs = sorted((self.root / "docs").glob("*.md"))
        for name in ("README.md", "DEVELOPERS.md"):
            if (self.root / name).is_file():
                docs.append(self.root / name)
        for path in docs:
            for text in markdown_lines(path):
                self.check_text(text, markdown=True, code=True)
        changelog = self.root / "CHANGELOG.md"
        if changelog.is_file():
            for text in markdown_lines(changelog):
                self.check_text(text, markdown=True, code=False)
        for folder in PYTHON_FOLDERS:
            for path in sorted((self.root / folder).rglob("*.py")):
                for text in python_prose(path):
                    self.check_text(text, markdown=False, code=True)
        return sorted(set(self.problems))

    def check_text(self, text: Text, *, markdown: bool, code: bool) -> None:
        line = _URL.sub(" ", text.text)
        for match in _PATH.finditer(line):
            self.check_path(text, match.group(1), code=code)
        if code:
            for match in _DOTTED.finditer(line):
                self.check_dotted(text, match.group(0).rstrip("("), call=bool(match["call"]))
        if markdown:
            for match in _LINK.finditer(text.text):
                self.check_link(text, match.group(1))
        for match in _TOP_DOC.finditer(line):
            name = match.group(1)
            self.checked += 1
            if not any((d / name).is_file() for d in (self.root, text.path.parent)):
                self.report(text, name, "no such top-level document")
        for match in _PRINCIPLES.finditer(line):
            for number in re.findall(r"\d+", match.group(1)):
                self.check_principle(text, int(number))

    # -- the kinds of reference ----------------------------------------------------------------

    def check_path(self, text: Text, path: str, *, code: bool) -> None:
        if path.startswith(("../", "./")) or any(c in path for c in "*<>{}") or "..." in path:
            return
        path = path.rstrip(".,;:")  # the end of a sentence
        first = path.split("/", 1)[0]
        if first not in TOP_FOLDERS and first not in self.packages and first != "accord":
            return
        if not code and first != "docs":
            return  # the CHANGELOG: only its paths to documents are checked
        self.checked += 1
        bases = (self.root, self.root / "src", self.accord, text.path.parent)
        if not any((base / path).exists() for base in bases):
            self.report(text, path, "no such file or folder")

    def check_dotted(self, text: Text, name: str, *, call: bool) -> None:
        parts = name.split(".")
        for end in range(len(parts), 0, -1):
            base = self.root / "src" / Path(*parts[:end])
            module = base.with_suffix(".py")
            if not module.is_file():
                module = base / "__init__.py"
            if module.is_file():
                break
        else:
            self.report(text, name, "no package src/accord")
            return
        if call and end == 1:
            return  # `accord.lookup(...)`: a method of a variable named `accord`
        self.checked += 1
        defined = self.defined_names(module)
        for attribute in parts[end:]:
            if attribute not in defined:
                prefix = ".".join(parts[:end])
                if module.name == "__init__.py" and attribute == parts[end]:
                    why = f"no module {prefix}.{attribute}, nor that name in {prefix}"
                else:
                    why = f"no {attribute!r} in {prefix}"
                self.report(text, name, why)
                return

    def check_link(self, text: Text, target: str) -> None:
        if _URL.match(target) or target.startswith(("mailto:", "../shared/")):
            return
        self.checked += 1
        file, _, anchor = target.partition("#")
        path = (text.path.parent / file) if file else text.path
        if not path.exists():
            self.report(text, target, "link to no such file")
        elif anchor and path.suffix == ".md" and anchor not in self.anchors(path):
            self.report(text, target, f"{path.name} has no heading #{anchor}")

    def check_principle(self, text: Text, number: int) -> None:
        self.checked += 1
        principles = self.principles()
        if number not in principles:
            where = f"{ARCHITECTURE} has no principle {number} under '## Principles'"
            self.report(text, f"principle {number}", where)

    # -- helpers -------------------------------------------------------------------------------

    def report(self, text: Text, reference: str, reason: str) -> None:
        file = text.path.relative_to(self.root).as_posix()
        self.problems.append(Problem(file, text.line, reference, reason))

    def defined_names(self, path: Path) -> frozenset[str]:
        """Every name a module defines or imports, at any depth (`Class.method` is checked
        name by name, not as a nesting: enough to see a rename or a move)."""
        if path not in self._names:
            names: set[str] = set()
            for node in ast.walk(ast.parse(self.source(path))):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    names.add(node.name)
                elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    names.add(node.id)
                elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                    names.add(node.attr)  # self.name = ...
                elif isinstance(node, ast.alias):
                    names.add(node.asname or node.name.split(".")[0])
            self._names[path] = frozenset(names)
        return self._names[path]

    def source(self, path: Path) -> str:
        if path not in self._sources:
            self._sources[path] = path.read_text(encoding="utf-8")
        return self._sources[path]

    def anchors(self, path: Path) -> set[str]:
        """GitHub's anchors for the headings of a Markdown file."""
        found = set()
        for line in self.source(path).splitlines():
            heading = _HEADING.match(line)
            if heading:
                words = re.sub(r"[^\w\- ]", "", heading.group(2).lower())
                found.add(words.replace(" ", "-"))
        return found

    def principles(self) -> frozenset[int]:
        """The numbers of the items of the "Principles" section of docs/architecture.md."""
        if self._principles is None:
            numbers: set[int] = set()
            path = self.root / ARCHITECTURE
            inside = False
            for line in self.source(path).splitlines() if path.is_file() else []:
                heading = _HEADING.match(line)
                if heading:
                    inside = heading.group(1) == "##" and heading.group(2) == "Principles"
                elif inside and (item := _NUMBERED.match(line)):
                    numbers.add(int(item.group(1)))
            self._principles = frozenset(numbers)
        return self._principles


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent
    checker = Checker(root)
    problems = checker.run()
    for problem in problems:
        print(problem)
    if problems:
        print(
            f"check_paths: {len(problems)} of {checker.checked} references in docs and comments "
            "do not resolve (fix the reference; tools/check_paths.py says what is checked)"
        )
        return 1
    print(f"check_paths: the {checker.checked} references in docs and comments resolve")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
