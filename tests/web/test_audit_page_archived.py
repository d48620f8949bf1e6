"""The audit log page and the API's listing once the oldest entries were archived
(`accord.store.audit_archive`): they list what is left, and the chain is told intact from its
anchor."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from portal_support import Portal

from accord.store import audit_archive as archives
from accord.store.audit import Event


def test_the_page_after_archiving(portal: Portal, tmp_path: Path) -> None:
    portal.sign_in(portal.emails["analyst"])
    store = portal.store
    archived_last = store.audit.entries(limit=100000)[-1].seq
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat(timespec="microseconds")
    event = Event("admin", None, None, "audit-archive", {"actor": "test"})
    archives.archive(store, tmp_path / "a1", tomorrow[:26] + "Z", event, force=True)
    admin = portal.sign_in(portal.emails["admin"])
    page = admin.http.get("/audit")
    assert page.status_code == 200
    shown = {int(seq) for seq in re.findall(r"<tr>\s*<td>(\d+)</td>", page.text)}
    assert shown and min(shown) > archived_last  # the archived entries are gone from the page
    chain = admin.http.get("/audit/chain").text
    assert "the chain is intact up to entry" in chain
    water = portal.sign_in(portal.emails["orgadmin"])
    assert "the chain is intact" in water.http.get("/audit/chain").text
