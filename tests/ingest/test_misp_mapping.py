"""Every misp-stix documentation pair (attributes, objects, galaxies), converted by Accord and
compared with misp-stix's exact STIX 2.1: same types, pattern and observable values, names and
relationships. Prints, per kind, the types that differ and how."""

from __future__ import annotations

from pathlib import Path

import pytest
from misp_mapping_pairs import compare

# Attribute types that do not map the way misp-stix writes them, and why.
KNOWN_ATTRIBUTE_GAPS = {
    "regkey|value": "misp-stix escapes '%' in the pattern ('\\\\%DATA\\\\%'); Accord keeps "
    "the registry data as MISP has it",
}


@pytest.fixture(scope="module")
def mapping_dir(shared_data: Path) -> Path:
    return shared_data / "misp" / "misp-stix-conversion" / "documentation" / "mapping"


def report(kind: str, results: list[tuple[str, list[str]]]) -> float:
    equivalent = [name for name, differences in results if not differences]
    share = len(equivalent) / len(results)
    print(f"\n{kind}: {len(equivalent)}/{len(results)} equivalent ({share:.0%})")
    for name, differences in results:
        if differences:
            print(f"  {name}: {'; '.join(differences)[:300]}")
    return share


def test_attribute_types(mapping_dir: Path) -> None:
    results = list(compare(mapping_dir, "attributes"))
    assert len(results) == 80
    share = report("attributes", results)
    assert share >= 0.95
    assert {name for name, found in results if found} <= set(KNOWN_ATTRIBUTE_GAPS)


def test_galaxies(mapping_dir: Path) -> None:
    results = list(compare(mapping_dir, "galaxies"))
    assert report("galaxies", results) == 1.0


def test_object_types(mapping_dir: Path) -> None:
    results = list(compare(mapping_dir, "objects"))
    assert len(results) == 56
    share = report("objects", results)
    # Every object converts without error; the differences are listed in docs/misp.md.
    assert not [name for name, found in results if any("failed" in f for f in found)]
    assert share >= 0.25
