"""The log readers on real-shaped lines of every format: which fields become candidates,
normalised as the observable index stores them, with the raw value kept."""

from __future__ import annotations

import io

import pytest

from accord.match.logs import (
    LogFormatError,
    LogSource,
    ProblemLog,
    Record,
    detect_format,
    parse_field_map,
    read_records,
)
from accord.match.logs.cef import parse_extension, split_header


def read(
    text: str, format_name: str = "auto", fields: str | None = None
) -> tuple[list[Record], ProblemLog]:
    problems = ProblemLog()
    source = LogSource(io.BytesIO(text.encode("utf-8")), "sample.log")
    spec = parse_field_map(fields) if fields is not None else None
    records = list(read_records(source, format_name, spec, problems.add))
    return records, problems


def found(record: Record) -> set[tuple[str, str, str]]:
    return {(c.field, c.kind, c.observable.value) for c in record.candidates}


# -- Zeek -------------------------------------------------------------------------------

ZEEK_HEADER = (
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
    "#path\t{path}\n#open\t2024-05-01-10-00-00\n#fields\t{fields}\n#types\t{types}\n"
)


def zeek(path: str, columns: list[tuple[str, str]], *rows: list[str]) -> str:
    text = ZEEK_HEADER.format(
        path=path,
        fields="\t".join(name for name, _ in columns),
        types="\t".join(kind for _, kind in columns),
    )
    text += "".join("\t".join(row) + "\n" for row in rows)
    return text + "#close\t2024-05-01-11-00-00\n"


DNS_COLUMNS = [
    ("ts", "time"),
    ("uid", "string"),
    ("id.orig_h", "addr"),
    ("id.orig_p", "port"),
    ("id.resp_h", "addr"),
    ("id.resp_p", "port"),
    ("proto", "enum"),
    ("trans_id", "count"),
    ("query", "string"),
    ("qtype_name", "string"),
    ("rcode_name", "string"),
    ("answers", "vector[string]"),
    ("TTLs", "vector[interval]"),
]


def test_zeek_dns_query_and_answers_normalised() -> None:
    text = zeek(
        "dns",
        DNS_COLUMNS,
        [
            "1714557600.1",
            "CAbc1",
            "10.0.0.5",
            "53211",
            "2001:DB8:0:0:0:0:0:53",
            "53",
            "udp",
            "4242",
            "WwW.Evil-Example.COM.",
            "A",
            "NOERROR",
            "cdn.evil-example.com,203.0.113.7,TXT 11 v=spf1 -all,2001:db8::7",
            "60.0,60.0,60.0,60.0",
        ],
        [
            "1714557601.2",
            "CAbc2",
            "10.0.0.5",
            "53212",
            "10.0.0.1",
            "53",
            "udp",
            "4243",
            "quiet.example",
            "AAAA",
            "NXDOMAIN",
            "(empty)",
            "(empty)",
        ],
        [
            "1714557602.3",
            "CAbc3",
            "10.0.0.5",
            "53213",
            "10.0.0.1",
            "53",
            "udp",
            "4244",
            "-",
            "-",
            "-",
            "-",
            "-",
        ],
    )
    records, problems = read(text)
    assert problems.count == 0
    assert [r.location.line for r in records] == [9, 10, 11]
    first = records[0]
    assert found(first) == {
        ("id.orig_h", "ipv4", "10.0.0.5"),
        ("id.resp_h", "ipv6", "2001:db8::53"),
        ("query", "domain", "www.evil-example.com"),
        ("answers", "domain", "cdn.evil-example.com"),
        ("answers", "ipv4", "203.0.113.7"),
        ("answers", "ipv6", "2001:db8::7"),
    }
    query = next(c for c in first.candidates if c.field == "query")
    assert query.raw == "WwW.Evil-Example.COM."
    assert {c.field for c in records[1].candidates} == {"id.orig_h", "id.resp_h", "query"}
    assert found(records[2]) == {
        ("id.orig_h", "ipv4", "10.0.0.5"),
        ("id.resp_h", "ipv4", "10.0.0.1"),
    }


def test_zeek_http_uri_joined_to_host_and_escapes_undone() -> None:
    columns = [
        ("ts", "time"),
        ("id.orig_h", "addr"),
        ("id.resp_h", "addr"),
        ("id.resp_p", "port"),
        ("method", "string"),
        ("host", "string"),
        ("uri", "string"),
        ("referrer", "string"),
        ("user_agent", "string"),
    ]
    text = zeek(
        "http",
        columns,
        [
            "1.0",
            "10.0.0.5",
            "198.51.100.9",
            "8080",
            "GET",
            "Evil.Example",
            "/gate.php?id=1\\x09x",
            "http://ref.example/a",
            "Mozilla/5.0 (evil.example)",
        ],
        ["2.0", "10.0.0.5", "198.51.100.9", "80", "GET", "-", "/x", "-", "curl"],
        [
            "3.0",
            "10.0.0.5",
            "198.51.100.9",
            "3128",
            "GET",
            "proxy.example",
            "http://direct.example/p",
            "-",
            "-",
        ],
    )
    records, problems = read(text, "zeek")
    assert problems.count == 0
    assert found(records[0]) == {
        ("id.orig_h", "ipv4", "10.0.0.5"),
        ("id.resp_h", "ipv4", "198.51.100.9"),
        ("host", "domain", "evil.example"),
        ("uri", "url", "http://evil.example:8080/gate.php?id=1%09x"),
        ("referrer", "url", "http://ref.example/a"),
    }  # user_agent is not read
    assert ("uri", "url", "http://198.51.100.9/x") in found(records[1])
    assert ("uri", "url", "http://direct.example/p") in found(records[2])


def test_zeek_ssl_files_x509_conn() -> None:
    sha256 = "A" * 64
    ssl = zeek(
        "ssl",
        [
            ("ts", "time"),
            ("id.orig_h", "addr"),
            ("id.resp_h", "addr"),
            ("server_name", "string"),
            ("ja3", "string"),
            ("cert_chain_fps", "vector[string]"),
        ],
        ["1.0", "10.0.0.5", "192.0.2.1", "login.evil.example", "0" * 32, f"{sha256},{'b' * 64}"],
    )
    (record,), _ = read(ssl)
    assert ("server_name", "domain", "login.evil.example") in found(record)
    assert ("cert_chain_fps", "sha256", "a" * 64) in found(record)
    assert ("cert_chain_fps", "sha256", "b" * 64) in found(record)
    assert not any(c.field == "ja3" for c in record.candidates)
    files = zeek(
        "files",
        [
            ("ts", "time"),
            ("tx_hosts", "set[addr]"),
            ("rx_hosts", "set[addr]"),
            ("md5", "string"),
            ("sha1", "string"),
            ("sha256", "string"),
        ],
        [
            "1.0",
            "192.0.2.1,192.0.2.2",
            "10.0.0.5",
            "d41d8cd98f00b204e9800998ecf8427e",
            "da39a3ee5e6b4b0d3255bfef95601890afd80709",
            "-",
        ],
    )
    (record,), _ = read(files)
    assert found(record) == {
        ("tx_hosts", "ipv4", "192.0.2.1"),
        ("tx_hosts", "ipv4", "192.0.2.2"),
        ("rx_hosts", "ipv4", "10.0.0.5"),
        ("md5", "md5", "d41d8cd98f00b204e9800998ecf8427e"),
        ("sha1", "sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
    }
    x509 = zeek(
        "x509",
        [
            ("ts", "time"),
            ("fingerprint", "string"),
            ("san.dns", "vector[string]"),
            ("san.ip", "vector[addr]"),
            ("san.email", "vector[string]"),
        ],
        ["1.0", "c" * 64, "evil.example,*.evil.example", "192.0.2.9", "ops@evil.example"],
    )
    (record,), _ = read(x509)
    assert found(record) == {
        ("fingerprint", "sha256", "c" * 64),
        ("san.dns", "domain", "evil.example"),
        ("san.ip", "ipv4", "192.0.2.9"),
        ("san.email", "email", "ops@evil.example"),
    }  # "*.evil.example" is not a name
    # An address column of a log Accord knows nothing of is read by its type.
    custom = zeek(
        "mything",
        [("ts", "time"), ("peer_addr", "addr"), ("note", "string")],
        ["1.0", "fe80::1%eth0", "1.2.3.4"],
    )
    (record,), _ = read(custom)
    assert found(record) == {("peer_addr", "ipv6", "fe80::1")}


def test_zeek_json_flat_and_nested() -> None:
    flat = (
        '{"ts":1714557600.1,"uid":"CAbc1","id.orig_h":"10.0.0.5","id.orig_p":53211,'
        '"id.resp_h":"10.0.0.1","id.resp_p":53,"proto":"udp","query":"Evil.Example.",'
        '"answers":["203.0.113.7","cname.evil.example"],"TTLs":[60.0,60.0]}\n'
        '{"ts":1714557600.2,"uid":"CAbc2","id":{"orig_h":"10.0.0.6","resp_h":"192.0.2.80",'
        '"resp_p":8080},"host":"web.example","uri":"/a b"}\n'
    )
    assert detect_format(flat.encode()) == "zeek-json"
    records, problems = read(flat)
    assert problems.count == 0
    assert found(records[0]) == {
        ("id.orig_h", "ipv4", "10.0.0.5"),
        ("id.resp_h", "ipv4", "10.0.0.1"),
        ("query", "domain", "evil.example"),
        ("answers", "ipv4", "203.0.113.7"),
        ("answers", "domain", "cname.evil.example"),
    }
    assert found(records[1]) == {
        ("id.orig_h", "ipv4", "10.0.0.6"),
        ("id.resp_h", "ipv4", "192.0.2.80"),
        ("host", "domain", "web.example"),
        ("uri", "url", "http://web.example:8080/a%20b"),
    }


# -- Suricata EVE ---------------------------------------------------------------------------

EVE = """\
{"timestamp":"2024-05-01T10:00:00.000000+0000","flow_id":1,"event_type":"dns","src_ip":"10.0.0.5","src_port":5353,"dest_ip":"10.0.0.1","dest_port":53,"proto":"UDP","dns":{"type":"query","id":1,"rrname":"Evil.Example","rrtype":"A","tx_id":0}}
{"timestamp":"2024-05-01T10:00:00.000100+0000","flow_id":1,"event_type":"dns","src_ip":"10.0.0.1","dest_ip":"10.0.0.5","proto":"UDP","dns":{"type":"answer","id":1,"rrname":"evil.example","rrtype":"A","ttl":60,"rdata":"203.0.113.7"}}
{"timestamp":"2024-05-01T10:00:00.000200+0000","event_type":"dns","src_ip":"10.0.0.1","dest_ip":"10.0.0.5","dns":{"version":2,"type":"answer","id":2,"flags":"8180","rrname":"www.evil.example","rrtype":"CNAME","rcode":"NOERROR","answers":[{"rrname":"www.evil.example","rrtype":"CNAME","ttl":60,"rdata":"edge.cdn.example"},{"rrname":"edge.cdn.example","rrtype":"AAAA","ttl":60,"rdata":"2001:0db8:0000::0001"},{"rrname":"www.evil.example","rrtype":"TXT","ttl":60,"rdata":"hello world"}],"grouped":{"CNAME":["edge.cdn.example"],"AAAA":["2001:db8::1"]}}}
{"timestamp":"2024-05-01T10:00:01.000000+0000","event_type":"http","src_ip":"10.0.0.5","dest_ip":"198.51.100.9","dest_port":8080,"http":{"hostname":"evil.example","http_port":8080,"url":"/payload.bin?x=1","http_user_agent":"curl","http_refer":"http://ref.example/","http_method":"GET","status":200}}
{"timestamp":"2024-05-01T10:00:02.000000+0000","event_type":"tls","src_ip":"10.0.0.5","dest_ip":"192.0.2.1","tls":{"subject":"CN=evil.example","sni":"login.evil.example","fingerprint":"6d:3a:2f:0b:1c:4e:5f:60:71:82:93:a4:b5:c6:d7:e8:f9:0a:1b:2c","ja3":{"hash":"e7d705a3286e19ea42f587b344ee6865"}}}
{"timestamp":"2024-05-01T10:00:03.000000+0000","event_type":"fileinfo","src_ip":"198.51.100.9","dest_ip":"10.0.0.5","http":{"hostname":"evil.example","url":"/payload.bin"},"fileinfo":{"filename":"/payload.bin","md5":"D41D8CD98F00B204E9800998ECF8427E","sha1":"da39a3ee5e6b4b0d3255bfef95601890afd80709","sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","size":0}}
{"timestamp":"2024-05-01T10:00:04.000000+0000","event_type":"flow","src_ip":"10.0.0.5","dest_ip":"2001:db8::dead:beef","proto":"TCP","flow":{"pkts_toserver":3}}
{"timestamp":"2024-05-01T10:00:05.000000+0000","event_type":"alert","src_ip":"10.0.0.5","dest_ip":"192.0.2.66","alert":{"signature":"ET MALWARE x","signature_id":2000001},"dns":{"query":[{"rrname":"c2.evil.example","rrtype":"A"}]}}
"""


def test_suricata_eve_every_event_type() -> None:
    assert detect_format(EVE.encode()) == "suricata-eve"
    records, problems = read(EVE)
    assert problems.count == 0
    query, answer, v2, http, tls, fileinfo, flow, alert = records
    assert ("dns.rrname", "domain", "evil.example") in found(query)
    assert ("dns.rdata", "ipv4", "203.0.113.7") in found(answer)
    assert found(v2) >= {
        ("dns.rrname", "domain", "www.evil.example"),
        ("dns.answers.rdata", "domain", "edge.cdn.example"),
        ("dns.answers.rdata", "ipv6", "2001:db8::1"),
        ("dns.grouped.AAAA", "ipv6", "2001:db8::1"),
        ("dns.grouped.CNAME", "domain", "edge.cdn.example"),
    }
    assert not any("hello" in c.raw for c in v2.candidates)
    assert found(http) == {
        ("src_ip", "ipv4", "10.0.0.5"),
        ("dest_ip", "ipv4", "198.51.100.9"),
        ("http.hostname", "domain", "evil.example"),
        ("http.url", "url", "http://evil.example:8080/payload.bin?x=1"),
        ("http.http_refer", "url", "http://ref.example/"),
    }
    assert ("tls.sni", "domain", "login.evil.example") in found(tls)
    assert ("tls.fingerprint", "sha1", "6d3a2f0b1c4e5f60718293a4b5c6d7e8f90a1b2c") in found(tls)
    assert found(fileinfo) >= {
        ("fileinfo.md5", "md5", "d41d8cd98f00b204e9800998ecf8427e"),
        ("fileinfo.sha1", "sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        (
            "fileinfo.sha256",
            "sha256",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
        ("http.url", "url", "http://evil.example/payload.bin"),
    }
    assert found(flow) == {
        ("src_ip", "ipv4", "10.0.0.5"),
        ("dest_ip", "ipv6", "2001:db8::dead:beef"),
    }
    assert found(alert) == {("src_ip", "ipv4", "10.0.0.5"), ("dest_ip", "ipv4", "192.0.2.66")}


def test_suricata_dns_v3_queries() -> None:
    line = (
        '{"event_type":"dns","src_ip":"10.0.0.5","dest_ip":"10.0.0.1","dns":{"version":3,'
        '"queries":[{"rrname":"q.evil.example","rrtype":"A"}],"answers":[{"rrname":'
        '"q.evil.example","rrtype":"A","rdata":"192.0.2.3"}]}}\n'
    )
    (record,), _ = read(line, "suricata-eve")
    assert ("dns.queries.rrname", "domain", "q.evil.example") in found(record)
    assert ("dns.answers.rdata", "ipv4", "192.0.2.3") in found(record)


# -- proxies and web servers ------------------------------------------------------------------

SQUID = """\
1286536308.779    180 192.168.0.224 TCP_MISS/200 411 GET http://WWW.Evil.Example/gate.php? - HIER_DIRECT/74.125.79.104 text/html
1286536309.450   2401 192.168.0.224 TCP_TUNNEL/200 5120 CONNECT login.evil.example:443 alice@corp.example HIER_DIRECT/login.evil.example -
1286536310.001      0 192.168.0.225 TCP_DENIED/403 3920 GET http://blocked.example/ - HIER_NONE/- text/html
"""


def test_squid_native_access_log() -> None:
    assert detect_format(SQUID.encode()) == "squid"
    records, problems = read(SQUID)
    assert problems.count == 0
    assert found(records[0]) == {
        ("client", "ipv4", "192.168.0.224"),
        ("url", "url", "http://www.evil.example/gate.php?"),
        ("peerhost", "ipv4", "74.125.79.104"),
    }
    url = next(c for c in records[0].candidates if c.field == "url")
    assert url.observable.host == "www.evil.example"  # the matcher's URL-by-host look-up
    assert found(records[1]) == {
        ("client", "ipv4", "192.168.0.224"),
        ("url", "domain", "login.evil.example"),
        ("user", "email", "alice@corp.example"),
        ("peerhost", "domain", "login.evil.example"),
    }
    assert found(records[2]) == {
        ("client", "ipv4", "192.168.0.225"),
        ("url", "url", "http://blocked.example/"),
    }


COMBINED = """\
203.0.113.50 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://Evil.Example/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"
2001:db8::50 - - [01/May/2024:10:00:00 +0000] "GET http://proxied.example/x HTTP/1.1" 200 12 "-" "curl/8.0"
203.0.113.51 - - [01/May/2024:10:00:01 +0000] "CONNECT tunnel.example:443 HTTP/1.1" 200 0 "-" "-"
203.0.113.52 - bob@corp.example [01/May/2024:10:00:02 +0000] "GET /q?s=\\"x\\" HTTP/1.1" 404 -
"""


def test_nginx_apache_combined_and_common() -> None:
    assert detect_format(COMBINED.encode()) == "combined"
    records, problems = read(COMBINED, "nginx")
    assert problems.count == 0
    assert found(records[0]) == {
        ("client", "ipv4", "203.0.113.50"),
        ("referrer", "url", "http://evil.example/start.html"),
    }  # a bare path names no host: nothing to compare
    assert found(records[1]) == {
        ("client", "ipv6", "2001:db8::50"),
        ("request", "url", "http://proxied.example/x"),
    }
    assert ("request", "domain", "tunnel.example") in found(records[2])
    assert found(records[3]) == {
        ("client", "ipv4", "203.0.113.52"),
        ("user", "email", "bob@corp.example"),
    }


def test_apache_vhost_combined_gives_full_urls() -> None:
    line = (
        'shop.example:443 203.0.113.9 - - [01/May/2024:10:00:00 +0000] "GET /login?next=/ '
        'HTTP/1.1" 302 0 "-" "Mozilla/5.0"\n'
    )
    (record,), _ = read(line, "apache")
    assert ("request", "url", "https://shop.example/login?next=/") in found(record)


# -- CEF -----------------------------------------------------------------------------------

CEF = (
    "<134>May  1 10:00:00 fw01 CEF:0|Security\\|Vendor|Threat Manager|1.0|100|"
    "detected a \\| in the name|10|src=10.0.0.5 dst=203.0.113.7 spt=1232 dpt=443 "
    "request=https://evil.example/a\\=b?c=d shost=WS-01.corp.example dhost=Evil.Example "
    "duser=bob@corp.example suser=CORP\\\\bob fileHash=D41D8CD98F00B204E9800998ECF8427E "
    "msg=line one\\nline two with key\\=value c6a3=2001:db8::7 dvchost=fw01.corp.example\n"
)


def test_cef_header_and_extension_escapes() -> None:
    header, extension = split_header(CEF)
    assert header == [
        "0",
        "Security|Vendor",
        "Threat Manager",
        "1.0",
        "100",
        "detected a | in the name",
        "10",
    ]
    pairs = dict(parse_extension(extension))
    assert pairs["request"] == "https://evil.example/a=b?c=d"
    assert pairs["suser"] == "CORP\\bob"
    assert pairs["msg"] == "line one\nline two with key=value"
    assert pairs["dvchost"] == "fw01.corp.example"


def test_cef_candidates() -> None:
    assert detect_format(CEF.encode()) == "cef"
    (record,), problems = read(CEF)
    assert problems.count == 0
    assert found(record) == {
        ("src", "ipv4", "10.0.0.5"),
        ("dst", "ipv4", "203.0.113.7"),
        ("request", "url", "https://evil.example/a=b?c=d"),
        ("shost", "domain", "ws-01.corp.example"),
        ("dhost", "domain", "evil.example"),
        ("duser", "email", "bob@corp.example"),
        ("fileHash", "md5", "d41d8cd98f00b204e9800998ecf8427e"),
        ("c6a3", "ipv6", "2001:db8::7"),
    }  # suser is not an e-mail address; dvchost is the reporting device


def test_cef_truncated_header_is_a_problem() -> None:
    records, problems = read("CEF:0|Vendor|Product|1.0\n", "cef")
    assert records == []
    assert problems.lines == [1]
    assert "truncated CEF header" in problems.first[0].reason


# -- syslog ---------------------------------------------------------------------------------

SYSLOG = """\
<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 [origin ip="192.0.2.99" software="x"] 'su root' failed for lonvick from 203.0.113.9 see https://evil.example/x.
Oct 11 22:14:15 mymachine sshd[1234]: Accepted publickey for root from 2001:db8::5 port 22 ssh2: RSA SHA256:abc at 12:34:56
2024-05-01T10:00:00+00:00 web01 postfix/smtp[99]: to=<victim@corp.example>, relay=mx.evil.example[198.51.100.4]:25, status=sent; unit sshd.service; hash d41d8cd98f00b204e9800998ecf8427e
"""


def test_syslog_messages_scanned_host_header_not() -> None:
    assert detect_format(SYSLOG.encode()) == "syslog"
    records, problems = read(SYSLOG)
    assert problems.count == 0
    first, second, third = records
    assert found(first) == {
        ("structured-data", "ipv4", "192.0.2.99"),
        ("message", "ipv4", "203.0.113.9"),
        ("message", "url", "https://evil.example/x"),
    }
    assert found(second) == {("message", "ipv6", "2001:db8::5")}  # not "12:34:56"
    assert found(third) == {
        ("message", "email", "victim@corp.example"),
        ("message", "domain", "mx.evil.example"),
        ("message", "ipv4", "198.51.100.4"),
        ("message", "md5", "d41d8cd98f00b204e9800998ecf8427e"),
    }  # not the header's "web01", not "sshd.service"


# -- CSV and JSON lines ------------------------------------------------------------------------


def test_csv_with_and_without_field_map() -> None:
    text = 'time,src_ip,dest,url,note\n2024-05-01,10.0.0.5,Evil.Example,"http://evil.example/a,b",hello\n'
    (record,), problems = read(text, "csv", "src=src_ip:address,site=dest:domain,url:url")
    assert problems.count == 0
    assert found(record) == {
        ("src", "ipv4", "10.0.0.5"),
        ("site", "domain", "evil.example"),
        ("url", "url", "http://evil.example/a,b"),
    }
    (record,), _ = read(text, "csv")
    assert found(record) == {
        ("src_ip", "ipv4", "10.0.0.5"),
        ("dest", "domain", "evil.example"),
        ("url", "url", "http://evil.example/a,b"),
    }
    with pytest.raises(LogFormatError, match="no column 'nope'"):
        read(text, "csv", "x=nope")


def test_jsonl_field_map_with_paths_and_lists() -> None:
    text = (
        '{"event":{"client":{"ip":"10.0.0.5"}},"dns":{"answers":[{"name":"a.evil.example"},'
        '{"name":"b.evil.example"}]},"file":{"sha256":"' + "E" * 64 + '"},"n":3}\n'
    )
    (record,), _ = read(
        text, "jsonl", "client=event.client.ip,answer=dns.answers.name:domain,h=file.sha256:hash"
    )
    assert found(record) == {
        ("client", "ipv4", "10.0.0.5"),
        ("answer", "domain", "a.evil.example"),
        ("answer", "domain", "b.evil.example"),
        ("h", "sha256", "e" * 64),
    }
    (record,), _ = read(text)  # detected as JSON lines; every text value tried
    assert ("event.client.ip", "ipv4", "10.0.0.5") in found(record)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("src=ip:colour", "unknown role 'colour'"),
        ("=ip", "NAME=PATH"),
        ("", "empty"),
    ],
)
def test_field_map_errors_name_the_entry(text: str, message: str) -> None:
    with pytest.raises(LogFormatError, match=message):
        parse_field_map(text)


def test_undetectable_input_asks_for_format() -> None:
    with pytest.raises(LogFormatError, match="give --format"):
        read("hello there\nnothing to see\n")
    with pytest.raises(LogFormatError, match="--fields applies to csv and jsonl"):
        read(SQUID, "squid", "a=b")
