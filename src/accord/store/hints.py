"""What else the viewer may see about a matched object, asked in the search that matched it.

A look-up answers an indicator with what refers to it: relationships and reports
(`ObjectStore.referencing`), sighting totals (`sighting_totals`) and correlations
(`correlated_with`), three more queries. Most indicators have none of these (a blocklist
entry, a feed's address), and each of the three costs about as much as the search itself.
So a search for a single look-up adds one column per kind, a correlated ``EXISTS`` over the
same index the full query reads, and the look-up runs only the queries a hint asks for.

Each hint checks a subset of its full query's conditions, the visibility rule included:
a hint that is false means that query would return nothing, so skipping it changes no
answer. Rows the viewer may neither see nor count (an anonymous sighting counts for whoever
may see what it sighted) do not set a hint, so a look-up runs the same queries whether or not
hidden objects refer to what it matched.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import ColumnElement, FromClause, Table, case, exists, literal_column, or_

from accord.store.plans import indexed, ordered
from accord.store.records import CORRELATED, REFERENCED, SIGHTED
from accord.store.schema import (
    correlation_hubs,
    correlations,
    object_refs,
    objects,
    observables,
    sighting_facts,
)
from accord.store.visibility import latest, visible_rule

# The roles in which a look-up follows references to a matched object: relationships from and
# to it, sightings of it, reports that contain it.
GRAPH_ROLES = ("source", "target", "sighting_of", "member")


def _referenced(matched: FromClause) -> ColumnElement[bool]:
    referrer = cast(Table, objects.alias("referrer"))
    return (
        exists()
        .select_from(ordered(object_refs, referrer, referrer.c.seq == object_refs.c.seq))
        .where(object_refs.c.ref == matched.c.id)
        # Constants, not a parameter list: the statement is compiled once (store.prepared).
        .where(object_refs.c.role.in_([literal_column(f"'{role}'") for role in GRAPH_ROLES]))
        .where(latest(referrer))
        .where(visible_rule(referrer))
    )


def _sighted(matched: FromClause) -> ColumnElement[bool]:
    sighting = cast(Table, objects.alias("sighting"))
    facts = indexed(sighting_facts, "ix_sighting_facts_of")
    countable = or_(visible_rule(sighting), facts.c.anonymous == True)  # noqa: E712
    return (
        exists()
        .select_from(ordered(facts, sighting, sighting.c.seq == facts.c.seq))
        .where(facts.c.sighting_of == matched.c.id)
        .where(latest(sighting))
        .where(countable)
    )


def _correlated(matched: FromClause) -> ColumnElement[bool]:
    def side(flipped: bool) -> ColumnElement[bool]:
        index = "ix_correlations_other_seq" if flipped else "ix_correlations_seq"
        rows = indexed(correlations, index)
        mine, theirs = (rows.c.other_seq, rows.c.seq) if flipped else (rows.c.seq, rows.c.other_seq)
        other = cast(Table, objects.alias("correlated"))
        return (
            exists()
            .select_from(ordered(rows, other, other.c.seq == theirs))
            .where(mine == matched.c.seq)
            .where(latest(other))
            .where(visible_rule(other))
        )

    return or_(side(False), side(True), _over_held(matched))


def _over_held(matched: FromClause) -> ColumnElement[bool]:
    """The matched object holds an over-correlating value (whose stored rows were dropped)
    that another latest object the viewer may see holds too: what
    `accord.store.correlation.hubs.over_hub_holders` would list. Hidden holders set nothing."""
    own = indexed(observables, "ix_observables_seq", "own_value")
    theirs = indexed(observables, "ix_observables_value", "their_value")
    other = cast(Table, objects.alias("holder"))
    hubs = ordered(own, correlation_hubs, correlation_hubs.c.hub == own.c.value)
    holders = ordered(hubs, theirs, theirs.c.value == own.c.value)
    return (
        exists()
        .select_from(ordered(holders, other, other.c.seq == theirs.c.seq))
        .where(own.c.seq == matched.c.seq)
        .where(correlation_hubs.c.over)
        .where(other.c.id != matched.c.id)
        .where(latest(other))
        .where(visible_rule(other))
    )


def context_column(matched: FromClause) -> ColumnElement[Any]:
    """The hint bits for the object version ``matched`` (the outer query's objects table, or
    rows that carry its ``id`` and ``seq``), under the same viewer parameters as
    `visible_rule`."""
    bits = [
        case((hint, literal_column(str(bit))), else_=literal_column("0"))
        for hint, bit in (
            (_referenced(matched), REFERENCED),
            (_sighted(matched), SIGHTED),
            (_correlated(matched), CORRELATED),
        )
    ]
    return (bits[0] + bits[1] + bits[2]).label("context")
