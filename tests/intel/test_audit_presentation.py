"""`accord.intel.audit_view.present` over entries of any shape: every STIX id a reader may not
see is left out wherever it sits, and directory entries stay whole."""

from __future__ import annotations

from accord.intel.audit_view import present
from accord.model.tlp import Tlp
from accord.store.audit import AuditEntry
from accord.store.node import Store
from community import Community
from leakdata import indicator, load_matrix

RED = str(indicator(Tlp.RED)["id"])
GREEN = str(indicator(Tlp.GREEN)["id"])
UNKNOWN = "malware--0A1B2C3D-0000-4000-8000-00000000ABCD"  # stored nowhere, upper-case hex


def _entry(action: str, target: str | None, detail: dict[str, object]) -> AuditEntry:
    return AuditEntry(1, "2026-01-01T00:00:00.000000Z", "u", "o", action, target, detail, "", "")


def test_hidden_ids_are_left_out_wherever_they_sit(store: Store, community: Community) -> None:
    viewers = load_matrix(store, community)
    entries = [
        _entry("write", RED, {"rejected": [{"id": RED, "reason": "x"}, {"id": GREEN}]}),
        _entry("read", None, {"via": "GET /objects", "ids": [GREEN, UNKNOWN, RED]}),
        _entry("lookup", "198.51.100.14", {"verdict": "malicious", "answered_by": [GREEN]}),
        _entry("admin", community.cert.id, {"change": "add organisation", "org": RED}),
    ]
    write, read, lookup, admin = present(entries, viewers["colleague"], store.objects)
    assert write["target"] is None and write["detail"] == {
        "rejected": [{"id": None, "reason": "x"}, {"id": GREEN}],
        "withheld": True,
    }
    assert read["detail"] == {"via": "GET /objects", "ids": [GREEN], "withheld": True}
    assert lookup["detail"] == {"verdict": "malicious", "answered_by": [GREEN]}
    assert admin["target"] == community.cert.id and admin["detail"]["org"] == RED
    # the creator sees their RED indicator named
    write, read, *_ = present(entries, viewers["creator"], store.objects)
    assert write["target"] == RED and "withheld" not in write["detail"]
    assert read["detail"]["ids"] == [GREEN, RED] and read["detail"]["withheld"] is True
