"""`accord match`: did any of this touch us? Logs in, one JSON line per hit out.

A thin command over `accord.match`: the viewer's matcher (`matcher_source.matcher_for`, from
the disk cache when current), the log readers and the scan (`accord.match.scan`); `--sight`
posts what was found through the normal sightings path (`accord.ingest.sightings`).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Final

import orjson
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from accord.cli.context import (
    DONE,
    FAILED,
    acting_user,
    audit,
    fail,
    node_settings,
    open_store,
)
from accord.cli.display import shown
from accord.ingest.sightings import SightingTally, post_tallies
from accord.intel.viewer_matcher import node_lists, viewer_matcher
from accord.intel.warninglists.index import default_cache_dir
from accord.match.logs import FORMATS, LogFormatError, parse_field_map
from accord.match.scan import HitReport, ScanOptions, ScanStats, scan
from accord.model.timestamps import timestamp_key
from accord.store.node import Store
from accord.store.organisations import User

EXIT_CODES: Final = (
    "Exit codes: 0 done, hits or not (they are on standard output); 1 an input could not be "
    "read (the others were matched); 2 bad usage."
)

errors = Console(stderr=True, highlight=False, soft_wrap=True)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def match_command(
    files: Annotated[
        list[str],
        typer.Argument(
            help="Log files, plain or gzip (told by their first bytes), or - for standard input.",
            show_default=False,
        ),
    ],
    as_: Annotated[
        str,
        typer.Option(
            "--as", help="The user whose view of the intelligence to match against (e-mail)."
        ),
    ],
    format_name: Annotated[
        str,
        typer.Option(
            "--format",
            help=f"The logs' format: {', '.join(FORMATS)} (auto: from the first lines).",
        ),
    ] = "auto",
    fields: Annotated[
        str | None,
        typer.Option(
            "--fields",
            help="For csv and jsonl: NAME=PATH[:ROLE],... (e.g. src=client.ip,query=dns.name).",
        ),
    ] = None,
    sight: Annotated[
        bool,
        typer.Option(
            "--sight",
            help="Post a sighting per matched indicator (count, first and last seen), where "
            "sighted: your organisation.",
        ),
    ] = False,
    anonymous: Annotated[
        bool,
        typer.Option("--anonymous", help="With --sight: sightings that do not name you."),
    ] = False,
    include_benign: Annotated[
        bool,
        typer.Option(
            "--include-benign",
            help="Also report hits on warninglisted or allowlisted indicators, flagged.",
        ),
    ] = False,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Only intelligence added or modified since DATE (RFC 3339): new indicators "
            "over old logs.",
            metavar="DATE",
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=0,
            max=64,
            help="Processes for a large plain Zeek log (default: cores).",
        ),
    ] = 0,
    no_progress: Annotated[
        bool, typer.Option("--no-progress", help="No progress bar on standard error.")
    ] = False,
) -> None:
    """Match logs against everything the user may see: one JSON line per hit on standard
    output (file, line, offset, field, value, and the indicators with their TLP and how they
    matched), a summary on standard error.

    Reads Zeek (TSV and JSON), Suricata EVE, Squid, nginx/Apache, CEF, syslog, CSV and JSON
    lines (docs/logs.md); every field that can hold an address, domain, URL, e-mail address
    or hash is checked: exactly, by network, by parent domain, by URL host and prefix, and
    through STIX patterns. The matcher is kept on disk per user and refreshed as
    intelligence arrives (docs/matching.md)."""
    if anonymous and not sight:
        fail("--anonymous goes with --sight")
    since_key = None
    if since is not None:
        try:
            since_key = timestamp_key(since)
        except ValueError as exc:
            fail(f"--since: {exc}")
    if format_name not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}, not {format_name!r}")
    field_map = None
    if fields is not None:
        try:
            field_map = parse_field_map(fields)
        except LogFormatError as exc:
            fail(f"--fields: {exc}")
    options = ScanOptions(
        format=format_name,
        fields=field_map,
        include_benign=include_benign,
        workers=workers or len(os.sched_getaffinity(0)) or 1,
    )
    started = time.perf_counter()
    with open_store() as store:
        user = acting_user(store, as_)
        viewer = store.directory.viewer(user)
        settings = node_settings(store)
        matcher, info = viewer_matcher(
            store,
            settings,
            node_lists(store, settings),
            viewer,
            default_cache_dir(),
            since=since_key,
        )
        errors.print(
            f"matcher: {len(matcher):,} indicators, {info.how} in {info.seconds:.1f} s",
            style="dim",
        )
        sighted: dict[str, SightingTally] = {}
        totals = ScanStats()
        out = sys.stdout
        seen_at = _now()

        def on_hit(report: HitReport) -> None:
            out.write(orjson.dumps(report.json()).decode() + "\n")
            for hit in report.hits:
                tally = sighted.get(hit.target.id)
                if tally is None:
                    tally = sighted[hit.target.id] = SightingTally(hit.target.name, hit.target.tlp)
                tally.seen(seen_at)

        unread: list[str] = []
        with _progress(no_progress) as progress:
            for path in files:
                task = progress.add_task(shown(path), total=_size(path))
                advance = _advancer(progress, task)
                try:
                    stats = scan(path, matcher, options, on_hit, advance)
                except (OSError, LogFormatError) as exc:
                    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
                    errors.print(f"error: {shown(path)}: {shown(str(reason))}", style="red")
                    unread.append(path)
                    continue
                progress.update(task, completed=_size(path) or stats.bytes)
                totals.add(stats)
                for problem in stats.problems[:20]:
                    errors.print(shown(str(problem)), style="yellow")
                if stats.problem_count > 20:
                    errors.print(
                        f"{shown(path)}: {stats.problem_count - 20:,} more bad lines",
                        style="yellow",
                    )
        out.flush()
        if sight and sighted:
            _post_sightings(store, user, sighted, anonymous)
        audit(
            store,
            user,
            "match",
            None,
            via="accord match",
            files=len(files) - len(unread),
            hits=totals.hits,
            answered_by=sorted(sighted),
        )
    _summary(totals, sighted, time.perf_counter() - started)
    raise typer.Exit(FAILED if unread else DONE)


def _size(path: str) -> int | None:
    if path == "-":
        return None
    try:
        return Path(path).stat().st_size
    except OSError:
        return None


def _progress(disabled: bool) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
        console=errors,
        transient=True,
        disable=disabled or not errors.is_terminal,
    )


def _advancer(progress: Progress, task: TaskID) -> Callable[[int], None]:
    def advance(done: int) -> None:
        progress.update(task, completed=done)

    return advance


def _post_sightings(
    store: Store, user: User, sighted: dict[str, SightingTally], anonymous: bool
) -> None:
    done = post_tallies(store, user, sighted, anonymous, node_settings(store).default_tlp)
    for indicator_id, why in done.refused:
        errors.print(f"sighting of {indicator_id}: {shown(why)}", style="red")
    errors.print(f"{done.posted:,} sightings posted", style="dim")


def _summary(totals: ScanStats, sighted: dict[str, SightingTally], seconds: float) -> None:
    rate = totals.bytes / seconds / 1e6 if seconds else 0.0
    errors.print(
        f"{totals.bytes / 1e6:,.1f} MB, {totals.lines:,} lines, {totals.values:,} values in "
        f"{seconds:.1f} s ({rate:,.1f} MB/s): {totals.hits:,} hits on {len(sighted):,} "
        f"indicators; {totals.problem_count:,} bad lines"
        + (f"; {totals.benign_skipped:,} benign hits left out" if totals.benign_skipped else ""),
    )
    if not sighted:
        return
    table = Table("indicator", "name", "TLP", "hits", title="Hits by indicator")
    for indicator_id, entry in sorted(sighted.items(), key=lambda item: -item[1].count)[:50]:
        table.add_row(shown(indicator_id), shown(entry.name or ""), entry.tlp, f"{entry.count:,}")
    errors.print(table)


__all__ = ["EXIT_CODES", "match_command"]
