"""Webhook deliveries (docs/webhooks.md): each round reads, as the webhook's user, the
versions stored after its cursor, keeps those its filters admit, and POSTs them in signed
batches; the cursor moves only after a 2xx answer.

- What goes out is read with `TaxiiStore.page`, whose query applies the visibility rule for
  the webhook's user (principle 2): the webhook's own filters (types, TLP levels, labels)
  only narrow it. A disabled or removed user, or one no longer an org-admin or admin of the
  webhook's organisation, stops the deliveries with an error in ``accord webhook status``.
- A body is ``{"webhook": id, "events": [{"seq", "id", "type", "modified", "tlp",
  "object"}, ...]}``, at most `BATCH_SIZE` events, signed with HMAC-SHA256 of
  ``timestamp + "." + body`` (`accord.model.webhooks.signature`).
- A failure (no 2xx, no answer in time, a refused address) waits 30 s, 1 min, 2 min, ... up to
  an hour before the next try (`accord.model.webhooks.retry_delay`); the batch is sent again
  whole then, so a receiver sees each event at least once and may see one twice after a
  failure it did not report (it can tell by ``seq``).
- The node's background jobs (`accord.jobs`: in ``accord serve`` and ``accord worker``) run
  a round every ``ACCORD_WEBHOOK_POLL_SECONDS`` (default 10; 0 turns it off) over the
  webhooks that are due (`deliver_due_webhooks`), each held by a lease in the database
  (`accord.store.webhooks`), so that several workers never deliver one webhook together,
  and a webhook that failed is not tried before its retry time.
"""

from __future__ import annotations

import logging
import ssl
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

import accord
from accord.federation.webhook_targets import TargetRefused, resolve
from accord.intel.read_audit import audit_reads
from accord.model.roles import may_add_webhook
from accord.model.search_text import labels_of
from accord.model.visibility import Viewer
from accord.model.webhooks import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WEBHOOK_HEADER,
    retry_delay,
    signature,
)
from accord.settings import Settings
from accord.store.node import Store
from accord.store.objects import now_key
from accord.store.organisations import User
from accord.store.taxii import EVERYTHING, Entry, Match
from accord.store.webhooks import Delivery, Webhook

log = logging.getLogger("accord.federation.webhooks")

BATCH_SIZE = 100  # events per POST
PAGE_SIZE = 500  # versions read per query
MAX_BATCHES = 20  # per webhook per round: one busy webhook does not hold the others back
MAX_SCAN = 10_000  # versions passed per batch while the filters leave everything out
TIMEOUT_SECONDS = 10.0
LEASE_SECONDS = 600.0  # longer than MAX_BATCHES * TIMEOUT_SECONDS


class Stopped(Exception):
    """The webhook may not deliver now (its user is gone, say): the message says why."""


class Failed(Stopped):
    """The receiver did not take a batch (no 2xx, no answer, a refused address)."""

    def __init__(self, message: str, attempt: Delivery) -> None:
        super().__init__(message)
        self.attempt = attempt


@dataclass(slots=True)
class RoundReport:
    """What one round did for one webhook."""

    webhook_id: str
    events: int = 0  # delivered
    posts: int = 0
    error: str | None = None
    more: bool = False  # stopped at MAX_BATCHES with more to deliver


@dataclass(slots=True)
class _Batch:
    entries: list[Entry] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    upto: int = 0  # the cursor once it is delivered


class WebhookDispatcher:
    """Rounds of deliveries: of the webhooks that are due (`run_due`, the background job's) or
    by hand (`deliver_now`, `ping`)."""

    def __init__(
        self,
        store: Store,
        allow_private: bool = False,
        timeout: float = TIMEOUT_SECONDS,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self.store = store
        self.allow_private = allow_private
        self.timeout = timeout
        self.batch_size = batch_size
        self._tls: ssl.SSLContext | None = None

    def run_due(self) -> list[RoundReport]:
        """One round of every webhook that is due."""
        reports = []
        for hook in self.store.webhooks.claim_due(LEASE_SECONDS):
            try:
                reports.append(self.round(hook))
            except Exception:  # one webhook's trouble is not the others' (it is released)
                log.exception("webhook %s: the round failed", hook.id)
        return reports

    # -- by hand --------------------------------------------------------------------------

    def deliver_now(self, hook_id: str) -> RoundReport | None:
        """One round of one webhook now, whatever its retry time; None while another round
        holds it."""
        hook = self.store.webhooks.claim(hook_id, LEASE_SECONDS)
        return None if hook is None else self.round(hook)

    def ping(self, hook: Webhook) -> Delivery:
        """Send a signed ``{"webhook": id, "ping": true, "events": []}``; logged, and
        changing neither the cursor nor the count of failures."""
        body = orjson.dumps({"webhook": hook.id, "ping": True, "events": []})
        with self._client() as http:
            attempt = self._post(http, hook, body, "ping", 0, None)
        self.store.webhooks.log(hook.id, attempt)
        return attempt

    # -- a round --------------------------------------------------------------------------

    def round(self, hook: Webhook) -> RoundReport:
        """Deliver what is new for ``hook`` (claimed by the caller; released here)."""
        report = RoundReport(hook.id)
        hooks = self.store.webhooks
        try:
            user = self._reader(hook)
            viewer = self.store.directory.viewer(user)
            cursor = hook.cursor
            versions = self._versions(viewer, hook, cursor)
            with self._client() as http:
                for _ in range(MAX_BATCHES):
                    batch = self._next_batch(versions, hook, cursor)
                    if batch.upto == cursor:
                        break  # nothing new
                    attempt = None
                    if batch.events:
                        last_seq = batch.entries[-1].seq
                        body = orjson.dumps({"webhook": hook.id, "events": batch.events})
                        attempt = self._post(
                            http, hook, body, "events", len(batch.events), last_seq
                        )
                        report.posts += 1
                        if not attempt.ok:
                            raise Failed(attempt.error or f"HTTP {attempt.status}", attempt)
                        audit_reads(
                            self.store, viewer, user.id, batch.entries, f"webhook {hook.id}"
                        )
                    if not hooks.advance(hook.id, cursor, batch.upto, attempt):
                        break  # removed, or moved by another round: nothing more here
                    report.events += len(batch.events)
                    cursor = batch.upto
                else:
                    report.more = True
        except Stopped as exc:
            report.error = str(exc)
            attempt = exc.attempt if isinstance(exc, Failed) else None
            hooks.failed(hook.id, report.error, retry_delay(hook.failures + 1), attempt)
            log.warning("webhook %s: %s", hook.id, report.error)
        finally:
            hooks.release(hook.id)
        return report

    def _reader(self, hook: Webhook) -> User:
        """The user the webhook reads as, if they still may; else `Stopped` saying why."""
        creator = self.store.webhooks.creator(hook)
        user = creator.user
        if user is None:
            raise Stopped(
                f"its user ({hook.user_id}) was removed: deliveries stopped; an org-admin "
                "adds the webhook again as themselves"
            )
        if creator.disabled:
            raise Stopped(
                f"its user {user.email} is disabled: deliveries stopped until they are "
                "enabled again, or an org-admin adds the webhook again as themselves"
            )
        if user.org_id != hook.org_id or not may_add_webhook(user):
            raise Stopped(
                f"its user {user.email} is no longer an org-admin of the webhook's organisation: "
                "deliveries stopped; an org-admin adds the webhook again as themselves"
            )
        return user

    def _versions(self, viewer: Viewer, hook: Webhook, cursor: int) -> Iterator[Entry]:
        """The versions after ``cursor`` of the webhook's types, read a page at a time as
        they are consumed. The visibility rule is in the query (accord.store.visibility): only
        what the webhook's user may see comes back."""
        match = Match(versions=("all",), types=hook.filters.types)
        while True:
            page = self.store.taxii.page(viewer, EVERYTHING, match, after=cursor, limit=PAGE_SIZE)
            yield from page
            if len(page) < PAGE_SIZE:
                return
            cursor = page[-1].seq

    def _next_batch(self, versions: Iterator[Entry], hook: Webhook, cursor: int) -> _Batch:
        """The next events the filters admit, at most a batch, and the cursor past them (past
        the versions the filters left out too, at most `MAX_SCAN` of them per batch)."""
        batch = _Batch(upto=cursor)
        for scanned, entry in enumerate(versions, start=1):
            batch.upto = entry.seq
            assert entry.raw is not None
            obj = orjson.loads(entry.raw)
            kind = str(obj.get("type", ""))
            if hook.filters.admits(kind, entry.tlp, labels_of(obj)):
                batch.entries.append(entry)
                batch.events.append(_event(entry, kind, obj))
                if len(batch.events) >= self.batch_size:
                    break
            if scanned >= MAX_SCAN:
                break
        return batch

    # -- sending --------------------------------------------------------------------------

    def _client(self) -> httpx.Client:
        # One client per webhook round: its pooled connections are never shared with another
        # webhook (whose name, and TLS server name, differ). No proxy from the environment (the
        # checked address is the one connected to), no redirects (a receiver must not send
        # the node elsewhere). The TLS context is made once: making one costs ~0.1 s.
        if self._tls is None:
            self._tls = ssl.create_default_context()
        return httpx.Client(
            timeout=self.timeout, follow_redirects=False, trust_env=False, verify=self._tls
        )

    def _post(
        self,
        http: httpx.Client,
        hook: Webhook,
        body: bytes,
        kind: str,
        events: int,
        last_seq: int | None,
    ) -> Delivery:
        started = time.monotonic()
        at = now_key()
        status: int | None = None
        error: str | None = None
        try:
            target = resolve(hook.url, self.allow_private)
            timestamp = str(int(time.time()))
            headers = {
                "Host": target.host,
                "Content-Type": "application/json",
                "User-Agent": f"Accord/{accord.__version__} webhook",
                WEBHOOK_HEADER: hook.id,
                DELIVERY_HEADER: str(uuid.uuid4()),
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: signature(hook.secret, timestamp, body),
            }
            extensions = {} if target.server_name is None else {"sni_hostname": target.server_name}
            # Streamed and not read: only the status matters, and a receiver's body is
            # neither stored nor shown (it could be large, or not the receiver's to show).
            with http.stream(
                "POST", target.url, content=body, headers=headers, extensions=extensions
            ) as response:
                status = response.status_code
            if not 200 <= status < 300:
                error = f"the receiver answered HTTP {status} {_reason(status)}".rstrip()
        except TargetRefused as exc:
            error = f"refused: {exc}"
        except httpx.TimeoutException:
            error = f"no answer in {self.timeout:g} s"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        milliseconds = int((time.monotonic() - started) * 1000)
        return Delivery(at, kind, events, last_seq, status, error, milliseconds)


def deliver_due_webhooks(store: Store, settings: Settings) -> dict[str, int]:
    """The background job (`accord.jobs.definitions`): one round of every webhook that is due.
    Idempotent: each webhook is claimed in the database for its round, its cursor moves by
    compare-and-set after a 2xx, and one that failed waits for its retry time
    (`accord.model.webhooks.retry_delay`), so two workers or a retried run never send a batch
    twice (short of a receiver's lost answer: docs/webhooks.md)."""
    reports = WebhookDispatcher(store, settings.webhook_allow_private).run_due()
    return {
        "webhooks": len(reports),
        "events": sum(r.events for r in reports),
        "errors": sum(1 for r in reports if r.error),
    }


def _event(entry: Entry, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "id": entry.id,
        "type": kind,
        "modified": entry.version,
        "tlp": entry.tlp.slug,
        "object": obj,
    }


def _reason(status: int) -> str:
    try:
        return httpx.codes.get_reason_phrase(status)
    except ValueError:
        return ""
