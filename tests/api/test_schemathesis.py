"""Property-based fuzzing of the REST API from its own OpenAPI document (schemathesis):
no 5xx for any generated request, and every answer conforms to the document. Bounded so
that it stays a few seconds in CI. Its data is made here (no file is read at import, so a
clone without ../shared collects and runs it)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import orjson
import schemathesis
from hypothesis import HealthCheck, settings

from accord.api.app import create_app
from accord.ingest.stix import Ingester, IngestOptions
from accord.model.roles import Role
from accord.model.tlp import Tlp
from accord.settings import Settings
from accord.store.node import Store
from community import make_community

# One database per process: pytest-xdist imports this module in every worker.
_DB = Path(tempfile.gettempdir()) / f"accord-schemathesis-{os.getpid()}.db"

_T = "2026-01-01T00:00:00.000Z"
_OBJECTS: list[dict[str, object]] = [
    {
        "type": "identity",
        "spec_version": "2.1",
        "id": "identity--5f0c9d7e-6d3a-4b1e-9a57-1c1f0c6b2a01",
        "created": _T,
        "modified": _T,
        "name": "Example Security",
        "identity_class": "organization",
    },
    {
        "type": "threat-actor",
        "spec_version": "2.1",
        "id": "threat-actor--5f0c9d7e-6d3a-4b1e-9a57-1c1f0c6b2a02",
        "created": _T,
        "modified": _T,
        "name": "Example Panda",
        "threat_actor_types": ["nation-state"],
    },
    {
        "type": "malware",
        "spec_version": "2.1",
        "id": "malware--5f0c9d7e-6d3a-4b1e-9a57-1c1f0c6b2a03",
        "created": _T,
        "modified": _T,
        "name": "EXAMPLERAT",
        "is_family": True,
    },
    {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--5f0c9d7e-6d3a-4b1e-9a57-1c1f0c6b2a04",
        "created": _T,
        "modified": _T,
        "name": "EXAMPLERAT command and control",
        "pattern": "[domain-name:value = 'c2.example.net'] OR [ipv4-addr:value = '198.51.100.7']",
        "pattern_type": "stix",
        "valid_from": _T,
    },
    {
        "type": "relationship",
        "spec_version": "2.1",
        "id": "relationship--5f0c9d7e-6d3a-4b1e-9a57-1c1f0c6b2a05",
        "created": _T,
        "modified": _T,
        "relationship_type": "indicates",
        "source_ref": "indicator--5f0c9d7e-6d3a-4b1e-9a57-1c1f0c6b2a04",
        "target_ref": "malware--5f0c9d7e-6d3a-4b1e-9a57-1c1f0c6b2a03",
    },
    {
        "type": "report",
        "spec_version": "2.1",
        "id": "report--5f0c9d7e-6d3a-4b1e-9a57-1c1f0c6b2a06",
        "created": _T,
        "modified": _T,
        "name": "Example Panda uses EXAMPLERAT",
        "published": _T,
        "report_types": ["threat-actor"],
        "object_refs": [
            "threat-actor--5f0c9d7e-6d3a-4b1e-9a57-1c1f0c6b2a02",
            "malware--5f0c9d7e-6d3a-4b1e-9a57-1c1f0c6b2a03",
            "indicator--5f0c9d7e-6d3a-4b1e-9a57-1c1f0c6b2a04",
        ],
    },
]


def _app():  # type: ignore[no-untyped-def]
    for suffix in ("", "-wal", "-shm"):
        Path(f"{_DB}{suffix}").unlink(missing_ok=True)
    store = Store.open(f"sqlite:///{_DB}")
    store.init()
    community = make_community(store)
    _, key = store.directory.add_user("admin@node.example", "CERT-EX", Role.ADMIN)
    data = orjson.dumps({"type": "bundle", "id": "bundle--1", "objects": _OBJECTS})
    Ingester(store, community.analyst).ingest_bytes(data, "small", IngestOptions(tlp=Tlp.GREEN))
    # The document declares which operations need a key, so schemathesis also sends wrong
    # credentials and expects 401 (its `ignored_auth` check): enough failures are allowed
    # that the node's limit on them (a 429) does not answer first.
    settings = Settings(
        database_url="unused",
        public_lookups=True,
        rate_burst=100_000,
        auth_failure_burst=100_000,
    )
    app = create_app(settings, store=store)
    return app, key


APP, KEY = _app()
# POST /api/v1/match takes JSON lines as application/x-ndjson: sent as text is.
schemathesis.serializer.alias("application/x-ndjson", "text/plain")
# The live stream never ends by itself (tests/api/test_stream.py drives it over a socket).
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", APP).exclude(path="/api/v1/stream")


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_document(case: schemathesis.Case) -> None:
    # Not `positive_data_acceptance`: a schema-valid bundle may still be invalid STIX, which
    # the OpenAPI document cannot express; the node rightly answers 422 with pointers. Not
    # `negative_data_rejection`: in a query string the boolean false and the text "false"
    # are the same bytes, so a "schema-violating" type=false is a valid STIX type filter.
    case.call_and_validate(
        headers={"Authorization": f"Bearer {KEY}"},
        excluded_checks=[
            schemathesis.checks.positive_data_acceptance,
            schemathesis.checks.negative_data_rejection,
        ],
    )
