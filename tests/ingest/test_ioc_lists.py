"""IOC lists in: LOKI files, maltrail trails, CSV with a header or a column map, defanged
values, bad lines reported by number, re-imports that store nothing new, warninglist flags."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from accord.ingest.ioc_list_formats import ColumnMap
from accord.ingest.ioc_lists import (
    ListIngester,
    ListOptions,
    ListReport,
    indicator_id,
    pattern_for,
)
from accord.model.observables import Observable, detect
from accord.model.visibility import Viewer
from accord.store.node import Store
from community import Community, make_community


@pytest.fixture
def cast(sqlite_store: Store) -> Community:
    return make_community(sqlite_store)


def ingest(store: Store, cast: Community, path: Path, **options: Any) -> ListReport:
    flagger = options.pop("flagger", None)
    ingester = ListIngester(store, cast.analyst, flagger=flagger)
    return ingester.ingest_file(path, ListOptions(**options))


def stored(store: Store, cast: Community, value: str, source: str) -> dict[str, Any]:
    observable = detect(value)
    assert observable is not None
    found = store.objects.get(
        Viewer(cast.cert.id, cast.analyst.id), indicator_id(cast.cert.id, source, observable)
    )
    assert found is not None, value
    result: dict[str, Any] = found.json()
    return result


def test_loki_files_from_signature_base(
    sqlite_store: Store, cast: Community, shared_data: Path
) -> None:
    iocs = shared_data / "ioc-lists" / "signature-base" / "iocs"
    c2 = ingest(sqlite_store, cast, iocs / "c2-iocs.txt")
    assert dict(c2.kinds) == {"domain": 1709, "ipv4": 135}
    assert c2.bad_line_count == 0 and c2.rejected == 0
    assert c2.stored == 1773  # values listed twice are one indicator
    hashes = ingest(sqlite_store, cast, iocs / "hash-iocs.txt")
    assert dict(hashes.kinds) == {"md5": 1039, "sha1": 926, "sha256": 1259}
    assert hashes.bad_line_count == 0
    first = stored(
        sqlite_store,
        cast,
        "ce583821191345274cd954b2db7da9742c239fe413fc17dcb97ffdd7b51cb072",
        "hash-iocs.txt",
    )
    assert first["pattern"] == (
        "[file:hashes.'SHA-256' = "
        "'ce583821191345274cd954b2db7da9742c239fe413fc17dcb97ffdd7b51cb072']"
    )
    assert first["description"].startswith("Dark Caracal - MS Windows HtmlHelp Data")
    assert first["labels"] == ["hash-iocs"]


def test_maltrail_trails(sqlite_store: Store, cast: Community, shared_data: Path) -> None:
    static = shared_data / "ioc-lists" / "maltrail" / "trails" / "static"
    ryuk = ingest(sqlite_store, cast, static / "malware" / "ryuk.txt")
    assert dict(ryuk.kinds) == {"domain": 165, "ipv4": 13, "url": 8}
    assert ryuk.bad_line_count == 4  # path-only trails: no host to index
    assert all("URL path without a host" in bad.reason for bad in ryuk.bad_lines)
    valak = ingest(sqlite_store, cast, static / "malware" / "valak.txt")
    assert dict(valak.kinds) == {"domain": 169}
    cidrs = ingest(sqlite_store, cast, static / "mass_scanner_cidr.txt")
    assert dict(cidrs.kinds) == {"ipv4-net": 1093, "ipv4": 13}
    # "# Reference:" lines become external references of the values below them; "ip:port"
    # becomes a network-traffic pattern that the observable index still finds by address.
    with_port = next(
        line.strip()
        for line in (static / "malware" / "ryuk.txt").read_text().splitlines()
        if line[:1].isdigit() and ":" in line
    )
    address, port = with_port.split(":")
    observable = detect(address)
    assert observable is not None
    viewer = Viewer(cast.cert.id, cast.analyst.id)
    found = sqlite_store.objects.get(
        viewer, indicator_id(cast.cert.id, "ryuk.txt", observable, int(port))
    )
    assert found is not None
    indicator = found.json()
    assert indicator["pattern"] == pattern_for(observable, int(port))
    assert f"network-traffic:dst_port = {port}" in indicator["pattern"]
    assert indicator["external_references"][0]["url"].startswith("http")


def test_csv_with_header_and_with_column_map(
    sqlite_store: Store, cast: Community, shared_data: Path
) -> None:
    release = shared_data / "ioc-lists" / "sunburst-countermeasures" / "indicator_release"
    hashes = ingest(sqlite_store, cast, release / "Indicator_Release_Hashes.csv")
    assert dict(hashes.kinds) == {"md5": 11, "sha1": 11, "sha256": 11}
    assert hashes.bad_line_count == 0
    row = stored(
        sqlite_store,
        cast,
        "d0d626deb3f9484e649294a8dfa814c5568f846d5aa02d4cdad5d041a29d5600",
        "Indicator_Release_Hashes.csv",
    )
    assert "Malware Family: SUNBURST" in row["description"]
    # Header detected: FQDN, IP and Target are the value columns, defanged values refanged.
    nbis = ingest(sqlite_store, cast, release / "Indicator_Release_NBIs.csv")
    assert dict(nbis.kinds) == {"domain": 22, "ipv4": 10}
    # A column map: only the FQDN column, the malware family as the comment.
    mapped = ingest(
        sqlite_store,
        cast,
        release / "Indicator_Release_NBIs.csv",
        columns=ColumnMap.parse("value=3,comment=1"),
        source="sunburst-fqdn",
    )
    assert mapped.bad_line_count == 0
    assert mapped.kinds["domain"] >= 10 and set(mapped.kinds) == {"domain"}
    fqdn = stored(
        sqlite_store,
        cast,
        "6a57jk2ba1d9keg15cbg.appsync-api.eu-west-1.avsvmcloud.com",
        "sunburst-fqdn",
    )
    assert fqdn["description"].startswith("SUNBURST")


def test_defanged_values_bad_lines_and_reimport(
    sqlite_store: Store, cast: Community, tmp_path: Path
) -> None:
    path = tmp_path / "mixed.txt"
    path.write_text(
        "# Reference: https://example.org/report\n"
        "\n"
        "hxxp://evil[.]example/gate.php\n"
        "198.51.100[.]7\n"
        "bad[at]evil[.]example\n"
        "this is not an indicator\n"
        "203.0.113.0/24 # a whole network\n"
        "no_dots_here\n"
        "evil[.]example\n"
    )
    report = ingest(sqlite_store, cast, path)
    assert dict(report.kinds) == {"url": 1, "ipv4": 1, "email": 1, "ipv4-net": 1, "domain": 1}
    assert [(bad.line, bad.text) for bad in report.bad_lines] == [
        (6, "this is not an indicator"),
        (8, "no_dots_here"),
    ]
    assert report.stored == 5
    url = stored(sqlite_store, cast, "http://evil.example/gate.php", "mixed.txt")
    assert url["pattern"] == "[url:value = 'http://evil.example/gate.php']"
    assert url["external_references"] == [
        {"source_name": "mixed.txt", "url": "https://example.org/report"}
    ]
    network = stored(sqlite_store, cast, "203.0.113.0/24", "mixed.txt")
    assert network["description"] == "a whole network (listed in mixed.txt)"
    again = ingest(sqlite_store, cast, path)
    assert (again.stored, again.duplicates) == (0, 5)
    # A wrong --type is a bad line, not a wrong indicator.
    typed = ingest(sqlite_store, cast, path, kind="domain", source="domains-only")
    assert typed.kinds == {"domain": 2}  # "evil.example", and "no_dots_here" taken as asked
    assert typed.bad_line_count == 5


def test_warninglist_flags_label_or_skip(
    sqlite_store: Store, cast: Community, tmp_path: Path
) -> None:
    path = tmp_path / "traffic.txt"
    path.write_text("api.ipify.org\nevil.example\n8.8.8.8\n")

    def flagger(observable: Observable) -> list[str]:
        return ["resolvers"] if observable.value in ("api.ipify.org", "8.8.8.8") else []

    labelled = ingest(sqlite_store, cast, path, flagger=flagger)
    assert (labelled.stored, labelled.warninglisted, labelled.skipped) == (3, 2, 0)
    resolver = stored(sqlite_store, cast, "8.8.8.8", "traffic.txt")
    assert resolver["x_accord_warninglists"] == ["resolvers"]
    assert "warninglisted" in resolver["labels"]
    skipped = ingest(
        sqlite_store, cast, path, flagger=flagger, skip_warninglisted=True, source="skip"
    )
    assert (skipped.stored, skipped.skipped) == (1, 2)
    assert orjson.dumps(skipped.summary())
