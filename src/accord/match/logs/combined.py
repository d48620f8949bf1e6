"""Web server access logs: the NCSA common and combined formats, as Apache httpd and nginx
write them by default, and Apache's `vhost_combined` (the virtual host and port first):

    common:    %h %l %u %t "%r" %>s %b
    combined:  %h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"
    vhost:     %v:%p %h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"

(https://httpd.apache.org/docs/current/logs.html, nginx's `log_format combined`.) Read: the
client `%h` (an address, or a name with `HostnameLookups On`), the user `%u` when it is an
e-mail address, the request target of `%r` - an absolute URL as a proxy logs it, the host
of a CONNECT, or a path joined to the virtual host when the line names one (a bare path
matches nothing on its own: the host is unknown) - and the referrer URL. Quotes and
backslashes inside the quoted fields are escaped with a backslash by both servers.
"""

from __future__ import annotations

import re
from typing import Final

from accord.match.logs.candidates import add, url_from_parts
from accord.match.logs.types import Candidate, LineError

_QUOTED: Final = r'"((?:[^"\\]|\\.)*)"'
LINE: Final = re.compile(
    r"(?:(?P<vhost>[^\s:]+|\[[0-9A-Fa-f:.]+\]):(?P<port>\d+)\s+)?"
    r"(?P<client>\S+)\s+(?P<ident>\S+)\s+(?P<user>\S+)\s+\[(?P<time>[^\]]+)\]\s+"
    rf"{_QUOTED.replace('(', '(?P<request>', 1)}\s+(?P<status>\d{{3}}|-)\s+(?P<bytes>\d+|-)"
    rf"(?:\s+{_QUOTED.replace('(', '(?P<referrer>', 1)}"
    rf"(?:\s+{_QUOTED.replace('(', '(?P<agent>', 1)})?)?(?P<rest>\s.*)?"
)
_ESCAPED: Final = re.compile(r"\\(.)")


class CombinedAccess:
    """Line parser for the common/combined formats (see `accord.match.logs.lines`)."""

    def parse(self, text: str) -> list[Candidate] | None:
        if not text.strip():
            return None
        match = LINE.fullmatch(text)
        if match is None:
            raise LineError('not a common/combined log line (host ident user [time] "request" ...)')
        found: list[Candidate] = []
        add(found, "client", "host", match["client"])
        user = match["user"]
        if "@" in user:
            add(found, "user", "email", user)
        method, _, rest = _unescape(match["request"]).partition(" ")
        target = rest.rpartition(" ")[0] if rest.count(" ") >= 1 else rest
        if method == "CONNECT":
            add(found, "request", "host", target)
        elif "://" in target:
            add(found, "request", "url", target)
        elif target.startswith("/") and match["vhost"]:
            port = match["port"]
            scheme = "https" if port == "443" else "http"
            add(found, "request", "url", url_from_parts(scheme, match["vhost"], port, target))
        referrer = match["referrer"]
        if referrer and referrer != "-":
            add(found, "referrer", "url", _unescape(referrer))
        return found


def _unescape(text: str) -> str:
    return _ESCAPED.sub(r"\1", text) if "\\" in text else text
