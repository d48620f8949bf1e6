"""``accord patterns check``: files in each language, bundles, standard input, exit codes;
and ``accord ingest`` storing an indicator whose YARA does not parse, with a warning."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from accord.cli.main import app

runner = CliRunner()


def accord(*args: str, code: int = 0, stdin: str | bytes | None = None) -> Any:
    result = runner.invoke(app, list(args), input=stdin)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result


def _indicator(number: int, pattern_type: str, pattern: str) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--6f1e1b1c-56a4-4bb4-8f3e-2d1b7f0a0c{number:02d}",
        "created": "2026-01-05T09:00:00.000Z",
        "modified": "2026-01-05T09:00:00.000Z",
        "pattern": pattern,
        "pattern_type": pattern_type,
        "valid_from": "2026-01-05T09:00:00Z",
    }


def _bundle(*objects: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "bundle",
        "id": "bundle--6f1e1b1c-56a4-4bb4-8f3e-2d1b7f0a0c00",
        "objects": list(objects),
    }


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


# --- each kind of file ----------------------------------------------------------------------


def test_a_good_yara_file_exits_0_with_a_summary() -> None:
    Path("good.yar").write_text('rule a {\n strings:\n  $a = "x"\n condition:\n  $a\n}\n')
    result = accord("patterns", "check", "good.yar")
    assert result.output.strip() == "good.yar: 1 pattern checked, no problems."


def test_a_broken_yara_file_prints_file_line_column_and_exits_1() -> None:
    Path("bad.yara").write_text("rule a {\n  condition:\n    filesize > 1 and foo\n}\n")
    result = accord("patterns", "check", "bad.yara", code=1)
    lines = result.output.strip().splitlines()
    assert lines[0] == 'bad.yara:3:22: yara: undefined identifier "foo"'
    assert lines[-1] == "bad.yara: 1 pattern checked, 1 problem."


def test_sigma_file_json_output() -> None:
    text = "title: t\nlogsource:\n  product: windows\ndetection:\n  sel:\n    a|nope: b\n  condition: sel\n"
    Path("rule.yml").write_text(text)
    result = accord("patterns", "check", "rule.yml", "--json", code=1)
    document = json.loads(result.output)
    assert document["file"] == "rule.yml"
    assert (document["patterns"], document["problems"], document["warnings"]) == (1, 1, 0)
    [finding] = document["findings"]
    assert finding == {
        "line": 6,
        "column": 7,
        "language": "sigma",
        "severity": "error",
        "message": "Unknown modifier 'nope'",
        "indicator": None,
    }


def test_rules_file_is_suricata_unless_told_snort() -> None:
    Path("local.rules").write_text(
        "# local rules\n"
        'alert tcp any any -> any any (msg:"ok"; sid:1;)\n'
        'sdrop tcp any any -> any any (msg:"snort only";)\n'
    )
    result = accord("patterns", "check", "local.rules", code=1)
    assert result.output.startswith("local.rules:3:1: suricata: unknown action 'sdrop'")
    accord("patterns", "check", "local.rules", "--language", "snort")


def test_stix_lines_with_comments_and_the_grammar_version() -> None:
    Path("patterns.txt").write_text(
        "# one a line\n\n[ipv4-addr:value = '198.51.100.1']\n[file:name = 'x' AND]\n"
    )
    result = accord("patterns", "check", "patterns.txt", code=1)
    assert "patterns.txt:4:21: stix: no viable alternative at input ']'" in result.output
    assert "2 patterns checked, 1 problem." in result.output
    # 2.0 wrote pattern qualifiers' numbers without a sign check that 2.1 has.
    Path("v20.stix").write_text("[file:name = 'x'] WITHIN -5 SECONDS\n")
    accord("patterns", "check", "v20.stix", "--stix-version", "2.0", code=1)


def test_pcre_lines() -> None:
    Path("regexes").write_text("/gate\\.php/i\n/ab(c/\n")
    result = accord("patterns", "check", "regexes", "--language", "pcre", code=1)
    assert result.output.startswith("regexes:2:6: pcre: missing closing parenthesis")


def test_a_bundle_names_each_indicator_and_its_language() -> None:
    bundle = _bundle(
        _indicator(1, "stix", "[ipv4-addr:value = '198.51.100.1']"),
        _indicator(2, "yara", "rule {\n condition: true }"),
        _indicator(3, "sigma", "- not a rule"),
        _indicator(4, "spl", "index=main"),
        {"type": "identity", "id": "identity--6f1e1b1c-56a4-4bb4-8f3e-2d1b7f0a0c99"},
    )
    Path("bundle.json").write_bytes(orjson.dumps(bundle))
    result = accord("patterns", "check", "bundle.json", code=1)
    lines = result.output.strip().splitlines()
    assert lines == [
        "bundle.json:indicator--6f1e1b1c-56a4-4bb4-8f3e-2d1b7f0a0c02:1:6: yara: "
        "syntax error, unexpected '{', expecting identifier",  # libyara's words
        "bundle.json:indicator--6f1e1b1c-56a4-4bb4-8f3e-2d1b7f0a0c03:1:1: sigma: "
        "a Sigma rule is a YAML mapping",
        "bundle.json:indicator--6f1e1b1c-56a4-4bb4-8f3e-2d1b7f0a0c04:1:1: spl: warning: "
        "no parser for spl; stored unchecked",
        "bundle.json: 4 patterns checked, 2 problems, 1 warning.",
    ]


def test_a_2_0_bundle_uses_the_2_0_grammar() -> None:
    indicator = _indicator(1, "stix", "[file:name = 'x'] WITHIN -5 SECONDS")
    del indicator["spec_version"], indicator["pattern_type"]
    Path("old.json").write_bytes(orjson.dumps({**_bundle(indicator), "spec_version": "2.0"}))
    result = accord("patterns", "check", "old.json", code=1)
    assert ":1:26: stix: mismatched input '-5'" in result.output


def test_warnings_alone_exit_0() -> None:
    Path("b.json").write_bytes(orjson.dumps(_bundle(_indicator(1, "kql", "x | take 1"))))
    result = accord("patterns", "check", "b.json")
    assert "1 pattern checked, no problems, 1 warning." in result.output


# --- standard input -------------------------------------------------------------------------


def test_standard_input_with_a_language() -> None:
    result = accord(
        "patterns", "check", "-", "-l", "yara", stdin="rule { condition: true }", code=1
    )
    assert result.output.startswith("<stdin>:1:6: yara:")


def test_standard_input_bundle_is_recognised() -> None:
    data = orjson.dumps(_bundle(_indicator(1, "pcre", "(")))
    result = accord("patterns", "check", "-", stdin=data, code=1)
    assert (
        "<stdin>:indicator--" in result.output
        and ": pcre: missing closing parenthesis" in result.output
    )


def test_standard_input_without_a_language_is_bad_usage() -> None:
    result = accord("patterns", "check", "-", stdin="rule a { condition: true }", code=2)
    assert "give --language" in result.output


# --- bad input ------------------------------------------------------------------------------


def test_usage_errors_exit_2() -> None:
    accord("patterns", "check", "missing.yar", code=2)
    Path("notes.doc").write_text("x")
    assert "give --language" in accord("patterns", "check", "notes.doc", code=2).output
    accord("patterns", "check", "notes.doc", "--language", "klingon", code=2)
    Path("broken.json").write_text('{"type": "bundle", "objects": [')
    accord("patterns", "check", "broken.json", code=2)
    Path("adir.yar").mkdir()
    accord("patterns", "check", "adir.yar", code=2)


def test_binary_junk_is_a_problem_at_its_place() -> None:
    Path("junk.yar").write_bytes(b"rule a {\n  \xff\xfe\x00\x01 }")
    result = accord("patterns", "check", "junk.yar", code=1)
    assert result.output.startswith("junk.yar:2:3: yara: is not UTF-8 text (byte 0xff)")
    Path("nul.yar").write_bytes(b"rule a {\n  \x00\x01 }")
    result = accord("patterns", "check", "nul.yar", code=1)
    assert result.output.startswith("nul.yar:2:3: yara: holds U+0000: not text")


def test_a_1_mib_pattern_in_a_bundle_is_a_problem() -> None:
    bundle = _bundle(_indicator(1, "yara", "rule a { condition: true }" + " " * (1024 * 1024)))
    Path("big.json").write_bytes(orjson.dumps(bundle))
    result = accord("patterns", "check", "big.json", code=1)
    assert "patterns are checked up to 262,144" in result.output


def test_help_reads_well() -> None:
    text = accord("patterns", "check", "--help").output
    for words in (".yar/.yara", ".rules", "standard input", "--stix-version", "Exit codes"):
        assert words in text
    assert "patterns" in accord("--help").output


# --- ingest: stored, with a warning ---------------------------------------------------------

ANALYST = "analyst@cert.example"


@pytest.fixture
def db(store_url: str) -> str:
    accord("--db", store_url, "init")
    accord("--db", store_url, "org", "add", "CERT-EX")
    accord("--db", store_url, "user", "add", ANALYST, "--org", "CERT-EX", "--role", "analyst")
    return store_url


def test_ingest_stores_a_broken_yara_pattern_with_a_warning(db: str) -> None:
    broken = _indicator(1, "yara", "rule {\n  condition: true\n}")
    good = _indicator(2, "yara", "rule ok { condition: true }")
    unknown = _indicator(3, "spl", "index=main")
    Path("feed.json").write_bytes(orjson.dumps(_bundle(broken, good, unknown)))
    result = accord("--db", db, "ingest", "feed.json", "--as", ANALYST, "--json")
    [summary] = json.loads(result.output)
    assert (summary["stored"], summary["rejected"]) == (3, 0)
    assert summary["warnings"] == [
        {
            "index": 0,
            "id": broken["id"],
            "problems": [
                {
                    "property": "pattern",
                    "reason": "may not be valid yara (line 1, column 6): "
                    "Unknown text { for token of type LBRACE",  # plyara: ingest runs no C parser
                }
            ],
        }
    ]
    stored = accord("--db", db, "get", broken["id"], "--as", ANALYST, "--json").output
    assert "rule {" in stored
    # The human report says it too; a bundle with only warnings is a success.
    Path("feed2.json").write_bytes(
        orjson.dumps(_bundle({**broken, "modified": "2026-01-06T09:00:00.000Z"}))
    )
    text = accord("--db", db, "ingest", "feed2.json", "--as", ANALYST).output
    assert f"warning feed2.json: object 0 ({broken['id']}): pattern: may not be valid yara" in text


# --- evaluation: patterns check (meaning) and patterns match ---------------------------------


def test_check_reports_stix_patterns_that_parse_but_cannot_be_evaluated(tmp_path: Path) -> None:
    file = tmp_path / "patterns.txt"
    file.write_text(
        "[file:name = 'a'] REPEATS 0 TIMES\n"
        "[file:created = t'2021-02-30T00:00:00Z']\n"
        "[file:name IN ('a', 1)]\n"
        "[file:name MATCHES '(unclosed']\n"
        "[file:name = 'fine']\n"
    )
    out = orjson.loads(accord("patterns", "check", str(file), "--json", code=1).stdout)
    found = [(f["line"], f["column"], f["message"]) for f in out["findings"]]
    assert found[0][:2] == (1, 27) and "REPEATS needs a count of at least 1" in found[0][2]
    assert found[1][:2] == (2, 17) and "not a real date and time" in found[1][2]
    assert found[2][0] == 3 and "one type" in found[2][2]
    assert found[3][0] == 4 and "not a valid regular expression" in found[3][2]
    assert out["patterns"] == 5 and out["problems"] == 4


def _observed(tmp_path: Path, value: str) -> Path:
    file = tmp_path / "observed.json"
    sco_id = "domain-name--11111111-1111-4111-8111-111111111111"
    file.write_text(
        json.dumps(
            [
                {
                    "type": "observed-data",
                    "id": "observed-data--11111111-1111-4111-8111-111111111111",
                    "first_observed": "2024-01-01T00:00:00Z",
                    "last_observed": "2024-01-01T00:00:00Z",
                    "number_observed": 1,
                    "object_refs": [sco_id],
                },
                {"type": "domain-name", "id": sco_id, "value": value},
            ]
        )
    )
    return file


def test_match_evaluates_a_pattern_against_a_file(tmp_path: Path) -> None:
    observed = str(_observed(tmp_path, "a.evil.example"))
    out = orjson.loads(
        accord(
            "patterns", "match", "[domain-name:value LIKE '%.evil.example']", observed, "--json"
        ).stdout
    )
    assert out == {
        "matched": True,
        "matched_observed_data_ids": ["observed-data--11111111-1111-4111-8111-111111111111"],
    }
    out = orjson.loads(
        accord(
            "patterns", "match", "[domain-name:value = 'evil.example']", observed, "--json", code=1
        ).stdout
    )
    assert out == {"matched": False, "matched_observed_data_ids": []}


def test_match_names_the_column_of_a_bad_pattern(tmp_path: Path) -> None:
    observed = str(_observed(tmp_path, "a.evil.example"))
    result = runner.invoke(app, ["patterns", "match", "[domain-name:value = t'x']", observed])
    assert result.exit_code == 2
    assert "line 1, column 22" in result.output


def test_ingest_stores_a_stix_pattern_that_cannot_be_evaluated_with_a_warning(db: str) -> None:
    never = _indicator(4, "stix", "[file:name = 'a'] REPEATS 0 TIMES")
    date = _indicator(5, "stix", "[file:created = t'2021-02-30T00:00:00Z']")
    fine = _indicator(6, "stix", "[file:name = 'a'] REPEATS 2 TIMES")
    Path("feed.json").write_bytes(orjson.dumps(_bundle(never, date, fine)))
    [summary] = json.loads(
        accord("--db", db, "ingest", "feed.json", "--as", ANALYST, "--json").output
    )
    assert (summary["stored"], summary["rejected"]) == (3, 0)
    reasons = {item["id"]: item["problems"][0]["reason"] for item in summary["warnings"]}
    assert reasons == {
        never["id"]: "parses but cannot be evaluated: line 1, column 27: "
        "REPEATS needs a count of at least 1",
        date["id"]: "parses but cannot be evaluated: line 1, column 17: "
        "t'2021-02-30T00:00:00Z' is not a real date and time",
    }
