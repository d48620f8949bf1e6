"""The vendored npm files (tools/vendor_static.py): the tree matches its manifest, each
package has its licence, htmx stays on its 2.x line, and the tool's fetch, write and check
work, against a tarball made here (no test calls npm)."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import sys
import tarfile
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "vendor_static", ROOT / "tools" / "vendor_static.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("vendor_static", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


vendor_static = _tool()


def test_the_vendored_tree_matches_its_manifest() -> None:
    assert vendor_static.check(vendor_static.VENDOR) == []


def test_each_package_is_vendored_with_its_licence() -> None:
    versions = vendor_static.recorded_versions(vendor_static.VENDOR)
    assert set(versions) == {package.name for package in vendor_static.PACKAGES}
    assert versions["htmx.org"].startswith("2.0.")  # htmx 4 is another library
    for package in vendor_static.PACKAGES:
        folder = vendor_static.VENDOR / package.directory
        assert (folder / "LICENSE").is_file(), package.name
        names = {path.name for path in folder.iterdir()}
        assert names == {Path(f).name for f in package.files + package.licences}


def _tarball(path: Path, name: str, version: str, files: dict[str, bytes]) -> None:
    contents = {"package.json": json.dumps({"name": name, "version": version, "license": "MIT"})}
    with tarfile.open(path, "w:gz") as tar:
        for member, data in {**{k: v.encode() for k, v in contents.items()}, **files}.items():
            info = tarfile.TarInfo(f"package/{member}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_the_tool_vendors_from_a_tarball(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = vendor_static.Package(
        "example-lib", "1.2.3", "1.", ("dist/lib.min.js",), ("LICENSE",), "a test", "example"
    )
    monkeypatch.setattr(vendor_static, "PACKAGES", (package,))
    asked: list[str] = []

    def npm_pack(spec: str, into: Path) -> tuple[Path, str]:
        asked.append(spec)
        tarball = into / "example-lib.tgz"
        _tarball(
            tarball,
            "example-lib",
            spec.rpartition("@")[2],
            {"dist/lib.min.js": b"lib();\n", "LICENSE": b"MIT\n", "src/big.js": b"x"},
        )
        return tarball, "sha512-made-up"

    monkeypatch.setattr(vendor_static, "npm_pack", npm_pack)
    vendor = tmp_path / "vendor"
    (vendor / "example").mkdir(parents=True)
    (vendor / "example" / "old.js").write_bytes(b"gone")
    (vendor / "example-lib").mkdir()  # a folder no package uses (a former name)

    assert vendor_static.main(["--vendor", str(vendor)]) == 0
    assert asked == ["example-lib@1.2.3"]
    assert sorted(p.name for p in vendor.iterdir()) == ["VENDORED.md", "example"]
    assert sorted(p.name for p in (vendor / "example").iterdir()) == ["LICENSE", "lib.min.js"]
    manifest = (vendor / "VENDORED.md").read_text()
    assert hashlib.sha256(b"lib();\n").hexdigest() in manifest
    assert "sha512-made-up" in manifest
    assert vendor_static.recorded_versions(vendor) == {"example-lib": "1.2.3"}
    assert vendor_static.main(["--check", "--vendor", str(vendor)]) == 0

    # An update names the version; the next run keeps it (the manifest is the record).
    assert vendor_static.main(["example-lib@1.4.0", "--vendor", str(vendor)]) == 0
    assert vendor_static.main(["--vendor", str(vendor)]) == 0
    assert asked[1:] == ["example-lib@1.4.0", "example-lib@1.4.0"]

    # Off the package's line, or unknown: refused, and nothing is written.
    before = (vendor / "VENDORED.md").read_text()
    assert vendor_static.main(["example-lib@2.0.0", "--vendor", str(vendor)]) == 1
    assert vendor_static.main(["other@1.0.0", "--vendor", str(vendor)]) == 1
    assert (vendor / "VENDORED.md").read_text() == before

    (vendor / "example" / "lib.min.js").write_bytes(b"tampered();\n")
    (vendor / "example" / "extra.js").write_bytes(b"")
    (vendor / "example" / "LICENSE").unlink()
    assert vendor_static.check(vendor) == [
        "example/LICENSE: missing",
        "example/lib.min.js: SHA-256 differs from VENDORED.md",
        "example/extra.js: not in VENDORED.md",
    ]
