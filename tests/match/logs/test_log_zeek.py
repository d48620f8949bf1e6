"""Zeek TSV: Accord's reader agrees with parsezeeklogs on every field of a generated log;
the fast column reader agrees with the record reader; byte ranges cover a file exactly
once; flows from a pcap written and read back with dpkt come out as conn.log records."""

from __future__ import annotations

import io
import random
import socket
from pathlib import Path

import pytest

from accord.match.logs import (
    LogFormatError,
    LogSource,
    ProblemLog,
    domain_key,
    iter_batches,
    iter_range_batches,
    read_records,
    split_ranges,
)
from accord.match.logs.zeek import ZeekTsv, unescape

COLUMNS = [
    ("ts", "time"),
    ("uid", "string"),
    ("id.orig_h", "addr"),
    ("id.orig_p", "port"),
    ("id.resp_h", "addr"),
    ("id.resp_p", "port"),
    ("proto", "enum"),
    ("duration", "interval"),
    ("orig_bytes", "count"),
    ("local_orig", "bool"),
    ("query", "string"),
    ("note", "string"),
    ("answers", "vector[string]"),
    ("tags", "set[string]"),
    ("tx_hosts", "set[addr]"),
    ("TTLs", "vector[interval]"),
]
HEADER = (
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tmixed\n"
    "#open\t2024-05-01-10-00-00\n"
    "#fields\t" + "\t".join(n for n, _ in COLUMNS) + "\n"
    "#types\t" + "\t".join(t for _, t in COLUMNS) + "\n"
)
NOTES = [
    "plain",
    "tab\\x09inside",
    "back\\\\slash",
    "comma\\x2cin",
    "caf\u00e9 \u4e2d",
    "\\xe2\\x82\\xac euro",
    "(empty)",
    "-",
    "spaces  two",
]


def generated_log(rows: int, seed: int = 20) -> str:
    rng = random.Random(seed)
    out = [HEADER]
    for index in range(rows):
        v6 = rng.random() < 0.3
        orig = (
            f"2001:db8::{rng.randint(1, 0xFFFF):x}"
            if v6
            else f"10.0.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        )
        resp = f"2001:db8:1::{rng.randint(1, 0xFFFF):x}" if v6 else f"192.0.2.{rng.randint(1, 254)}"
        answers = rng.choice(
            ["-", "(empty)", "1.2.3.4", "a.example,5.6.7.8", "TXT 3 a\\x2cb,x.example"]
        )
        cells = [
            f"{1714557600 + index}.{rng.randint(0, 999999):06d}",
            f"C{rng.getrandbits(40):x}",
            orig,
            str(rng.randint(1, 65535)),
            resp,
            rng.choice(["53", "80", "443"]),
            rng.choice(["udp", "tcp"]),
            rng.choice(["-", f"{rng.random() * 10:.6f}"]),
            rng.choice(["-", str(rng.randint(0, 10**9))]),
            rng.choice(["T", "F", "-"]),
            rng.choice(["-", f"Host{index}.Example.", "xn--caf-dma.example"]),
            rng.choice(NOTES),
            answers,
            rng.choice(["(empty)", "-", "a", "a,b,c"]),
            rng.choice(["(empty)", "192.0.2.1", "192.0.2.1,2001:db8::1"]),
            rng.choice(["-", "(empty)", "60.000000", "60.000000,30.500000"]),
        ]
        out.append("\t".join(cells) + "\n")
    out.append("#close\t2024-05-01-11-00-00\n")
    return "".join(out)


def ours_typed(values: dict[str, object], kinds: dict[str, str]) -> dict[str, object]:
    """Accord's decoded text converted to the Python types parsezeeklogs returns."""

    def scalar(value: object, kind: str) -> object:
        if value is None:
            return None
        assert isinstance(value, str)
        if kind in ("count", "int", "port"):
            return int(value)
        if kind in ("double", "interval", "time"):
            return float(value)
        if kind == "bool":
            return value == "T"
        return value

    typed: dict[str, object] = {}
    for name, value in values.items():
        kind = kinds[name]
        if isinstance(value, list):
            inner = kind[kind.index("[") + 1 : -1]
            typed[name] = [scalar(item, inner) for item in value]
        else:
            typed[name] = scalar(value, kind)
    return typed


def test_agrees_with_parsezeeklogs_on_every_field(tmp_path: Path) -> None:
    parsezeeklogs = pytest.importorskip("parsezeeklogs")
    text = generated_log(500)
    path = tmp_path / "mixed.log"
    path.write_text(text, encoding="utf-8")
    with parsezeeklogs.ZeekLog(str(path)) as log:
        theirs = list(log)
    parser = ZeekTsv()
    ours = []
    for line in text.splitlines():
        if line.startswith("#"):
            parser.parse(line)
        else:
            ours.append(parser.values(line))
    kinds = dict(COLUMNS)
    assert len(ours) == len(theirs) == 500
    for index, (mine, other) in enumerate(zip(ours, theirs, strict=True)):
        assert ours_typed(mine, kinds) == dict(other), f"row {index}"
    # and the escapes really were there to decode
    notes = {row["note"] for row in ours}
    assert {"tab\tinside", "back\\slash", "comma,in", "\u20ac euro", "caf\u00e9 \u4e2d"} <= notes


def test_unescape_one_pass() -> None:
    assert unescape("a\\\\x41") == "a\\x41"  # an escaped backslash, then text "x41"
    assert unescape("\\x41\\x2c") == "A,"
    assert unescape("\\xff") == "\ufffd"


def test_batches_agree_with_records() -> None:
    text = generated_log(3000)
    # a second file concatenated, with different columns: the header is read again
    text += HEADER.replace("#path\tmixed", "#path\tsecond") + "".join(
        generated_log(200, seed=3).splitlines(keepends=True)[8:-1]
    )
    data = text.encode("utf-8")
    records = list(read_records(LogSource(io.BytesIO(data), "x.log"), "zeek"))
    expected = {
        record.location.line: (record.location.offset, candidate.raw)
        for record in records
        for candidate in record.candidates
        if candidate.field == "query"
    }
    for batch_bytes in (1 << 20, 10_000, 777):
        problems = ProblemLog()
        got = {}
        with LogSource(io.BytesIO(data), "x.log") as source:
            for batch in iter_batches(source, ("query", "answers"), problems.add, batch_bytes):
                assert len(batch.columns["answers"]) == len(batch)
                for index, value in enumerate(batch.columns["query"]):
                    if value != b"-":
                        where = batch.location(index)
                        got[where.line] = (where.offset, unescape(value.decode()))
        assert problems.count == 0
        assert got == expected


def test_missing_field_or_header_is_an_error() -> None:
    one_row = generated_log(1).encode()
    source = LogSource(io.BytesIO(one_row), "conn.log")
    with source, pytest.raises(LogFormatError, match="no field 'nope'"):
        list(iter_batches(source, ("nope",)))
    source = LogSource(io.BytesIO(b"1.0\tC\t10.0.0.1\n"), "bare.log")
    with source, pytest.raises(LogFormatError, match="without a #fields"):
        list(read_records(source, "zeek"))


def test_domain_key() -> None:
    assert domain_key(b"WWW.Example.COM.") == b"www.example.com"
    assert domain_key(b"x.example") == b"x.example"


@pytest.mark.parametrize("parts", [1, 2, 3, 7])
def test_split_ranges_cover_the_file_once(tmp_path: Path, parts: int) -> None:
    text = generated_log(2000)
    path = tmp_path / "dns.log"
    path.write_text(text, encoding="utf-8")
    with LogSource.open(str(path)) as source:
        whole = [
            (batch.location(i).line, batch.location(i).offset, value)
            for batch in iter_batches(source, ("uid",))
            for i, value in enumerate(batch.columns["uid"])
        ]
    plan = split_ranges(str(path), parts, number_lines=True)
    assert plan.header.fields == [name for name, _ in COLUMNS]
    assert 1 <= len(plan.ranges) <= parts
    assert plan.ranges[-1].end == path.stat().st_size
    pieces = []
    for part in plan.ranges:
        for batch in iter_range_batches(plan, part, ("uid",)):
            pieces.extend(
                (batch.location(i).line, batch.location(i).offset, value)
                for i, value in enumerate(batch.columns["uid"])
            )
    assert pieces == whole
    relative = split_ranges(str(path), parts)
    assert all(part.first_line is None for part in relative.ranges)


def test_split_ranges_refuses_gzip(tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "dns.log.gz"
    path.write_bytes(gzip.compress(generated_log(10).encode()))
    with pytest.raises(LogFormatError, match="gzip"):
        split_ranges(str(path), 2)


# -- a pcap written and read back with dpkt, its flows as a conn.log ----------------------------


def _pcap_flows(tmp_path: Path) -> list[tuple[str, int, str, int, str]]:
    dpkt = pytest.importorskip("dpkt")
    rng = random.Random(5)
    path = tmp_path / "capture.pcap"
    sent = []
    with open(path, "wb") as stream:
        writer = dpkt.pcap.Writer(stream)
        for index in range(60):
            v6 = index % 4 == 0
            sport, dport = rng.randint(1024, 65535), rng.choice([53, 80, 443])
            if v6:
                src, dst = f"2001:db8::{index + 1:x}", f"2001:db8:ffff::{rng.randint(1, 9):x}"
                transport = dpkt.udp.UDP(sport=sport, dport=dport, data=b"q")
                transport.ulen = len(transport)
                packet = dpkt.ip6.IP6(
                    src=socket.inet_pton(socket.AF_INET6, src),
                    dst=socket.inet_pton(socket.AF_INET6, dst),
                    nxt=dpkt.ip.IP_PROTO_UDP,
                    hlim=64,
                    data=transport,
                )
                packet.plen = len(transport)
                ethertype = dpkt.ethernet.ETH_TYPE_IP6
            else:
                src, dst = f"10.1.{index}.{rng.randint(1, 254)}", f"203.0.113.{rng.randint(1, 254)}"
                transport = dpkt.tcp.TCP(sport=sport, dport=dport, flags=dpkt.tcp.TH_SYN, seq=index)
                packet = dpkt.ip.IP(
                    src=socket.inet_aton(src),
                    dst=socket.inet_aton(dst),
                    p=dpkt.ip.IP_PROTO_TCP,
                    ttl=64,
                    data=transport,
                )
                packet.len = len(packet)
            frame = dpkt.ethernet.Ethernet(
                src=b"\x00\x01\x02\x03\x04\x05",
                dst=b"\x00\x05\x04\x03\x02\x01",
                type=ethertype,
                data=packet,
            )
            writer.writepkt(bytes(frame), ts=1714557600 + index)
            sent.append((src, sport, dst, dport, "udp" if v6 else "tcp"))
    # Read back: the tiny converter, packets -> flows (first packet sets the orientation).
    flows: dict[tuple[str, int, str, int, str], float] = {}
    with open(path, "rb") as stream:
        for ts, buffer in dpkt.pcap.Reader(stream):
            frame = dpkt.ethernet.Ethernet(buffer)
            packet = frame.data
            if isinstance(packet, dpkt.ip.IP):
                src, dst = (
                    socket.inet_ntop(socket.AF_INET, packet.src),
                    socket.inet_ntop(socket.AF_INET, packet.dst),
                )
            else:
                src, dst = (
                    socket.inet_ntop(socket.AF_INET6, packet.src),
                    socket.inet_ntop(socket.AF_INET6, packet.dst),
                )
            transport = packet.data
            proto = "tcp" if isinstance(transport, dpkt.tcp.TCP) else "udp"
            flows.setdefault((src, transport.sport, dst, transport.dport, proto), ts)
    assert list(flows) == sent
    return list(flows)


def test_pcap_flows_read_as_conn_log(tmp_path: Path) -> None:
    flows = _pcap_flows(tmp_path)
    columns = ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto"]
    types = ["time", "string", "addr", "port", "addr", "port", "enum"]
    lines = [
        "#separator \\x09",
        "#set_separator\t,",
        "#empty_field\t(empty)",
        "#unset_field\t-",
        "#path\tconn",
        "#fields\t" + "\t".join(columns),
        "#types\t" + "\t".join(types),
    ]
    for index, (src, sport, dst, dport, proto) in enumerate(flows):
        lines.append(
            f"{1714557600 + index}.000000\tC{index}\t{src}\t{sport}\t{dst}\t{dport}\t{proto}"
        )
    conn = tmp_path / "conn.log"
    conn.write_text("\n".join(lines) + "\n", encoding="ascii")
    with LogSource.open(str(conn)) as source:
        records = list(read_records(source))
    assert [[(c.field, c.observable.value) for c in record.candidates] for record in records] == [
        [("id.orig_h", src), ("id.resp_h", dst)] for src, _, dst, _, _ in flows
    ]
    kinds = {c.kind for record in records for c in record.candidates}
    assert kinds == {"ipv4", "ipv6"}
    with LogSource.open(str(conn)) as source:
        (batch,) = list(iter_batches(source, ("id.orig_h", "id.resp_h")))
    assert batch.columns["id.resp_h"] == [dst.encode() for _, _, dst, _, _ in flows]
