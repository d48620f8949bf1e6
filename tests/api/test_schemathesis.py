"""Property-based fuzzing of the REST API from its own OpenAPI document (schemathesis):
no 5xx for any generated request, and every answer conforms to the document. Bounded so
that it stays a few seconds in CI."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

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


def _app():  # type: ignore[no-untyped-def]
    for suffix in ("", "-wal", "-shm"):
        Path(f"{_DB}{suffix}").unlink(missing_ok=True)
    store = Store.open(f"sqlite:///{_DB}")
    store.init()
    community = make_community(store)
    _, key = store.directory.add_user("admin@node.example", "CERT-EX", Role.ADMIN)
    data = (
        Path(__file__).resolve().parents[2].parent
        / "shared"
        / "data"
        / "stix21"
        / "oasis-cti-documentation-examples"
        / "apt1.json"
    ).read_bytes()
    Ingester(store, community.analyst).ingest_bytes(data, "apt1", IngestOptions(tlp=Tlp.GREEN))
    app = create_app(
        Settings(database_url="unused", public_lookups=True, rate_burst=100_000), store=store
    )
    return app, key


APP, KEY = _app()
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", APP)


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
