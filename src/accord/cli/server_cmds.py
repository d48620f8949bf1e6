"""``accord serve`` and ``accord lookup``."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from accord.cli.context import (
    BAD_INPUT,
    AsOpt,
    JsonOpt,
    acting_user,
    console,
    errors,
    fail,
    node_settings,
    open_store,
    print_json,
    refuse_nul,
    state,
)
from accord.cli.display import shown
from accord.federation.tls import ServedCertificate, TlsFileError, check_server_pair
from accord.intel.benign import ListHit
from accord.intel.lookup.answer import Answer
from accord.intel.lookup.service import LookupService
from accord.intel.scoring import list_effect

SHUTDOWN_SECONDS = 10  # how long a stopping server lets requests in flight finish


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8470,
    workers: Annotated[int, typer.Option(help="Worker processes (they share the database).")] = 1,
    public_lookups: Annotated[
        bool, typer.Option("--public-lookups", help="Let anonymous callers look up TLP:CLEAR.")
    ] = False,
    bulk_helper: Annotated[
        bool,
        typer.Option(
            help="Answer bulk look-ups of 2,000 values or more on two cores "
            "(a helper process per worker; only where the machine has two).",
        ),
    ] = True,
    certfile: Annotated[
        str | None,
        typer.Option(
            "--certfile",
            help="Serve over TLS (HTTPS) with this PEM certificate: the node's own first, "
            "then its chain.",
        ),
    ] = None,
    keyfile: Annotated[
        str | None,
        typer.Option(
            "--keyfile",
            help="The certificate's private key (PEM, unencrypted; default: in --certfile).",
        ),
    ] = None,
    jobs: Annotated[
        bool,
        typer.Option(
            help="Run the node's background jobs (scheduled feed pulls, peer "
            "synchronisation, webhook deliveries, warninglist refresh) in the server; "
            "--no-jobs leaves them to `accord worker`.",
        ),
    ] = True,
) -> None:
    """Serve the node: REST API at /api/v1, TAXII 2.1 at /taxii2/, the portal at /, docs at
    /api/docs. With --certfile (and --keyfile) over HTTPS: the portal's cookies are then
    Secure and __Host- prefixed, and peers verify the certificate (docs/tls.md).

    Exit code 2, before anything is served, when a certificate or key file is missing or
    unreadable, is not PEM, or the key does not match the certificate."""
    import uvicorn

    served = _served_certificate(certfile, keyfile)
    with open_store():
        pass  # fails early, with a message, if the database is not initialised
    os.environ["ACCORD_DATABASE_URL"] = state.settings.database_url
    if public_lookups:
        os.environ["ACCORD_PUBLIC_LOOKUPS"] = "1"
    os.environ["ACCORD_BULK_HELPER"] = "1" if bulk_helper else "0"
    scheme = "http" if served is None else "https"
    if not jobs:
        os.environ["ACCORD_JOBS"] = "off"
    console.print(
        f"Accord node on {scheme}://{host}:{port}/  (API docs: {scheme}://{host}:{port}/api/docs)",
        highlight=False,
    )
    if served is not None:
        console.print(
            f"TLS certificate for {shown(', '.join(served.names) or '(no names)')}, "
            f"valid until {served.not_after:%Y-%m-%d %H:%M} UTC",
            highlight=False,
        )
    uvicorn.run(
        "accord.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
        ssl_certfile=certfile,
        ssl_keyfile=keyfile,
        # Open live streams (GET /api/v1/stream) never end by themselves: without a bound,
        # a stop would wait for every client to leave. Their clients resume by Last-Event-ID.
        timeout_graceful_shutdown=SHUTDOWN_SECONDS,
    )


def _served_certificate(certfile: str | None, keyfile: str | None) -> ServedCertificate | None:
    """Check the TLS files as uvicorn will load them, so that a wrong one is said here (exit
    code 2) rather than as a traceback from each worker."""
    if certfile is None:
        if keyfile is not None:
            fail("--keyfile needs --certfile (the certificate the key belongs to)")
        return None
    try:
        served = check_server_pair(certfile, keyfile)
    except TlsFileError as exc:
        fail(str(exc))
    now = datetime.now(UTC)
    if served.expired(now):
        _warn(
            f"the certificate in {certfile} expired on {served.not_after:%Y-%m-%d}: "
            "peers and browsers will refuse it until it is renewed"
        )
    elif served.not_after - now < timedelta(days=14):
        _warn(f"the certificate in {certfile} expires on {served.not_after:%Y-%m-%d}: renew it")
    return served


def _warn(message: str) -> None:
    errors.print(f"[bold yellow]warning:[/] {shown(message)}", highlight=False, soft_wrap=True)


def lookup(
    values: Annotated[
        list[str], typer.Argument(help="IPs, networks, domains, URLs, e-mails, hashes.")
    ],
    as_: AsOpt,
    type_: Annotated[
        str | None, typer.Option("--type", help="Value type, if detection guesses wrong.")
    ] = None,
    json: JsonOpt = False,
) -> None:
    """A verdict for each value, from what the user may see (audited). Every value is answered;
    the exit code is 2 if any of them is not a valid value (its answer says why)."""
    refuse_nul(values)
    with open_store() as store:
        user = acting_user(store, as_)
        viewer = store.directory.viewer(user)
        try:
            lookups = LookupService.load(store, node_settings(store))
        except ValueError as exc:  # a node setting names a list it does not have
            fail(str(exc))
        answers = lookups.answered(viewer, values, type_, user.id)
    if json:
        print_json([answer.as_json() for answer in answers])
    else:
        _print_answers(answers)
    if any(answer.error for answer in answers):
        raise typer.Exit(BAD_INPUT)


def _print_answers(answers: list[Answer]) -> None:
    for answer in answers:
        if answer.error:
            console.print(f"[red]{shown(answer.query)}[/]: {shown(answer.error)}", highlight=False)
            continue
        colour = {"malicious": "red", "suspicious": "yellow", "benign": "green"}.get(
            answer.verdict, "white"
        )
        console.print(
            f"[bold]{shown(answer.kind)} {shown(answer.value)}[/]: "
            f"[{colour}]{shown(answer.verdict)}[/] "
            f"(score {answer.score}, {answer.reporting_organisations} organisations, "
            f"{answer.sightings} sightings, "
            f"seen {shown(answer.first_seen or '-')} .. {shown(answer.last_seen or '-')})",
            highlight=False,
        )
        for reason in answer.reasons:
            console.print(
                f"  {shown(reason.relation):14} {shown(reason.tlp):17} {shown(reason.type)} "
                f"{shown(reason.name or reason.id)}",
                highlight=False,
            )
        for related in answer.related:
            label = f"{related.attack_id} " if related.attack_id else ""
            console.print(
                f"  related: {shown(related.relationship)} {shown(related.type)} "
                f"{shown(label)}{shown(related.name or related.id)}",
                highlight=False,
            )
        for hit in answer.lists:
            console.print(f"  {list_line(hit)}", highlight=False)


def list_line(hit: ListHit) -> str:
    """One list a looked-up value is on, what kind of list it is and what it did to the
    score, e.g. "On warninglist 'List of known IPv4 public DNS resolvers' (benign by
    nature; public DNS resolvers): score x0.3". Printable text (`shown`)."""
    found = list_effect(hit.source, hit.list_class, hit.via_parent)
    where = f"warninglist '{hit.name}'" if hit.source == "warninglist" else hit.name
    why = (
        found.label
        if not hit.reason or hit.source == "allowlist"
        else (f"{found.label}; {hit.reason}")
    )
    colour = "green" if found.effect == "damped" else "cyan"
    return f"On {shown(where)} ({shown(why)}): [{colour}]{shown(found.outcome)}[/]"
