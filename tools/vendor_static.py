"""Vendor the portal's JavaScript and CSS from the npm registry into
src/accord/web/static/vendor/ (one folder per package, `Package.directory`), with each
package's licence files, and write its manifest, src/accord/web/static/vendor/VENDORED.md
(what came from where, and each file's SHA-256).

The portal has no build chain and loads nothing from a CDN (issue 17): these files are the
packages' own published builds, copied byte for byte from the tarball `npm pack` fetches, and
served by `accord.web.static_files` under hashed names. Nothing is fetched at run time.

Usage (from the project's root; needs `npm` on the PATH):

    python tools/vendor_static.py                    # again, at the recorded versions
    python tools/vendor_static.py htmx.org@2.0.12    # update one package (several may follow)
    python tools/vendor_static.py --check            # the files match the manifest (no npm)

A version must stay on its package's line (`Package.line`): htmx 4 is a different library
from htmx 2, which the portal is written for, so `htmx.org@4.0.0` is refused.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "src" / "accord" / "web" / "static" / "vendor"
MANIFEST = "VENDORED.md"


@dataclass(frozen=True)
class Package:
    """One npm package and what the portal takes from it."""

    name: str
    # The version vendored when the manifest does not name one yet.
    version: str
    # A version must start with this: the major (and minor) line the portal is written for.
    line: str
    # Paths inside the tarball's `package/` folder, copied under their base names.
    files: tuple[str, ...]
    # The licence and notice files, copied beside them.
    licences: tuple[str, ...]
    why: str
    # The folder under vendor/, when it is not the package's name: templates name the files
    # by it (``vendor/htmx/htmx.min.js``).
    folder: str = ""

    @property
    def directory(self) -> str:
        return self.folder or self.name


PACKAGES: tuple[Package, ...] = (
    Package(
        "htmx.org",
        "2.0.11",
        "2.0.",  # htmx 2.0 is the stable line; 4.x (npm's "latest") is another library
        ("dist/htmx.min.js",),
        ("LICENSE",),
        "partial page updates",
        folder="htmx",
    ),
    Package(
        "cytoscape",
        "3.35.0",
        "3.",
        ("dist/cytoscape.min.js",),
        ("LICENSE",),
        "the relationship graph",
    ),
    Package(
        "uplot",
        "1.6.32",
        "1.",
        ("dist/uPlot.iife.min.js", "dist/uPlot.min.css"),
        ("LICENSE",),
        "charts (sightings over time, the dashboard)",
    ),
    Package(
        "swagger-ui-dist",
        "5.36.0",
        "5.",
        ("swagger-ui-bundle.js", "swagger-ui.css"),
        # Apache-2.0 asks that the NOTICE travels with the files; the bundle's own licence
        # file lists the third-party code compiled into it.
        ("LICENSE", "NOTICE", "swagger-ui-bundle.js.LICENSE.txt"),
        "the offline /api/docs page",
    ),
    Package(
        "axe-core",
        "4.14.1",
        "4.",
        ("axe.min.js",),
        ("LICENSE", "LICENSE-3RD-PARTY.txt"),
        "accessibility checks in the browser tests",
    ),
)

_SOURCE_ROW = re.compile(r"^\| `(?P<name>[^`]+)` \| (?P<version>[^ |]+) \|")


class VendorError(Exception):
    """A clear reason to stop (shown without a traceback)."""


@dataclass(frozen=True)
class Fetched:
    """One package as fetched: its version, licence, tarball integrity and files."""

    package: Package
    version: str
    licence: str
    integrity: str
    # (file name in the package's folder, its bytes, is a licence file)
    contents: tuple[tuple[str, bytes, bool], ...]


def recorded_versions(vendor: Path) -> dict[str, str]:
    """The versions the manifest names (its "Sources" table, which this script writes)."""
    manifest = vendor / MANIFEST
    if not manifest.is_file():
        return {}
    versions = {}
    for line in manifest.read_text(encoding="utf-8").splitlines():
        match = _SOURCE_ROW.match(line)
        if match:
            versions[match["name"]] = match["version"]
    return versions


def recorded_digests(vendor: Path) -> dict[str, str]:
    """Each file's path under vendor/ -> SHA-256, from the manifest's "Files" table."""
    manifest = vendor / MANIFEST
    if not manifest.is_file():
        raise VendorError(f"{manifest} is missing")
    digests = {}
    for line in manifest.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip().strip("`") for cell in line.strip().strip("|").split("|")]
        if len(cells) == 5 and re.fullmatch(r"[0-9a-f]{64}", cells[4]):
            digests[cells[2]] = cells[4]
    return digests


def check(vendor: Path) -> list[str]:
    """What differs between the files under ``vendor`` and the manifest (empty: all agree)."""
    digests = recorded_digests(vendor)
    problems = []
    for relative, digest in sorted(digests.items()):
        path = vendor / relative
        if not path.is_file():
            problems.append(f"{relative}: missing")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            problems.append(f"{relative}: SHA-256 differs from {MANIFEST}")
    on_disk = {
        path.relative_to(vendor).as_posix()
        for path in vendor.rglob("*")
        if path.is_file() and path.name != MANIFEST
    }
    problems += [f"{extra}: not in {MANIFEST}" for extra in sorted(on_disk - digests.keys())]
    return problems


def npm_pack(spec: str, into: Path) -> tuple[Path, str]:
    """``npm pack spec`` into ``into``: the tarball and its registry integrity (sha512)."""
    try:
        done = subprocess.run(
            ["npm", "pack", spec, "--json", "--ignore-scripts", "--pack-destination", str(into)],
            check=True,
            capture_output=True,
            text=True,
        )
    except FileNotFoundError:
        raise VendorError("npm is not on the PATH") from None
    except subprocess.CalledProcessError as error:
        raise VendorError(f"npm pack {spec} failed:\n{error.stderr.strip()}") from None
    packed = json.loads(done.stdout)[0]
    return into / packed["filename"], str(packed["integrity"])


def _member(tar: tarfile.TarFile, path: str, source: str) -> bytes:
    """A regular file of the tarball's ``package/`` folder (read, never extracted)."""
    try:
        member = tar.getmember(f"package/{path}")
    except KeyError:
        raise VendorError(f"{source}: no file package/{path}") from None
    extracted = tar.extractfile(member) if member.isfile() else None
    if extracted is None:
        raise VendorError(f"{source}: package/{path} is not a regular file")
    with extracted:
        return extracted.read()


def fetch(package: Package, version: str, work: Path) -> Fetched:
    """``package`` at ``version``, read from its tarball (nothing written under vendor/)."""
    if not version.startswith(package.line):
        raise VendorError(
            f"{package.name}@{version} is off the {package.line}x line the portal is written "
            f"for; change Package.line in {Path(__file__).name} on purpose if that is meant"
        )
    tarball, integrity = npm_pack(f"{package.name}@{version}", work)
    with tarfile.open(tarball, "r:gz") as tar:
        metadata = json.loads(_member(tar, "package.json", tarball.name))
        if metadata.get("name") != package.name or metadata.get("version") != version:
            raise VendorError(f"{tarball.name} is not {package.name}@{version}")
        contents = tuple(
            (PurePosixPath(path).name, _member(tar, path, tarball.name), path in package.licences)
            for path in package.files + package.licences
        )
    return Fetched(package, version, str(metadata.get("license", "?")), integrity, contents)


def write(fetched: Fetched, vendor: Path) -> None:
    """Replace the package's folder under ``vendor`` with what was fetched."""
    folder = vendor / fetched.package.directory
    if folder.exists():
        shutil.rmtree(folder)  # files an older version had and this one has not go too
    folder.mkdir(parents=True)
    for name, data, _ in fetched.contents:
        (folder / name).write_bytes(data)


def manifest_text(vendored: list[Fetched]) -> str:
    lines = [
        "# Vendored static files",
        "",
        "Written by `tools/vendor_static.py` (do not edit by hand): the published builds of",
        "these npm packages, copied byte for byte from the registry's tarballs, with their",
        "licence files. Update with `python tools/vendor_static.py NAME@VERSION`; check with",
        "`python tools/vendor_static.py --check`.",
        "",
        "## Sources",
        "",
        "| package | version | licence | used for | tarball integrity (npm) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for item in vendored:
        lines.append(
            f"| `{item.package.name}` | {item.version} | {item.licence} | {item.package.why} "
            f"| `{item.integrity}` |"
        )
    lines += [
        "",
        "## Files",
        "",
        "| package | version | file (under vendor/) | licence | sha256 |",
        "| --- | --- | --- | --- | --- |",
    ]
    for item in vendored:
        for name, data, is_licence in item.contents:
            digest = hashlib.sha256(data).hexdigest()
            licence = "(licence text)" if is_licence else item.licence
            lines.append(
                f"| `{item.package.name}` | {item.version} | `{item.package.directory}/{name}` "
                f"| {licence} | `{digest}` |"
            )
    return "\n".join(lines) + "\n"


def parse_updates(specs: list[str]) -> dict[str, str]:
    known = {package.name for package in PACKAGES}
    updates = {}
    for spec in specs:
        name, at, version = spec.rpartition("@")
        if not at or not name or not version:
            raise VendorError(f"{spec!r}: write NAME@VERSION (e.g. htmx.org@2.0.11)")
        if name not in known:
            raise VendorError(f"{name!r} is not vendored here; known: {', '.join(sorted(known))}")
        updates[name] = version
    return updates


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("specs", nargs="*", metavar="NAME@VERSION", help="packages to update")
    parser.add_argument("--check", action="store_true", help="verify the files, fetch nothing")
    parser.add_argument("--vendor", type=Path, default=VENDOR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    vendor: Path = args.vendor
    try:
        if args.check:
            problems = check(vendor)
            for problem in problems:
                print(problem, file=sys.stderr)
            return 1 if problems else 0
        versions = {p.name: p.version for p in PACKAGES} | recorded_versions(vendor)
        versions |= parse_updates(args.specs)
        vendor.mkdir(parents=True, exist_ok=True)
        # Everything is fetched before anything is written: a failure leaves vendor/ as it was.
        with tempfile.TemporaryDirectory(prefix="accord-vendor-") as work:
            vendored = [fetch(p, versions[p.name], Path(work)) for p in PACKAGES]
        for item in vendored:
            write(item, vendor)
        # vendor/ is this tool's: a folder no package uses any more (renamed, dropped) goes.
        for stale in sorted(set(vendor.iterdir()) - {vendor / p.directory for p in PACKAGES}):
            if stale.is_dir():
                shutil.rmtree(stale)
                print(f"removed {stale.relative_to(vendor)}/ (no package uses it)")
        (vendor / MANIFEST).write_text(manifest_text(vendored), encoding="utf-8")
    except VendorError as error:
        print(f"vendor_static: {error}", file=sys.stderr)
        return 1
    for item in vendored:
        print(f"{item.package.name}@{item.version}: {', '.join(f[0] for f in item.contents)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
