"""The audit log shows its reader who looked up what and when, and the answers' details only
through the reader's own visibility (`accord.intel.audit_view`), on the API and the CLI."""

from __future__ import annotations

from typing import Any

import orjson
from typer.testing import CliRunner

from accord.cli.main import app
from accord.ingest.stix import Ingester, IngestOptions
from accord.model.roles import Role
from accord.model.tlp import Tlp
from accord.model.visibility import Recipients
from leakdata import ADDRESS, indicator, load_matrix

RED_ID = indicator(Tlp.RED)["id"]
GREEN_ID = indicator(Tlp.GREEN)["id"]
OWN_ID = "indicator--00000000-0000-4000-8000-0000000000c1"
OWN_ADDRESS = "198.51.100.77"


def _setup(api: Any) -> None:
    """The matrix (RED for the police investigator only), a police org-admin with a RED
    indicator of their own, and the investigator's look-ups and reads."""
    community = api.community
    load_matrix(api.store, community)
    chief, key = api.store.directory.add_user(
        "chief@police.example", "Police Cyber Unit", Role.ORG_ADMIN
    )
    api.keys[chief.email] = key
    own = indicator(Tlp.RED) | {
        "id": OWN_ID,
        "pattern": f"[ipv4-addr:value = '{OWN_ADDRESS}']",
    }
    report = Ingester(api.store, community.analyst).ingest_bytes(
        orjson.dumps({"type": "bundle", "id": "bundle--3", "objects": [own]}),
        "red for the chief",
        IngestOptions(recipients=Recipients(user_ids=frozenset({chief.id}))),
    )
    assert report.ok, report.summary()
    investigator = api.client(community.investigator.email)
    assert investigator.lookup(ADDRESS[Tlp.RED])["verdict"] != "unknown"
    investigator.http.post(
        "/api/v1/lookup", json={"values": [ADDRESS[Tlp.RED], ADDRESS[Tlp.GREEN]]}
    ).raise_for_status()
    investigator.get(RED_ID)  # a read of RED content: audited
    assert api.client(chief.email).lookup(OWN_ADDRESS)["verdict"] != "unknown"


def _by(entries: list[dict[str, Any]], user_id: str) -> list[dict[str, Any]]:
    return [e for e in entries if e["user_id"] == user_id]


def _check_colleague_withheld(entries: list[dict[str, Any]], investigator_id: str) -> None:
    """The investigator's entries as someone who may not see the RED indicator reads them."""
    single, bulk, read = _by(entries, investigator_id)
    assert single["action"] == "lookup" and single["target"] == ADDRESS[Tlp.RED]
    assert single["detail"] == {"verdict": None, "answered_by": [], "withheld": True}
    assert "hash" not in single
    assert bulk["detail"]["values"] == [ADDRESS[Tlp.RED], ADDRESS[Tlp.GREEN]]
    assert bulk["detail"]["answered_by"] == [[], [GREEN_ID]]
    verdicts = bulk["detail"]["verdicts"]
    assert verdicts[0] is None and verdicts[1] not in (None, "unknown")
    assert bulk["detail"]["withheld"] is True
    assert read["action"] == "read" and read["target"] is None
    assert read["detail"]["ids"] == [] and read["detail"]["withheld"] is True
    assert RED_ID not in orjson.dumps(entries).decode()
    assert not any("hash" in e for e in entries)


def test_audit_readers_see_details_through_their_own_visibility(api, store_url) -> None:  # type: ignore[no-untyped-def]
    _setup(api)
    community = api.community
    chief = api.store.directory.user("chief@police.example")
    # The police org-admin: the colleague's look-ups and reads, without what answered them.
    entries = api.client(chief.email).audit()
    assert {e["org_id"] for e in entries} == {community.police.id}
    _check_colleague_withheld(entries, community.investigator.id)
    # ... and their own look-up of RED meant for them, in full.
    (own,) = _by(entries, chief.id)
    assert own["target"] == OWN_ADDRESS and own["detail"]["answered_by"] == [OWN_ID]
    assert own["detail"]["verdict"] not in (None, "unknown") and "withheld" not in own["detail"]
    # The node admin (CERT-EX, not named on either RED indicator) likewise, for everyone.
    everything = api.client("admin@node.example").audit()
    _check_colleague_withheld(everything, community.investigator.id)
    (own,) = _by(everything, chief.id)
    assert own["target"] == OWN_ADDRESS and own["detail"]["answered_by"] == []
    assert own["detail"]["verdict"] is None and own["detail"]["withheld"] is True
    # The stored entries are whole, and the chain verifies over them.
    stored = api.store.audit.entries()
    assert any(RED_ID in str(e.detail) for e in stored)
    count, breaks = api.store.audit.verify()
    assert count == len(stored) and breaks == []
    # The CLI shows the same as the API, to the same person.
    shown = ["audit", "show", "--as", chief.email, "--json", "--limit", "1000"]
    result = CliRunner().invoke(app, ["--db", store_url, *shown])
    assert result.exit_code == 0, result.output
    assert orjson.loads(result.stdout) == entries
    verified = CliRunner().invoke(app, ["--db", store_url, "audit", "verify"])
    assert verified.exit_code == 0, verified.output


def test_audit_readers_stay_who_they_were(api, store_url) -> None:  # type: ignore[no-untyped-def]
    """Node admins read every entry, org-admins their organisation's, nobody else (API);
    the CLI applies the same rule to the user it acts as."""
    _setup(api)
    assert api.client("reader@police.example").http.get("/api/v1/audit").status_code == 403
    assert api.client("analyst@cert.example").http.get("/api/v1/audit").status_code == 403
    assert api.anonymous().http.get("/api/v1/audit").status_code == 401
    boss = api.client("boss@water.example").audit()
    assert boss == [] or {e["org_id"] for e in boss} == {api.community.water.id}
    everything = api.client("admin@node.example").audit()
    assert len(everything) == len(api.store.audit.entries())
    url = store_url
    refused = CliRunner().invoke(
        app, ["--db", url, "audit", "show", "--as", "analyst@cert.example"]
    )
    assert refused.exit_code == 2 and "may not read the audit log" in refused.output
    foreign = CliRunner().invoke(
        app, ["--db", url, "audit", "show", "--as", "chief@police.example", "--org", "CERT-EX"]
    )
    assert foreign.exit_code == 2 and "own organisation" in foreign.output
