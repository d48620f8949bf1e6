"""STIX 2.0 -> 2.1: the real Unit 42 bundles, and each rule of docs/stix20-upgrade.md."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from accord.model.errors import StixError
from accord.model.upgrade import bundle_spec_version, upgrade_object
from accord.model.validation import validate_object

UNIT42 = Path("stix20") / "unit42-stix2-reports" / "report_json"

# ../shared/data/MANIFEST.md: eight bundles that are invalid for real, and must stay visibly so
# after upgrade.
INVALID = {
    "AstarothMalware.json": {"identity_class"},
    "IcedID_Malware.json": {"identity_class"},
    "MatrixRansowmare_IOCs.json": {"last_seen"},
    "Zeppelin_TA.json": {"last_seen"},
    "cve-2023-23397.json": {"identity_class", "last_seen"},
    "malicious-nod-detection.json": {"identity_class"},
    "qakbotmalware.json": {"identity_class"},
    "realtek-sdk-cve-2021-35394.json": {"identity_class"},
}


def _bundle(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def test_unit42_bundles_upgrade_and_only_the_known_defects_remain(shared_data: Path) -> None:
    paths = sorted((shared_data / UNIT42).glob("*.json"))
    assert len(paths) == 62
    invalid: dict[str, set[str | None]] = {}
    for path in paths:
        bundle = _bundle(path)
        assert bundle_spec_version(bundle) == "2.0", path.name
        for obj in bundle["objects"]:
            upgraded, changes = upgrade_object(obj)
            assert changes, obj["id"]
            assert upgraded["spec_version"] == "2.1"
            for problem in validate_object(upgraded):
                invalid.setdefault(path.name, set()).add(problem.property)
    assert invalid == INVALID


def test_unit42_identity_class_list_is_reported_not_hidden(shared_data: Path) -> None:
    bundle = _bundle(shared_data / UNIT42 / "AstarothMalware.json")
    [identity] = [o for o in bundle["objects"] if isinstance(o.get("identity_class"), list)]
    upgraded, _ = upgrade_object(identity)
    assert upgraded["identity_class"] == identity["identity_class"]
    [problem] = validate_object(upgraded)
    assert problem.property == "identity_class"
    assert "string" in problem.reason


def test_unit42_campaign_seen_order_is_reported_not_hidden(shared_data: Path) -> None:
    bundle = _bundle(shared_data / UNIT42 / "Zeppelin_TA.json")
    [campaign] = [o for o in bundle["objects"] if o["type"] == "campaign"]
    upgraded, _ = upgrade_object(campaign)
    [problem] = validate_object(upgraded)
    assert problem.property == "last_seen"
    assert campaign["last_seen"] in problem.reason and campaign["first_seen"] in problem.reason


# --- rules ------------------------------------------------------------------------------------

U = "0b6a3b5e-7f2c-4c1e-9d4a-1f2e3d4c5b6a"
T0 = "2020-01-01T00:00:00.000Z"


def _v20(kind: str, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "id": f"{kind}--{U}", "created": T0, "modified": T0} | extra


def test_spec_version_goes_after_type_and_order_is_kept() -> None:
    obj = {
        "id": f"campaign--{U}",
        "type": "campaign",
        "created": T0,
        "modified": T0,
        "name": "C",
        "x_custom": 1,
    }
    upgraded, changes = upgrade_object(obj)
    assert list(upgraded) == [
        "id",
        "type",
        "spec_version",
        "created",
        "modified",
        "name",
        "x_custom",
    ]
    assert changes == ['spec_version: set to "2.1"']
    assert validate_object(upgraded) == []


def test_malware_labels_become_malware_types_and_is_family_is_added() -> None:
    obj = _v20("malware", name="Evil", labels=["trojan"], description="d")
    upgraded, changes = upgrade_object(obj)
    assert list(upgraded) == [
        "type",
        "spec_version",
        "id",
        "created",
        "modified",
        "name",
        "malware_types",
        "description",
        "is_family",
    ]
    assert upgraded["malware_types"] == ["trojan"] and upgraded["is_family"] is True
    assert "labels" not in upgraded
    assert len(changes) == 3
    assert validate_object(upgraded) == []


def test_malware_is_family_already_present_is_kept() -> None:
    upgraded, _ = upgrade_object(_v20("malware", name="Evil", is_family=False, labels=["x"]))
    assert upgraded["is_family"] is False


def test_indicator_labels_and_pattern_type() -> None:
    obj = _v20(
        "indicator",
        labels=["malicious-activity"],
        pattern="[url:value = 'http://x/']",
        valid_from=T0,
    )
    upgraded, changes = upgrade_object(obj)
    keys = list(upgraded)
    assert keys.index("pattern_type") == keys.index("pattern") + 1
    assert upgraded["pattern_type"] == "stix"
    assert upgraded["indicator_types"] == ["malicious-activity"]
    assert any("pattern_type" in change for change in changes)
    assert validate_object(upgraded) == []


def test_indicator_pattern_type_already_present_is_kept() -> None:
    # Unit 42 wrote pattern_type into some 2.0 indicators already.
    obj = _v20(
        "indicator", labels=["x"], pattern="[url:value = 'u']", pattern_type="stix", valid_from=T0
    )
    upgraded, changes = upgrade_object(obj)
    assert list(upgraded).count("pattern_type") == 1
    assert not any("pattern_type" in change for change in changes)


@pytest.mark.parametrize(
    ("kind", "target", "extra"),
    [
        ("threat-actor", "threat_actor_types", {"name": "TA"}),
        ("tool", "tool_types", {"name": "nmap"}),
        (
            "report",
            "report_types",
            {"name": "R", "published": T0, "object_refs": [f"identity--{U}"]},
        ),
    ],
)
def test_labels_become_type_vocabulary(kind: str, target: str, extra: dict[str, Any]) -> None:
    upgraded, _ = upgrade_object(_v20(kind, labels=["a", "b"], **extra))
    assert upgraded[target] == ["a", "b"] and "labels" not in upgraded
    assert validate_object(upgraded) == []


def test_labels_kept_where_types_already_present() -> None:
    upgraded, changes = upgrade_object(_v20("tool", name="t", labels=["l"], tool_types=["t"]))
    assert upgraded["labels"] == ["l"] and upgraded["tool_types"] == ["t"]
    assert any("kept" in change for change in changes)


def test_labels_on_other_types_are_left_alone() -> None:
    upgraded, _ = upgrade_object(_v20("attack-pattern", name="AP", labels=["x"]))
    assert upgraded["labels"] == ["x"]


def test_identity_class_is_unchanged() -> None:
    upgraded, changes = upgrade_object(_v20("identity", name="I", identity_class="organization"))
    assert upgraded["identity_class"] == "organization"
    assert changes == ['spec_version: set to "2.1"']


def test_observed_data_objects_are_kept() -> None:
    objects = {"0": {"type": "file", "hashes": {"MD5": "0" * 32}}}
    obj = _v20(
        "observed-data", first_observed=T0, last_observed=T0, number_observed=1, objects=objects
    )
    upgraded, _ = upgrade_object(obj)
    assert upgraded["objects"] == objects
    assert validate_object(upgraded) == []


def test_tlp1_marking_definition_is_kept() -> None:
    tlp_white = {
        "type": "marking-definition",
        "id": "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
        "created": "2017-01-20T00:00:00.000Z",
        "definition_type": "tlp",
        "definition": {"tlp": "white"},
    }
    upgraded, _ = upgrade_object(tlp_white)
    assert {k: v for k, v in upgraded.items() if k != "spec_version"} == tlp_white
    assert validate_object(upgraded) == []


def test_input_is_not_mutated_and_extensions_are_kept() -> None:
    obj = _v20("malware", name="m", labels=["x"], x_vendor={"deep": [1]})
    before = copy.deepcopy(obj)
    upgraded, _ = upgrade_object(obj)
    assert obj == before
    assert upgraded["x_vendor"] == {"deep": [1]}


def test_already_21_object_comes_back_unchanged() -> None:
    obj = _v20("tool", name="t") | {"spec_version": "2.1"}
    assert upgrade_object(obj) == (obj, [])


def test_explicit_20_spec_version_is_replaced() -> None:
    upgraded, changes = upgrade_object(_v20("tool", name="t") | {"spec_version": "2.0"})
    assert upgraded["spec_version"] == "2.1"
    assert changes == ['spec_version: "2.0" -> "2.1"']


def test_unknown_object_version_raises() -> None:
    with pytest.raises(StixError, match=r"'3\.0'"):
        upgrade_object(_v20("tool", name="t") | {"spec_version": "3.0"})


# --- bundle_spec_version -----------------------------------------------------------------------


def test_bundle_versions() -> None:
    sdo21 = _v20("tool", name="t") | {"spec_version": "2.1"}
    assert (
        bundle_spec_version(
            {"type": "bundle", "id": f"bundle--{U}", "spec_version": "2.0", "objects": []}
        )
        == "2.0"
    )
    assert (
        bundle_spec_version({"type": "bundle", "id": f"bundle--{U}", "objects": [sdo21]}) == "2.1"
    )
    # 2.0 objects without a bundle spec_version still look 2.0.
    assert (
        bundle_spec_version(
            {"type": "bundle", "id": f"bundle--{U}", "objects": [_v20("tool", name="t")]}
        )
        == "2.0"
    )
    # 2.1 SCOs need no spec_version.
    sco = {"type": "ipv4-addr", "id": f"ipv4-addr--{U}", "value": "198.51.100.1"}
    assert bundle_spec_version({"type": "bundle", "id": f"bundle--{U}", "objects": [sco]}) == "2.1"
    assert bundle_spec_version({"type": "bundle", "id": f"bundle--{U}"}) == "2.1"


def test_bundle_versions_of_real_21_data(shared_data: Path) -> None:
    for path in sorted(
        (shared_data / "stix21" / "oasis-cti-documentation-examples").glob("*.json")
    ):
        assert bundle_spec_version(_bundle(path)) == "2.1", path.name


@pytest.mark.parametrize(
    ("bundle", "match"),
    [
        ({"type": "bundle", "spec_version": "3.0", "objects": []}, "'3.0'"),
        ({"type": "bundle", "objects": [{"type": "tool", "spec_version": "2.2"}]}, "'2.2'"),
        ({"type": "identity", "id": f"identity--{U}"}, "not a STIX bundle"),
        ({"type": "bundle", "objects": {}}, "must be a list"),
    ],
)
def test_bundle_version_errors(bundle: dict[str, Any], match: str) -> None:
    with pytest.raises(StixError, match=re.escape(match)):
        bundle_spec_version(bundle)
