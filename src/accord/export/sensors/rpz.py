"""A DNS Response Policy Zone (RPZ) from the indicators a viewer may see: a zone file a
resolver (BIND, Knot Resolver, Unbound, PowerDNS Recursor) loads as its policy, every trigger
answered NXDOMAIN (``CNAME .``).

- Domains: the name and every name below it (``evil.example CNAME .`` and
  ``*.evil.example CNAME .``), the QNAME trigger.
- Addresses and networks: the response-IP trigger, the prefix length then the address
  reversed (``32.7.100.51.198.rpz-ip``; IPv6 by 16-bit groups, the longest run of zero
  groups written ``zz``), which rewrites an answer that holds such an address.
- URLs, e-mail addresses and hashes are not names: left out (blocking a URL's whole host
  would block the other sites it serves).

Owner names are relative: the zone's name is the resolver's choice (``response-policy {
zone "rpz.accord"; }``). The SOA serial is the sequence number of the newest indicator
version the viewer may see, or the newest change marked on one (modulo 2^32, RFC 1982 serial
arithmetic): it grows with each indicator the viewer gets, a revocation included, and with
each expiry of one the viewer sees (marked by the ``decay`` job, within its period) or a
deletion that brings an older version back (`accord.store.change_marks`); hidden writes and
hidden expiries leave it as it was. An indicator whose new version the viewer may not see,
or that is deleted whole, leaves the zone without raising the serial until the next such
version (docs/exports.md). Each record's
comment names its indicator, TLP and score; TXT records would clash with the ``CNAME`` (no
other data may sit beside one). A name that is not plain letters, digits, ``-`` and ``_``
labels, or too long to sit under a zone name, is left out with its reason.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from typing import Final

from accord.export.indicator_items import ExportItem, Tally
from accord.export.sensors.text import Heading, header_lines, reference, trailer_lines

TTL: Final = 300
_NAME: Final = re.compile(r"[a-z0-9_-]{1,63}(?:\.[a-z0-9_-]{1,63})*")
# Room for "*." and a zone name of up to 60 characters within the 253 of a DNS name.
MAX_NAME: Final = 253 - 2 - 61


def ip_trigger(value: str) -> str | None:
    """The rpz-ip owner name (without ``.rpz-ip``) of an address or network."""
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return None
    prefix = network.prefixlen
    if network.version == 4:
        return ".".join([str(prefix), *reversed(str(network.network_address).split("."))])
    groups = [f"{int(group, 16):x}" for group in network.network_address.exploded.split(":")]
    # The longest run of zero groups (the first of equal runs) becomes "zz", as "::" would.
    best_start, best_length, start = -1, 0, -1
    for position, group in enumerate([*groups, "end"]):
        if group == "0":
            start = position if start < 0 else start
            continue
        if start >= 0 and position - start > best_length:
            best_start, best_length = start, position - start
        start = -1
    if best_length >= 2:
        groups = [*groups[:best_start], "zz", *groups[best_start + best_length :]]
    return ".".join([str(prefix), *reversed(groups)])


def lines(items: Iterator[ExportItem], tally: Tally, heading: Heading) -> Iterator[str]:
    yield f"$TTL {TTL}\n"
    serial = heading.serial % 2**32
    yield f"@ IN SOA localhost. hostmaster.localhost. ( {serial} 3600 600 604800 {TTL} )\n"
    yield "@ IN NS localhost.\n"
    for line in header_lines(heading):
        yield f"; {line}\n"
    for item in items:
        kind = item.kind
        if kind == "domain":
            name = item.value
            if not _NAME.fullmatch(name):
                tally.leave_out("not a plain DNS name", item)
                continue
            if len(name) > MAX_NAME:
                tally.leave_out(f"a name longer than {MAX_NAME} characters", item)
                continue
            comment = reference(item)
            tally.exported += 1
            yield f"{name} CNAME . ; {comment}\n"
            yield f"*.{name} CNAME . ; {comment}\n"
        elif kind in ("ipv4", "ipv6", "ipv4-net", "ipv6-net"):
            trigger = ip_trigger(item.value)
            if trigger is None:
                tally.leave_out("not an address", item)
                continue
            tally.exported += 1
            yield f"{trigger}.rpz-ip CNAME . ; {reference(item)}\n"
        else:
            tally.leave_out(f"RPZ takes names and addresses, not {kind} values")
    for line in trailer_lines(tally):
        yield f"; {line}\n"
