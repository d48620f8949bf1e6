"""Warninglist classes: every list the package ships is reviewed (benign or context), the
table in docs/warninglists.md is the one the code holds, an unknown list is context, and a
node may override a class (node setting `warninglists.classes`)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from accord.intel.benign import BenignLists
from accord.intel.scoring import list_effect
from accord.intel.warninglists import WarningLists, classes, table
from accord.intel.warninglists.source import ListSource
from accord.model.observables import detect
from accord.model.visibility import Viewer
from accord.settings import Settings, parse_warninglist_classes
from accord.store.node import Store

ROOT = Path(__file__).resolve().parents[2]
RESOLVERS = "List of known IPv4 public DNS resolvers"
VPN = "Specialized list of vpn-ipv4 addresses belonging to common VPN providers and datacenters"
VPS = "104.131.0.1"  # a DigitalOcean address: on the VPN/datacenter list, on no benign list


@pytest.fixture(scope="module")
def lists() -> WarningLists:
    return WarningLists.load(ROOT / "var" / "cache")


def test_every_shipped_list_is_classified(lists: WarningLists) -> None:
    """A package upgrade that adds or renames a list fails here until the list is reviewed
    (meanwhile it is context: `classes.DEFAULT_CLASS`)."""
    shipped = set(lists.list_names)
    assert len(shipped) >= 100
    assert sorted(shipped - set(classes.CLASSES)) == [], "review these lists in classes.py"
    assert sorted(set(classes.CLASSES) - shipped) == [], "no longer shipped: remove them"
    for info in lists.lists:  # the class is compiled into the index
        assert (info.list_class, info.reason) == classes.CLASSES[info.name]
        assert info.list_class in classes.LIST_CLASSES and info.reason


def test_the_documented_table_is_the_reviewed_one(lists: WarningLists) -> None:
    page = (ROOT / "docs" / "warninglists.md").read_text()
    begin, end = page.index(table.BEGIN), page.index(table.END) + len(table.END)
    assert page[begin:end] == table.markdown(lists.lists), (
        "regenerate it: python -m accord.intel.warninglists.table"
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (RESOLVERS, "benign"),
        ("List of known IPv6 public DNS resolvers", "benign"),
        ("TLDs as known by IANA", "benign"),
        ("List of RFC 1918 CIDR blocks", "benign"),
        ("Top 10K most-used sites from Tranco", "benign"),
        ("List of known hashes for empty files", "benign"),
        ("List of known hashes for benign files", "benign"),
        ("List of known sinkholes", "benign"),
        (VPN, "context"),
        ("List of known Amazon AWS IP address ranges", "context"),
        ("List of known Cloudflare IP ranges", "context"),
        ("List of known dynamic DNS domains", "context"),
        ("List of known URL Shorteners domains", "context"),
        ("List of disposable email domains", "context"),
        ("List of known Ovh Cluster IP", "context"),
    ],
)
def test_the_issue_examples_have_their_class(name: str, expected: str) -> None:
    assert classes.class_of(name)[0] == expected


def test_an_unknown_list_is_context_and_says_so(tmp_path: Path) -> None:
    root = tmp_path / "lists"
    (root / "new").mkdir(parents=True)
    (root / "new" / "list.json").write_bytes(
        orjson.dumps(
            {"name": "A list added by an upgrade", "type": "cidr", "list": ["203.0.113.0/24"]}
        )
    )
    fresh = WarningLists.load(tmp_path / "cache", ListSource(root, "test"))
    [hit] = fresh.check_value("203.0.113.7")
    assert (hit.list_class, hit.reason) == ("context", classes.UNREVIEWED)
    assert classes.DIGEST in fresh.info.path.name  # a changed table is a new index
    assert "A list added by an upgrade" in table.markdown(fresh.lists).split("| list |")[0]


def test_effects() -> None:
    damped = list_effect("warninglist", "benign", False)
    assert (damped.effect, damped.factor, damped.note) == (
        "damped",
        0.3,
        "benign by nature: score x0.3",
    )
    context = list_effect("warninglist", "context", False)
    assert (context.effect, context.factor) == ("none", 1.0)
    assert context.note == "shared infrastructure: context only, no effect on the verdict"
    assert list_effect("warninglist", "benign", True).effect == "none"
    assert list_effect("allowlist", "benign", False).effect == "damped"


def test_the_setting_parses_and_names_what_is_wrong() -> None:
    text = f"{VPN}=benign; Top 1,000,000 most-used sites from Tranco = Context ;"
    assert parse_warninglist_classes(text) == (
        (VPN, "benign"),
        ("Top 1,000,000 most-used sites from Tranco", "context"),
    )
    assert parse_warninglist_classes("") == ()
    for bad, says in [
        ("just a name", "part 1 ('just a name')"),
        (f"{VPN}=benign;x=harmless", "part 2 ('x=harmless'): the class must be"),
        ("=benign", "part 1"),
        (f"{VPN}=benign;{VPN}=context", "named twice"),
    ]:
        with pytest.raises(ValueError, match="part") as caught:
            parse_warninglist_classes(bad)
        assert says in str(caught.value)
    # A node setting (kept in the node's database, accord settings set warninglists.classes).
    stored = {"warninglists.classes": f"{RESOLVERS}=context"}
    assert Settings().with_node(stored).warninglist_classes == ((RESOLVERS, "context"),)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ACCORD_WARNINGLIST_CLASSES", f"{RESOLVERS}=context")
        with pytest.raises(ValueError, match=r"accord settings set warninglists\.classes"):
            Settings.from_env()


def test_a_node_overrides_a_class(lists: WarningLists, tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'a.db'}")
    try:
        vps, resolver = detect(VPS), detect("8.8.8.8")
        assert vps is not None and resolver is not None

        def hits(node: BenignLists, observable: object) -> dict[str, tuple[bool, str]]:
            check = node.for_viewer(Viewer.anonymous())
            return {h.name: (h.benign, h.reason) for h in check(observable)}  # type: ignore[arg-type]

        default = BenignLists(store, lists)
        assert hits(default, vps)[VPN][0] is False
        assert hits(default, resolver)[RESOLVERS][0] is True
        node = BenignLists(store, lists, classes=[(VPN, "benign"), (RESOLVERS, "context")])
        benign, reason = hits(node, vps)[VPN]
        assert benign and reason.startswith("benign by this node's setting")
        assert "the reviewed table says context" in reason
        assert hits(node, resolver)[RESOLVERS][0] is False
        with pytest.raises(ValueError, match="'No such list', which is not a warninglist"):
            BenignLists(store, lists, classes=[("No such list", "benign")])
    finally:
        store.close()
