"""Observables from STIX patterns: the parser, and the fast path that must agree with it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.model.observables import Observable, normalise
from accord.model.patterns import (
    PatternError,
    PatternObservables,
    fast_path_observables,
    observables_from_pattern,
    parse_observables,
    pattern_problem,
)
from realdata import SHARED_DATA

UNIT42 = SHARED_DATA / "stix20" / "unit42-stix2-reports" / "report_json"
VECTORS = SHARED_DATA / "patterns" / "stix-pattern-match-vectors.json"
MD5 = "d41d8cd98f00b204e9800998ecf8427e"
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def _unit42_patterns() -> list[str]:
    if not UNIT42.is_dir():
        pytest.skip(f"no shared data at {UNIT42}")
    patterns = []
    for path in sorted(UNIT42.glob("*.json")):
        for obj in json.loads(path.read_text(encoding="utf-8")).get("objects", []):
            if obj.get("type") == "indicator":
                patterns.append(obj["pattern"])
    return patterns


def _vector_patterns() -> list[str]:
    if not VECTORS.is_file():
        pytest.skip(f"no shared data at {VECTORS}")
    vectors = json.loads(VECTORS.read_text(encoding="utf-8"))["vectors"]
    return list(dict.fromkeys(vector["pattern"] for vector in vectors))


def _obs(kind: str, value: str) -> Observable:
    return normalise(kind, value)


# Patterns written to probe the edges of the fast path: each must give the same answer
# through the fast path (where it applies) and the parser, including the same error.
TRICKY = [
    "[ipv4-addr:value = '1.2.3.4']",
    "  [ ipv4-addr:value   =   '1.2.3.4' ]  ",
    "[ipv4-addr:value = '1.2.3.4']\n",
    "\t[domain-name:value = 'evil.com'\r\nOR url:value = 'http://evil.com/']",
    "[file:hashes.'SHA-256' = '" + SHA256 + "' AND file:hashes.MD5 = '" + MD5 + "']",
    "[file:'hashes'.'MD5' = '" + MD5 + "']",
    "[file:hashes.md5 = '" + MD5 + "']",
    "[file:name = 'it\\'s.exe' OR file:name = 'C:\\\\x\\\\y.exe']",
    "[file:name = 'a\\b']",  # \b is not an escape the grammar allows
    "[file:name = 'unterminated]",
    "[file:name = 'x'' OR file:name = 'y']",
    "[file:name = '']",
    "[url:value = 'http://x/]' OR url:value = 'http://y/[']",
    "[url:value = 'a OR b:c = ''']",
    "[ipv4-addr:value = '1.2.3.4' or ipv4-addr:value = '5.6.7.8']",
    "[ipv4-addr:value = '1.2.3.4' OR]",
    "[ipv4-addr:value = '1.2.3.4'OR ipv4-addr:value = '5.6.7.8']",
    "[ipv4-addr:value == '1.2.3.4']",
    '[ipv4-addr:value = "1.2.3.4"]',
    "[ipv4-addr:value = '1.2.3.4'",
    "ipv4-addr:value = '1.2.3.4'",
    "[[ipv4-addr:value = '1.2.3.4']]",
    "[ipv4-addr:value = '1.2.3.4'] [ipv4-addr:value = '5.6.7.8']",
    "[ipv4-addr:value = '1.2.3.4'] OR [ipv4-addr:value = '5.6.7.8']",
    "[ipv4-addr:value = '1.2.3.4'] AND [domain-name:value = 'x.com']",
    "[ipv4-addr : value = '1.2.3.4']",
    "[ipv4-addr:value = '1.2.3.4' /* comment */]",
    "[ipv4-addr:value = '1.2.3.4'] // comment",
    "[ipv4-addr:value\u00a0= '1.2.3.4']",
    "[ipv4-addr:value\x1c= '1.2.3.4']",
    "[IN:value = '1.2.3.4']",
    "[x:IN = '1.2.3.4']",
    "[x:true = '1.2.3.4']",
    "[x:'IN' = '1.2.3.4']",
    "[x:a.OR = 'v']",
    "[x-y:a-b = 'v']",
    "[x-:a = 'v']",
    "[-x:a = 'v']",
    "[1x:a = 'v']",
    "[x:a.b.c.d = 'v']",
    "[x:a.'b c'.d = 'v']",
    "[x:a[0] = 'v']",
    "[x:a.5 = 'v']",
    "[x:a = 5]",
    "[x:a = true]",
    "[x:a = h'00ff']",
    "[x:a = b'AAAA']",
    "[x:a = t'2020-01-01T00:00:00Z']",
    "[x:a = 'v' AND (x:b = 'w' OR x:c = 'u')]",
    "[ipv4-addr:value = '1.2.3.4'] WITHIN 5 SECONDS",
    "[ipv4-addr:value = '1.2.3.4'] REPEATS 2 TIMES",
    "[ipv4-addr:value = '1.2.3.4'] START t'2020-01-01T00:00:00Z' STOP t'2020-01-02T00:00:00Z'",
    "[ipv4-addr:value = '1.2.3.4'] START '2020-01-01T00:00:00Z' STOP '2020-01-02T00:00:00Z'",
    "[ipv4-addr:value = '1.2.3.4'] FOLLOWEDBY [ipv4-addr:value = '5.6.7.8']",
    "[ipv4-addr:value != '1.2.3.4']",
    "[ipv4-addr:value NOT = '1.2.3.4']",
    "[ipv4-addr:value NOT != '1.2.3.4']",
    "[ipv4-addr:value IN ('1.2.3.4', '5.6.7.8', 3)]",
    "[ipv4-addr:value NOT IN ('1.2.3.4')]",
    "[ipv4-addr:value ISSUBSET '10.1.2.3/8']",
    "[ipv6-addr:value ISSUPERSET '2001:db8::/32']",
    "[domain-name:value LIKE '%.evil.com']",
    "[domain-name:value MATCHES '^evil']",
    "[network-traffic:dst_ref.value = '1.2.3.4' AND network-traffic:src_ref.value = 'evil.com']",
    "[network-traffic:dst_port > 1024]",
    "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '1.2.3.4'"
    " AND network-traffic:dst_port = 443]",
    "[network-traffic:dst_port = 0]",
    "[network-traffic:dst_port = 080]",
    "[network-traffic:dst_port = +80]",
    "[network-traffic:dst_port = -80]",
    "[network-traffic:dst_port = 80.5]",
    "[network-traffic:dst_port = 80abc]",
    "[network-traffic:dst_port = 80'x']",
    "[network-traffic:dst_port = 80 AND network-traffic:dst_ref.value = 'evil.com']",
    "[network-traffic:dst_port = 80]OR[network-traffic:dst_port = 81]",
    "[network-traffic:dst_port = 99999999999999999999999]",
    "[email-message:from_ref.value = 'A@Evil.com' OR email-message:sender_ref.value = 'b@x.com']",
    "[email-message:to_refs[*].value = 'a@evil.com']",
    "[x509-certificate:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']",
    "[artifact:hashes.'SHA-512' = '" + "ab" * 64 + "']",
    "[file:hashes.'SHA-256' = '" + MD5 + "']",
    "[file:hashes.'SHA-224' = '" + "ab" * 28 + "']",
    "[domain-name:value = 'evil.com' OR domain-name:value = 'EVIL.com']",
    "[url:value = 'http://a/\u00e4' OR url:value = 'http://a/\U0001f600']",
    "[EXISTS file:name]",
    "[file:name = 'x'] AND",
    "[]",
    "",
]


def _outcome(function: object, pattern: str) -> PatternObservables | str:
    assert callable(function)
    try:
        result = function(pattern)
    except PatternError as exc:
        return f"error: {exc}"
    assert isinstance(result, PatternObservables)
    return result


def _assert_fast_path_agrees(pattern: str) -> bool:
    """True if the fast path applied; fails if it disagrees with the parser."""
    fast = fast_path_observables(pattern)
    if fast is None:
        return False
    assert _outcome(parse_observables, pattern) == fast, pattern
    return True


@pytest.mark.parametrize("pattern", TRICKY)
def test_fast_path_agrees_with_the_parser_on_tricky_patterns(pattern: str) -> None:
    _assert_fast_path_agrees(pattern)
    assert _outcome(observables_from_pattern, pattern) == _outcome(parse_observables, pattern)


def test_fast_path_covers_the_common_forms() -> None:
    applies = [pattern for pattern in TRICKY if fast_path_observables(pattern) is not None]
    assert "[ipv4-addr:value = '1.2.3.4']" in applies
    assert "[file:name = 'it\\'s.exe' OR file:name = 'C:\\\\x\\\\y.exe']" in applies
    assert "[ipv4-addr:value = '1.2.3.4'] OR [ipv4-addr:value = '5.6.7.8']" not in applies
    assert "[file:name = 'a\\b']" not in applies
    # accord.ingest.ioc_lists writes ip:port entries this way: thousands per maltrail trail, so
    # they must not need the ANTLR parser (about 5 ms each).
    assert (
        "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = "
        "'1.2.3.4' AND network-traffic:dst_port = 443]" in applies
    )


def test_fast_path_agrees_with_the_parser_on_unit42(shared_data: Path) -> None:
    patterns = _unit42_patterns()
    assert len(patterns) == 2474
    fast = sum(_assert_fast_path_agrees(pattern) for pattern in patterns)
    assert fast == len(patterns)  # every Unit 42 pattern is a single '=' comparison


def test_fast_path_agrees_with_the_parser_on_the_matcher_vectors(shared_data: Path) -> None:
    patterns = _vector_patterns()
    assert len(patterns) == 286
    fast = sum(_assert_fast_path_agrees(pattern) for pattern in patterns)
    assert 0 < fast < len(patterns)  # most vectors compare numbers or use other operators


_FRAGMENTS = [
    "[",
    "]",
    "(",
    ")",
    " ",
    "\n",
    ":",
    ".",
    "=",
    " = ",
    "!=",
    "'",
    "\\",
    "\\'",
    "\\\\",
    ",",
    "ipv4-addr",
    "domain-name",
    "file",
    "x-y",
    "value",
    "hashes",
    "'SHA-256'",
    "MD5",
    "name",
    "'1.2.3.4'",
    "'evil.com'",
    "'a b'",
    "' OR '",
    " OR ",
    " AND ",
    "OR",
    "IN",
    "true",
    "b",
    "t",
    "h",
    "5",
    "-",
    "*",
    "/*",
    "*/",
    "//",
    "FOLLOWEDBY",
    "WITHIN 5 SECONDS",
    "0",
    "443",
    "+",
    "1e3",
    "é",
]


_VALID = [
    "[", "ipv4-addr", ":", "value", " = ", "'1.2.3.4'", " OR ", "file", ":", "hashes", ".",
    "'SHA-256'", " = ", "'" + SHA256 + "'", " AND ", "domain-name", ":", "value", " = ",
    "'evil.com'", " AND ", "network-traffic", ":", "dst_port", " = ", "443", "]",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=24).map("".join))
def test_fast_path_never_accepts_what_the_parser_rejects(pattern: str) -> None:
    _assert_fast_path_agrees(pattern)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, len(_VALID)), st.sampled_from(["insert", "delete", "replace"]),
                  st.sampled_from(_FRAGMENTS)),
        min_size=1,
        max_size=3,
    )
)  # fmt: skip
def test_fast_path_on_mutated_valid_patterns(mutations: list[tuple[int, str, str]]) -> None:
    tokens = list(_VALID)
    for position, action, fragment in mutations:
        if action == "insert":
            tokens.insert(position, fragment)
        elif tokens:
            index = min(position, len(tokens) - 1)
            if action == "delete":
                del tokens[index]
            else:
                tokens[index] = fragment
    _assert_fast_path_agrees("".join(tokens))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["ipv4-addr:value", "domain-name:value", "file:hashes.'SHA-256'"]),
            st.text(alphabet=st.sampled_from(list("ab.'\\ ]1[")), max_size=8),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_fast_path_on_generated_comparisons(comparisons: list[tuple[str, str]]) -> None:
    # Values quoted correctly, and sometimes not (the raw text may hold ' and \ unescaped).
    escaped = [
        f"{path} = '{v.replace(chr(92), chr(92) * 2).replace(chr(39), chr(92) + chr(39))}'"
        for path, v in comparisons
    ]
    raw = [f"{path} = '{v}'" for path, v in comparisons]
    for parts in (escaped, raw):
        _assert_fast_path_agrees("[" + " OR ".join(parts) + "]")
        _assert_fast_path_agrees("[" + " AND ".join(parts) + "]")


@pytest.mark.parametrize(
    ("pattern", "expected", "simple"),
    [
        (
            "[file:hashes.'SHA-256' = '" + SHA256.upper() + "']",
            [("file:hashes.'SHA-256'", _obs("sha256", SHA256))],
            True,
        ),
        (
            "[file:hashes.MD5 = '" + MD5 + "' OR file:hashes.'SHA-256' = '" + MD5 + "']",
            [("file:hashes.MD5", _obs("md5", MD5))],  # an MD5 under SHA-256 is skipped
            True,
        ),
        (
            "[ipv4-addr:value = '10.1.2.3/8'] OR [ipv6-addr:value = '::ffff:1.2.3.4']",
            [
                ("ipv4-addr:value", _obs("ipv4-net", "10.0.0.0/8")),
                ("ipv6-addr:value", _obs("ipv4", "1.2.3.4")),
            ],
            True,
        ),
        (
            "[domain-name:value IN ('A.com', 'b.com', 3)] WITHIN 60 SECONDS",
            [
                ("domain-name:value", _obs("domain", "a.com")),
                ("domain-name:value", _obs("domain", "b.com")),
            ],
            False,
        ),
        (
            "[ipv4-addr:value ISSUBSET '10.1.2.3/8' AND domain-name:value LIKE '%.x.com']",
            [("ipv4-addr:value", _obs("ipv4-net", "10.0.0.0/8"))],
            False,
        ),
        (
            "[url:value != 'http://x.com/' AND url:value NOT = 'http://y.com/']",
            [],
            False,
        ),
        (
            "[network-traffic:dst_ref.value = '1.2.3.4'"
            " AND network-traffic:src_ref.value = 'X.com']"
            " FOLLOWEDBY [email-message:from_ref.value = 'a@X.com']",
            [
                ("network-traffic:dst_ref.value", _obs("ipv4", "1.2.3.4")),
                ("network-traffic:src_ref.value", _obs("domain", "x.com")),
                ("email-message:from_ref.value", _obs("email", "a@x.com")),
            ],
            False,
        ),
        (
            "[url:value = 'hxxp://evil.com'] REPEATS 2 TIMES",
            # normalise() does not refang: only detect() guesses; "hxxp" is a scheme to it.
            [("url:value", Observable("url", "hxxp://evil.com/", "evil.com", rdomain="com.evil."))],
            False,
        ),
    ],
)
def test_pattern_observables(
    pattern: str, expected: list[tuple[str, Observable]], simple: bool
) -> None:
    assert observables_from_pattern(pattern) == PatternObservables(expected, simple)


def test_unit42_patterns_parse_and_are_simple(shared_data: Path) -> None:
    results = [observables_from_pattern(pattern) for pattern in _unit42_patterns()]
    assert all(result.simple for result in results)
    assert sum(bool(result.observables) for result in results) == 2474 - 19


def test_matcher_vector_patterns(shared_data: Path) -> None:
    patterns = _vector_patterns()
    problems = [pattern for pattern in patterns if pattern_problem(pattern) is not None]
    # 2.0-only syntax (START with a plain string) and the upstream error vectors.
    assert 0 < len(problems) < 40
    simple = sum(observables_from_pattern(p).simple for p in patterns if p not in problems)
    assert 0 < simple < len(patterns) - len(problems)


def test_invalid_pattern_error_is_the_parsers() -> None:
    with pytest.raises(PatternError, match=r"^1:\d+: "):
        observables_from_pattern("[ipv4-addr:value = '1.2.3.4'")
    assert pattern_problem("[ipv4-addr:value = '1.2.3.4'") is not None
    assert pattern_problem("[ipv4-addr:value = '1.2.3.4']") is None


def test_results_are_fresh_lists() -> None:
    pattern = "[ipv4-addr:value = '9.9.9.9']"
    first = observables_from_pattern(pattern)
    first.observables.clear()
    assert len(observables_from_pattern(pattern).observables) == 1


# --- validation: the grammar of the object's STIX version (issue 14, item 11) ------------------


def test_fast_path_accepts_only_what_both_grammars_accept() -> None:
    """What the fast path proves valid needs no parser, for 2.0 objects as for 2.1 ones."""
    from accord.model.patterns import pattern_problem_for

    vectors = (
        json.loads(VECTORS.read_text(encoding="utf-8"))["vectors"] if VECTORS.is_file() else []
    )
    candidates = list(dict.fromkeys([*TRICKY, *(v["pattern"] for v in vectors)]))
    accepted = 0
    for pattern in candidates:
        if fast_path_observables(pattern) is None:
            continue
        accepted += 1
        from stix2patterns.v20.pattern import Pattern as Pattern20
        from stix2patterns.v21.pattern import Pattern as Pattern21

        Pattern20(pattern)  # raises if the 2.0 grammar rejects it
        Pattern21(pattern)
        assert pattern_problem_for(pattern, "2.0") is None
        assert pattern_problem_for(pattern, "2.1") is None
    assert accepted > 10


@pytest.mark.parametrize(
    ("pattern", "grammar", "message"),
    [
        ("this is not a pattern", "2.1", "1:0: no viable alternative at input 'this'"),
        ("this is not a pattern", "2.0", "1:0: no viable alternative at input 'this'"),
        ("[ipv4-addr:value = '1.2.3.4'", "2.1", "1:28: mismatched input '<EOF>' expecting ']'"),
        ("[ipv4-addr:value = '1.2.3.4'", "2.0", "1:28: mismatched input '<EOF>' expecting ']'"),
        # EXISTS is a keyword of STIX Patterning 2.1 only.
        ("[EXISTS file:name]", "2.0", "1:8: no viable alternative at input 'EXISTSfile'"),
        ("[x-foo:EXISTS = 'a']", "2.1", "1:7: no viable alternative at input 'x-foo:EXISTS'"),
    ],
)
def test_pattern_problems_name_the_column(pattern: str, grammar: str, message: str) -> None:
    from accord.model.patterns import pattern_problem_for

    assert pattern_problem_for(pattern, grammar) == message


def test_each_grammar_accepts_its_own() -> None:
    from accord.model.patterns import pattern_problem_for

    assert pattern_problem_for("[EXISTS file:name]", "2.1") is None
    assert pattern_problem_for("[x-foo:EXISTS = 'a']", "2.0") is None
