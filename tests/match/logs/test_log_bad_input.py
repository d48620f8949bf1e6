"""Bad lines are counted and reported with their line numbers while reading goes on;
gzip (told by its magic bytes) and standard input read as plain files do."""

from __future__ import annotations

import gzip
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from accord.match.logs import MAX_LINE, LogSource, ProblemLog, iter_batches, read_records

HEADER = (
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n"
    "#fields\tts\tuid\tid.orig_h\tid.resp_h\tquery\tanswers\n"
    "#types\ttime\tstring\taddr\taddr\tstring\tvector[string]\n"
)


def row(number: int) -> bytes:
    return f"{number}.0\tC{number}\t10.0.0.1\t10.0.0.2\tq{number}.example\t192.0.2.1\n".encode()


def messy_log() -> tuple[bytes, dict[int, str]]:
    """A Zeek dns.log with one bad line of each kind; (bytes, line number -> reason)."""
    lines: list[bytes] = [HEADER.encode()]
    bad: dict[int, str] = {}
    number = HEADER.count("\n")
    for index in range(1, 41):
        number += 1
        if index == 5:
            lines.append(b"17.0\tC17\t10.0.0.1\n")  # truncated
            bad[number] = "wrong field count"
        elif index == 10:
            lines.append(b"\x00\x01\x02binary\x00junk\t\t\t\t\t\n")
            bad[number] = "binary data"
        elif index == 15:
            lines.append(b"1.0\tC\t10.0.0.1\t10.0.0.2\tq\xff\xfe.example\t-\n")
            bad[number] = "not UTF-8"
        elif index == 20:
            lines.append(b"1.0\tC\t10.0.0.1\t10.0.0.2\t" + b"a" * (1 << 20) + b"\t-\n")  # 1 MB
            bad[number] = "line too long"
        elif index == 25:
            lines.append(b"1.0\tC\t10.0.0.1\t10.0.0.2\tq.example\t-\textra\tcolumns\n")
            bad[number] = "wrong field count"
        else:
            lines.append(row(number))
    return b"".join(lines), bad


def test_record_reader_reports_each_bad_line_and_goes_on() -> None:
    data, bad = messy_log()
    problems = ProblemLog()
    records = list(read_records(LogSource(io.BytesIO(data), "dns.log"), "auto", None, problems.add))
    assert {p.location.line: p.reason.partition(":")[0] for p in problems.first} == bad
    assert problems.count == len(bad)
    good = [r for r in records]
    assert len(good) == 40 - len(bad)
    for record in good:
        # every good line is read, and its location points at its first byte
        assert data[record.location.offset :].startswith(f"{record.location.line}.0\t".encode())
        assert [c.raw for c in record.candidates if c.field == "query"] == [
            f"q{record.location.line}.example"
        ]
    long = next(p for p in problems.first if p.reason.startswith("line too long"))
    assert "1,048,6" in long.reason and f"{MAX_LINE:,}" in long.reason


@pytest.mark.parametrize("batch_bytes", [1 << 20, 4096, 300])  # the 1 MB line in a chunk or not
def test_batch_reader_reports_the_same_lines(batch_bytes: int) -> None:
    data, bad = messy_log()
    problems = ProblemLog()
    with LogSource(io.BytesIO(data), "dns.log") as source:
        batches = list(iter_batches(source, ("query", "answers"), problems.add, batch_bytes))
    reported = {p.location.line: p.reason.partition(":")[0] for p in problems.first}
    # The batch path does not decode text (Zeek escapes what is not UTF-8), so the
    # invalid UTF-8 line is read; every other bad line is reported as by the records path.
    expected = {line: reason for line, reason in bad.items() if reason != "not UTF-8"}
    assert reported == expected
    rows = [
        (batch.line_numbers[index], batch.columns["query"][index], batch.location(index).offset)
        for batch in batches
        for index in range(len(batch))
    ]
    for line, query, offset in rows:
        if query.startswith(b"q") and query[1:2].isdigit():
            assert query == f"q{line}.example".encode()
            assert data[offset:].startswith(f"{line}.0\t".encode())
    assert len(rows) == 40 - len(expected)


def test_gzip_is_told_by_magic_not_name(tmp_path: Path) -> None:
    data, bad = messy_log()
    packed = tmp_path / "dns.log.txt"  # no .gz: the magic bytes decide
    packed.write_bytes(gzip.compress(data))
    problems = ProblemLog()
    with LogSource.open(str(packed)) as source:
        assert source.compressed
        records = list(read_records(source, "auto", None, problems.add))
        assert source.bytes_read == packed.stat().st_size
        assert source.size == packed.stat().st_size
    assert len(records) == 40 - len(bad)
    assert sorted(problems.lines) == sorted(bad)
    plain = tmp_path / "dns.gz"  # a .gz name on a plain file
    plain.write_bytes(data)
    with LogSource.open(str(plain)) as source:
        assert not source.compressed
        assert len(list(read_records(source, "zeek"))) == 40 - len(bad)


def test_truncated_gzip_is_reported_not_raised(tmp_path: Path) -> None:
    data = HEADER.encode() + b"".join(row(n) for n in range(8, 5000))
    packed = gzip.compress(data)
    cut = tmp_path / "cut.gz"
    cut.write_bytes(packed[: len(packed) // 2])
    problems = ProblemLog()
    with LogSource.open(str(cut)) as source:
        records = list(read_records(source, "zeek", None, problems.add))
    assert 0 < len(records) < 4992
    assert problems.count >= 1
    assert any("input ends early" in p.reason for p in problems.first)


def test_standard_input_plain_and_gzip() -> None:
    data, bad = messy_log()
    script = (
        "import sys\n"
        "from accord.match.logs import LogSource, ProblemLog, read_records\n"
        "problems = ProblemLog()\n"
        "with LogSource.open('-') as source:\n"
        "    n = sum(1 for _ in read_records(source, 'auto', None, problems.add))\n"
        "print(n, problems.count, source.name)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    for payload in (data, gzip.compress(data)):
        done = subprocess.run(
            [sys.executable, "-c", script], input=payload, capture_output=True, check=True, env=env
        )
        assert done.stdout.decode().split() == [str(40 - len(bad)), str(len(bad)), "-"]


def test_overlong_line_without_newline_at_end_of_input() -> None:
    data = HEADER.encode() + row(8) + b"x" * (3 * MAX_LINE)
    for batch_bytes in (1 << 20, 1000):
        problems = ProblemLog()
        with LogSource(io.BytesIO(data), "dns.log") as source:
            batches = list(iter_batches(source, ("query",), problems.add, batch_bytes))
        assert sum(len(b) for b in batches) == 1
        assert problems.lines == [9]
    problems = ProblemLog()
    records = list(read_records(LogSource(io.BytesIO(data), "x"), "zeek", None, problems.add))
    assert len(records) == 1 and problems.lines == [9]
    assert problems.first[0].reason.startswith("line too long")
