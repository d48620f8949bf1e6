"""What each MISP warninglist means for a verdict: its class, reviewed list by list.

- ``benign``: the values on the list are benign by nature (public resolvers, root and
  top-level domains, RFC special-use ranges, the most popular domains, empty-file and
  known-software hashes, sinkholes, known research scanners): a value on it has its score
  damped (`accord.intel.scoring.BENIGN_LIST_FACTOR`) and may be called benign.
- ``context``: the list names shared infrastructure (cloud, hosting, VPN and CDN ranges,
  dynamic DNS, URL shorteners, free and disposable mail, file-sharing and user-content
  hosts): anyone may rent or use a value on it, so it says nothing about whether this value
  is malicious. It is shown and explained in the answer and never changes the score.

A list missing from `CLASSES` (a package upgrade that adds one) is ``context`` until it is
reviewed (`DEFAULT_CLASS`): it can never make a verdict benign by accident. A node overrides
a list's class with the node setting ``warninglists.classes`` (`accord.settings`).
docs/warninglists.md holds the same table, generated from this one (`python -m
accord.intel.warninglists.classes`) and checked by tests/intel/test_warninglist_classes.py.
"""

from __future__ import annotations

import hashlib
from typing import Final, Literal

ListClass = Literal["benign", "context"]
LIST_CLASSES: Final[tuple[ListClass, ...]] = ("benign", "context")
DEFAULT_CLASS: Final[ListClass] = "context"
UNREVIEWED: Final = "not reviewed yet (a list this table does not know): context, the safe default"

_B: Final = "benign"
_C: Final = "context"

_SCANNER: Final = "a known research scanner's own addresses: what comes from them is scanning"
_CLOUD: Final = "a cloud provider's ranges: anyone can rent an address there"
_CDN: Final = "a CDN's ranges: they front many customers' sites, good and bad"
_TOP: Final = "among the most popular domains"

# List name (the `name` in its list.json) -> (class, why). Sorted by name.
CLASSES: Final[dict[str, tuple[ListClass, str]]] = {
    "Alpha Strike Labs IP Ranges Used for Scanning": (_B, _SCANNER),
    "Alphastrike research IP Ranges Used for Scanning": (_B, _SCANNER),
    "Bufferover IP Ranges Used for Scanning": (_B, _SCANNER),
    "CRL and OCSP IP addresses": (_B, "certificate revocation services every TLS client calls"),
    "CRL and OCSP domains": (_B, "certificate revocation services every TLS client calls"),
    "Captive Portal Detection Hostnames": (
        _B,
        "operating systems' connectivity checks: every device calls them",
    ),
    "Censys IP Ranges Used for Scanning": (_B, _SCANNER),
    "Coalition signals intelligence IP Ranges Used for Scanning": (_B, _SCANNER),
    "Common contact e-mail addresses": (
        _C,
        "role mailboxes (abuse@, security@) exist at malicious domains too",
    ),
    "Covid-19 Cyber Threat Coalition's Whitelist": (_B, "a curated allowlist of legitimate sites"),
    "Covid-19 Krassi's Whitelist": (_B, "a curated allowlist of legitimate sites"),
    "Cybergreen IP Ranges Used for Scanning": (_B, _SCANNER),
    "Cyberresilience IP Ranges Used for Scanning": (_B, _SCANNER),
    "Cypex IP Ranges Used for Scanning": (_B, _SCANNER),
    "F6 IP Ranges Used for Scanning": (_B, _SCANNER),
    "Fingerprint of known intermediate of trusted certificates": (
        _B,
        "intermediate certificates of trusted CAs",
    ),
    "Fingerprint of trusted CA certificates": (_B, "root certificates of trusted CAs"),
    "Hashes that are often included in IOC lists but are false positives.": (
        _B,
        "hashes of known, benign files that IOC lists get wrong",
    ),
    "Internet census IP Ranges Used for Scanning": (_B, _SCANNER),
    "Intrinsec IP Ranges Used for Scanning": (_B, _SCANNER),
    "Ipinfo IP Ranges Used for Scanning": (_B, _SCANNER),
    "Ipip IP Ranges Used for Scanning": (_B, _SCANNER),
    "List of Azure Applicaiton IDs": (_B, "Microsoft's own application ids"),
    "List of IPv6 link local blocks": (_B, "RFC special-use range: not routed on the Internet"),
    "List of LOTS (Living Off Trusted Sites) Project Domains": (
        _C,
        "trusted sites that attackers abuse to host content and command and control",
    ),
    "List of RFC 1918 CIDR blocks": (_B, "RFC special-use range: private addresses"),
    "List of RFC 3849 CIDR blocks": (_B, "RFC special-use range: documentation addresses"),
    "List of RFC 5735 CIDR blocks": (_B, "RFC special-use range"),
    "List of RFC 5771 multicast CIDR blocks": (_B, "RFC special-use range: multicast"),
    "List of RFC 6598 CIDR blocks": (_B, "RFC special-use range: carrier-grade NAT"),
    "List of RFC 6761 Special-Use Domain Names": (_B, "RFC special-use domain names"),
    "List of disposable email domains": (_C, "free disposable mailboxes: anyone can get one"),
    "List of hashes for EICAR test virus": (_B, "the EICAR anti-virus test file"),
    "List of known Akamai IP ranges": (_C, _CDN),
    "List of known Amazon AWS IP address ranges": (_C, _CLOUD),
    "List of known Apple IP ranges": (_B, "Apple's own network (17.0.0.0/8): no tenants"),
    "List of known Cloudflare IP ranges": (_C, _CDN),
    "List of known Fastly IP address ranges": (_C, _CDN),
    "List of known GCP (Google Cloud Platform) IP address ranges": (_C, _CLOUD),
    "List of known GitHub IP ranges (https://api.github.com/meta)": (
        _C,
        "GitHub serves anyone's repositories, pages and actions runners",
    ),
    "List of known Gmail sending IP ranges": (_C, "a free mail service: anyone can send from it"),
    "List of known Googlebot IP ranges (https://developers.google.com/search/apis/ipranges/googlebot.json)": (  # noqa: E501
        _B,
        "Google's web crawler",
    ),
    "List of known IP address ranges for OpenAI GPT crawler bot": (_B, "OpenAI's web crawler"),
    "List of known IPv4 public DNS resolvers": (_B, "public DNS resolvers"),
    "List of known IPv6 public DNS resolvers": (_B, "public DNS resolvers"),
    "List of known Microsoft Azure China Datacenter IP Ranges": (_C, _CLOUD),
    "List of known Microsoft Azure Datacenter IP Ranges": (_C, _CLOUD),
    "List of known Microsoft Azure Germany Datacenter IP Ranges": (_C, _CLOUD),
    "List of known Microsoft Azure US Government Cloud Datacenter IP Ranges": (_C, _CLOUD),
    "List of known Office 365 Attack Simulator used for phishing awareness campaigns": (
        _B,
        "Microsoft's phishing simulation: awareness campaigns, not attacks",
    ),
    "List of known Office 365 IP address ranges": (
        _C,
        "a multi-tenant service: every tenant's mail and files come from these ranges",
    ),
    "List of known Office 365 IP address ranges in China": (
        _C,
        "a multi-tenant service: every tenant's mail and files come from these ranges",
    ),
    "List of known Office 365 URLs": (_B, "Microsoft's own service names (exact names only)"),
    "List of known Ovh Cluster IP": (_C, "a hosting provider's shared web hosting"),
    "List of known SMTP receiving IP addresses": (
        _C,
        "big mail providers' servers: shared by all their users",
    ),
    "List of known SMTP sending IP ranges": (
        _C,
        "big mail providers' servers: shared by all their users",
    ),
    "List of known Stackpath CDN IP ranges": (_C, _CDN),
    "List of known Tenable Cloud Sensors IPv4": (_B, _SCANNER),
    "List of known Tenable Cloud Sensors IPv6": (_B, _SCANNER),
    "List of known URL Shorteners domains": (_C, "URL shorteners: anyone can point them anywhere"),
    "List of known Wikimedia address ranges": (_B, "Wikimedia's own network: no tenants"),
    "List of known Windows 10 connection endpoints": (
        _B,
        "Windows' own update and telemetry endpoints (exact names only)",
    ),
    "List of known Zscaler IP address ranges": (
        _C,
        "a cloud proxy: every Zscaler customer's traffic leaves from these addresses",
    ),
    "List of known bank domains": (_B, "banks' own domains"),
    "List of known check-host.net IP address ranges": (
        _B,
        "check-host.net's probes: they test hosts on request",
    ),
    "List of known dax30 webpages": (_B, "large companies' own domains"),
    "List of known domains to know external IP": (
        _B,
        "what-is-my-IP services: malware calls them, but they are not malicious",
    ),
    "List of known domains used by automated malware analysis services & security vendors": (
        _B,
        "sandboxes and security vendors",
    ),
    "List of known dynamic DNS domains": (_C, "dynamic DNS: anyone can get a name below these"),
    "List of known google domains": (_B, "Google's own domains (exact names only)"),
    "List of known hashes for benign files": (_B, "hashes of known software"),
    "List of known hashes for empty files": (_B, "hashes of empty files"),
    "List of known hashes with common false-positives (based on Florian Roth input list)": (
        _B,
        "hashes of known, benign files that IOC lists get wrong",
    ),
    "List of known hostname used for querying your source IP. This can be used as exclusion for your Passive DNS lookup.": (  # noqa: E501
        _B,
        "what-is-my-IP services: malware calls them, but they are not malicious",
    ),
    "List of known link in Bio domains": (_C, "link-in-bio pages: anyone can publish one"),
    "List of known microsoft domains": (_B, "Microsoft's own domains (exact names only)"),
    "List of known public DNS resolvers expressed as hostname": (_B, "public DNS resolvers"),
    "List of known public IPFS gateways": (_C, "IPFS gateways serve anyone's content"),
    "List of known security providers/vendors blog domain": (
        _B,
        "security vendors' blogs: reports cite them as sources",
    ),
    "List of known sinkholes": (_B, "sinkholes: researchers' servers that take over bad names"),
    "List of published IP address ranges for Modat Scanner": (_B, _SCANNER),
    "List of published IP address ranges for Onyphe Scanner": (_B, _SCANNER),
    "Modat IP Ranges Used for Scanning": (_B, _SCANNER),
    "NetSecScan IP-Ranges, pot. used for Scanning": (_B, _SCANNER),
    "Netsecscan IP Ranges Used for Scanning": (_B, _SCANNER),
    "OSINT.DigitalSide.IT Warning List": (
        _C,
        "file-sharing and code hosts (Dropbox, GitHub, Discord CDN): they serve anyone's files",
    ),
    "Onyphe IP Ranges Used for Scanning": (_B, _SCANNER),
    "Parking domains": (_C, "parking services' addresses: shared by millions of parked names"),
    "Parking domains name server": (_C, "parking services' name servers: shared by many names"),
    "Probethenet IP Ranges Used for Scanning": (_B, _SCANNER),
    "Rapid7 IP Ranges Used for Scanning": (_B, _SCANNER),
    "Research scanner IP Ranges Used for Scanning": (_B, _SCANNER),
    "Second level TLDs as known by Mozilla Foundation": (
        _B,
        "public suffixes: registries, not anyone's site",
    ),
    "Shadowforce IP Ranges Used for Scanning": (_B, _SCANNER),
    "Shadowforce IP-Ranges, pot. used for Scanning": (_B, _SCANNER),
    "Shadowserver IP Ranges Used for Scanning": (_B, _SCANNER),
    "Shadowserver IP-Ranges, pot. used for Scanning": (_B, _SCANNER),
    "Shodan IP Ranges Used for Scanning": (_B, _SCANNER),
    "Shodan IP-Ranges, pot. used for Scanning": (_B, _SCANNER),
    "Skipa IP Ranges Used for Scanning": (_B, _SCANNER),
    "Specialized list of IPv6 addresses belonging to common VPN providers and datacenters": (
        _C,
        "VPN and datacenter ranges: anyone can rent an address there",
    ),
    "Specialized list of vpn-ipv4 addresses belonging to common VPN providers and datacenters": (
        _C,
        "VPN and datacenter ranges: anyone can rent an address there",
    ),
    "TLDs as known by IANA": (_B, "top-level domains"),
    "Top 1,000,000 most-used sites from Tranco": (
        _C,
        "a million names reach the long tail, where abused and compromised sites are common",
    ),
    "Top 10 000 websites from Cisco Umbrella": (_B, _TOP),
    "Top 1000 website from Alexa": (_B, _TOP),
    "Top 1000 websites from Cisco Umbrella": (_B, _TOP),
    "Top 10000 websites from Majestic Million": (_B, _TOP),
    "Top 10K most-used sites from Tranco": (_B, _TOP),
    "Top 20 000 websites from Cisco Umbrella": (_B, _TOP),
    "Top 500 domains and pages from https://moz.com/top500": (_B, _TOP),
    "Top 5000 websites from Cisco Umbrella": (_B, _TOP),
    "University domains": (
        _C,
        "universities' sites are often compromised and host others' pages",
    ),
    "Unattributed phone number.": (_C, "phone numbers (Accord looks none up)"),
    "Valid covid-19 related domains": (_B, "a curated list of legitimate sites"),
    "cisco-umbrella-blockpage-hostname": (_B, "the block page a DNS filter answers with"),
    "cisco-umbrella-blockpage-ipv4": (_B, "the block page a DNS filter answers with"),
    "cisco-umbrella-blockpage-ipv6": (_B, "the block page a DNS filter answers with"),
    "google-chrome-crux-1million": (
        _C,
        "a million names reach the long tail, where abused and compromised sites are common",
    ),
}


def class_of(name: str) -> tuple[ListClass, str]:
    """A list's class and why; an unreviewed list is context (`UNREVIEWED`)."""
    return CLASSES.get(name, (DEFAULT_CLASS, UNREVIEWED))


def _digest() -> str:
    text = "\n".join(f"{name}\t{cls}\t{why}" for name, (cls, why) in sorted(CLASSES.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:8]


DIGEST: Final = _digest()
"""A short hash of the table, part of the compiled index's name: a changed table compiles
a new index (the classes are kept in it)."""
