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

from accord.ingest.extract import patterns as p
from accord.ingest.extract.defang import Refanged, refang_text
from accord.ingest.extract.findings import Finding
from accord.ingest.extract.flags import NETWORK_KINDS, Flagger, built_in_flags, external_flags
from accord.model.observables import Observable, ObservableError, normalise

CONTEXT = 40  # characters of context on each side


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """What to look for and how to judge it."""

    flagger: Flagger | None = None
    """Checks from outside the ingest layer (e.g. MISP warninglists); see `flags`."""
    rebuild_traffic_urls: bool = True
    """Rebuild the URL of "host port N - name - GET /path" lines of packet-capture notes."""


class _Scan:
    def __init__(self, refanged: Refanged) -> None:
        self.doc = refanged
        self.text = refanged.text
        self.claimed = bytearray(len(self.text))
        self.found: dict[tuple[str, str], Finding] = {}
        self.lower = self.text.lower()
        # The text reversed, for walking back from a dot or an "@" with one regex match.
        self.backward = self.text[::-1]

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
            if not known.defanged and doc.defanged_between(start, end):
                known.defanged = True
            if known.port is None:
                known.port = port
            return
        original = doc.original
        o_start = doc.original_offset(start)
        o_end = doc.original_offset(end)
        # The value with up to CONTEXT characters each side, on one line.
        context = " ".join(original[max(0, o_start - CONTEXT) : o_end + CONTEXT].split())
        self.found[key] = Finding(
            kind=kind,
            value=value,
            start=o_start,
            end=o_end,
            raw=original[o_start:o_end],
            context=context,
            defanged=doc.defanged_between(start, end),
            observable=observable,
            port=port,
            derived=derived,
        )

    # -- URLs and e-mail -------------------------------------------------------------------

    def urls(self, rebuild_traffic: bool) -> None:
        text = self.text
        for separator in p.URL_SEPARATOR.finditer(text):
            scheme_start = separator.start()
            while scheme_start > 0 and text[scheme_start - 1].isalnum():
                scheme_start -= 1
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
            raw = scheme + "://" + rest.group(0)
            more = (
                p.URL_CONTINUATION.match(text, end) if raw.endswith(p.URL_WRAPPABLE_END) else None
            )
            if more is not None:
                tail = _trim_url(more.group("rest"))
                value = raw + tail
                end = more.start("rest") + len(tail)
            else:
                value = _trim_url(raw)
                end -= len(raw) - len(value)
            self._add_url(value, start, end)
        if rebuild_traffic and "port" in text:
            for match in _line_start_matches(p.TRAFFIC_LINE, text, p.TRAFFIC_TRIGGER):
                self._traffic_url(match)

    def _add_url(self, value: str, start: int, end: int, derived: str | None = None) -> bool:
        observable = _normalised("url", value)
        if observable is None or not observable.host:
            return False
        if (
            observable.rdomain is not None
            and "." in observable.host
            and p.public_suffix(observable.host) is None
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
        is_name = url.rdomain is not None
        host = _normalised("domain", url.host) if is_name else _address(url.host)
        if host is None or (host.kind, host.value) in self.found:
            return
        if host.kind == "domain" and host.value.endswith(".onion"):
            return
        self.add(host.kind, host.value, start, end, host, derived="host of a URL")

    def _traffic_url(self, match: re.Match[str]) -> None:
        host = match.group("host").rstrip(",;")
        port = int(match.group("port"))
        scheme = "https" if port == 443 or match.group("tls") == "HTTPS" else "http"
        if ":" not in host and port not in (80, 443):
            host = f"{host}:{port}"
        value = f"{scheme}://{host}{match.group('path')}"
        start, end = match.start("host"), match.end("path")
        key_observable = _normalised("url", value)
        if key_observable is None or ("url", key_observable.value) in self.found:
            return
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
            _matches_on_lines(p.REGISTRY_KEY, self.text, p.REGISTRY_TRIGGER)
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
        windows = _matches_on_lines(p.WINDOWS_PATH, text, p.WINDOWS_PATH_TRIGGER)
        unix = p.UNIX_PATH.finditer(text) if "/" in text else ()
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
        for match in p.HEX_HASH.finditer(self.text):
            start, end = match.span()
            if len(match.group(0)) not in p.HEX_HASH_LENGTHS or not self.free(start, end):
                continue  # (free: not an Ethereum address)
            kind = _HEX_KINDS[end - start]
            value = match.group(0).lower()
            if (kind, value) in self.found:
                self.add(kind, value, start, end)  # counted; made the first time
                continue
            # What `normalise` returns for a hex run of the right length, which the pattern
            # has already made sure of.
            self.add(kind, value, start, end, Observable(kind, value))
        if ":" in self.text:
            for match in _matches_on_lines(p.SSDEEP, self.text, p.SSDEEP_TRIGGER):
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
            _matches_on_lines(p.CVE, self.text, p.CVE_TRIGGER) if "cve" in self.lower else ()
        ):
            value = f"CVE-{match.group('year')}-{match.group('number')}"
            self.add("cve", value, *match.span())
        for match in (
            p.ATTACK.finditer(self.text) if "T1" in self.text or "TA0" in self.text else ()
        ):
            self.add("attack-technique", match.group("id"), *match.span())

    def wallets(self) -> None:
        text = self.text
        for match in p.BITCOIN_LEGACY.finditer(text):
            if self.free(*match.span()) and p.valid_base58check(match.group(0)):
                self.claim(*match.span())
                self.add("bitcoin", match.group(0), *match.span())
        for match in p.BITCOIN_BECH32.finditer(text) if "bc1" in self.lower else ():
            if self.free(*match.span()) and p.valid_bech32(match.group(0)):
                self.claim(*match.span())
                self.add("bitcoin", match.group(0).lower(), *match.span())
        for match in p.ETHEREUM.finditer(text) if "0x" in text else ():
            if self.free(*match.span()):
                self.claim(*match.span())
                self.add("ethereum", match.group(0).lower(), *match.span())

    # -- addresses and names -----------------------------------------------------------------

    def addresses(self) -> None:
        text = self.text
        for match in p.IPV4.finditer(text):
            start, end = match.span()
            if not self.free(start, end) or not p.valid_octets(match.group("ip")):
                continue
            if self._host_then_path(match.group("ip"), start, end, match.group("cidr")):
                continue
            port_text = match.group("port")
            if port_text is None:
                words = p.PORT_WORDS.match(text, end)
                port_text = words.group(1) if words is not None else None
            port = int(port_text) if port_text is not None and int(port_text) < 65536 else None
            value = match.group("ip")
            if match.group("cidr") is not None:
                value += "/" + match.group("cidr")
            self.claim(start, end)
            if match.group("cidr") is None and ("ipv4", value) in self.found:
                self.add("ipv4", value, start, end, port=port)  # normalised the first time
                continue
            observable = _normalised("ipv4", value)
            if observable is None:
                continue
            self.add(observable.kind, observable.value, start, end, observable, port)
        if "::" in text or text.count(":") > 6:
            for match in _matches_on_lines(p.IPV6, text, p.IPV6_TRIGGER):
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
        text = self.text
        for match in p.TLD_END.finditer(text):
            if not p.tld_listed(match.group(0)[1:].lower()):
                continue  # most often a file name ("setup.exe"): no public suffix
            end = match.end()
            start = p.name_start(text, match.start(), self.backward)
            if start == match.start() or (start and text[start - 1] in p.NOT_BEFORE_NAME):
                continue
            if not self.free(start, end):
                continue
            candidate = p.DOMAIN_NAME.fullmatch(text, start, end)
            if candidate is None:
                continue
            name = candidate.group(0).lower()
            suffix = p.public_suffix(name)
            if suffix is None or suffix == name:
                continue
            if self._host_then_path(name, start, end, None):
                continue
            if name.endswith(".onion"):
                label = name.rsplit(".", 2)[-2]
                if len(label) in (16, 56) and re.fullmatch(r"[a-z2-7]+", label):
                    self.add("onion", name, start, end)
                continue
            observable = _normalised("domain", name)
            if observable is None:
                continue
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
        return self._add_url("http://" + url, start, url_end, derived="no scheme written")


def _matches_on_lines(
    pattern: re.Pattern[str], text: str, trigger: re.Pattern[str]
) -> Iterator[re.Match[str]]:
    """What `pattern.finditer(text)` finds, for a pattern whose matches never cross a line
    break and always hold a match of `trigger`: only the lines with a trigger are searched.

    A trigger is a short literal the engine finds at memory speed, while a pattern that can
    start at any letter or digit costs a step per character of the whole text. Searching a
    line with `pos`/`endpos` sees the same text: look-behinds read before `pos`, and at
    `endpos` a look-ahead sees an end where it would have seen a line break, which none of
    these patterns can consume.
    """
    position = 0
    while (hit := trigger.search(text, position)) is not None:
        start = text.rfind("\n", 0, hit.start()) + 1
        end = text.find("\n", hit.end())
        if end < 0:
            end = len(text)
        yield from pattern.finditer(text, start, end)
        position = end


def _line_start_matches(
    pattern: re.Pattern[str], text: str, trigger: re.Pattern[str]
) -> Iterator[re.Match[str]]:
    """What `pattern.finditer(text)` finds, for a pattern that starts at a line start ("^"
    in MULTILINE mode) and holds a match of `trigger` on its first line: it is tried only at
    the start of those lines."""
    position = 0
    resume = 0  # where the last match ended: matches do not overlap
    while (hit := trigger.search(text, position)) is not None:
        start = text.rfind("\n", 0, hit.start()) + 1
        match = pattern.match(text, start) if start >= resume else None
        if match is not None:
            yield match
            resume = match.end()
        end = text.find("\n", hit.end())
        if end < 0:
            break
        position = end


_HEX_KINDS = {32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}


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
    except ObservableError:
        return None


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
    findings = sorted(state.found.values(), key=lambda finding: finding.start)
    report_defangs = any(f.defanged for f in findings if f.kind in NETWORK_KINDS)
    original = refanged.original
    flagger = options.flagger
    for finding in findings:
        before = original[max(0, finding.start - 12) : finding.start]
        finding.flags.extend(built_in_flags(finding, before, report_defangs))
        if flagger is not None:
            finding.flags.extend(external_flags(finding, flagger))
    return findings
