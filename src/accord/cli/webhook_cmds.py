"""``accord webhook add|list|remove|status|deliver|test``: an organisation's webhooks
(docs/webhooks.md).

Who may is `accord.model.roles.may_keep_webhooks` (the node admin for every organisation,
an org-admin for their own); without ``--as``, the local node operator may do everything but
add one, which reads as a user. A webhook another organisation keeps answers like one that
does not exist.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from accord.cli.context import (
    AsOpt,
    JsonOpt,
    OperatorOpt,
    acting_user,
    audit,
    console,
    fail,
    open_store,
    operator,
    parse_tlp,
    print_json,
    state,
)
from accord.cli.display import shown
from accord.federation.webhook_targets import TargetRefused, resolve
from accord.federation.webhooks import RoundReport, WebhookDispatcher
from accord.model.roles import may_add_webhook, may_keep_webhooks
from accord.model.webhooks import WebhookFilters
from accord.store.node import Store
from accord.store.objects import now_key
from accord.store.organisations import NotFound, User
from accord.store.webhooks import Webhook

webhook_app = typer.Typer(
    help="Your organisation's webhooks: what you may see, POSTed signed as it is stored.",
    no_args_is_help=True,
)

IdArg = Annotated[str, typer.Argument(help="The webhook's id (see `accord webhook list`).")]


def _managed(store: Store, user: User | None, hook_id: str) -> Webhook:
    """The webhook, if ``user`` (None: the local operator) may keep it; else the same error
    as for one that does not exist."""
    try:
        hook = store.webhooks.get(hook_id)
    except NotFound:
        hook = None
    if hook is None or (user is not None and not may_keep_webhooks(user, hook.org_id)):
        fail(f"no webhook {hook_id!r} that you may manage (see `accord webhook list`)", code=1)
    return hook


def _kept(store: Store, user: User | None) -> list[Webhook]:
    return [
        hook
        for hook in store.webhooks.all()
        if user is None or may_keep_webhooks(user, hook.org_id)
    ]


def _filters_text(hook: Webhook) -> str:
    f = hook.filters
    parts = [
        "types " + ",".join(f.types) if f.types else "all types",
        "TLP " + ",".join(level.slug for level in sorted(f.tlps)),
    ]
    if f.labels:
        parts.append("labels " + ",".join(f.labels))
    return "; ".join(parts)


@webhook_app.command("add")
def webhook_add(
    url: Annotated[str, typer.Argument(help="Where to POST: an https:// (or http://) URL.")],
    as_: AsOpt,
    type_: Annotated[
        list[str] | None,
        typer.Option("--type", help="Only this STIX type (repeat for several).", metavar="TYPE"),
    ] = None,
    max_tlp: Annotated[
        str | None,
        typer.Option(
            help="Every TLP level up to this one (default: amber+strict; red only when asked for).",
            metavar="LEVEL",
        ),
    ] = None,
    tlp: Annotated[
        list[str] | None,
        typer.Option(
            "--tlp", help="Or exactly this TLP level (repeat for several).", metavar="LEVEL"
        ),
    ] = None,
    label: Annotated[
        list[str] | None,
        typer.Option(
            "--label", help="Only objects with this label (repeat: any of them).", metavar="LABEL"
        ),
    ] = None,
    json: JsonOpt = False,
) -> None:
    """Add a webhook to your organisation: it delivers what you (--as) may see, from now on.
    Prints its secret, which is never shown again."""
    levels = [level for level in (parse_tlp(text) for text in tlp or ()) if level is not None]
    try:
        filters = WebhookFilters.build(type_ or (), parse_tlp(max_tlp), levels, label or ())
    except ValueError as exc:
        fail(str(exc))
    with open_store() as store:
        user = acting_user(store, as_)
        if not may_add_webhook(user):
            fail(
                f"{user.email} is {user.role.with_article}: only org-admins and admins add an "
                "organisation's webhooks"
            )
        try:
            resolve(url, state.settings.webhook_allow_private)
        except TargetRefused as exc:
            fail(str(exc))
        hook, secret = store.webhooks.add(user, url, filters)
        audit(
            store,
            user,
            "admin",
            hook.id,
            via="accord webhook add",
            change="add webhook",
            url=url,
            filters=filters.as_json(),
        )
    if json:
        print_json(hook.as_json(now_key()) | {"secret": secret})
        return
    console.print(
        f"Added webhook [bold]{shown(hook.id)}[/] → {shown(url)} ({shown(_filters_text(hook))}).",
        highlight=False,
    )
    console.print(
        f"Secret (shown once; the receiver checks X-Accord-Signature with it): {shown(secret)}",
        highlight=False,
    )


@webhook_app.command("list")
def webhook_list(as_: OperatorOpt = None, json: JsonOpt = False) -> None:
    """List the webhooks you may manage (their secrets are not shown)."""
    with open_store() as store:
        user = operator(store, as_)
        hooks = _kept(store, user)
        emails = {u.id: u.email for u in store.directory.users()}
        names = {o.id: o.name for o in store.directory.orgs()}
    now = now_key()
    if json:
        print_json([hook.as_json(now) for hook in hooks])
        return
    table = Table("id", "organisation", "as", "url", "filters")
    for hook in hooks:
        table.add_row(
            shown(hook.id),
            shown(names.get(hook.org_id, hook.org_id)),
            shown(emails.get(hook.user_id, f"(removed) {hook.user_id}")),
            shown(hook.url),
            shown(_filters_text(hook)),
        )
    console.print(table)


@webhook_app.command("remove")
def webhook_remove(hook_id: IdArg, as_: OperatorOpt = None, json: JsonOpt = False) -> None:
    """Remove a webhook: its deliveries stop."""
    with open_store() as store:
        user = operator(store, as_)
        hook = store.webhooks.remove(_managed(store, user, hook_id).id)
        audit(
            store,
            user,
            "admin",
            hook.id,
            via="accord webhook remove",
            change="remove webhook",
            url=hook.url,
        )
    if json:
        print_json({"id": hook.id, "removed": True})
    else:
        console.print(
            f"Removed webhook [bold]{shown(hook.id)}[/] ({shown(hook.url)}).", highlight=False
        )


@webhook_app.command("status")
def webhook_status(
    hook_id: Annotated[
        str | None, typer.Argument(help="One webhook, with its last attempts.")
    ] = None,
    as_: OperatorOpt = None,
    json: JsonOpt = False,
) -> None:
    """How deliveries go: last success, last error, failures in a row, next attempt."""
    with open_store() as store:
        user = operator(store, as_)
        hooks = [_managed(store, user, hook_id)] if hook_id else _kept(store, user)
        attempts = {hook.id: store.webhooks.deliveries(hook.id) for hook in hooks}
    now = now_key()
    if json:
        found = [
            hook.as_json(now) | {"deliveries": [a.as_json() for a in attempts[hook.id]]}
            for hook in hooks
        ]
        print_json(found[0] if hook_id else found)
        return
    table = Table("id", "url", "last success", "failures", "next attempt", "last error")
    for hook in hooks:
        table.add_row(
            shown(hook.id),
            shown(hook.url),
            shown(hook.last_success or "never"),
            shown(hook.failures),
            shown("delivering now" if hook.delivering(now) else hook.next_attempt or "next round"),
            shown(hook.last_error or ""),
        )
    console.print(table)
    if hook_id:
        log = Table("at", "kind", "events", "status", "ms", "error", title="last attempts")
        for attempt in attempts[hooks[0].id]:
            log.add_row(
                shown(attempt.at),
                shown(attempt.kind),
                shown(attempt.events),
                shown(attempt.status if attempt.status is not None else "-"),
                shown(attempt.milliseconds),
                shown(attempt.error or ""),
            )
        console.print(log)


def _report_json(report: RoundReport | None, hook_id: str) -> dict[str, object]:
    if report is None:
        return {"id": hook_id, "busy": True}
    return {
        "id": report.webhook_id,
        "events": report.events,
        "posts": report.posts,
        "error": report.error,
        "more": report.more,
    }


@webhook_app.command("deliver")
def webhook_deliver(
    hook_id: Annotated[
        str | None, typer.Argument(help="One webhook (default: every one you manage).")
    ] = None,
    as_: OperatorOpt = None,
    json: JsonOpt = False,
) -> None:
    """Run one round of deliveries now, whatever the retry time after a failure."""
    with open_store() as store:
        user = operator(store, as_)
        hooks = [_managed(store, user, hook_id)] if hook_id else _kept(store, user)
        dispatcher = WebhookDispatcher(store, state.settings.webhook_allow_private)
        reports = [(hook.id, dispatcher.deliver_now(hook.id)) for hook in hooks]
    if json:
        print_json([_report_json(report, hid) for hid, report in reports])
    else:
        for hid, report in reports:
            if report is None:
                console.print(
                    f"{shown(hid)}: being delivered by a server worker now", highlight=False
                )
                continue
            line = f"{shown(hid)}: {report.events} event(s) in {report.posts} POST(s)"
            if report.more:
                line += "; more to deliver (run it again, or let the server)"
            console.print(line, highlight=False)
            if report.error:
                console.print(f"[red]{shown(hid)}: {shown(report.error)}[/]", highlight=False)
    if any(report is not None and report.error for _, report in reports):
        raise typer.Exit(1)


@webhook_app.command("test")
def webhook_test(hook_id: IdArg, as_: OperatorOpt = None, json: JsonOpt = False) -> None:
    """Send a signed ping ({"webhook": ID, "ping": true, "events": []}) and say how the
    receiver answered."""
    with open_store() as store:
        user = operator(store, as_)
        hook = _managed(store, user, hook_id)
        attempt = WebhookDispatcher(store, state.settings.webhook_allow_private).ping(hook)
    if json:
        print_json(attempt.as_json())
    elif attempt.ok:
        console.print(
            f"{shown(hook.url)} answered HTTP {attempt.status} in {attempt.milliseconds} ms.",
            highlight=False,
        )
    else:
        console.print(f"[red]{shown(hook.url)}: {shown(attempt.error)}[/]", highlight=False)
    if not attempt.ok:
        raise typer.Exit(1)
