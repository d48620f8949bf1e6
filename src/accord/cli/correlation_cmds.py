"""``accord correlations`` and ``accord sight``: what a user's objects share with others', and
reporting that the user's organisation saw a value or an indicator."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from accord.cli.context import (
    AsOpt,
    JsonOpt,
    acting_user,
    audit,
    console,
    fail,
    node_settings,
    open_store,
    parse_tlp,
    print_json,
    state,
)
from accord.cli.display import shown
from accord.ingest.sightings import SightingError, SightingRequest, record_sighting
from accord.model.observables import ObservableError, parse_query
from accord.model.visibility import Viewer
from accord.model.wording import with_article
from accord.store.correlation.exclusion import Exclude
from accord.store.correlation.read import Correlations
from accord.store.node import Store
from accord.store.sightings import KINDS


def correlations(
    object_id: Annotated[str, typer.Argument(metavar="ID")],
    as_: AsOpt,
    limit: Annotated[int, typer.Option(help="At most this many correlations.")] = 1000,
    json: JsonOpt = False,
) -> None:
    """Objects that share an observable with ID, as far as the user may see both."""
    with open_store() as store:
        viewer = store.directory.viewer(acting_user(store, as_))
        exclude = _warninglists(store, viewer)
        found = Correlations(store.engine).of_object(viewer, object_id, exclude, limit)
    if found is None:
        fail(f"no object {object_id} that {as_} may see", code=1)
    if json:
        print_json(found.as_json())
        return
    if not found.correlations and not found.over_correlating:
        console.print(
            f"Nothing {shown(as_)} may see correlates with {shown(object_id)}.", highlight=False
        )
        return
    table = Table(
        "relation", "value", "other value", "type", "name", "TLP", "id", title=shown(object_id)
    )
    for c in found.correlations:
        body = c.as_json()
        table.add_row(
            shown(c.relation + (f" ({c.similarity})" if c.similarity is not None else "")),
            shown(c.value),
            shown(c.other_value),
            shown(c.obj.type),
            shown(body.get("name") or ""),
            c.obj.tlp.label,
            shown(c.obj.id),
        )
    console.print(table)
    for over in found.over_correlating:
        console.print(
            f"{shown(over.value)}: over-correlating, joins {over.count} objects you may see",
            highlight=False,
        )
    if found.truncated:
        console.print(f"(only the first {limit}; use --limit)")


def _warninglists(store: Store, viewer: Viewer) -> Exclude | None:
    """The node's warninglists, when it uses them (the user's allowlist applies anyway)."""
    if not state.settings.warninglists:
        return None
    from accord.intel.benign import BenignLists

    lists = BenignLists.load(store, node_settings(store).warninglists_ignore)
    return lists.warninglisted


def sight(
    as_: AsOpt,
    value: Annotated[str | None, typer.Argument(help="The value seen.")] = None,
    indicator: Annotated[
        str | None, typer.Option("--indicator", help="Or the id of the indicator seen.")
    ] = None,
    kind: Annotated[
        str, typer.Option(help="seen, false-positive or expired.", metavar="KIND")
    ] = "seen",
    count: Annotated[int, typer.Option(min=1, help="How many times.")] = 1,
    first_seen: Annotated[str | None, typer.Option(help="RFC 3339 timestamp.")] = None,
    last_seen: Annotated[str | None, typer.Option(help="RFC 3339 timestamp.")] = None,
    tlp: Annotated[str | None, typer.Option(help="TLP of the sighting.")] = None,
    anonymous: Annotated[
        bool,
        typer.Option(
            "--anonymous",
            help="Counted for everyone who may see the indicator; your organisation is not named.",
        ),
    ] = False,
    json: JsonOpt = False,
) -> None:
    """Report that the user's organisation saw a value or an indicator (a STIX sighting)."""
    if (value is None) == (indicator is None):
        fail("give either a VALUE or --indicator ID")
    if kind not in KINDS:
        fail(f"--kind must be one of {', '.join(KINDS)}, not {kind!r}")
    with open_store() as store:
        user = acting_user(store, as_)
        viewer = store.directory.viewer(user)
        observable = None
        if indicator is not None:
            found = store.objects.get(viewer, indicator)
            if found is None or found.type != "indicator":
                fail(f"no indicator {indicator} that {as_} may see", code=1)
            indicators = [found.id]
        else:
            assert value is not None
            try:
                observable = parse_query(value)
            except ObservableError as exc:
                fail(str(exc))
            matches = store.index.search(viewer, observable)
            indicators = sorted(
                {m.obj.id for m in matches if m.relation == "exact" and m.obj.type == "indicator"}
            )
        request = SightingRequest(
            count, first_seen, last_seen, parse_tlp(tlp), kind=kind, anonymous=anonymous
        )
        try:
            report, created, sighted = record_sighting(
                store, user, request, indicators, observable, node_settings(store).default_tlp
            )
        except SightingError as exc:
            fail(str(exc))
        if not report.ok:
            fail("; ".join(o.describe() for o in report.objects if o.status == "rejected"))
        audit(
            store,
            user,
            "write",
            sighted[0] if sighted else None,
            via="accord sight",
            sighting=created,
        )
    if json:
        print_json({"created": created, "sighted": sighted})
    else:
        console.print(
            f"Recorded {shown(with_article(kind))} sighting of {shown(', '.join(sighted))}"
            + (" (anonymous)" if anonymous else "")
            + ".",
            highlight=False,
        )
