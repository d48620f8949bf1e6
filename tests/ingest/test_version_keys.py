"""Reading a bundle: the key pass (accord.ingest.version_keys) answers what the full parser
answers or leaves it to it; JSON the fast decoder refuses is reported with its place."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import orjson
import pytest

from accord.ingest.stix import Ingester, IngestOptions, parse_document
from accord.ingest.version_keys import bundle_keys
from accord.model.errors import StixError
from accord.model.roles import Role
from accord.model.upgrade import bundle_spec_version
from accord.store.node import Store

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


@pytest.mark.parametrize(
    "data", [b'{"type": "bundle", "objects": [{"a": 1e400}]}', b'{"type": "bundle", "x": "\xff"}']
)
def test_json_the_fast_decoder_refuses_is_reported_with_its_place(data: bytes) -> None:
    with pytest.raises(StixError, match=r"not valid JSON at line 1, column \d+"):
        parse_document(data, "f.json")


def test_an_integer_beyond_64_bits_rejects_its_object_not_the_ingest(sqlite_store: Store) -> None:
    sqlite_store.directory.add_org("CERT")
    user, _ = sqlite_store.directory.add_user("a@cert.example", "CERT", Role.ANALYST)
    big = {**SDO, "spec_version": "2.1", "x_count": 2**70}
    # The standard library writes any integer; orjson would refuse to.
    data = json.dumps({"type": "bundle", "objects": [big]}).encode()
    report = Ingester(sqlite_store, user).ingest_bytes(data, "big.json", IngestOptions())
    [found] = report.objects
    assert found.status == "rejected"
    assert "beyond 64 bits" in found.describe()
