"""accord.model.pattern_languages: each language's checker, with the line and column it gives;
real rules from ../shared/data; inputs meant to crash or hang a parser; and the warning an
indicator with such a pattern gets from validation."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from accord.model.pattern_languages import (
    MAX_PATTERN_CHARS,
    PatternProblem,
    check_pattern,
    check_pcre,
    check_sigma,
    check_snort,
    check_stix,
    check_suricata,
    check_yara,
)
from accord.model.validation import validate_object


def _where(problems: list[PatternProblem]) -> list[tuple[int, int]]:
    return [(problem.line, problem.column) for problem in problems]


# --- YARA -----------------------------------------------------------------------------------

GOOD_YARA = """import "pe"

rule demo_dropper : dropper
{
    meta:
        author = "CERT-EX"
    strings:
        $a = "cmd.exe /c" nocase wide ascii
        $b = { 4D 5A ?? ?? [2-4] 50 45 }
        $c = /https?:\\/\\/[a-z0-9.]+\\/gate\\.php/
    condition:
        uint16(0) == 0x5A4D and pe.number_of_sections > 2 and 2 of ($a, $b, $c)
}
"""


def test_valid_yara_has_no_problems_with_either_checker() -> None:
    assert check_yara(GOOD_YARA) == []
    assert check_yara(GOOD_YARA, compile_rules=True) == []


def test_an_unterminated_yara_string_is_placed_at_its_line_and_column() -> None:
    text = 'rule a {\n  strings:\n    $x = "abc\n  condition:\n    $x\n}\n'
    [problem] = check_yara(text)
    assert (problem.line, problem.column) == (3, 14)  # the newline that ends the string
    assert "Illegal string character" in problem.message
    assert "at line" not in problem.message  # the position is in line/column, not repeated


def test_a_yara_rule_without_a_name() -> None:
    [problem] = check_yara("rule { condition: true }")
    assert _where([problem]) == [(1, 6)]


def test_libyara_also_knows_undefined_identifiers_that_plyara_accepts() -> None:
    text = "rule a {\n  condition:\n    filesize > 10 and foo\n}\n"
    assert check_yara(text) == []
    [problem] = check_yara(text, compile_rules=True)
    assert (problem.line, problem.column) == (3, 23)
    assert problem.message == 'undefined identifier "foo"'


def test_libyara_reads_no_include_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.yar"
    secret.write_text("rule secret { condition: true }")
    [problem] = check_yara(f'include "{secret}"\nrule a {{ condition: true }}', compile_rules=True)
    assert problem.line == 1 and "include" in problem.message


def test_misp_brackets_around_a_yara_rule_are_read_through() -> None:
    """misp-stix writes an attribute's YARA rule as "[rule ...]"; positions stay in the whole."""
    assert check_yara("[rule a { condition: true }]") == []
    assert _where(check_yara("[rule { condition: true }]")) == [(1, 7)]
    assert _where(check_yara("[\nrule {\n condition: true }]")) == [(2, 6)]


def test_the_plyara_parser_is_reused_without_carrying_state() -> None:
    """The parser kept per thread is reset between patterns: an error mid-string, then a
    good rule whose string names clash with the last one's, then the error again."""
    broken = 'rule a {\n strings:\n  $x = "abc\n condition: $x }'
    first = check_yara(broken)
    assert check_yara(GOOD_YARA) == []
    assert check_yara(GOOD_YARA) == []  # no "duplicate rule" or "duplicate string" left over
    assert check_yara(broken) == first


# --- Sigma ----------------------------------------------------------------------------------

GOOD_SIGMA = """title: Suspicious Certutil Download
id: 19b08b1c-861d-4e75-a1ef-ea0c1baf202b
status: test
description: certutil used to fetch a file from the Internet
references:
    - https://lolbas-project.github.io/lolbas/Binaries/Certutil/
author: CERT-EX
date: 2024-03-01
tags:
    - attack.command-and-control
    - attack.t1105
logsource:
    category: process_creation
    product: windows
detection:
    selection_img:
        - Image|endswith: '\\certutil.exe'
        - OriginalFileName: 'CertUtil.exe'
    selection_cli:
        CommandLine|contains|all:
            - 'urlcache'
            - 'http'
    filter_main:
        ParentImage|endswith: '\\msiexec.exe'
    condition: all of selection_* and not 1 of filter_*
falsepositives:
    - Administrative scripts
level: high
"""


def _sigma(detection: str) -> str:
    return f"title: t\nlogsource:\n  product: windows\ndetection:\n{detection}"


def test_valid_sigma_has_no_problems() -> None:
    assert check_sigma(GOOD_SIGMA) == []
    assert check_sigma(GOOD_SIGMA + "---\n" + GOOD_SIGMA.replace("19b08b1c", "29b08b1c")) == []


def test_an_unknown_sigma_modifier_is_placed_at_the_modifier() -> None:
    [problem] = check_sigma(_sigma("  sel:\n    Image|endswithx: 'a'\n  condition: sel\n"))
    assert (problem.line, problem.column) == (6, 11)  # endswithx, after the "|"
    assert "endswithx" in problem.message


def test_a_broken_sigma_condition_is_placed_in_the_condition() -> None:
    [problem] = check_sigma(_sigma("  sel:\n    a: b\n  condition: sel and (\n"))
    assert (problem.line, problem.column) == (7, 23)
    assert "at char" not in problem.message
    [problem] = check_sigma(_sigma("  sel:\n    a: b\n  condition: sel and sel2\n"))
    assert (problem.line, problem.column) == (7, 14)
    assert "sel2" in problem.message


def test_a_sigma_rule_without_a_logsource() -> None:
    [problem] = check_sigma("title: t\ndetection:\n  sel:\n    a: b\n  condition: sel\n")
    assert (problem.line, problem.column) == (1, 1)
    assert "log source" in problem.message


def test_sigma_yaml_errors_give_the_yaml_position() -> None:
    [problem] = check_sigma("title: t\ndetection: [a\n")
    assert problem.line == 3 and "flow sequence" in problem.message
    [problem] = check_sigma("title: t\ntitle: u\n")
    assert "Duplicate key" in problem.message


def test_sigma_that_is_not_a_mapping() -> None:
    assert [p.message for p in check_sigma("- a\n- b\n")] == ["a Sigma rule is a YAML mapping"]


def test_a_sigma_alias_bomb_is_refused_at_once() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 10) + "]")
    started = time.perf_counter()
    [problem] = check_sigma("\n".join(lines) + "\n")
    assert time.perf_counter() - started < 1
    assert "aliases" in problem.message


# --- Snort and Suricata ---------------------------------------------------------------------

GOOD_SURICATA = (
    'alert dns $HOME_NET any -> any any (msg:"ET DNS Query for evil.example"; '
    'dns.query; content:"evil.example"; nocase; endswith; '
    "reference:url,example.org/a\\;b; classtype:trojan-activity; sid:2000001; rev:2;)\n"
    "# alert tcp any any -> any any (disabled rule with a missing paren\n"
    "\n"
    "drop tcp [10.0.0.0/8, !10.1.0.0/16] ![22,80:90] <> $EXTERNAL_NET any "
    '(msg:"x"; flow:established,to_server; \\\n'
    '  pcre:"/a;b\\;c/i"; sid:2;)\n'
)


@pytest.mark.parametrize("check", [check_suricata, check_snort])
def test_valid_rules_have_no_problems(check: Any) -> None:
    assert check(GOOD_SURICATA) == []


@pytest.mark.parametrize(
    ("rule", "column", "words"),
    [
        ("alert http any 443 -> 8.8.8.8 any", 34, "no options"),
        ("alrt tcp any any -> any any (sid:1;)", 1, "unknown action"),
        ("alert tcp any any any any (sid:1;)", 23, "the header has 6 fields"),
        ("alert tcp any any >> any any (sid:1;)", 19, "not a direction"),
        ("alert tcp 1.2.3.400 any -> any any (sid:1;)", 11, "not an address"),
        ("alert tcp any any -> any 70000 (sid:1;)", 26, "above 65535"),
        ('alert tcp any any -> any any (msg:"abc; sid:1;)', 35, "not closed by '\"'"),
        ('alert tcp any any -> any any (msg:"a"; sid:1)', 40, "'sid' is not ended by ';'"),
        ('alert tcp any any -> any any (msg:"a"; sid:1;', 46, "not closed by ')'"),
        ('alert tcp any any -> any any (msg:"a"; sid:1;) x', 48, "after the closing"),
        ('alert tcp any any -> any any (msg:"a";)', 30, '"sid"'),
        ("alert tcp [1.2.3.4 any -> any any (sid:1;)", 11, "'[' without ']'"),
    ],
)
def test_a_broken_suricata_rule_is_placed(rule: str, column: int, words: str) -> None:
    text = "# a comment\n\n" + rule + "\n"
    [problem] = check_suricata(text)
    assert (problem.line, problem.column) == (3, column), problem
    assert words in problem.message


def test_snort_3_service_rules_and_actions() -> None:
    assert check_snort('alert http (msg:"snort 3 service rule"; sid:1;)') == []
    assert check_snort('sdrop tcp any any -> any any (msg:"x";)') == []  # sid is not required
    [problem] = check_suricata('sdrop tcp any any -> any any (msg:"x"; sid:1;)')
    assert "unknown action" in problem.message
    [problem] = check_suricata('alert http (msg:"snort 3 only"; sid:1;)')
    assert "2 fields" in problem.message


def test_each_broken_rule_of_a_file_is_reported_on_its_own_line() -> None:
    text = "\n".join(
        [
            'alert tcp any any -> any any (msg:"ok"; sid:1;)',
            "alert tcp any any -> any any",
            'alert tcp any any -> any any (msg:"ok"; sid:2;)',
            "not a rule at all",
        ]
    )
    assert [p.line for p in check_suricata(text)] == [2, 4]


# --- PCRE -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern", ["^evil\\.(com|net)$", "/gate\\.php\\?id=[0-9a-f]{16}/i", "/etc/passwd", "(?<=ab)c"]
)
def test_valid_pcre(pattern: str) -> None:
    assert check_pcre(pattern) == []


def test_pcre_problems_are_placed_in_the_delimited_form_too() -> None:
    assert _where(check_pcre("ab(c")) == [(1, 5)]
    assert _where(check_pcre("/ab(c/i")) == [(1, 6)]
    [problem] = check_pcre("(?<=a+)b")  # PCRE2 before 10.43 wants lookbehinds bounded
    assert problem.column == 1 and "lookbehind" in problem.message


def test_pcre_is_pcre_not_python() -> None:
    """Possessive quantifiers and \\K are PCRE that Python's re (before 3.11) refused or reads
    otherwise; the checker is PCRE2 itself."""
    assert check_pcre("a++b\\Kc") == []
    assert check_pcre("(?P<n>a)(?P=n)") == []


# --- STIX and the rest ----------------------------------------------------------------------


def test_stix_problems_have_1_based_columns() -> None:
    assert check_stix("[file:name = 'x']") == []
    assert _where(check_stix("[file:name = 'x' AND]")) == [(1, 21)]
    assert _where(check_stix("[file:name = 'x']\n AND foo")) == [(2, 6)]
    assert _where(check_stix("[file:name = 'x'] WITHIN -5 SECONDS", "2.0")) == [(1, 26)]


@pytest.mark.parametrize("language", ["spl", "eql", "kql", "x-my-lang"])
def test_a_language_without_a_parser_gets_a_warning(language: str) -> None:
    [problem] = check_pattern(language, "anything at all")
    assert problem.severity == "warning"
    assert problem.message == f"no parser for {language}; stored unchecked"


def test_the_language_name_is_read_in_any_case() -> None:
    assert check_pattern("YARA", "rule a { condition: true }") == []


# --- hostile input --------------------------------------------------------------------------

LANGUAGES = ["stix", "yara", "sigma", "snort", "suricata", "pcre"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_1_mib_pattern_is_a_problem_not_a_wait(language: str) -> None:
    started = time.perf_counter()
    [problem] = check_pattern(language, "a" * (1024 * 1024))
    assert time.perf_counter() - started < 0.5
    assert f"patterns are checked up to {MAX_PATTERN_CHARS:,}" in problem.message


@pytest.mark.parametrize("language", LANGUAGES)
def test_binary_junk_is_a_problem(language: str) -> None:
    junk = bytes(range(256)).decode("latin-1") * 4
    [problem] = check_pattern(language, "ab\n" + junk)
    assert (problem.line, problem.column) == (2, 1)
    assert "U+0000" in problem.message


NESTED = {
    "stix": "(" * 5000 + "[file:name = 'x']" + ")" * 5000,
    "yara": "rule a { condition: " + "(" * 20000 + "true" + ")" * 20000 + " }",
    "sigma": "a: " + "[" * 5000 + "]" * 5000,
    "snort": "alert tcp " + "[" * 20000 + "any" + "]" * 20000 + " any -> any any (sid:1;)",
    "suricata": "alert tcp " + "[" * 20000 + "any" + "]" * 20000 + " any -> any any (sid:1;)",
    "pcre": "(" * 20000 + "a" + ")" * 20000,
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_deep_nesting_is_a_clear_answer(language: str) -> None:
    started = time.perf_counter()
    problems = check_pattern(language, NESTED[language])
    assert time.perf_counter() - started < 10
    assert all(problem.message for problem in problems)
    if language not in ("yara", "snort", "suricata"):  # these take any depth
        assert problems, language


def test_deep_sigma_block_nesting_and_deep_yara_for_libyara() -> None:
    deep_block = "".join(" " * depth + f"k{depth}:\n" for depth in range(3000))
    assert check_sigma(deep_block)  # a problem, whatever it is, and no crash
    deep = "rule a { condition: " + "(" * 20000 + "true" + ")" * 20000 + " }"
    assert all(problem.message for problem in check_yara(deep, compile_rules=True))


def test_long_lines_of_hashes_and_spaces_are_linear() -> None:
    """The rule-matching regular expression of suricataparser and idstools backtracks on
    this; the reader here does not."""
    text = "alert " + "# " * 30000
    started = time.perf_counter()
    [problem] = check_suricata(text)
    assert time.perf_counter() - started < 1
    assert "no options" in problem.message


# --- real rules -----------------------------------------------------------------------------


def _fenced_yara(readme: Path) -> str:
    blocks = readme.read_text(encoding="utf-8").split("```")[1::2]
    return next(block for block in blocks if re.search(r"^rule \w+", block, re.MULTILINE))


@pytest.mark.parametrize("folder", ["FudModule", "Diamorphine"])
def test_real_yara_rules_from_avast_parse(shared_data: Path, folder: str) -> None:
    text = _fenced_yara(shared_data / "reports" / "avast-ioc-readmes" / folder / "README.md")
    assert check_yara(text) == []
    compiled = check_yara(text, compile_rules=True)
    if 'import "magic"' in text:  # libyara's magic module is not in yara-python's wheel
        [lacking] = compiled
        assert lacking.severity == "warning" and "'magic' module" in lacking.message
    else:
        assert compiled == []
    broken = text.replace("condition:", "condition", 1)
    [problem] = check_yara(broken)
    line = text[: text.index("condition:")].count("\n") + 1
    assert problem.line in (line, line + 1)  # where the missing ':' is noticed


def _indicators(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if node.get("type") == "indicator" and isinstance(node.get("pattern"), str):
            found.append(node)
        for value in node.values():
            found.extend(_indicators(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_indicators(value))
    return found


def test_misp_mapping_examples(shared_data: Path) -> None:
    """The non-STIX patterns of MISP's reference converter, as its documentation gives them:
    the Suricata rule and the bracketed YARA rule parse; the Sigma rule, flattened onto one
    line, and the option-less Snort/Suricata header do not, and say where."""
    mapping = shared_data / "misp" / "misp-stix-conversion" / "documentation" / "mapping"
    document = json.loads((mapping / "misp_attributes_to_stix21.json").read_text())
    by_type = {i["pattern_type"]: i["pattern"] for i in _indicators(document)}
    assert check_pattern("suricata", by_type["suricata"]) == []
    assert check_pattern("yara", by_type["yara"]) == []
    assert check_pattern("yara", by_type["yara"], compile_yara=True) == []
    [sigma] = check_pattern("sigma", by_type["sigma"])
    assert sigma.line == 1 and "mapping values" in sigma.message
    [snort] = check_pattern("snort", by_type["snort"])
    assert "no options" in snort.message
    for name in ("misp_objects_to_stix21.json", "stix21_to_misp_objects.json"):
        for indicator in _indicators(json.loads((mapping / name).read_text())):
            for problem in check_pattern(indicator["pattern_type"], indicator["pattern"]):
                assert problem.message  # every one answered, none raised


# --- validation -----------------------------------------------------------------------------


def _indicator(pattern_type: str, pattern: str) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": "2026-01-05T09:00:00.000Z",
        "modified": "2026-01-05T09:00:00.000Z",
        "pattern": pattern,
        "pattern_type": pattern_type,
        "valid_from": "2026-01-05T09:00:00Z",
    }


def test_a_broken_yara_pattern_is_a_warning_not_a_problem() -> None:
    warnings: list[Any] = []
    assert validate_object(_indicator("yara", "rule { condition: true }"), "2.1", warnings) == []
    [warning] = warnings
    assert warning.property == "pattern"
    assert warning.reason.startswith("may not be valid yara (line 1, column 6): ")


def test_warnings_only_when_asked_and_none_for_good_or_unknown_languages() -> None:
    assert validate_object(_indicator("yara", "rule { condition: true }")) == []
    for pattern_type, pattern in [
        ("yara", "rule a { condition: true }"),
        ("spl", "index=main | stats count"),
        ("sigma", GOOD_SIGMA),
    ]:
        warnings: list[Any] = []
        assert validate_object(_indicator(pattern_type, pattern), "2.1", warnings) == []
        assert warnings == [], pattern_type


def test_a_broken_stix_pattern_is_still_rejected() -> None:
    warnings: list[Any] = []
    [problem] = validate_object(_indicator("stix", "[file:name = ]"), "2.1", warnings)
    assert problem.property == "pattern" and warnings == []
