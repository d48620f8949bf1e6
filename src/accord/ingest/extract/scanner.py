"""Find indicators in text: one pass of each compiled pattern over the refanged document.

Longer values claim their characters first (URLs, e-mail addresses, registry keys, file
paths), so that the host inside a URL or the domain of an e-mail address is not reported a
second time as a bare domain. Every candidate is then checked and normalised with the same
functions as the observable index (`accord.model.observables.normalise`), so an extracted
value is exactly what a look-up compares against.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from accord.ingest.extract import patterns as p
from accord.ingest.extract.defang import Refanged, refang_text
from accord.ingest.extract.findings import Finding
from accord.ingest.extract.flags import (
    BUILT_IN_CHECKS,
    NETWORK_KINDS,
    Flagger,
    external_flags,
)
from accord.ingest.extract.pattern_search import (
    hex_runs,
    ipv4_matches,
    line_start_matches,
    match_start,
    matches_on_lines,
    plain_labels,
    service_lines,
)
from accord.model.observables import Observable, normalise


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """What to look for and how to judge it."""

    flagger: Flagger | None = None
    """Checks from outside the ingest layer (e.g. MISP warninglists); see `flags`."""
    rebuild_traffic_urls: bool = True
    """Rebuild the URL of "host port N - name - GET /path" lines of packet-capture notes, and
    of "1.2.3.4 port N - HTTPS traffic" / "- TCP traffic" lines (`_service_url`)."""


class _Scan:
    def __init__(self, refanged: Refanged) -> None:
        self.doc = refanged
        self.text = refanged.text
        self.claimed = bytearray(len(self.text))
        self.found: dict[tuple[str, str], Finding] = {}
        self.lower = self.text.lower()
        # The text reversed, for walking back from a dot or an "@" with one regex match.
        self.backward = self.text[::-1]
        # Whether refanging changed anything: if not, offsets need no mapping and no value
        # was defanged.
        self.shifted = refanged.any_defanged

    # -- bookkeeping ---------------------------------------------------------------------

    def free(self, start: int, end: int) -> bool:
        claimed = self.claimed
        return not (claimed[start] or claimed[end - 1])

    def claim(self, start: int, end: int) -> None:
        self.claimed[start:end] = b"\x01" * (end - start)

    def add(
        self,
        kind: str,
        value: str,
        start: int,
        end: int,
        observable: Observable | None = None,
        port: int | None = None,
        derived: str | None = None,
    ) -> None:
        key = (kind, value)
        doc = self.doc
        known = self.found.get(key)
        if known is not None:
            known.count += 1
            if self.shifted and not known.defanged and doc.defanged_between(start, end):
                known.defanged = True
            if known.port is None:
                known.port = port
            return
        # Offsets in the clean text for now: `scan` maps them all to the original at once,
        # and says then whether the writer defanged the value (`Refanged.relocate`).
        # (Positional: a keyword call of the dataclass's __init__ costs twice as much.)
        self.found[key] = finding = Finding(
            kind, value, start, end, doc.original, False, observable, port
        )
        if derived is not None:
            finding.derived = derived

    # -- URLs and e-mail -------------------------------------------------------------------

    def urls(self, rebuild_traffic: bool) -> None:
        text, backward, length = self.text, self.backward, len(self.text)
        alnum_run = p.ALNUM_RUN.match
        for separator in p.URL_SEPARATOR.finditer(text):
            # Back over the letters and digits before "://" (one match over the reversed
            # text rather than a step per character).
            run = alnum_run(backward, length - separator.start())
            assert run is not None  # the pattern matches the empty string
            scheme_start = separator.start() - (run.end() - run.start())
            scheme = text[scheme_start : separator.start()]
            if scheme.lower() not in p.URL_SCHEME_NAMES:
                continue
            if scheme_start and text[scheme_start - 1] == "_":
                continue
            rest_start = separator.end()
            if scheme.lower() in ("http", "https"):
                # "hxxps[:]///evil[.]com/": a slip of the defanging hand, not a file URL.
                while text.startswith("/", rest_start):
                    rest_start += 1
            rest = p.URL_REST.match(text, rest_start)
            if rest is None:
                continue
            start, end = scheme_start, rest.end()
            value = raw = scheme + "://" + rest.group(0)
            # A long URL wrapped onto indented lines, one or more ("...aclk?sa=L&" then
            # "  ai=...&" then "  ved=..."): each line that ends where a URL can be broken
            # takes the next, until one ends the URL (it ends otherwise, or is trimmed).
            while value.endswith(p.URL_WRAPPABLE_END):
                more = p.URL_CONTINUATION.match(text, end)
                if more is None:
                    break
                tail = _trim_url(more.group("rest"))
                value += tail
                end = more.start("rest") + len(tail)
                if len(tail) < len(more.group("rest")):
                    break
            if value is raw:
                value = _trim_url(raw)
                end -= len(raw) - len(value)
            if text.startswith("[", end):
                value, end = _before_placeholder(value, end)
            self._add_url(value, start, end)
        if rebuild_traffic and "port" in text:
            for match in line_start_matches(p.TRAFFIC_LINE, text, p.TRAFFIC_TRIGGER):
                self._traffic_url(match)
        if rebuild_traffic and "-" in text:
            for match in service_lines(text):
                self._service_url(match)

    def _add_url(self, value: str, start: int, end: int, derived: str | None = None) -> bool:
        observable = _normalised("url", value)
        if observable is None or not observable.host:
            return False
        if (
            observable.rdomain is not None
            and "." in observable.host
            and not p.has_public_suffix(observable.host)
        ):
            return False  # an unknown top-level domain: not a real host
        if derived != "rebuilt from a traffic line":
            self.claim(start, end)
        self.add("url", observable.value, start, end, observable, derived=derived)
        if self.doc.defanged_between(start, end) and derived is None:
            self._add_host(observable, start, end)
        return True

    def _add_host(self, url: Observable, start: int, end: int) -> None:
        """The host of a defanged URL is an indicator too (producers list both)."""
        assert url.host is not None
        if url.rdomain is not None:
            # A URL's host name is canonical already (its `Observable` is made when asked for).
            if ("domain", url.host) not in self.found and not url.host.endswith(".onion"):
                self.add("domain", url.host, start, end, derived="host of a URL")
            return
        host = _address(url.host)
        if host is None or (host.kind, host.value) in self.found:
            return
        self.add(host.kind, host.value, start, end, host, derived="host of a URL")

    def _traffic_url(self, match: re.Match[str]) -> None:
        host = match.group("host").rstrip(",;")
        port = int(match.group("port"))
        scheme = "https" if port == 443 or match.group("tls") == "HTTPS" else "http"
        if ":" not in host and port not in (80, 443):
            host = f"{host}:{port}"
        path, end = match.group("path"), match.end("path")
        if self.text.startswith("[", end):  # "GET /[victim's public IP address]/city"
            path, end = _before_placeholder(path, end)
            if path == "/":
                return  # nothing left of the path but its root: not the URL requested
        value = f"{scheme}://{host}{path}"
        start = match.start("host")
        key_observable = _normalised("url", value)
        if key_observable is None or ("url", key_observable.value) in self.found:
            return
        self._add_url(value, start, end, derived="rebuilt from a traffic line")

    def _service_url(self, match: re.Match[str]) -> None:
        """The URL of a line that says what an address served ("1.2.3.4 port 2967 - HTTPS
        traffic"): https for HTTPS, TLS or SSL traffic, tcp for plain TCP traffic."""
        what = match.group("what")
        if p.SERVICE_HOST_FIELD.match(what):
            return
        if p.SERVICE_TLS.search(what):
            scheme = "https"
        elif p.SERVICE_TCP.search(what):
            scheme = "tcp"
        else:
            return
        value = f"{scheme}://{match.group('host')}:{match.group('port')}/"
        start, end = match.start("host"), match.end("port")
        self._add_url(value, start, end, derived="rebuilt from a traffic line")

    def emails(self) -> None:
        for match in self._email_matches():
            start, end = match.span()
            if not self.free(start, end):
                continue
            domain = match.group("domain").lower()
            if p.public_suffix(domain) in (None, domain):
                continue
            local = match.group("local").strip(".")
            observable = _normalised("email", f"{local}@{domain}")
            if observable is None:
                continue
            self.claim(start, end)
            self.add("email", observable.value, start, end, observable)

    def _email_matches(self) -> Iterator[re.Match[str]]:
        """What `p.EMAIL.finditer` finds, started only where it can start: every match holds
        exactly one "@", and begins where the run of local-part characters before it does."""
        text, backward = self.text, self.backward
        length = len(text)
        at = text.find("@")
        resume = 0  # where the last match ended: matches do not overlap
        while at >= 0:
            local = p.EMAIL_LOCAL_RUN.match(backward, length - at)
            assert local is not None  # the pattern matches the empty string
            start = at - (local.end() - local.start())
            match = p.EMAIL.match(text, start) if start >= resume else None
            if match is not None:
                yield match
                resume = match.end()
            at = text.find("@", max(at + 1, resume))

    # -- host artefacts --------------------------------------------------------------------

    def registry_keys(self) -> None:
        for match in (
            matches_on_lines(p.REGISTRY_KEY, self.text, p.REGISTRY_TRIGGER)
            if "hk" in self.lower
            else ()
        ):
            start = match.start()
            written = _trim_key(match.group("rest"))
            rest = written.replace("\\\\", "\\")
            if len(rest) < 2:
                continue
            end = match.start("rest") + len(written)
            value = p.canonical_hive(match.group("hive")) + rest
            self.claim(start, end)
            self.add("registry-key", value, start, end)

    def file_paths(self) -> None:
        text = self.text
        windows = (
            matches_on_lines(p.WINDOWS_PATH, text, p.WINDOWS_PATH_TRIGGER) if "\\" in text else ()
        )
        unix = (
            p.UNIX_PATH.finditer(text)
            if "~/" in text or p.UNIX_DIR_TRIGGER.search(text) is not None
            else ()
        )
        for matches in (windows, unix):
            for match in matches:
                start, end = match.span()
                if not self.free(start, end):
                    continue
                value = match.group(0).rstrip(".,;:)'\"")
                if value.count("\\") + value.count("/") < 1 or len(value) < 4:
                    continue
                end = start + len(value)
                self.claim(start, end)
                self.add("file-path", value, start, end)

    # -- hashes, vulnerabilities, techniques, wallets ------------------------------------------

    def hashes(self) -> None:
        text, claimed, found, source = self.text, self.claimed, self.found, self.doc.original
        for start, end in hex_runs(text):
            kind = _HEX_KINDS.get(end - start)
            if kind is None or claimed[start] or claimed[end - 1]:
                continue  # (claimed: an Ethereum address)
            # A hex run of the right length: canonical once lower-cased (its `Observable` is
            # made when asked for, see `Finding.observable`).
            key = (kind, text[start:end].lower())
            if key in found:
                self.add(*key, start, end)  # counted
            else:  # what `add` makes, without the call (reports list thousands of hashes)
                found[key] = Finding(kind, key[1], start, end, source, False)
        if ":" in self.text:
            for match in matches_on_lines(p.SSDEEP, self.text, p.SSDEEP_TRIGGER):
                if int(match.group("size")) not in p.SSDEEP_BLOCK_SIZES:
                    continue
                start, end = match.span()
                if not self.free(start, end):
                    continue
                observable = _normalised("ssdeep", match.group(0))
                if observable is None:
                    continue
                self.claim(start, end)
                self.add("ssdeep", observable.value, start, end, observable)

    def labels(self) -> None:
        for match in (
            matches_on_lines(p.CVE, self.text, p.CVE_TRIGGER) if "cve" in self.lower else ()
        ):
            value = f"CVE-{match.group('year')}-{match.group('number')}"
            self.add("cve", value, *match.span())
        if "T1" in self.text or "TA0" in self.text:
            # What `p.ATTACK.finditer` finds: matches of the two never overlap (each is a
            # whole word), and text order is kept.
            ids = [m for pattern in p.ATTACK_BY_PREFIX for m in pattern.finditer(self.text)]
            ids.sort(key=match_start)
            for match in ids:
                self.add("attack-technique", match.group("id"), *match.span())

    def wallets(self) -> None:
        text = self.text
        legacy = [m for pattern in p.BITCOIN_LEGACY_BY_START for m in pattern.finditer(text)]
        legacy.sort(key=match_start)  # what `p.BITCOIN_LEGACY.finditer(text)` gives
        for match in legacy:
            if self.free(*match.span()) and p.valid_base58check(match.group(0)):
                self.claim(*match.span())
                self.add("bitcoin", match.group(0), *match.span())
        segwit = (
            [m for pattern in p.BITCOIN_BECH32_BY_PREFIX for m in pattern.finditer(text)]
            if "bc1" in self.lower
            else []
        )
        segwit.sort(key=match_start)  # what `p.BITCOIN_BECH32.finditer(text)` gives
        for match in segwit:
            if self.free(*match.span()) and p.valid_bech32(match.group(0)):
                self.claim(*match.span())
                self.add("bitcoin", match.group(0).lower(), *match.span())
        for match in p.ETHEREUM.finditer(text) if "0x" in text else ():
            if self.free(*match.span()):
                self.claim(*match.span())
                self.add("ethereum", match.group(0).lower(), *match.span())

    # -- addresses and names -----------------------------------------------------------------

    def addresses(self) -> None:
        text, claimed, dotted_quad = self.text, self.claimed, p.DOTTED_QUAD.fullmatch
        for match in ipv4_matches(text):
            start, end = match.span()
            if claimed[start] or claimed[end - 1]:
                continue
            ip, cidr, port_text = match.group("ip", "cidr", "port")
            if dotted_quad(ip) is None:
                continue  # an octet over 255 or with a leading zero
            if (
                cidr is None
                and text.startswith(_HOST_TAIL_STARTS, end)
                and self._host_then_path(ip, start, end, None)
            ):
                continue
            if port_text is None:
                words = p.PORT_WORDS.match(text, end) if text.startswith((" ", "\t"), end) else None
                port_text = words.group(1) if words is not None else None
            port = int(port_text) if port_text is not None and int(port_text) < 65536 else None
            self.claim(start, end)
            if cidr is None:
                # Octets of 0-255 without leading zeros: the address is its own canonical
                # text (its `Observable` is made when asked for).
                self.add("ipv4", ip, start, end, port=port)
                continue
            observable = _normalised("ipv4", ip + "/" + cidr)
            if observable is None:
                continue
            self.add(observable.kind, observable.value, start, end, observable, port)
        if "::" in text or text.count(":") > 6:
            for match in matches_on_lines(p.IPV6, text, p.IPV6_TRIGGER):
                start, end = match.span()
                if not self.free(start, end):
                    continue
                try:
                    ipaddress.IPv6Address(match.group("ip"))
                except ValueError:
                    continue
                if match.group("ip") == "::":
                    continue
                value = match.group("ip")
                if match.group("cidr") is not None:
                    value += "/" + match.group("cidr")
                observable = _normalised("ipv6", value)
                if observable is None:
                    continue
                self.claim(start, end)
                self.add(observable.kind, observable.value, start, end, observable)

    def domains(self) -> None:
        text, claimed = self.text, self.claimed
        backward, length = self.backward, len(self.text)
        listed, name_run = p.LISTED_TLDS, p.NAME_RUN.match
        for match in p.TLD_END.finditer(text):
            dot, end = match.span()
            if claimed[end - 1]:
                continue  # inside a URL, an e-mail address, a path: not free (see `free`)
            if listed is not None and text[dot + 1 : end].lower() not in listed:
                continue  # most often a file name ("setup.exe"): no public suffix
            # `p.name_start`, inlined: walk back over name characters to a letter or digit.
            run = name_run(backward, length - dot)
            assert run is not None  # the pattern matches the empty string
            start = length - run.end()  # (the run began at `length - dot` in `backward`)
            while start < dot and not text[start].isalnum():
                start += 1
            if start == dot or (start and text[start - 1] in p.NOT_BEFORE_NAME):
                continue
            if claimed[start]:
                continue
            if (
                not plain_labels(text, start, dot)
                and p.DOMAIN_NAME.fullmatch(text, start, end) is None
            ):
                continue
            name = text[start:end].lower()
            suffix = p.public_suffix(name)
            if suffix is None or suffix == name:
                continue
            if text.startswith(_HOST_TAIL_STARTS, end) and self._host_then_path(
                name, start, end, None
            ):
                continue
            if name.endswith(".onion"):
                label = name.rsplit(".", 2)[-2]
                if len(label) in (16, 56) and re.fullmatch(r"[a-z2-7]+", label):
                    self.add("onion", name, start, end)
                continue
            if name.isascii() and len(name) <= _MAX_NAME:
                # Canonical already: an ASCII name that `p.DOMAIN_NAME` matched has labels of
                # letters, digits, "-" and "_", at most 63 long, the last alphabetic or
                # Punycode, which is all `normalise("domain", name)` checks but the length.
                self.add("domain", name, start, end)
                continue
            observable = _normalised("domain", name)
            if observable is not None:
                self.add("domain", observable.value, start, end, observable)

    def _host_then_path(self, host: str, start: int, end: int, cidr: str | None) -> bool:
        """A host followed by ":port/path" or "/path" with no scheme: a URL (http assumed),
        if the writer defanged it or gave it a real path."""
        if cidr is not None:
            return False
        tail = p.HOST_TAIL.match(self.text, end)
        if tail is None:
            return False
        path = p.URL_PATH.match(self.text, tail.end())
        assert path is not None
        url = _trim_url(self.text[start : path.end()])
        url_end = start + len(url)
        if url_end - tail.end() < 2 and not self.doc.defanged_between(start, url_end):
            return False
        observable = _normalised("url", "http://" + url)
        if observable is not None and observable.value.startswith("http://"):
            twin = "https://" + observable.value[7:]
            if ("url", twin) in self.found:
                # Given in full with https elsewhere in the report ("hxxps[:]//evil[.]com/x"
                # in a list, "from evil[.]com/x" in the prose): the same resource again.
                self.claim(start, url_end)
                self.add("url", twin, start, url_end)
                return True
        return self._add_url("http://" + url, start, url_end, derived="no scheme written")


_HEX_KINDS = {32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}
# What `p.HOST_TAIL` starts with: a cheap test before trying it.
_HOST_TAIL_STARTS: Final = (":", "/")
_MAX_NAME: Final = 253  # RFC 1035 section 2.3.4, as `accord.model.domains` checks it


def _trim_url(value: str) -> str:
    """Drop what prose puts after a URL: punctuation, and a closing bracket it never opened."""
    if value.endswith("++"):  # AsciiDoc's passthrough: `++http://evil/x++`
        value = value[:-2]
    while value:
        last = value[-1]
        if last in p.TRAILING_PUNCTUATION or (last == ")" and value.count("(") < value.count(")")):
            value = value[:-1]
        else:
            break
    return value


def _before_placeholder(value: str, end: int) -> tuple[str, int]:
    """A URL (or path) that runs into a placeholder ("?id=[short alphanumeric string]")
    without the query parameter left dangling before it, and where it then ends: the URL the
    writer could give, which is what they publish."""
    dangling = p.DANGLING_PARAMETER.search(value)
    if dangling is None:
        return value, end
    return value[: dangling.start()], end - (len(value) - dangling.start())


def _trim_key(value: str) -> str:
    """Drop what prose puts after a registry key: punctuation, an unopened bracket."""
    while value:
        last = value[-1]
        if last in ".,:\\'\"+`" or (
            last in ")]" and value.count("(["[last == "]"]) < value.count(last)
        ):
            value = value[:-1]
        else:
            break
    return value


@lru_cache(maxsize=65536)
def _normalised(kind: str, value: str) -> Observable | None:
    """`normalise(kind, value)`, or None where it raises; cached, because reports repeat
    their indicators (and `Observable` is frozen, so a cached one can be shared)."""
    try:
        return normalise(kind, value)
    except ValueError:  # ObservableError, and the UnicodeDecodeError that `normalise_url`
        return None  # lets out for a percent-encoded host that is not UTF-8 ("a%a9b.com")


def _address(text: str) -> Observable | None:
    return _normalised("ipv4", text) or _normalised("ipv6", text)


def scan(text: str, options: ScanOptions | None = None) -> list[Finding]:
    """Every indicator in `text`, each once (first occurrence), in document order, flagged."""
    options = options or ScanOptions()
    refanged = refang_text(text)
    state = _Scan(refanged)
    state.wallets()
    state.hashes()  # a hash in a URL or a path is a sample's hash all the same
    state.urls(options.rebuild_traffic_urls)
    state.emails()
    state.registry_keys()
    state.file_paths()
    state.labels()
    state.addresses()
    state.domains()
    # Sorted by clean offset, which is the original order: mapping back keeps it.
    findings = sorted(state.found.values(), key=_finding_start)
    if state.shifted:
        refanged.relocate(findings)
    report_defangs = state.shifted and any(f.defanged for f in findings if f.kind in NETWORK_KINDS)
    checks = BUILT_IN_CHECKS  # (`built_in_flags`, without a call per finding to find the check)
    for finding in findings:
        check = checks.get(finding.kind)
        if check is not None:
            flags = check(finding, report_defangs)
            if flags:
                finding.flags.extend(flags)
    flagger = options.flagger
    if flagger is not None:
        for finding in findings:
            finding.flags.extend(external_flags(finding, flagger))
    return findings


def _finding_start(finding: Finding) -> int:
    return finding.start
