"""Suricata's EVE JSON lines (https://docs.suricata.io/en/latest/output/eve/eve-json-format.html).

Every event type is read the same way: the flow's `src_ip` and `dest_ip`, then whichever
protocol objects the record holds (an `alert` or `fileinfo` record carries the `http`,
`dns` or `tls` object of its transaction too):

- `dns`: `rrname` of a query or answer (version 1, one record per query or answer), the
  `answers` list and `grouped` object of version 2, the `queries` list of version 3; an
  answer's `rdata` by its `rrtype` (A, AAAA addresses; CNAME, NS, PTR, MX names);
- `http`: `hostname` with `url` (an origin-form path is joined to the host, the
  `http_port` kept when not 80), `http_refer`, and `xff` (an address);
- `tls`: `sni`, and the certificate `fingerprint` (SHA-1 written "ab:cd:..");
- `fileinfo`: `md5`, `sha1`, `sha256`;
- `smtp`/`email`: `mail_from`, `rcpt_to`, `from`, `to`, `cc`.
"""

from __future__ import annotations

from typing import Any, Final

from accord.match.logs.candidates import add, url_from_parts
from accord.match.logs.types import Candidate
from accord.match.logs.zeek import parse_json_object

_ANSWER_ROLES: Final = {
    "A": "address",
    "AAAA": "address",
    "CNAME": "domain",
    "NS": "domain",
    "PTR": "domain",
    "MX": "domain",
}


class SuricataEve:
    """Line parser for EVE JSON (see `accord.match.logs.lines`)."""

    def parse(self, text: str) -> list[Candidate] | None:
        if not text.strip():
            return None
        record = parse_json_object(text)
        found: list[Candidate] = []
        _text(found, "src_ip", "address", record.get("src_ip"))
        _text(found, "dest_ip", "address", record.get("dest_ip"))
        dns = record.get("dns")
        if isinstance(dns, dict):
            _dns(found, dns)
        http = record.get("http")
        if isinstance(http, dict):
            _http(found, http)
        tls = record.get("tls")
        if isinstance(tls, dict):
            _text(found, "tls.sni", "domain", tls.get("sni"))
            _text(found, "tls.fingerprint", "hash", tls.get("fingerprint"))
        fileinfo = record.get("fileinfo")
        if isinstance(fileinfo, dict):
            for name in ("md5", "sha1", "sha256"):
                _text(found, f"fileinfo.{name}", "hash", fileinfo.get(name))
        for section in ("smtp", "email"):
            mail = record.get(section)
            if isinstance(mail, dict):
                for name in ("mail_from", "rcpt_to", "from", "to", "cc"):
                    _texts(found, f"{section}.{name}", "email", mail.get(name))
        return found


def _text(found: list[Candidate], name: str, role: str, value: Any) -> None:
    if isinstance(value, str) and value:
        add(found, name, role, value)


def _texts(found: list[Candidate], name: str, role: str, value: Any) -> None:
    if isinstance(value, list):
        for item in value:
            _text(found, name, role, item)
    else:
        _text(found, name, role, value)


def _dns(found: list[Candidate], dns: dict[str, Any]) -> None:
    _text(found, "dns.rrname", "domain", dns.get("rrname"))
    rrtype = dns.get("rrtype")
    role = _ANSWER_ROLES.get(rrtype) if isinstance(rrtype, str) else None
    if role is not None:
        _text(found, "dns.rdata", role, dns.get("rdata"))
    for key in ("queries", "answers", "authorities"):
        items = dns.get(key)
        if not isinstance(items, list):
            continue
        for item in items:
            if not isinstance(item, dict):
                continue
            _text(found, f"dns.{key}.rrname", "domain", item.get("rrname"))
            rrtype = item.get("rrtype")
            role = _ANSWER_ROLES.get(rrtype) if isinstance(rrtype, str) else None
            if role is not None:
                _text(found, f"dns.{key}.rdata", role, item.get("rdata"))
    grouped = dns.get("grouped")
    if isinstance(grouped, dict):
        for rrtype, values in grouped.items():
            role = _ANSWER_ROLES.get(rrtype)
            if role is not None:
                _texts(found, f"dns.grouped.{rrtype}", role, values)


def _http(found: list[Candidate], http: dict[str, Any]) -> None:
    host = http.get("hostname")
    _text(found, "http.hostname", "host", host)
    url = http.get("url")
    if isinstance(url, str) and url:
        if "://" in url:
            add(found, "http.url", "url", url)
        elif isinstance(host, str) and host:
            port = http.get("http_port")
            add(found, "http.url", "url", url_from_parts("http", host, _port(port), url))
    _text(found, "http.http_refer", "url", http.get("http_refer"))
    _text(found, "http.xff", "address", http.get("xff"))


def _port(value: Any) -> str | None:
    return str(value) if isinstance(value, int) else None
