"""A hosts file from the domain indicators a viewer may see: ``0.0.0.0 evil.example``, with a
comment naming the indicator, its TLP and score. A hosts file names hosts one by one: it
cannot say "and every name below", and addresses, URLs, e-mail addresses and hashes have no
place in it (left out, counted in the trailer). A name that is not plain letters, digits,
``-`` and ``_`` labels is left out with its reason."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from accord.export.indicator_items import ExportItem, Tally
from accord.export.sensors.text import Heading, header_lines, reference, trailer_lines

SINK: Final = "0.0.0.0"
_NAME: Final = re.compile(r"[a-z0-9_-]{1,63}(?:\.[a-z0-9_-]{1,63})*")


def lines(items: Iterator[ExportItem], tally: Tally, heading: Heading) -> Iterator[str]:
    for line in header_lines(heading):
        yield f"# {line}\n"
    for item in items:
        if item.kind != "domain":
            tally.leave_out(f"a hosts file takes names, not {item.kind} values")
            continue
        if not _NAME.fullmatch(item.value) or len(item.value) > 253:
            tally.leave_out("not a plain host name", item)
            continue
        tally.exported += 1
        yield f"{SINK} {item.value} # {reference(item)}\n"
    for line in trailer_lines(tally):
        yield f"# {line}\n"
