"""``accord patterns check FILE``: check rules and patterns before they are shared.

A thin adapter over `accord.model.pattern_languages`: read the file, cut it into patterns
(`PatternUnit`), run every check in `CHECKS` on each, print one line per problem like a
compiler does (``FILE:LINE:COL: language: message``) and a summary, or JSON.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Final

import orjson
import typer

from accord.cli.context import DONE, FAILED, JsonOpt, console, fail, print_json
from accord.cli.display import shown
from accord.ingest.stix import parse_document
from accord.match.patterns import (
    PatternError,
    PatternSyntaxError,
    compile_pattern,
)
from accord.model.errors import StixError
from accord.model.pattern_languages import MAX_PATTERN_CHARS, PatternProblem, check_pattern

EXIT_CODES: Final = (
    "Exit codes: 0 no problems (warnings allowed); 1 problems found; 2 bad usage, or a file "
    "that cannot be read."
)

patterns_app = typer.Typer(
    help="Check the patterns indicators carry: STIX, YARA, Sigma, Snort, Suricata, PCRE.",
    epilog=EXIT_CODES,
    no_args_is_help=True,
)

MAX_FILE_BYTES: Final = 64 * 1024 * 1024
"""The largest file read. A rules file is checked rule by rule, so it may be large (an
Emerging Threats set is ~40 MB); a YARA or Sigma file is checked whole, up to this too."""


class Language(StrEnum):
    auto = "auto"
    stix = "stix"
    yara = "yara"
    sigma = "sigma"
    snort = "snort"
    suricata = "suricata"
    pcre = "pcre"


class StixVersion(StrEnum):
    v20 = "2.0"
    v21 = "2.1"


# The language of a file, from its extension (--language auto). ".json" is a STIX bundle.
_BY_EXTENSION: Final = {
    ".yar": "yara",
    ".yara": "yara",
    ".yml": "sigma",
    ".yaml": "sigma",
    ".rules": "suricata",
    ".txt": "stix",
    ".stix": "stix",
    ".json": "bundle",
}
# Languages whose file holds one pattern a line; the others' file is one text.
_ONE_A_LINE: Final = frozenset({"stix", "pcre"})


@dataclass(frozen=True, slots=True)
class PatternUnit:
    """One pattern to check, and where it is in the file."""

    language: str
    text: str
    line: int = 1
    """The file's line where the text starts (1 for a pattern inside a bundle: positions are
    then inside the indicator's pattern)."""
    indicator: str | None = None
    """The indicator the pattern is from (a bundle): its id, or ``objects[N]``."""
    max_chars: int = MAX_PATTERN_CHARS
    stix_version: str | None = None
    """The STIX version of the bundle the pattern is from."""


@dataclass(frozen=True, slots=True)
class CheckOptions:
    stix_version: str | None
    """--stix-version; None: a bundle's own version, else 2.1."""


Check = Callable[[PatternUnit, CheckOptions], list[PatternProblem]]


def syntax_problems(unit: PatternUnit, options: CheckOptions) -> list[PatternProblem]:
    """Does the pattern parse in its language (libyara's compiler judging YARA here: the
    person running this trusts their own rules)."""
    return check_pattern(
        unit.language,
        unit.text,
        stix_version=options.stix_version or unit.stix_version or "2.1",
        max_chars=unit.max_chars,
        compile_yara=True,
    )


def meaning_problems(unit: PatternUnit, options: CheckOptions) -> list[PatternProblem]:
    """A STIX pattern the grammar accepts but the engine cannot evaluate: `REPEATS 0 TIMES`,
    `t'2021-02-30T00:00:00Z'`, a set of mixed types, a MATCHES operand that is no regular
    expression, a pattern past the engine's limits (docs/patterns.md). What the grammar
    rejects is the syntax check's to report."""
    if unit.language != "stix":
        return []
    version = options.stix_version or unit.stix_version or "2.1"
    try:
        compile_pattern(unit.text, version)
    except PatternSyntaxError as exc:
        if exc.grammatical:
            return []
        return [PatternProblem(exc.line, exc.column, f"cannot be evaluated: {exc.reason}")]
    except PatternError as exc:
        return [PatternProblem(1, 1, f"cannot be evaluated: {exc}")]
    return []


CHECKS: tuple[Check, ...] = (syntax_problems, meaning_problems)
"""What is run on every pattern, in order: each is a `Check`, and its problems are printed
and counted alike."""


@dataclass(frozen=True, slots=True)
class Finding:
    unit: PatternUnit
    problem: PatternProblem

    def where(self, name: str) -> str:
        line = self.unit.line + self.problem.line - 1
        inside = f"{self.unit.indicator}:" if self.unit.indicator else ""
        return f"{name}:{inside}{line}:{self.problem.column}"

    def text(self, name: str) -> str:
        kind = "warning: " if self.problem.severity == "warning" else ""
        return f"{self.where(name)}: {self.unit.language}: {kind}{self.problem.message}"

    def json(self) -> dict[str, Any]:
        return {
            "line": self.unit.line + self.problem.line - 1,
            "column": self.problem.column,
            "language": self.unit.language,
            "severity": self.problem.severity,
            "message": self.problem.message,
            "indicator": self.unit.indicator,
        }


# --- reading --------------------------------------------------------------------------------


def _read(path: str) -> tuple[str, bytes]:
    if path == "-":
        data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
        name = "<stdin>"
    else:
        file = Path(path)
        try:
            size = file.stat().st_size
            if not file.is_file():
                fail(f"{path}: not a file")
            if size > MAX_FILE_BYTES:
                fail(f"{path}: {size:,} bytes; files of up to {MAX_FILE_BYTES:,} are checked")
            data = file.read_bytes()
        except OSError as exc:
            fail(f"{path}: cannot be read ({exc.strerror or exc})")
        name = path
    if len(data) > MAX_FILE_BYTES:
        fail(f"{name}: more than {MAX_FILE_BYTES:,} bytes; files of up to that are checked")
    return name, data


def _decoded(data: bytes) -> str | PatternProblem:
    """The file as text, or a problem where it stops being UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start].decode("utf-8-sig", errors="replace")
        line = before.count("\n") + 1
        column = len(before) - (before.rfind("\n") + 1) + 1
        byte = data[exc.start]
        return PatternProblem(line, column, f"is not UTF-8 text (byte 0x{byte:02x})")


def _kind(path: str, language: Language, data: bytes) -> str:
    """The language of the whole file, or "bundle"."""
    if language is not Language.auto:
        return str(language.value)
    if path == "-":
        try:
            parse_document(data, "<stdin>")
        except StixError:
            fail("give --language for standard input, unless it is a STIX bundle (JSON)")
        return "bundle"
    kind = _BY_EXTENSION.get(Path(path).suffix.lower())
    if kind is None:
        known = ", ".join(_BY_EXTENSION)
        fail(f"{path}: cannot tell its language from its extension ({known}); give --language")
    return kind


def _lines(language: str, text: str) -> Iterator[PatternUnit]:
    """One pattern a line; blank lines and ``#`` comments skipped."""
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if line.strip() and not line.lstrip().startswith("#"):
            yield PatternUnit(language, line, line=number)


def _bundle(name: str, data: bytes) -> list[PatternUnit | Finding]:
    """Every indicator's pattern, in its own language."""
    try:
        objects, version = parse_document(data, name)
    except StixError as exc:
        fail(str(exc))
    units: list[PatternUnit | Finding] = []
    for index, obj in enumerate(objects):
        if not isinstance(obj, dict) or obj.get("type") != "indicator":
            continue
        indicator = obj.get("id") if isinstance(obj.get("id"), str) else f"objects[{index}]"
        pattern = obj.get("pattern")
        language = obj.get("pattern_type", "stix" if version == "2.0" else None)
        if not isinstance(pattern, str) or not isinstance(language, str):
            missing = "pattern" if not isinstance(pattern, str) else "pattern_type"
            unit = PatternUnit(str(language or "stix"), "", indicator=indicator)
            units.append(Finding(unit, PatternProblem(1, 1, f"the indicator has no {missing}")))
            continue
        units.append(PatternUnit(language, pattern, indicator=indicator, stix_version=version))
    return units


def _units(path: str, language: Language) -> tuple[str, list[PatternUnit | Finding]]:
    """The file's name and its patterns, or the problems that stop one being checked."""
    name, data = _read(path)
    kind = _kind(path, language, data)
    if kind == "bundle":
        return name, _bundle(name, data)
    text = _decoded(data)
    if isinstance(text, PatternProblem):
        return name, [Finding(PatternUnit(kind, ""), text)]
    if kind in _ONE_A_LINE:
        return name, list(_lines(kind, text))
    return name, [PatternUnit(kind, text, max_chars=MAX_FILE_BYTES)]


# --- the command ----------------------------------------------------------------------------


@patterns_app.command("check", epilog=EXIT_CODES)
def check(
    file: Annotated[
        str,
        typer.Argument(
            help="A .yar/.yara file (YARA), .yml/.yaml (Sigma), .rules (Suricata; Snort with "
            "--language snort), .txt/.stix (STIX patterns, one a line; blank lines and # "
            "comments skipped), .json (a STIX bundle or list: each indicator's pattern in "
            "its own pattern_type), or - for standard input.",
        ),
    ],
    language: Annotated[
        Language,
        typer.Option(
            "--language",
            "-l",
            help="The file's language; auto: from its extension. A .json file is always a "
            "bundle whose indicators name their own languages.",
        ),
    ] = Language.auto,
    stix_version: Annotated[
        StixVersion | None,
        typer.Option(
            "--stix-version",
            help="The STIX patterning grammar (default 2.1; a bundle's own version for its "
            "indicators).",
        ),
    ] = None,
    json: JsonOpt = False,
) -> None:
    """Check that patterns parse: print FILE:LINE:COL: language: message for each problem,
    then a summary. For a bundle, LINE:COL are inside the indicator's pattern, after its id.

    YARA is compiled by libyara (undefined identifiers are caught too), Sigma is read by
    pySigma, PCRE compiled by PCRE2; a language with no parser here (spl, kql, ...) gets a
    warning. Ingest stores non-STIX patterns that do not parse, with a warning."""
    options = CheckOptions(stix_version.value if stix_version else None)
    name, items = _units(file, language)
    findings: list[Finding] = []
    checked = 0
    for item in items:
        if isinstance(item, Finding):
            findings.append(item)
            continue
        checked += 1
        for run in CHECKS:
            findings.extend(Finding(item, problem) for problem in run(item, options))
    errors = sum(1 for finding in findings if finding.problem.severity == "error")
    warnings = len(findings) - errors
    if json:
        print_json(
            {
                "file": name,
                "patterns": checked,
                "problems": errors,
                "warnings": warnings,
                "findings": [finding.json() for finding in findings],
            }
        )
    else:
        for finding in findings:
            colour = "yellow" if finding.problem.severity == "warning" else "red"
            console.print(
                f"[{colour}]{shown(finding.text(name))}[/]", highlight=False, soft_wrap=True
            )
        console.print(_summary(name, checked, errors, warnings), highlight=False, soft_wrap=True)
    raise typer.Exit(FAILED if errors else DONE)


def _summary(name: str, checked: int, errors: int, warnings: int) -> str:
    patterns = f"{checked} pattern{'s' if checked != 1 else ''}"
    found = f"{errors} problem{'s' if errors != 1 else ''}" if errors else "no problems"
    extra = f", {warnings} warning{'s' if warnings != 1 else ''}" if warnings else ""
    return f"{shown(name)}: {patterns} checked, {found}{extra}."


__all__ = ["CHECKS", "Check", "CheckOptions", "PatternUnit", "patterns_app"]


MATCH_EXIT_CODES: Final = (
    "Exit codes (as grep's): 0 the pattern matched; 1 it did not; 2 a pattern or file that "
    "cannot be evaluated (the message says where)."
)


@patterns_app.command("match", epilog=MATCH_EXIT_CODES)
def match(
    pattern: Annotated[str, typer.Argument(help="The STIX pattern, quoted for the shell.")],
    file: Annotated[
        str,
        typer.Argument(
            help="JSON observations: a list of observed-data (2.0, objects embedded; or 2.1, "
            "with the SCOs beside them), a bundle, or one observed-data; - for standard input.",
        ),
    ],
    stix_version: Annotated[
        StixVersion,
        typer.Option("--stix-version", help="The STIX version of pattern and observations."),
    ] = StixVersion.v21,
    json: JsonOpt = False,
) -> None:
    """Evaluate one STIX pattern against observations, here, without a node: the whole
    patterning language (docs/patterns.md). Prints the observed-data of the first match."""
    name, data = _read(file)
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        fail(f"{name}: not JSON ({exc})")
    if isinstance(document, dict):
        document = document.get("objects", []) if document.get("type") == "bundle" else [document]
    if not isinstance(document, list):
        fail(f"{name}: expected a list of observed-data, a bundle or one observed-data")
    try:
        result = compile_pattern(pattern, stix_version.value).match(document)
    except PatternError as exc:
        fail(f"{'pattern' if isinstance(exc, PatternSyntaxError) else name}: {exc}")
    if json:
        print_json(
            {"matched": result.matched, "matched_observed_data_ids": result.observed_data_ids}
        )
    elif result.matched:
        ids = ", ".join(str(found) for found in result.observed_data_ids)
        console.print(f"match: {shown(ids)}", highlight=False, soft_wrap=True)
    else:
        console.print("no match", highlight=False)
    raise typer.Exit(DONE if result.matched else FAILED)
