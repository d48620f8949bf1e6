"""STIX 2.1 validation against the published examples, ATT&CK, and one crafted defect per rule."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import pytest

from accord.model.errors import Problem
from accord.model.timestamps import parse_timestamp, timestamp_error, timestamp_key
from accord.model.validation import validate_object


def _objects(path: Path) -> list[dict[str, Any]]:
    document = json.loads(path.read_text(encoding="utf-8"))
    if "objects" in document:
        return list(document["objects"])
    return [document]


def _problems(path: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for index, obj in enumerate(_objects(path)):
        problems = validate_object(obj)
        if problems:
            found[f"{path.name}[{index}] {obj.get('id')}"] = [str(p) for p in problems]
    return found


# --- published examples -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern",
    [
        "stix21/oasis-cti-documentation-examples/*.json",
        "stix21/oasis-stix2-json-schemas/examples/**/*.json",
        "stix21/tlp2-marking-definitions/marking-definition--*.json",
        "stix21/attack-flow/attack-flow-example.json",
        "stix21/attack-flow/attack-flow-extension-2.0.0.json",
        "attack/mobile-attack-17.1.json",
    ],
)
def test_published_examples_are_valid(shared_data: Path, pattern: str) -> None:
    paths = sorted(shared_data.glob(pattern))
    assert paths, pattern
    problems: dict[str, list[str]] = {}
    for path in paths:
        problems.update(_problems(path))
    assert problems == {}


@pytest.mark.parametrize(
    "name",
    ["identity", "identity_custom", "identity_unicode", "identity_warning", "tlp-amber", "tool"],
)
def test_stix_validator_valid_cases(shared_data: Path, name: str) -> None:
    path = shared_data / "stix21" / "oasis-stix-validator-tests" / f"{name}.json"
    assert _problems(path) == {}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("invalid_identity", Problem("modified", "is required")),
        ("invalid_timestamp", "modified"),
    ],
)
def test_stix_validator_invalid_cases(shared_data: Path, name: str, expected: object) -> None:
    path = shared_data / "stix21" / "oasis-stix-validator-tests" / f"{name}.json"
    [obj] = _objects(path)
    problems = validate_object(obj)
    if isinstance(expected, Problem):
        assert problems == [expected]
    else:
        assert [p.property for p in problems] == [expected]
        assert "later than created" in problems[0].reason


def test_tlp2_example_with_bad_timestamp_names_the_property(shared_data: Path) -> None:
    path = (
        shared_data
        / "stix21"
        / "tlp2-marking-definitions"
        / "using-tlp2.0-green.INVALID-timestamp.json"
    )
    results = {obj["id"]: validate_object(obj) for obj in _objects(path)}
    bad = {object_id: problems for object_id, problems in results.items() if problems}
    assert list(bad) == ["relationship--1621d4d4-b67d-11e3-9670-f01faf20d111"]
    [problem] = bad["relationship--1621d4d4-b67d-11e3-9670-f01faf20d111"]
    assert problem.property == "created"
    assert "2022-101-27T13:49:54.326Z" in problem.reason


def test_attack_enterprise_is_valid_and_fast(shared_data: Path) -> None:
    objects = _objects(shared_data / "attack" / "enterprise-attack-18.1.rebuilt-stix21.json")
    assert len(objects) > 20_000
    start = time.perf_counter()
    results = [validate_object(obj) for obj in objects]
    elapsed = time.perf_counter() - start
    # A sanity log, not an assertion: the target is well under 0.3 s on a quiet machine.
    print(f"validated {len(objects)} ATT&CK objects in {elapsed:.3f} s")
    bad = {
        obj["id"]: [str(p) for p in problems]
        for obj, problems in zip(objects, results, strict=True)
        if problems
    }
    assert bad == {}


# --- one minimal valid object per type --------------------------------------------------------

T0 = "2020-01-01T00:00:00.000Z"
T1 = "2021-01-01T00:00:00Z"
U = "0b6a3b5e-7f2c-4c1e-9d4a-1f2e3d4c5b6a"
IDENTITY = f"identity--{U}"
MARKING = f"marking-definition--{U}"
EXT_DEF = f"extension-definition--{U}"


def _sdo(kind: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "spec_version": "2.1",
        "id": f"{kind}--{U}",
        "created": T0,
        "modified": T0,
    } | extra


def _sco(kind: str, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "id": f"{kind}--{U}"} | extra


MINIMAL: dict[str, dict[str, Any]] = {
    "attack-pattern": _sdo("attack-pattern", name="Spearphishing"),
    "campaign": _sdo("campaign", name="Operation X"),
    "course-of-action": _sdo("course-of-action", name="Patch"),
    "grouping": _sdo("grouping", context="suspicious-activity", object_refs=[IDENTITY]),
    "identity": _sdo("identity", name="ACME"),
    "incident": _sdo("incident", name="Breach"),
    "indicator": _sdo(
        "indicator",
        pattern="[ipv4-addr:value = '198.51.100.1']",
        pattern_type="stix",
        valid_from=T0,
    ),
    "infrastructure": _sdo("infrastructure", name="C2"),
    "intrusion-set": _sdo("intrusion-set", name="APT-X"),
    "location": _sdo("location", country="ch"),
    "malware": _sdo("malware", name="Evil", is_family=True),
    "malware-analysis": _sdo("malware-analysis", product="sandbox", result="malicious"),
    "note": _sdo("note", content="seen twice", object_refs=[IDENTITY]),
    "observed-data": _sdo(
        "observed-data",
        first_observed=T0,
        last_observed=T0,
        number_observed=1,
        object_refs=[f"ipv4-addr--{U}"],
    ),
    "opinion": _sdo("opinion", opinion="agree", object_refs=[IDENTITY]),
    "report": _sdo("report", name="Q1", published=T0, object_refs=[IDENTITY]),
    "threat-actor": _sdo("threat-actor", name="Bravo"),
    "tool": _sdo("tool", name="nmap"),
    "vulnerability": _sdo("vulnerability", name="CVE-2021-44228"),
    "relationship": _sdo(
        "relationship",
        relationship_type="uses",
        source_ref=f"threat-actor--{U}",
        target_ref=f"malware--{U}",
    ),
    "sighting": _sdo("sighting", sighting_of_ref=f"indicator--{U}"),
    "language-content": _sdo(
        "language-content", object_ref=f"campaign--{U}", contents={"de": {"name": "Kampagne"}}
    ),
    "extension-definition": _sdo(
        "extension-definition",
        created_by_ref=IDENTITY,
        name="x",
        schema="https://example.org/s.json",
        version="1.0",
        extension_types=["property-extension"],
    ),
    "marking-definition": {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": MARKING,
        "created": T0,
        "definition_type": "statement",
        "definition": {"statement": "Copyright ACME"},
    },
    "artifact": _sco("artifact", payload_bin="aGVsbG8="),
    "autonomous-system": _sco("autonomous-system", number=15169),
    "directory": _sco("directory", path="C:\\Windows"),
    "domain-name": _sco("domain-name", value="example.com"),
    "email-addr": _sco("email-addr", value="a@example.com"),
    "email-message": _sco("email-message", is_multipart=False),
    "file": _sco("file", hashes={"SHA-256": "ab" * 32}),
    "ipv4-addr": _sco("ipv4-addr", value="198.51.100.1"),
    "ipv6-addr": _sco("ipv6-addr", value="2001:db8::1"),
    "mac-addr": _sco("mac-addr", value="00:00:5e:00:53:01"),
    "mutex": _sco("mutex", name="Global\\x"),
    "network-traffic": _sco("network-traffic", protocols=["tcp"], dst_ref=f"ipv4-addr--{U}"),
    "process": _sco("process", pid=4),
    "software": _sco("software", name="Word"),
    "url": _sco("url", value="https://example.com/"),
    "user-account": _sco("user-account", user_id="1001"),
    "windows-registry-key": _sco("windows-registry-key", key="HKEY_LOCAL_MACHINE\\System"),
    "x509-certificate": _sco("x509-certificate", serial_number="01"),
    "x-acme-widget": _sdo("x-acme-widget", colour="blue"),
    "tlp2-marking": {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": MARKING,
        "created": T0,
        "name": "TLP:GREEN",
        "extensions": {EXT_DEF: {"extension_type": "property-extension", "tlp_2_0": "green"}},
    },
    "custom-sco": _sco("x-acme-thing", extensions={EXT_DEF: {"extension_type": "new-sco"}}),
}


@pytest.mark.parametrize("name", sorted(MINIMAL))
def test_minimal_object_is_valid(name: str) -> None:
    assert validate_object(MINIMAL[name]) == []


def test_custom_properties_and_open_vocabularies_are_accepted() -> None:
    obj = MINIMAL["identity"] | {
        "identity_class": "not-in-the-vocabulary",
        "x_acme_score": [1, 2],
        "sectors": ["space-pirates"],
        "x_vendor_ref": "",  # a custom _ref, as ATT&CK writes x_mitre_data_source_ref: ""
    }
    assert validate_object(obj) == []


def test_spec_version_optional_on_sco_but_checked_when_present() -> None:
    assert validate_object(MINIMAL["url"] | {"spec_version": "2.1"}) == []
    [problem] = validate_object(MINIMAL["url"] | {"spec_version": "2.0"})
    assert problem.property == "spec_version"


# --- crafted defects, one per rule --------------------------------------------------------------

DELETE = object()

NEGATIVES: list[tuple[str, dict[str, Any], str | None]] = [
    # (base, changes (DELETE removes the key), expected property of the first problem)
    ("identity", {"type": DELETE}, "type"),
    ("identity", {"type": "Identity"}, "type"),
    ("identity", {"id": DELETE}, "id"),
    ("identity", {"id": "identity--not-a-uuid"}, "id"),
    ("identity", {"id": f"campaign--{U}"}, "id"),
    ("identity", {"spec_version": DELETE}, "spec_version"),
    ("identity", {"spec_version": "2.0"}, "spec_version"),
    ("identity", {"created": DELETE}, "created"),
    ("identity", {"modified": DELETE}, "modified"),
    ("identity", {"created": "2020-01-01 00:00:00Z"}, "created"),
    ("identity", {"created": "2020-01-01T00:00:00+01:00"}, "created"),
    ("identity", {"created": "2020-02-30T00:00:00Z"}, "created"),
    ("identity", {"modified": "2019-12-31T23:59:59.999Z"}, "modified"),
    ("identity", {"created_by_ref": f"campaign--{U}"}, "created_by_ref"),
    ("identity", {"revoked": "yes"}, "revoked"),
    ("identity", {"labels": "apt"}, "labels"),
    ("identity", {"labels": []}, "labels"),
    ("identity", {"labels": ["ok", 3]}, "labels[1]"),
    ("identity", {"confidence": 101}, "confidence"),
    ("identity", {"confidence": True}, "confidence"),
    ("identity", {"lang": 7}, "lang"),
    (
        "identity",
        {"external_references": [{"url": "https://x"}]},
        "external_references[0].source_name",
    ),
    ("identity", {"external_references": [{"source_name": "x"}]}, "external_references[0]"),
    (
        "identity",
        {"external_references": [{"source_name": "x", "url": "u", "hashes": {"MD5": 5}}]},
        "external_references[0].hashes.MD5",
    ),
    ("identity", {"object_marking_refs": [IDENTITY]}, "object_marking_refs[0]"),
    ("identity", {"granular_markings": [{"selectors": ["name"]}]}, "granular_markings[0]"),
    (
        "identity",
        {"granular_markings": [{"marking_ref": MARKING}]},
        "granular_markings[0].selectors",
    ),
    (
        "identity",
        {"granular_markings": [{"selectors": ["name"], "marking_ref": MARKING, "lang": "de"}]},
        "granular_markings[0]",
    ),
    ("identity", {"extensions": {"bogus": {"a": 1}}}, "extensions.bogus"),
    (
        "identity",
        {"extensions": {EXT_DEF: {"extension_type": "new-thing"}}},
        f"extensions.{EXT_DEF}.extension_type",
    ),
    ("identity", {"extensions": {}}, "extensions"),
    ("identity", {"identity_class": ["unknown"]}, "identity_class"),
    ("identity", {"name": DELETE}, "name"),
    (
        "attack-pattern",
        {"kill_chain_phases": [{"kill_chain_name": "mitre-attack"}]},
        "kill_chain_phases[0].phase_name",
    ),
    ("campaign", {"first_seen": T1, "last_seen": T0}, "last_seen"),
    ("intrusion-set", {"first_seen": T1, "last_seen": T0}, "last_seen"),
    ("threat-actor", {"first_seen": T1, "last_seen": T0}, "last_seen"),
    ("infrastructure", {"first_seen": T1, "last_seen": T0}, "last_seen"),
    ("grouping", {"context": DELETE}, "context"),
    ("grouping", {"object_refs": []}, "object_refs"),
    ("indicator", {"pattern_type": DELETE}, "pattern_type"),
    ("indicator", {"valid_from": DELETE}, "valid_from"),
    ("indicator", {"valid_until": T0}, "valid_until"),
    ("location", {"country": DELETE}, None),
    ("location", {"latitude": 10.0}, "longitude"),
    ("location", {"latitude": 91.0, "longitude": 0.0}, "latitude"),
    ("malware", {"is_family": DELETE}, "is_family"),
    ("malware", {"is_family": "true"}, "is_family"),
    ("malware", {"name": DELETE}, "name"),
    ("malware-analysis", {"result": DELETE}, None),
    ("note", {"content": DELETE}, "content"),
    ("observed-data", {"number_observed": 0}, "number_observed"),
    ("observed-data", {"number_observed": 1_000_000_000}, "number_observed"),
    ("observed-data", {"last_observed": "2019-01-01T00:00:00Z"}, "last_observed"),
    ("observed-data", {"object_refs": DELETE}, None),
    ("observed-data", {"objects": {"0": {"type": "file", "name": "a"}}}, None),
    ("opinion", {"opinion": "maybe"}, "opinion"),
    ("report", {"published": DELETE}, "published"),
    ("report", {"object_refs": [IDENTITY, "nope"]}, "object_refs[1]"),
    ("threat-actor", {"name": DELETE}, "name"),
    ("tool", {"name": 5}, "name"),
    ("vulnerability", {"name": DELETE}, "name"),
    ("relationship", {"relationship_type": DELETE}, "relationship_type"),
    ("relationship", {"source_ref": f"relationship--{U}"}, "source_ref"),
    ("relationship", {"target_ref": "malware"}, "target_ref"),
    ("sighting", {"sighting_of_ref": DELETE}, "sighting_of_ref"),
    ("sighting", {"count": -1}, "count"),
    ("sighting", {"first_seen": T1, "last_seen": T0}, "last_seen"),
    ("sighting", {"where_sighted_refs": [f"malware--{U}"]}, "where_sighted_refs[0]"),
    ("marking-definition", {"created": DELETE}, "created"),
    ("marking-definition", {"definition": DELETE}, "definition"),
    ("marking-definition", {"definition": DELETE, "definition_type": DELETE}, None),
    ("language-content", {"contents": DELETE}, "contents"),
    ("extension-definition", {"extension_types": ["new-thing"]}, "extension_types[0]"),
    ("extension-definition", {"created_by_ref": DELETE}, "created_by_ref"),
    ("extension-definition", {"schema": DELETE}, "schema"),
    ("artifact", {"payload_bin": DELETE}, None),
    ("artifact", {"payload_bin": DELETE, "url": "https://x/a.bin"}, "hashes"),
    ("artifact", {"encryption_algorithm": "rot13"}, "encryption_algorithm"),
    ("autonomous-system", {"number": "AS1"}, "number"),
    ("directory", {"path": DELETE}, "path"),
    ("domain-name", {"value": DELETE}, "value"),
    ("domain-name", {"resolves_to_refs": [f"url--{U}"]}, "resolves_to_refs[0]"),
    ("email-addr", {"value": DELETE}, "value"),
    ("email-message", {"is_multipart": DELETE}, "is_multipart"),
    ("email-message", {"is_multipart": True, "body": "hi"}, "body"),
    ("file", {"hashes": DELETE}, None),
    ("file", {"hashes": {"MD5": 1}}, "hashes.MD5"),
    ("file", {"size": -1}, "size"),
    ("ipv4-addr", {"value": DELETE}, "value"),
    ("ipv6-addr", {"value": DELETE}, "value"),
    ("mac-addr", {"value": DELETE}, "value"),
    ("mutex", {"name": DELETE}, "name"),
    ("network-traffic", {"protocols": DELETE}, "protocols"),
    ("network-traffic", {"dst_ref": DELETE}, None),
    ("network-traffic", {"dst_port": 70000}, "dst_port"),
    ("process", {"pid": "4"}, "pid"),
    ("software", {"name": DELETE}, "name"),
    ("url", {"value": DELETE}, "value"),
    ("user-account", {"is_privileged": "no"}, "is_privileged"),
    ("windows-registry-key", {"modified_time": "yesterday"}, "modified_time"),
    (
        "x509-certificate",
        {"validity_not_before": "2021-01-01"},
        "validity_not_before",
    ),
    ("url", {"defanged": 1}, "defanged"),
    ("x-acme-widget", {"modified": DELETE}, "modified"),
    ("x-acme-widget", {"spec_version": DELETE}, "spec_version"),
]


@pytest.mark.parametrize(
    ("base", "changes", "expected"),
    NEGATIVES,
    ids=[
        f"{base}-{'-'.join(changes)}-{index}" for index, (base, changes, _) in enumerate(NEGATIVES)
    ],
)
def test_each_rule_rejects_its_defect(
    base: str, changes: dict[str, Any], expected: str | None
) -> None:
    obj = copy.deepcopy(MINIMAL[base])
    for key, value in changes.items():
        if value is DELETE:
            obj.pop(key, None)
        else:
            obj[key] = value
    problems = validate_object(obj)
    assert problems, f"{base} with {changes} should be invalid"
    assert problems[0].property == expected, [str(p) for p in problems]
    assert all(p.reason for p in problems)


def test_not_an_object() -> None:
    assert validate_object([]) == [Problem(None, "a STIX object must be a JSON object, not list")]  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [["indicator"], {"type": "indicator"}, 5, "Bad_Type", "x"])
def test_type_and_id_of_any_json_kind_are_reported_not_raised(value: object) -> None:
    # Valid types and identifiers are remembered: a bad one is reported every time.
    for _ in range(2):
        problems = validate_object({"type": value, "id": value, "spec_version": "2.1"})
        assert [p.property for p in problems[:2]] == ["type", "id"]


def test_problem_str() -> None:
    assert str(Problem("created", "is required")) == "created: is required"
    assert str(Problem(None, "needs one of a, b")) == "needs one of a, b"


# --- timestamps (STIX 2.1 §3.2) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("2016-05-12T08:17:27Z", "2016-05-12T08:17:27.000000Z"),
        ("2016-05-12T08:17:27.1Z", "2016-05-12T08:17:27.100000Z"),
        ("2016-05-12T08:17:27.123456Z", "2016-05-12T08:17:27.123456Z"),
        ("2016-05-12T08:17:27.123456789Z", "2016-05-12T08:17:27.123456Z"),
        ("2016-02-29T23:59:59.000Z", "2016-02-29T23:59:59.000000Z"),
    ],
)
def test_timestamp_key_and_parse(text: str, key: str) -> None:
    assert timestamp_key(text) == key
    parsed = parse_timestamp(text)
    assert parsed.isoformat(timespec="microseconds").replace("+00:00", "Z") == key
    assert parsed.utcoffset() is not None


@pytest.mark.parametrize(
    "text",
    [
        "2016-05-12T08:17:27",
        "2016-05-12T08:17:27+00:00",
        "2016-05-12t08:17:27z",
        "2016-05-12 08:17:27Z",
        "2016-05-12T08:17:27.Z",
        "2016-13-01T00:00:00Z",
        "2015-02-29T00:00:00Z",
        "2016-04-31T00:00:00Z",
        "2016-05-12T24:00:00Z",
        "0000-01-01T00:00:00Z",
        "",
        20160512,
        None,
    ],
)
def test_bad_timestamps_raise_value_error(text: object) -> None:
    with pytest.raises(ValueError, match="RFC 3339"):
        parse_timestamp(text)
    with pytest.raises(ValueError, match="RFC 3339"):
        timestamp_key(text)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value",
    ["2016-05-12T08:17:27Z", "2016-01-31T08:17:27.5Z", "2016-04-31T00:00:00Z", ["x"], {"a": 1}],
)
def test_remembered_timestamp_answers_are_the_first_ones(value: object) -> None:
    first = timestamp_error(value)
    assert timestamp_error(value) == first
    if first is None:
        assert (
            timestamp_key(value)
            == timestamp_key(value)
            == parse_timestamp(value)
            .isoformat(  # type: ignore[arg-type]
                timespec="microseconds"
            )
            .replace("+00:00", "Z")
        )
    else:
        for _ in range(2):
            with pytest.raises(ValueError, match="RFC 3339"):
                timestamp_key(value)  # type: ignore[arg-type]


def test_keys_sort_like_instants() -> None:
    values = ["2020-01-01T00:00:00.5Z", "2020-01-01T00:00:00Z", "2020-01-01T00:00:00.123Z"]
    assert sorted(values, key=timestamp_key) == sorted(values, key=parse_timestamp)


# --- STIX patterns (issue 14, item 11) ----------------------------------------------------------


def _indicator(pattern: str, pattern_type: str = "stix") -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "pattern": pattern,
        "pattern_type": pattern_type,
        "valid_from": "2026-01-01T00:00:00Z",
    }


@pytest.mark.parametrize(
    ("pattern", "column"),
    [("this is not a pattern", "1:0"), ("[ipv4-addr:value = '1.2.3.4'", "1:28")],
)
def test_an_invalid_stix_pattern_is_a_problem(pattern: str, column: str) -> None:
    problems = validate_object(_indicator(pattern))
    assert [p.property for p in problems] == ["pattern"]
    assert problems[0].reason.startswith(f"is not a valid STIX 2.1 pattern: {column}: ")


def test_patterns_of_other_languages_are_not_parsed() -> None:
    assert validate_object(_indicator("this is not a pattern", "sigma")) == []
    assert validate_object(_indicator("[ipv4-addr:value = '1.2.3.4']")) == []


def test_a_2_0_pattern_is_checked_with_the_2_0_grammar() -> None:
    only_20 = _indicator("[x-foo:EXISTS = 'a']")
    assert validate_object(only_20, "2.0") == []
    assert [p.property for p in validate_object(only_20)] == ["pattern"]
    only_21 = _indicator("[EXISTS file:name]")
    assert validate_object(only_21) == []
    problems = validate_object(only_21, "2.0")
    assert "is not a valid STIX 2.0 pattern: 1:8:" in str(problems[0])
