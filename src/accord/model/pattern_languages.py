"""Syntax checks for the pattern languages an indicator may carry, with line and column.

STIX 2.1 §4.7 (pattern-type-ov) names the languages an indicator's ``pattern`` may be written
in: stix, pcre, sigma, snort, suricata, yara. One function per language returns the problems
found, each at a 1-based line and column of the pattern text; [] means the text parses.

- stix: the OASIS grammar, 2.0 or 2.1 (`accord.model.patterns`).
- yara: plyara (pure Python); when asked, libyara's compiler (yara-python), which also knows
  undefined identifiers and modules.
- sigma: PyYAML, then pySigma: YAML, required fields, modifiers, conditions, detections named.
- snort, suricata: the rule grammar read by `_RuleReader` (no library: see there why): header
  fields, direction, addresses, ports, the option list, quotes.
- pcre: PCRE2 (the `pcre2` bindings), bare or in the ``/regex/flags`` form.

Every other language (spl, eql, kql, ...) gets one warning: no parser, stored unchecked.

Nothing here does I/O, and nothing here may crash on what a feed sends: a pattern is bounded
(`MAX_PATTERN_CHARS`; a whole rules file may pass a larger bound), binary junk is a problem,
deep nesting is a problem (the libraries' own limits, or RecursionError caught), and a parser
library that fails on strange input yields a problem naming the library, not an exception.

yara-python's compiler (libyara, C) is the YARA engine itself and sees more than plyara, but
it is not run on what a feed sends at ingest: a crash in a C parser would take the node down
with it. `accord patterns check`, run by a person on their own rules, asks for it.

MISP's converter writes a non-STIX pattern inside ``[`` ``]`` (``[rule x { ... }]``); for
yara, sigma, snort and suricata, where a text can never start with ``[``, the checker reads
what is between them and reports positions in the whole text.
"""

from __future__ import annotations

import copy
import ipaddress
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Final, Literal

from accord.model.patterns import pattern_problem_for

__all__ = [
    "CHECKED_LANGUAGES",
    "MAX_PATTERN_CHARS",
    "PatternProblem",
    "check_pattern",
    "check_pcre",
    "check_sigma",
    "check_snort",
    "check_stix",
    "check_suricata",
    "check_yara",
]

MAX_PATTERN_CHARS: Final = 256 * 1024
"""The longest pattern checked (characters). Real indicator patterns are under a few KiB; the
slowest checker here (plyara) takes about 0.6 s per 1 MiB."""

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class PatternProblem:
    """One thing wrong with a pattern, where it is."""

    line: int
    """1-based line in the pattern text."""
    column: int
    """1-based column (characters) in that line."""
    message: str
    severity: Severity = "error"
    """"warning" only for a language with no parser here."""

    def __str__(self) -> str:
        return f"{self.line}:{self.column}: {self.message}"


def _at(text: str, offset: int, message: str) -> PatternProblem:
    """A problem at character ``offset`` of ``text``."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    return PatternProblem(line, offset - (text.rfind("\n", 0, offset) + 1) + 1, message)


def _shifted(problems: list[PatternProblem], line: int, column: int) -> list[PatternProblem]:
    """Problems found in a piece of text that starts at (line, column) of the whole."""
    return [
        replace(
            problem,
            line=problem.line + line - 1,
            column=problem.column + column - 1 if problem.line == 1 else problem.column,
        )
        for problem in problems
    ]


# --- bounds -----------------------------------------------------------------------------------

# C0 controls but tab, line feed, carriage return and form feed; DEL; U+FFFD (what a decoder
# puts for bytes that were not text). None has a place in a rule's text.
_JUNK: Final = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f\ufffd]")


def _bound(text: str, max_chars: int) -> list[PatternProblem]:
    if len(text) > max_chars:
        return [
            PatternProblem(
                1, 1, f"is {len(text):,} characters long; patterns are checked up to {max_chars:,}"
            )
        ]
    junk = _JUNK.search(text)
    if junk is not None:
        return [_at(text, junk.start(), f"holds U+{ord(junk.group()):04X}: not text")]
    return []


def _unwrapped(text: str) -> tuple[str, int, int]:
    """(text, line, column): the text between MISP's ``[`` ``]``, if it is so wrapped, and
    where that starts in the whole."""
    stripped = text.strip()
    if len(stripped) < 2 or stripped[0] != "[" or stripped[-1] != "]":
        return text, 1, 1
    start = text.index("[") + 1
    where = _at(text, start, "")
    return text[start : text.rindex("]")], where.line, where.column


# --- STIX -----------------------------------------------------------------------------------

_LINE_COLUMN: Final = re.compile(r"(\d+):(\d+): (.*)", re.DOTALL)


def check_stix(text: str, stix_version: str = "2.1") -> list[PatternProblem]:
    """A STIX pattern (2.0 or 2.1 grammar), by `accord.model.patterns.pattern_problem_for`."""
    problem = pattern_problem_for(text, stix_version)
    if problem is None:
        return []
    found = _LINE_COLUMN.fullmatch(problem)
    if found is None:
        return [PatternProblem(1, 1, problem)]
    # ANTLR counts columns from 0.
    return [PatternProblem(int(found.group(1)), int(found.group(2)) + 1, found.group(3))]


# --- YARA -----------------------------------------------------------------------------------


class _PlyaraPool(threading.local):
    """One plyara parser per thread, reset between uses. Building one costs ~20 ms (ply builds
    its LALR tables each time, and plyara's own `clear()` rebuilds them too); resetting it
    costs microseconds: its fields go back to a copy of what the constructor made, and the
    lexer is cloned from the fresh one (plyara hangs state such as `section` on the lexer)."""

    def __init__(self) -> None:
        self.parser: Any = None
        self.fresh_fields: dict[str, Any] = {}
        self.fresh_lexer: Any = None

    def fresh(self) -> Any:
        if self.parser is None:
            from plyara import Plyara

            self.parser = Plyara(store_raw_sections=False)
            self.fresh_lexer = self.parser.lexer
            self.fresh_fields = copy.deepcopy(
                {k: v for k, v in vars(self.parser).items() if k not in ("lexer", "parser")}
            )
        self.parser.__dict__.update(copy.deepcopy(self.fresh_fields))
        self.parser.lexer = self.fresh_lexer.clone()
        return self.parser


_PLYARA: Final = _PlyaraPool()
_PLYARA_WHERE: Final = re.compile(r",? (?:at|on) line:? \d+\s*$")
_YARA_LINE: Final = re.compile(r"line (\d+): (.*)", re.DOTALL)
_YARA_NAME: Final = re.compile(r'"([^"\n]+)"')
_YARA_IMPORT: Final = re.compile(r'^[ \t]*import[ \t]+"([^"\n]*)"', re.MULTILINE)


def _plyara_problems(text: str) -> list[PatternProblem]:
    from plyara.exceptions import ParseError

    try:
        _PLYARA.fresh().parse_string(text)
    except ParseError as exc:
        message = _PLYARA_WHERE.sub("", str(exc))
        if isinstance(exc.lexpos, int):
            return [_at(text, exc.lexpos, message)]
        # Some of plyara's grammar actions pass the production's methods, not numbers.
        line = exc.lineno if isinstance(exc.lineno, int) else 1
        return [PatternProblem(max(1, line), 1, message)]
    except RecursionError:
        return [PatternProblem(1, 1, "is nested too deeply to check")]
    except Exception as exc:  # plyara on input it was not written for: not our crash
        return [PatternProblem(1, 1, f"plyara could not read it ({type(exc).__name__})")]
    return []


def _compiler_problems(text: str, placed: list[PatternProblem]) -> list[PatternProblem] | None:
    """What libyara's compiler says (None if yara-python is not installed). It gives a line
    only; the column is plyara's when plyara stopped on the same line, else 1."""
    try:
        import yara
    except ImportError:
        return None
    available = getattr(yara, "modules", None)
    for imported in _YARA_IMPORT.finditer(text):
        if available is not None and imported.group(1) not in available:
            # libyara then reports a later, misleading error ('invalid field name "type"').
            module = imported.group(1)
            lacking = f"this node's libyara lacks the {module!r} module: checked by plyara only"
            return [replace(_at(text, imported.start(1), lacking), severity="warning"), *placed]
    try:
        # includes=False: an `include "..."` would read a file; here it is an error instead.
        yara.compile(source=text, includes=False)
    except yara.SyntaxError as exc:
        found = _YARA_LINE.fullmatch(str(exc))
        if found is None:
            return [PatternProblem(1, 1, str(exc))]
        line, message = int(found.group(1)), found.group(2)
        column = next((p.column for p in placed if p.line == line), 0)
        if not column:  # e.g. 'undefined identifier "foo"': where "foo" is on that line
            name = _YARA_NAME.search(message)
            lines = text.split("\n")
            if name and 0 < line <= len(lines):
                column = lines[line - 1].find(name.group(1)) + 1
        return [PatternProblem(line, max(column, 1), message)]
    except yara.Error as exc:
        return [PatternProblem(1, 1, str(exc))]
    return []


def check_yara(text: str, *, compile_rules: bool = False) -> list[PatternProblem]:
    """YARA rules, with plyara; with ``compile_rules``, libyara's compiler decides (it also
    knows undefined identifiers and modules) and plyara only places the column."""
    inner, line, column = _unwrapped(text)
    problems = _plyara_problems(inner)
    if compile_rules:
        compiled = _compiler_problems(inner, problems)
        if compiled is not None:
            problems = compiled
    return _shifted(problems, line, column)


# --- Sigma ----------------------------------------------------------------------------------

# The YAML a Sigma rule may expand to when its aliases are followed (pySigma walks the tree).
_MAX_YAML_NODES: Final = 100_000
_SIGMA_AT_CHAR: Final = re.compile(r"\s*\(at char (\d+)\), \(line:\d+, col:\d+\)")
_SIGMA_MODIFIER: Final = re.compile(r"[Mm]odifier '([^']*)'")


def _expanded_size(node: Any, memo: dict[int, int]) -> int:
    """How many nodes the YAML holds once every alias is followed (memoised, so a "billion
    laughs" document is measured in linear time)."""
    known = memo.get(id(node))
    if known is not None:
        return known
    memo[id(node)] = 1  # a node reached again while being measured: a cycle
    size = 1
    value = node.value
    if isinstance(value, list):
        for item in value:
            if isinstance(item, tuple):
                size += _expanded_size(item[0], memo) + _expanded_size(item[1], memo)
            else:
                size += _expanded_size(item, memo)
            if size > _MAX_YAML_NODES:
                break
    memo[id(node)] = size
    return size


def _key_node(mapping: Any, key: str) -> tuple[Any, Any] | None:
    if getattr(mapping, "tag", "") != "tag:yaml.org,2002:map":
        return None
    for key_node, value_node in mapping.value:
        if getattr(key_node, "value", None) == key:
            return key_node, value_node
    return None


def _mark(node: Any) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _condition_nodes(document: Any) -> list[Any]:
    detection = _key_node(document, "detection")
    condition = _key_node(detection[1], "condition") if detection else None
    if condition is None:
        return []
    value = condition[1]
    return list(value.value) if isinstance(value.value, list) else [value]


def _find_modifier(node: Any, modifier: str) -> Any:
    """The mapping key (under ``node``) that names ``modifier`` after a ``|``."""
    if isinstance(node.value, list):
        for item in node.value:
            pair = item if isinstance(item, tuple) else (item,)
            for child in pair:
                value = child.value
                if isinstance(value, str) and modifier in value.split("|")[1:]:
                    return child
                if isinstance(value, list):
                    found = _find_modifier(child, modifier)
                    if found is not None:
                        return found
    return None


def _sigma_position(document: Any, error: Exception, condition: int | None) -> tuple[int, int]:
    """Where in the YAML an error of pySigma (which gives none) belongs, as near as can be."""
    if condition is not None:
        nodes = _condition_nodes(document)
        if condition < len(nodes):
            node = nodes[condition]
            line, column = _mark(node)
            at_char = _SIGMA_AT_CHAR.search(str(error))
            if at_char and node.style in (None, "", "'", '"') and "\n" not in node.value:
                column += int(at_char.group(1)) + (1 if node.style in ("'", '"') else 0)
            return line, column
    modifier = _SIGMA_MODIFIER.search(str(error))
    if modifier is not None:
        found = _find_modifier(document, modifier.group(1))
        if found is not None:
            line, column = _mark(found)
            return line, column + found.value.index("|" + modifier.group(1)) + 1
    # SigmaLogsourceError -> "logsource", SigmaTitleError -> "title", ...
    key = type(error).__name__.removeprefix("Sigma").removesuffix("Error").lower()
    found_key = _key_node(document, key)
    return _mark(found_key[0] if found_key else document)


def _sigma_errors(rule_dict: Any) -> list[tuple[Exception, int | None]]:
    """pySigma's errors for one document: (error, index of the condition it is about)."""
    from sigma.collection import SigmaCollection
    from sigma.exceptions import SigmaError

    collection = SigmaCollection.from_dicts([rule_dict], collect_errors=True)
    found: list[tuple[Exception, int | None]] = [(error, None) for error in collection.errors]
    for rule in collection.rules:
        detection = getattr(rule, "detection", None)
        conditions = getattr(detection, "parsed_condition", None) if not rule.errors else None
        for index, condition in enumerate(conditions or ()):
            try:
                condition.parse()
            except SigmaError as exc:  # conditions are parsed lazily: parse them here
                found.append((exc, index))
    unique: dict[tuple[str, str], tuple[Exception, int | None]] = {}
    for error, condition_index in found:  # collect_errors reports each rule error twice
        unique.setdefault((type(error).__name__, str(error)), (error, condition_index))
    return list(unique.values())


def check_sigma(text: str) -> list[PatternProblem]:
    """Sigma rules: one or more YAML documents, each read by pySigma."""
    import yaml
    from sigma.rule.base import SigmaYAMLLoader  # PyYAML's C loader, refusing duplicate keys

    inner, base_line, base_column = _unwrapped(text)
    problems: list[PatternProblem] = []
    loader = SigmaYAMLLoader(inner)
    try:
        while loader.check_node():
            document = loader.get_node()
            if document is None:
                continue
            if _expanded_size(document, {}) > _MAX_YAML_NODES:
                line, column = _mark(document)
                problems.append(
                    PatternProblem(
                        line,
                        column,
                        f"expands to more than {_MAX_YAML_NODES:,} YAML nodes through its aliases",
                    )
                )
                continue
            if document.tag != "tag:yaml.org,2002:map":
                line, column = _mark(document)
                problems.append(PatternProblem(line, column, "a Sigma rule is a YAML mapping"))
                continue
            rule_dict = loader.construct_document(document)
            for error, condition in _sigma_errors(rule_dict):
                line, column = _sigma_position(document, error, condition)
                message = _SIGMA_AT_CHAR.sub("", str(error)).strip()
                problems.append(PatternProblem(line, column, message))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(part for part in (exc.context, exc.problem) if part)
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problems.append(PatternProblem(line, column, message or "is not valid YAML"))
    except yaml.YAMLError as exc:  # e.g. a duplicate key: no position given
        problems.append(PatternProblem(1, 1, str(exc)))
    except RecursionError:
        problems.append(PatternProblem(1, 1, "is nested too deeply to check"))
    except Exception as exc:  # pySigma on input it was not written for: not our crash
        problems.append(PatternProblem(1, 1, f"pySigma could not read it ({type(exc).__name__})"))
    finally:
        loader.dispose()
    return _shifted(problems, base_line, base_column)


# --- Snort and Suricata ---------------------------------------------------------------------

_ACTIONS: Final[dict[str, frozenset[str]]] = {
    # Snort 2 (manual 3.1) and Snort 3 (rule actions).
    "snort": frozenset(
        {"alert", "log", "pass", "activate", "dynamic", "drop", "reject", "sdrop", "block"}
        | {"react", "rewrite"}
    ),
    # Suricata 7 (rules/intro: action).
    "suricata": frozenset(
        {"alert", "pass", "drop", "reject", "rejectsrc", "rejectdst", "rejectboth", "config"}
    ),
}
_DIRECTIONS: Final[dict[str, frozenset[str]]] = {
    "snort": frozenset({"->", "<>"}),
    "suricata": frozenset({"->", "<>", "=>"}),  # "=>": Suricata 8 transactional rules
}
_OPTION_NAME: Final = re.compile(r"[A-Za-z0-9_.\-]+")
_PROTOCOL: Final = re.compile(r"[A-Za-z0-9_.\-]+(?::[A-Za-z0-9_.\-]+)?")
_VARIABLE: Final = re.compile(r"\$[A-Za-z_][A-Za-z0-9_]*")
_PORT: Final = re.compile(r"(?:[0-9]{1,5})?(?::(?:[0-9]{1,5})?)?")
_MAX_RULE_CHARS: Final = 64 * 1024
_FIELD_ITEM: Final = re.compile(r"[^,\[\]\s][^,\[\]]*")


class _RuleProblem(Exception):
    def __init__(self, offset: int, message: str) -> None:
        super().__init__(message)
        self.offset = offset
        self.message = message


class _RuleReader:
    """One Snort or Suricata rule (Suricata 7 "Rules format"; Snort 3 manual "Rules"):

        action protocol source port direction destination port (name[:value]; ...)

    Snort 3 also has ``action service (...)`` and ``action file (...)``. Written here rather
    than taken from suricataparser or idstools: those match a whole rule with one regular
    expression, accept any header, give no column, and their expression backtracks badly on
    long lines of ``#`` and spaces. This reads each character once.
    """

    def __init__(self, text: str, language: str) -> None:
        self.text = text
        self.language = language

    def check(self) -> None:
        text = self.text
        opening = self._header_end()
        if opening is None:
            raise _RuleProblem(len(text.rstrip()), "no options: a rule ends with (name:value; ...)")
        self._header(opening)
        names = self._options(opening + 1)
        if self.language == "suricata" and "sid" not in names:
            raise _RuleProblem(opening, 'no "sid" option: Suricata requires one')

    def _header_end(self) -> int | None:
        """The offset of the ``(`` that opens the options, outside any ``[...]``."""
        opened: list[int] = []
        for offset, char in enumerate(self.text):
            if char == "[":
                opened.append(offset)
            elif char == "]":
                if not opened:
                    raise _RuleProblem(offset, "']' without '['")
                opened.pop()
            elif char == "(" and not opened:
                return offset
        if opened:
            raise _RuleProblem(opened[-1], "'[' without ']'")
        return None

    def _fields(self, end: int) -> list[tuple[int, str]]:
        """The header's whitespace-separated fields (a ``[...]`` list may hold spaces)."""
        fields: list[tuple[int, str]] = []
        start: int | None = None
        depth = 0
        for offset in range(end + 1):
            char = self.text[offset] if offset < end else " "
            if char.isspace() and depth == 0:
                if start is not None:
                    fields.append((start, self.text[start:offset]))
                    start = None
                continue
            if start is None:
                start = offset
            depth += (char == "[") - (char == "]")
        if depth:
            raise _RuleProblem(start or 0, "'[' without ']'")
        return fields

    def _header(self, end: int) -> None:
        fields = self._fields(end)
        if not fields:
            raise _RuleProblem(end, "no action and protocol before '('")
        offset, action = fields[0]
        actions = _ACTIONS[self.language]
        if action not in actions:
            raise _RuleProblem(
                offset, f"unknown action {action!r} (one of: {', '.join(sorted(actions))})"
            )
        counts = "2 or 7" if self.language == "snort" else "7"
        if len(fields) not in ((2, 7) if self.language == "snort" else (7,)):
            raise _RuleProblem(
                fields[-1][0],
                f"the header has {len(fields)} fields, not {counts}: action protocol "
                "source port direction destination port",
            )
        offset, protocol = fields[1]
        if _PROTOCOL.fullmatch(protocol) is None:
            raise _RuleProblem(offset, f"{protocol!r} is not a protocol name")
        if len(fields) == 2:
            return
        for offset, address in (fields[2], fields[5]):
            self._addresses(offset, address)
        for offset, port in (fields[3], fields[6]):
            self._ports(offset, port)
        offset, direction = fields[4]
        if direction not in _DIRECTIONS[self.language]:
            raise _RuleProblem(
                offset,
                f"{direction!r} is not a direction "
                f"({' or '.join(sorted(_DIRECTIONS[self.language]))})",
            )

    def _items(self, offset: int, text: str) -> list[tuple[int, str]]:
        """The items of an address or port field (``!x``, ``[a, b, ![c]]``), flattened, with
        their offsets; a ``!`` before a list is the list's."""
        return [
            (offset + found.start(), found.group().rstrip())
            for found in _FIELD_ITEM.finditer(text)
            if found.group().rstrip() != "!"
        ]

    def _addresses(self, offset: int, text: str) -> None:
        for where, item in self._items(offset, text):
            value = item.lstrip("!")
            if value == "any" or _VARIABLE.fullmatch(value):
                continue
            try:
                ipaddress.ip_network(value, strict=False)
            except ValueError:
                message = f"{item!r} is not an address, network, variable or any"
                raise _RuleProblem(where, message) from None

    def _ports(self, offset: int, text: str) -> None:
        for where, item in self._items(offset, text):
            value = item.lstrip("!")
            if value == "any" or _VARIABLE.fullmatch(value):
                continue
            if not value or _PORT.fullmatch(value) is None or value == ":":
                raise _RuleProblem(where, f"{item!r} is not a port, range, variable or any")
            for number in value.split(":"):
                if number and int(number) > 65535:
                    raise _RuleProblem(where, f"port {number} is above 65535")

    def _options(self, start: int) -> set[str]:
        """Read ``name[:value];`` up to the closing ``)``; the option names seen."""
        text = self.text
        names: set[str] = set()
        position = start
        while True:
            while position < len(text) and text[position].isspace():
                position += 1
            if position >= len(text):
                raise _RuleProblem(len(text), "the options are not closed by ')'")
            if text[position] == ")":
                rest = text[position + 1 :]
                if rest.strip():
                    raise _RuleProblem(
                        position + 1 + len(rest) - len(rest.lstrip()), "text after the closing ')'"
                    )
                return names
            name = _OPTION_NAME.match(text, position)
            if name is None:
                raise _RuleProblem(position, f"expected an option name, found {text[position]!r}")
            names.add(name.group())
            position = name.end()
            while position < len(text) and text[position] in " \t":
                position += 1
            if position < len(text) and text[position] == ";":
                position += 1
                continue
            if position >= len(text) or text[position] != ":":
                raise _RuleProblem(position, f"option {name.group()!r}: expected ':' or ';'")
            position = self._value_end(name.group(), name.start(), position + 1) + 1

    def _value_end(self, name: str, start: int, position: int) -> int:
        """The offset of the ``;`` that ends an option's value (``\\;`` does not), after
        checking its quotes."""
        text = self.text
        quoted = False
        quote_start = 0
        while position < len(text):
            char = text[position]
            if char == "\\":
                position += 2
                continue
            if char == '"':
                quoted = not quoted
                quote_start = position
            elif char == ";" and not quoted:
                return position
            position += 1
        if quoted:
            raise _RuleProblem(quote_start, f"option {name!r}: the string is not closed by '\"'")
        raise _RuleProblem(start, f"option {name!r} is not ended by ';'")


def _check_rules(text: str, language: str) -> list[PatternProblem]:
    """Each rule of a rules text; blank lines and ``#`` comments (disabled rules) skipped, a
    rule continued over lines by a trailing ``\\`` read as one."""
    problems: list[PatternProblem] = []
    inner, base_line, base_column = _unwrapped(text)
    lines = inner.split("\n")
    number = 0
    while number < len(lines):
        first = number
        rule = lines[number].rstrip("\r")
        while rule.endswith("\\") and number + 1 < len(lines):
            number += 1
            rule = rule[:-1] + lines[number].rstrip("\r")
        number += 1
        if not rule.strip() or rule.lstrip().startswith("#"):
            continue
        if len(rule) > _MAX_RULE_CHARS:
            problems.append(
                PatternProblem(first + 1, 1, f"a rule of {len(rule):,} characters is too long")
            )
            continue
        try:
            _RuleReader(rule, language).check()
        except _RuleProblem as problem:
            # A continued rule reports its column in the joined text, on its first line.
            found = _at(rule.replace("\n", " "), problem.offset, problem.message)
            problems.append(replace(found, line=first + 1))
    return _shifted(problems, base_line, base_column)


def check_snort(text: str) -> list[PatternProblem]:
    """Snort 2 or Snort 3 rules, one a line."""
    return _check_rules(text, "snort")


def check_suricata(text: str) -> list[PatternProblem]:
    """Suricata rules, one a line."""
    return _check_rules(text, "suricata")


# --- PCRE -----------------------------------------------------------------------------------

# PCRE's own option letters, mapped to Python flag names both libraries share; then the
# letters Snort and Suricata add to a pcre option (they change what is matched against, not
# the expression), and PHP's u. Anything else after /regex/ is not a modifier.
_PCRE_FLAGS: Final = {"i": "IGNORECASE", "m": "MULTILINE", "s": "DOTALL", "x": "VERBOSE"}
_PCRE_OTHER_MODIFIERS: Final = frozenset("AEGRUIPHDMCKSYBOLVWQXZJu")
_PCRE_POSITION: Final = re.compile(r"compilation failed at position (\d+); ")


def _delimited(text: str) -> tuple[str, str] | None:
    """(expression, modifiers) of ``/expression/modifiers``, or None for a bare expression.
    ``/etc/passwd`` is bare: "passwd" are not all modifiers."""
    if not text.startswith("/"):
        return None
    end = text.rfind("/")
    if end == 0:
        return None
    modifiers = text[end + 1 :]
    if any(m not in _PCRE_FLAGS and m not in _PCRE_OTHER_MODIFIERS for m in modifiers):
        return None
    return text[1:end], modifiers


def check_pcre(text: str) -> list[PatternProblem]:
    """A Perl-compatible regular expression, bare or as ``/expression/modifiers``, compiled
    by PCRE2 (without JIT: only whether it compiles is asked)."""
    import pcre2

    delimited = _delimited(text)
    expression, modifiers, start = (text, "", 0) if delimited is None else (*delimited, 1)
    flags = 0
    for letter in modifiers:
        if letter in _PCRE_FLAGS:
            flags |= getattr(pcre2, _PCRE_FLAGS[letter])
    try:
        pcre2.compile(expression, flags, jit=False)
    except pcre2.LibraryError as exc:  # "compilation failed at position N; why"
        message = _PCRE_POSITION.sub("", str(getattr(exc, "msg", exc)))
        position = getattr(exc, "pos", None)
        offset = start + position if isinstance(position, int) else 0
        return [_at(text, offset, message)]
    except RecursionError:
        return [PatternProblem(1, 1, "is nested too deeply to check")]
    except Exception as exc:  # e.g. a lone surrogate, which is no UTF-8
        return [PatternProblem(1, 1, f"PCRE2 could not read it ({type(exc).__name__})")]
    return []


# --- all of them ----------------------------------------------------------------------------

_CHECKERS: Final[dict[str, Callable[[str], list[PatternProblem]]]] = {
    "yara": check_yara,
    "sigma": check_sigma,
    "snort": check_snort,
    "suricata": check_suricata,
    "pcre": check_pcre,
}

CHECKED_LANGUAGES: Final = ("stix", *_CHECKERS)
"""The pattern_type values checked here; every other language is stored unchecked."""


def check_pattern(
    language: str,
    text: str,
    *,
    stix_version: str = "2.1",
    max_chars: int = MAX_PATTERN_CHARS,
    compile_yara: bool = False,
) -> list[PatternProblem]:
    """The problems of ``text`` as a pattern in ``language`` (a pattern_type; any case);
    [] when it parses. A language with no parser here gives one warning.

    ``max_chars``: the longest text checked; ``compile_yara``: let libyara's compiler judge
    YARA (see the module's docstring for why ingest does not)."""
    name = language.strip().lower()
    if name != "stix" and name not in _CHECKERS:
        return [PatternProblem(1, 1, f"no parser for {language}; stored unchecked", "warning")]
    bounded = _bound(text, max_chars)
    if bounded:
        return bounded
    if name == "stix":
        return check_stix(text, stix_version)
    if name == "yara":
        return check_yara(text, compile_rules=compile_yara)
    return _CHECKERS[name](text)
