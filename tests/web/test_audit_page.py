"""The audit log page: who may read it and which entries, its filters and pages, what it
withholds (never more than the API shows: `accord.intel.audit_view`), and the hash chain's
state."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from portal_support import PASSWORD, Portal
from sqlalchemy import update

from accord.intel.read_audit import audit_reads
from accord.model.roles import Role
from accord.model.tlp import Tlp
from accord.store.audit import Event
from accord.store.schema import audit_log
from leakdata import ADDRESS, indicator, load_matrix

RED_ID = str(indicator(Tlp.RED)["id"])
AMBER_ID = str(indicator(Tlp.AMBER)["id"])
UNSEEN_ID = "indicator--99999999-0000-4000-8000-000000000000"
NEXT = re.compile(r'href="(/audit\?[^"]*cursor=[^"]+)"')


def _rows(text: str) -> list[str]:
    body = text.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr>\s*<td>(\d+)</td>", body)


@pytest.mark.parametrize("role_name", ["analyst", "reader", "operator"])
def test_the_log_is_for_its_readers(portal: Portal, role_name: str) -> None:
    client = portal.sign_in(portal.emails[role_name])
    missing = client.http.get("/no-such-page")
    for path in ("/audit", "/audit/chain", "/audit?action=lookup"):
        answer = client.http.get(path)
        assert answer.status_code == 404 and answer.text == missing.text


def test_an_org_admin_reads_their_organisations_entries(portal: Portal) -> None:
    for name in ("analyst", "investigator", "operator", "admin"):
        portal.sign_in(portal.emails[name])  # each sign-in is an entry of its organisation
    client = portal.sign_in(portal.emails["orgadmin"])
    page = client.http.get("/audit")
    assert page.status_code == 200
    water = {u.id for u in portal.store.directory.users(portal.community.water.id)}
    for user in portal.store.directory.users():
        if user.id not in water:
            assert user.id not in page.text and user.email not in page.text
    assert portal.emails["operator"] in page.text  # named, not only by id
    everyone = portal.sign_in(portal.emails["admin"]).http.get("/audit").text
    for name in ("analyst", "investigator", "operator", "orgadmin"):
        assert portal.emails[name] in everyone


def test_what_the_reader_may_not_see_is_withheld(portal: Portal) -> None:
    """A police org-admin reads the investigator's look-up and read of a RED indicator
    that names only the investigator: the value asked stays, the indicator does not."""
    load_matrix(portal.store, portal.community)
    chief, _ = portal.store.directory.add_user(
        "chief@police.example", "Police Cyber Unit", Role.ORG_ADMIN
    )
    portal.store.credentials.set_password(chief.id, PASSWORD)
    investigator = portal.community.investigator
    looked = portal.sign_in(investigator.email).post("/lookup", {"q": ADDRESS[Tlp.RED]})
    assert looked.status_code == 200 and RED_ID in looked.text
    viewer = portal.store.directory.viewer(investigator)
    red = portal.store.objects.get_many(viewer, [RED_ID])
    audit_reads(portal.store, viewer, investigator.id, red, via="portal test")
    client = portal.sign_in(chief.email)
    page = client.http.get("/audit").text
    assert ADDRESS[Tlp.RED] in page  # the value looked up is the reader's to see
    assert RED_ID not in page and "malicious" not in page.lower()
    assert "not shared with your organisation" in page
    # A filter on the hidden id finds what a filter on an id stored nowhere finds.
    hidden = client.http.get(f"/audit?target={RED_ID}")
    unseen = client.http.get(f"/audit?target={UNSEEN_ID}")
    assert hidden.status_code == unseen.status_code == 200
    assert _rows(hidden.text) == [] == _rows(unseen.text)
    assert hidden.text.replace(RED_ID, UNSEEN_ID) == unseen.text
    # The node admin has no extra read rights: RED names users, so neither do they find it.
    admin_page = portal.sign_in(portal.emails["admin"]).http.get(f"/audit?target={RED_ID}")
    assert _rows(admin_page.text) == []
    # AMBER shared with the police unit: its read is found, and named, by the chief.
    amber = portal.store.objects.get_many(viewer, [AMBER_ID])
    audit_reads(portal.store, viewer, investigator.id, amber, via="portal test")
    found = client.http.get(f"/audit?target={AMBER_ID}").text
    assert len(_rows(found)) == 1 and AMBER_ID in found


def test_filters(portal: Portal) -> None:
    sensor = portal.emails["operator"]
    portal.sign_in(sensor)
    portal.sign_in(portal.emails["analyst"])
    client = portal.sign_in(portal.emails["orgadmin"])
    water = portal.community.water.id
    boss = portal.store.directory.user(portal.emails["orgadmin"])
    portal.store.audit.append(Event("admin", boss.id, water, "target-1", {"change": "x"}))
    every = _rows(client.http.get("/audit").text)
    assert len(every) >= 3
    signins = client.http.get("/audit?action=sign-in").text
    assert len(_rows(signins)) == 2 and "target-1" not in signins.split("<tbody>")[1]
    theirs = client.http.get(f"/audit?user={sensor}").text
    assert len(_rows(theirs)) == 1
    targeted = client.http.get("/audit?target=target-1").text
    assert len(_rows(targeted)) == 1
    today = datetime.now(UTC).date()
    assert len(_rows(client.http.get(f"/audit?since={today - timedelta(days=1)}").text)) == len(
        every
    )
    assert _rows(client.http.get(f"/audit?since={today + timedelta(days=2)}").text) == []
    assert _rows(client.http.get(f"/audit?until={today - timedelta(days=2)}").text) == []
    assert client.http.get("/audit?since=yesterday").status_code == 422
    assert client.http.get("/audit?target=" + "x" * 400).status_code == 422
    # Another organisation's user and an unknown address answer alike.
    other = client.http.get(f"/audit?user={portal.emails['analyst']}")
    unknown = client.http.get("/audit?user=nobody@nowhere.example")
    assert other.text.replace(portal.emails["analyst"], "X") == unknown.text.replace(
        "nobody@nowhere.example", "X"
    )
    assert _rows(other.text) == []


def test_pages_go_back_by_keyset(portal: Portal) -> None:
    boss = portal.store.directory.user(portal.emails["orgadmin"])
    water = portal.community.water.id
    for n in range(120):
        portal.store.audit.append(Event("lookup", boss.id, water, f"192.0.2.{n}"))
    client = portal.sign_in(portal.emails["orgadmin"])
    seen: list[str] = []
    link: str | None = "/audit?action=lookup"
    pages = 0
    while link:
        answer = client.http.get(html.unescape(link))
        assert answer.status_code == 200
        seen += _rows(answer.text)
        found = NEXT.search(answer.text)
        link = found.group(1) if found else None
        pages += 1
        if link:
            assert "action=lookup" in link  # the filters go along
    assert pages == 3 and len(seen) == 120 == len(set(seen))
    assert seen == sorted(seen, key=int, reverse=True)
    first = NEXT.search(client.http.get("/audit?action=lookup").text)
    assert first
    cursor = html.unescape(first.group(1)).split("cursor=")[1]
    assert client.http.get(f"/audit?cursor={cursor}").status_code == 400  # other filters
    assert client.http.get("/audit?action=lookup&cursor=AAAA").status_code == 400
    admin = portal.sign_in(portal.emails["admin"])
    assert admin.http.get(f"/audit?action=lookup&cursor={cursor}").status_code == 400


def test_the_chains_state(portal: Portal) -> None:
    portal.sign_in(portal.emails["analyst"])
    portal.sign_in(portal.emails["operator"])
    admin = portal.sign_in(portal.emails["admin"])
    page = admin.http.get("/audit").text
    assert 'hx-get="/audit/chain"' in page and 'href="/audit/chain"' in page
    fragment = admin.http.get("/audit/chain", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert "the chain is intact up to entry" in fragment.text
    full = admin.http.get("/audit/chain").text
    assert "<html" in full and "the chain is intact up to entry" in full
    cert = portal.community.cert.id
    (broken,) = [e for e in portal.store.audit.entries(cert) if e.action == "sign-in"][:1]
    with portal.store.engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == broken.seq).values(target="x"))
    told = admin.http.get("/audit/chain").text
    assert "The chain is broken" in told and f"Entry {broken.seq}:" in told
    water = portal.sign_in(portal.emails["orgadmin"]).http.get("/audit/chain").text
    assert "The chain is broken" in water and f"Entry {broken.seq}:" not in water
    assert "1 break is in another organisation" in water
