"""Squid's native access.log (https://wiki.squid-cache.org/Features/LogFormat):

    time elapsed remotehost code/status bytes method URL rfc931 peerstatus/peerhost type

e.g. `1286536308.779    180 192.168.0.224 TCP_MISS/200 411 GET http://www.google.com/ -
HIER_DIRECT/74.125.79.104 text/html`. Read: the client (`remotehost`), the `URL` (for a
CONNECT, `host:port`, read as a host), the user (`rfc931`, when an e-mail address) and the
server the proxy went to (`peerhost`, an address or a name). Columns are separated by one
or more spaces; a URL with a space in it has been encoded by Squid.
"""

from __future__ import annotations

import re
from typing import Final

from accord.match.logs.candidates import add
from accord.match.logs.types import Candidate, LineError

LINE: Final = re.compile(
    r"\s*(?P<time>\d+(?:\.\d+)?)\s+(?P<elapsed>-?\d+)\s+(?P<client>\S+)\s+"
    r"(?P<code>[A-Z_]+(?::[A-Z_]+)?/\d{3})\s+(?P<bytes>\d+)\s+(?P<method>\S+)\s+"
    r"(?P<url>\S+)(?:\s+(?P<user>\S+)(?:\s+(?P<hierarchy>[A-Z_]+)/(?P<peer>\S+))?"
    r"(?:\s+(?P<type>\S+))?)?\s*"
)


class SquidAccess:
    """Line parser for Squid's native format (see `accord.match.logs.lines`)."""

    def parse(self, text: str) -> list[Candidate] | None:
        if not text.strip():
            return None
        match = LINE.fullmatch(text)
        if match is None:
            raise LineError("not a Squid access.log line (time elapsed client code/status ...)")
        found: list[Candidate] = []
        add(found, "client", "host", match["client"])
        url = match["url"]
        if match["method"] == "CONNECT" or "://" not in url:
            add(found, "url", "host", url)
        else:
            add(found, "url", "url", url)
        user = match["user"]
        if user and "@" in user:
            add(found, "user", "email", user)
        peer = match["peer"]
        if peer:
            add(found, "peerhost", "host", peer)
        return found
