"""The Peers page in a real browser, for the node admin (who signs in with a second factor,
on a node of their own here: a node takes one second-factor sign-in per 30-second step, and
the shared node's admin belongs to the sign-in tests). The node is given its identity, its
card is copied, a peer is added from a pasted card and its account's key is shown once; axe
finds no serious violation on the page in each of those states, in English and in Spanish."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from accessibility import assert_accessible
from browsing import open_context, path_of, sign_in
from live_node import LiveNode, next_totp_code, password_of, started
from playwright.sync_api import Browser, Page, expect


@pytest.fixture(scope="module")
def peers_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveNode]:
    directory: Path = tmp_path_factory.mktemp("peers-node")
    with started(directory, key_cache_seconds=0.3) as node:
        yield node


def _admin_signs_in(page: Page, node: LiveNode) -> None:
    admin = node.cast.admin
    sign_in(page, admin.email, password_of(admin), next_path="/admin/peers")
    page.locator("input[name=code]").fill(next_totp_code(node.cast.totp_secret))
    with page.expect_navigation():
        page.locator("input[name=code]").press("Enter")
    assert path_of(page) == "/admin/peers"


def test_the_node_admin_sets_up_peers(
    browser: Browser, peers_node: LiveNode, outside_requests: list[str]
) -> None:
    context = open_context(browser, peers_node.url, outside_requests)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    try:
        page = context.new_page()
        _admin_signs_in(page, peers_node)
        expect(page.locator("nav.tabs a[aria-current=page]")).to_have_text("Peers")
        assert_accessible(page)  # no identity yet: its form

        form = page.locator("form[action='/admin/peers/identity']")
        form.locator("#node_name").fill("Browser node")
        with page.expect_navigation():
            form.locator("button[type=submit]").click()
        expect(page.locator("[role=status]")).to_contain_text("This node has its identity")
        copy = page.locator("button[data-copy=node-card]")
        copy.click()
        expect(copy).to_have_text("Copied")
        copied = orjson.loads(page.evaluate("navigator.clipboard.readText()"))
        assert copied == peers_node.store.identity.card()
        assert_accessible(page)  # the card, no peers

        hosted = {"id": f"identity--{uuid.uuid4()}", "name": "Partner CERT"}
        card = {
            "identity": {"type": "identity", "id": f"identity--{uuid.uuid4()}", "name": "P"},
            "operator": hosted,
            "hosted_organizations": [hosted],
        }
        form = page.locator("form[action='/admin/peers']")
        form.locator("#name").fill("partner")
        form.locator("#card").fill(orjson.dumps(card).decode())
        form.locator("#community").check()
        with page.expect_navigation():
            form.locator("button[type=submit]").click()
        expect(page.locator("[role=status]").first).to_contain_text("The peer partner is added")
        key = page.locator("#new-key").input_value()
        assert peers_node.store.directory.user_for_key(key) is not None
        assert_accessible(page)  # the key shown once, the peer listed

        page.locator("details summary", has_text="Remove").click()
        assert_accessible(page)  # the confirmation open
        page.goto("/admin/peers?lang=es")
        expect(page.locator("h2#peers-title")).to_have_text("Pares")
        assert_accessible(page)
    finally:
        context.close()
    assert outside_requests == []
