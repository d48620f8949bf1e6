"""The key pass (accord.ingest.keys) answers what the full parser answers, or leaves it to it."""

from __future__ import annotations

import uuid
from pathlib import Path

import orjson
import pytest

from accord.ingest.keys import bundle_keys
from accord.model.errors import StixError
from accord.model.upgrade import bundle_spec_version

U = uuid.uuid4()
SDO = {
    "type": "malware",
    "id": f"malware--{U}",
    "created": "2020-01-01T00:00:00.000Z",
    "modified": "2020-01-01T00:00:00.000Z",
    "name": "x",
    "is_family": True,
}


@pytest.mark.parametrize("bad", [["2.1"], {"v": 1}, 2.1, "2.2", None])
def test_a_version_that_is_no_known_string_is_reported_not_a_crash(bad: object) -> None:
    bundle = {"type": "bundle", "id": f"bundle--{U}", "objects": [{**SDO, "spec_version": bad}]}
    with pytest.raises(StixError, match=r"only STIX 2\.0 and 2\.1"):
        bundle_spec_version(bundle)
    assert bundle_keys(orjson.dumps(bundle)) is None  # the full parser reports it


def test_keys_use_the_store_form_of_each_timestamp() -> None:
    objects = [
        SDO,
        {**SDO, "id": f"malware--{uuid.uuid4()}", "modified": "2020-01-01T00:00:00.123456Z"},
        {**SDO, "id": f"malware--{uuid.uuid4()}", "modified": "2020-01-01T00:00:00Z"},
        {"type": "ipv4-addr", "id": f"ipv4-addr--{uuid.uuid4()}", "value": "203.0.113.9"},
    ]
    keys = bundle_keys(orjson.dumps({"type": "bundle", "objects": objects}))
    assert keys is not None
    assert [key for _, key in keys.keys] == [
        "2020-01-01T00:00:00.000000Z",
        "2020-01-01T00:00:00.123456Z",
        "2020-01-01T00:00:00.000000Z",
        "0001-01-01T00:00:00.000000Z",
    ]


def test_the_key_pass_answers_the_version_the_full_parser_does(shared_data: Path) -> None:
    checked = 0
    for folder in ("stix21", "stix20", "attack"):
        for path in sorted((shared_data / folder).rglob("*.json")):
            if path.stat().st_size > 5_000_000:
                continue
            data = path.read_bytes()
            keys = bundle_keys(data)
            if keys is None:
                continue
            try:
                expected = bundle_spec_version(orjson.loads(data))
            except (StixError, orjson.JSONDecodeError):
                continue
            assert keys.spec_version == expected, path
            checked += 1
    assert checked > 50
