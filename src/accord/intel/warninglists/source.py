"""Where the MISP warninglists come from, and which observables each list applies to.

The lists are the JSON files that the `pymispwarninglists` package ships
(``data/misp-warninglists/lists/<name>/list.json``, the MISP/misp-warninglists format:
https://github.com/MISP/misp-warninglists#format-of-a-warning-list), or, with
``ACCORD_WARNINGLISTS_DIR``, the ``<name>/list.json`` files of a folder the operator keeps (a
checkout of MISP/misp-warninglists' ``lists``, say). Nothing is downloaded: the node's
verdicts change when the package is upgraded or the folder's files change.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import orjson

# Which observables a list applies to, as bits: a list says so with its MISP
# `matching_attributes` (attribute types); a list that names none applies to every kind.
IP: Final = 1
DOMAIN: Final = 2
URL: Final = 4
EMAIL: Final = 8
HASH: Final = 16
ALL: Final = IP | DOMAIN | URL | EMAIL | HASH

GROUP_OF_KIND: Final[dict[str, int]] = {
    "ipv4": IP,
    "ipv6": IP,
    "ipv4-net": IP,
    "ipv6-net": IP,
    "domain": DOMAIN,
    "url": URL,
    "email": EMAIL,
    "md5": HASH,
    "sha1": HASH,
    "sha256": HASH,
    "sha512": HASH,
    "sha3-256": HASH,
    "sha3-512": HASH,
    "ssdeep": HASH,
    "tlsh": HASH,
}

# MISP attribute types (https://www.misp-project.org/datamodels/#types) by the group they
# belong to. "domain|ip" is a composite attribute ("example.com|192.0.2.1") that Accord has no
# observable for: as in MISP, naming it does not make a list apply to plain domains or
# addresses (so the disposable e-mail domains flag e-mail addresses, not every domain name).
_ATTRIBUTE_GROUPS: Final[dict[str, int]] = {
    "ip": IP,
    "ip-src": IP,
    "ip-dst": IP,
    "ip-src|port": IP,
    "ip-dst|port": IP,
    "domain|ip": 0,
    "domain": DOMAIN,
    "hostname": DOMAIN,
    "hostname|port": DOMAIN,
    "url": URL,
    "uri": URL,
    "link": URL,
    "email": EMAIL,
    "email-src": EMAIL,
    "email-dst": EMAIL,
    "email-reply-to": EMAIL,
    "target-email": EMAIL,
    "whois-registrant-email": EMAIL,
    "dns-soa-email": EMAIL,
}
_HASH_NAMES: Final = frozenset(
    {
        "md5",
        "sha1",
        "sha224",
        "sha256",
        "sha384",
        "sha512",
        "sha512/224",
        "sha512/256",
        "sha3-224",
        "sha3-256",
        "sha3-384",
        "sha3-512",
        "ssdeep",
        "tlsh",
        "imphash",
        "authentihash",
        "impfuzzy",
        "pehash",
        "vhash",
    }
)

FALSE_POSITIVE: Final = "false-positive"
"""MISP's category when a list names none: its entries are likely false positives."""


def groups_for(matching_attributes: list[str] | None) -> int:
    """The observable groups a list applies to, from its MISP `matching_attributes`."""
    if not matching_attributes:
        return ALL
    groups = 0
    for attribute in matching_attributes:
        name = attribute.strip().lower()
        groups |= _ATTRIBUTE_GROUPS.get(name, 0)
        base = name.removeprefix("filename|").removeprefix("x509-fingerprint-")
        if base in _HASH_NAMES:
            groups |= HASH
    return groups


@dataclass(frozen=True, slots=True)
class ListSource:
    """Where the list files are, and what identifies this set of them."""

    lists_dir: Path
    package_version: str

    def files(self) -> list[Path]:
        return sorted(self.lists_dir.glob("*/list.json"))

    def fingerprint(self) -> str:
        """Cheap identity of the list files, checked on every load: the package version and
        each file's name, size and modification time. (The SHA-256 of their contents is
        computed when the index is built and kept in it, for provenance.)"""
        digest = hashlib.sha256(self.package_version.encode())
        for path in self.files():
            stat = path.stat()
            digest.update(f"\0{path.parent.name}\0{stat.st_size}\0{stat.st_mtime_ns}".encode())
        return digest.hexdigest()[:16]

    def read(self) -> Iterator[dict[str, Any]]:
        for path in self.files():
            document = orjson.loads(path.read_bytes())
            if isinstance(document, dict) and isinstance(document.get("list"), list):
                document.setdefault("name", path.parent.name)
                yield document

    def content_sha256(self) -> str:
        digest = hashlib.sha256()
        for path in self.files():
            digest.update(path.parent.name.encode() + b"\0" + path.read_bytes())
        return digest.hexdigest()


def package_source() -> ListSource:
    """The lists that the installed `pymispwarninglists` ships (its package is located, not
    imported: importing it reads no lists, but costs time a look-up need not spend)."""
    spec = importlib.util.find_spec("pymispwarninglists")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the pymispwarninglists package is not installed")
    root = Path(next(iter(spec.submodule_search_locations)))
    # The version from the dist-info folder's name: importlib.metadata scans every installed
    # distribution, which costs more than loading the compiled index.
    infos = sorted(root.parent.glob("pymispwarninglists-*.dist-info"))
    if len(infos) == 1:
        version = infos[0].name.removeprefix("pymispwarninglists-").removesuffix(".dist-info")
    else:
        version = importlib.metadata.version("pymispwarninglists")
    return ListSource(root / "data" / "misp-warninglists" / "lists", version)


DIR_ENV: Final = "ACCORD_WARNINGLISTS_DIR"


def default_source(env: Mapping[str, str] | None = None) -> ListSource:
    """The node's lists: the folder ``ACCORD_WARNINGLISTS_DIR`` names, else the package's."""
    folder = (os.environ if env is None else env).get(DIR_ENV, "").strip()
    if not folder:
        return package_source()
    path = Path(folder)
    if not path.is_dir():
        raise RuntimeError(f"{DIR_ENV}={folder!r} is not a folder (of <name>/list.json files)")
    return ListSource(path, "folder")
