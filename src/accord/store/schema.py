"""The tables. Alembic migrations under ``store/migrations`` create exactly these.

Timestamps are kept as fixed-width UTC text (``YYYY-MM-DDTHH:MM:SS.ffffffZ``), which sorts
correctly as text on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from accord.store.dialects import seq_type

metadata = MetaData()

# Each backend's (accord.store.dialects): BigInteger on PostgreSQL, INTEGER PRIMARY KEY (the
# rowid) on SQLite.
SeqType = seq_type()

organisations = Table(
    "organisations",
    metadata,
    Column("id", String(64), primary_key=True, comment="the organisation's STIX identity id"),
    Column("name", String(200), nullable=False, unique=True),
    Column("sector", String(100)),
    Column("country", String(2)),
    Column("created", String(27), nullable=False),
    # Members of an organisation that sets this must sign in to the portal with a second
    # factor (TOTP); accord.store.credentials.
    Column("require_totp", Boolean, nullable=False, default=False, server_default="0"),
    # Federation (issue 18): null for an organisation this node hosts; else the STIX identity
    # id of the peer node that hosts it (a peer's operator, registered for its account here).
    Column("home_node", String(300)),
)

users = Table(
    "users",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("org_id", String(64), ForeignKey("organisations.id"), nullable=False),
    Column("role", String(20), nullable=False),
    Column("created", String(27), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    # The portal's sign-in (accord.store.credentials): an Argon2id hash (argon2-cffi's
    # encoded form, parameters included), and the base32 TOTP secret once a second factor
    # is confirmed. An API key is never a password and a password never opens the API.
    Column("password_hash", Text),
    Column("totp_secret", String(64)),
    Column("totp_last_step", Integer, comment="the last TOTP time step used (no replay)"),
    Column("locale", String(16), comment="the portal's language (en, es); null: the browser's"),
    Column("time_zone", String(64), comment="IANA name; null: UTC"),
)

# The portal's sessions (accord.store.web_sessions): server-side rows, so that a session can
# be revoked and times out when idle and absolutely. The cookie holds a random token; only its
# SHA-256 is stored (a copy of this table opens no session).
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("token_sha256", String(64), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id"), nullable=False, index=True),
    Column(
        "csrf", String(64), nullable=False, comment="the token every form and htmx request sends"
    ),
    Column("created", String(27), nullable=False),
    Column("last_seen", String(27), nullable=False),
    Column("expires", String(27), nullable=False, comment="absolute end, whatever the activity"),
    Column("second_factor", Boolean, nullable=False, default=False, comment="TOTP checked"),
    Column("address", String(64)),
    Column("user_agent", String(300)),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(16), primary_key=True, comment="public prefix of the key"),
    Column("user_id", String(36), ForeignKey("users.id"), nullable=False, index=True),
    Column("secret_sha256", String(64), nullable=False),
    Column("created", String(27), nullable=False),
    Column("revoked", Boolean, nullable=False, default=False),
)

sharing_groups = Table(
    "sharing_groups",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("created", String(27), nullable=False),
)

sharing_group_members = Table(
    "sharing_group_members",
    metadata,
    Column("group_id", String(36), ForeignKey("sharing_groups.id"), primary_key=True),
    Column("org_id", String(64), ForeignKey("organisations.id"), primary_key=True),
)

objects = Table(
    "objects",
    metadata,
    Column("seq", SeqType, primary_key=True, autoincrement=True),
    Column("id", String(300), nullable=False),
    Column("modified", String(27), nullable=False, comment="version key, fixed-width UTC"),
    Column("type", String(250), nullable=False),
    Column("spec_version", String(8), nullable=False),
    Column("created_by_ref", String(300)),
    Column("revoked", Boolean, nullable=False),
    Column("is_latest", Boolean, nullable=False),
    Column("tlp", SmallInteger, nullable=False, comment="accord.model.tlp.Tlp"),
    Column("owner_org", String(64), nullable=False, comment="organisation that stored it"),
    Column("owner_user", String(36)),
    Column("date_added", String(27), nullable=False),
    Column("raw", Text, nullable=False, comment="the object's JSON as received"),
    # Provenance (issue 18): the peer node this version was received from; null: stored here.
    Column("origin_node", String(300)),
    # An indicator version's valid_until (timestamp key), so that expiry is found by time
    # (accord.store.expiry); null for other types and indicators without one.
    Column("valid_until", String(27)),
    # A number of the objects' sequence given to a latest version whose meaning changed with
    # no version written (its valid_until passed; it became latest again when a newer one was
    # deleted): what an export's serial moves by (accord.store.expiry).
    Column("changed_seq", SeqType),
    # Each organisation's holding of an object is its own (issue 14): two organisations that
    # store the same version keep a row each, with their own audience.
    UniqueConstraint("id", "modified", "owner_org", name="uq_objects_version"),
    Index("ix_objects_latest_type", "is_latest", "type", "seq"),
    Index("ix_objects_owner", "owner_org", "seq"),
)

# Who may see an AMBER or RED object version: principals such as "org:identity--..",
# "group:<id>", "user:<id>" (accord.model.visibility). CLEAR and GREEN rows have none.
object_audience = Table(
    "object_audience",
    metadata,
    Column("seq", SeqType, ForeignKey("objects.seq"), primary_key=True),
    Column("principal", String(120), primary_key=True),
    Index("ix_audience_principal", "principal", "seq"),
)

# The observable index (accord.model.observables): one row per normalised value per version.
observables = Table(
    "observables",
    metadata,
    Column("seq", SeqType, ForeignKey("objects.seq"), nullable=False),
    Column("kind", String(12), nullable=False),
    Column("value", Text, nullable=False),
    Column("host", Text),
    Column("lo", String(32)),
    Column("hi", String(32)),
    Column("rdomain", Text),
    Column("source", String(8), nullable=False),
    Column("simple", Boolean, nullable=False),
    Column("path", String(200), nullable=False),
    Index("ix_observables_value", "value", "kind"),
    Index("ix_observables_seq", "seq"),
    Index("ix_observables_rdomain", "rdomain"),
    Index("ix_observables_host", "host"),
    Index("ix_observables_range", "kind", "lo", "hi"),
)

# Append-only audit log: each entry carries the SHA-256 of the one before
# (accord.store.audit), so that a changed, deleted or inserted entry breaks the chain.
audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", SeqType, primary_key=True, autoincrement=True),
    Column("at", String(27), nullable=False),
    Column("user_id", String(36)),
    Column("org_id", String(64)),
    Column("action", String(40), nullable=False),
    Column("target", Text),
    Column("detail", Text, nullable=False, comment="JSON"),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_org_at", "org_id", "at"),
    Index("ix_audit_at", "at"),
)

# The archives the audit log was cut at (accord.store.audit_anchor, docs/audit.md): one row
# per `accord audit archive`, holding the archive file's signed manifest. The newest row is the
# anchor the live log's chain starts from instead of GENESIS.
audit_archives = Table(
    "audit_archives",
    metadata,
    Column("seq", SeqType, primary_key=True, autoincrement=True),
    Column("created", String(27), nullable=False),
    Column("last_seq", SeqType, nullable=False, comment="audit_log.seq of the last entry archived"),
    Column("last_hash", String(64), nullable=False, comment="its hash: the live chain's start"),
    Column("manifest", Text, nullable=False, comment="JSON: the archive's signed manifest"),
)

# References between objects, for the graph one hop away: relationship source/target,
# sighting_of and where_sighted, and the members of reports and groupings. Read only by the
# referenced id, so the key is the one index (SQLite stores the rows in it: WITHOUT ROWID).
# Derived from the raw JSON, like the correlation rows: no foreign key to check per row, and
# deleting a version deletes its rows by key (accord.store.taxii), not by seq.
object_refs = Table(
    "object_refs",
    metadata,
    Column("ref", String(300), primary_key=True),
    Column("role", String(16), primary_key=True),
    Column(
        "seq",
        SeqType,
        primary_key=True,
        autoincrement=False,
        comment="objects.seq (derived rows: no FK check)",
    ),
    sqlite_with_rowid=False,
)

# The labels of each version, for the label filter of browsing (accord.store.browse): read by
# label, in sequence order. Derived from the raw JSON like object_refs (no foreign key to
# check per row; a deleted version's rows are found again from its JSON, accord.store.taxii).
object_labels = Table(
    "object_labels",
    metadata,
    Column("label", String(200), primary_key=True),
    Column(
        "seq",
        SeqType,
        primary_key=True,
        autoincrement=False,
        comment="objects.seq (derived rows: no FK check)",
    ),
    sqlite_with_rowid=False,
)

# The full-text index of the versions' names and descriptions (accord.store.search_index) is
# not in `metadata`: each backend makes its own (`Backend.create_text_index`), an FTS5 virtual
# table on SQLite (with the shadow tables FTS5 keeps beside it, named after it) and a table of
# tsvectors with a GIN index on PostgreSQL, neither of which SQLAlchemy can describe.
# Alembic's comparison of the database with `metadata` leaves them out (`in_metadata`).
TEXT_INDEX = "object_text"


def in_metadata(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's ``include_name`` hook: whether a table found in the database is one that
    `metadata` describes (not the full-text index or its shadow tables)."""
    if type_ == "table" and name is not None:
        return name != TEXT_INDEX and not name.startswith(TEXT_INDEX + "_")
    return True


# The network prefix lengths present in the observable index, so that "which networks
# contain this address" asks for those few lengths only (accord.model.networks).
net_prefixes = Table(
    "net_prefixes",
    metadata,
    Column("kind", String(12), primary_key=True),
    Column("prefix", SmallInteger, primary_key=True, autoincrement=False),
)

# Each organisation's own allowlist (accord.store.allowlists): values it knows to be benign,
# normalised like the observable index. `suffix` entries (written "*.example.com") match the
# domain and every name below it; networks match by their hex range.
allowlist_entries = Table(
    "allowlist_entries",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("org_id", String(64), ForeignKey("organisations.id"), nullable=False),
    Column("kind", String(12), nullable=False),
    Column("value", Text, nullable=False),
    Column("suffix", Boolean, nullable=False),
    Column("lo", String(32)),
    Column("hi", String(32)),
    Column("comment", Text),
    Column("added_by", String(320)),
    Column("added", String(27), nullable=False),
    UniqueConstraint("org_id", "kind", "value", "suffix", name="uq_allowlist_entry"),
    Index("ix_allowlist_org_range", "org_id", "kind", "lo", "hi"),
)

# -- TAXII 2.1 and feeds (accord.store.taxii, accord.store.feeds) ------------------------------

# `added_after` (TAXII 2.1 section 3.5) is a range on date_added: this index finds where it
# starts, and the pages then follow the primary key.
Index("ix_objects_date_added", objects.c.date_added, objects.c.seq)
# Only the latest versions that expire, and only the marked ones: both stay small.
Index(
    "ix_objects_valid_until",
    objects.c.valid_until,
    sqlite_where=objects.c.is_latest & objects.c.valid_until.is_not(None),
    postgresql_where=objects.c.is_latest & objects.c.valid_until.is_not(None),
)
Index(
    "ix_objects_changed_seq",
    objects.c.changed_seq,
    sqlite_where=objects.c.changed_seq.is_not(None),
    postgresql_where=objects.c.changed_seq.is_not(None),
)

# Sources that objects are pulled from: a TAXII 2.1 collection on another server (kind
# "taxii") or a one-off import (kind "import"). `cursor` is the `added_after` of the next pull.
feeds = Table(
    "feeds",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("url", Text, comment="the API root URL"),
    Column("collection", String(300)),
    Column("username", String(320)),
    Column("secret", Text, comment="password or key sent to the remote server"),
    Column("as_user", String(36), ForeignKey("users.id"), nullable=False),
    Column("tlp", SmallInteger, comment="for pulled objects without a TLP marking"),
    Column("recipients", Text, nullable=False, comment="JSON: organisation and group ids"),
    Column("interval", Integer, comment="seconds between scheduled pulls; NULL: by hand"),
    Column("cursor", String(40)),
    Column("last_pull", String(27)),
    Column("last_error", Text),
    Column("claimed_until", String(27), comment="a pull is running until then"),
    Column("created", String(27), nullable=False),
)

# Provenance: which feed each stored version came from (a version can come from several).
# Peer nodes (accord.store.peers, docs/federation.md): where to pull from and push to, what
# the hop rule needs to know of each (its identity, whether it is of the community, the
# organisations it hosts), and how its last runs went.
peers = Table(
    "peers",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("url", Text, comment="the peer's TAXII API root; null: it only pushes to us"),
    Column("collection", String(300), nullable=False, comment="its collection we read/write"),
    Column("secret", Text, comment="the API key we present to the peer"),
    Column("ca_file", Text, comment="CA certificates that verify the peer's TLS certificate"),
    Column("pull", Boolean, nullable=False),
    Column("push", Boolean, nullable=False),
    Column("community", Boolean, nullable=False, comment="GREEN crosses to it"),
    Column("node_id", String(300), nullable=False, unique=True, comment="its STIX identity"),
    Column("operator_org", String(64), nullable=False, comment="organisations.id"),
    Column("hosted_orgs", Text, nullable=False, comment="JSON: identity ids it hosts"),
    Column("interval", Integer, comment="seconds between scheduled runs; null: by hand"),
    Column("created", String(27), nullable=False),
    Column("last_pull", String(27), comment="the last pull that ended without error"),
    Column("last_pull_error", Text),
    Column("last_push", String(27)),
    Column("last_push_error", Text),
    Column("last_attempt", String(27)),
    Column("claimed_until", String(27), comment="a run holds the peer until then"),
)

# Where each pull and push stands, per peer collection, written in the same transaction as
# what it moved past (accord.federation.peer_sync): a pull's added_after and a push's sequence.
peer_cursors = Table(
    "peer_cursors",
    metadata,
    Column("peer_id", String(36), ForeignKey("peers.id"), primary_key=True),
    Column("direction", String(4), primary_key=True, comment="pull or push"),
    Column("collection", String(300), primary_key=True),
    Column("cursor", String(40), nullable=False),
    Column("updated", String(27), nullable=False),
)

object_feeds = Table(
    "object_feeds",
    metadata,
    Column("feed_id", String(36), ForeignKey("feeds.id"), primary_key=True),
    Column("seq", SeqType, ForeignKey("objects.seq"), primary_key=True),
    Index("ix_object_feeds_seq", "seq"),
)

# Collections besides the default "everything you may see" (accord.taxii.collections): the
# objects of one TLP level, of one sharing group's audience, or from one feed.
taxii_collections = Table(
    "taxii_collections",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("title", String(200), nullable=False),
    Column("description", Text),
    Column("kind", String(8), nullable=False, comment="tlp, group or feed"),
    Column("tlp", SmallInteger),
    Column("group_id", String(36), ForeignKey("sharing_groups.id")),
    Column("feed_id", String(36), ForeignKey("feeds.id")),
    Column("writable", Boolean, nullable=False),
    Column("created", String(27), nullable=False),
)

# The status resource of each TAXII POST (TAXII 2.1 section 4.3.1), readable by its poster.
taxii_status = Table(
    "taxii_status",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("org_id", String(64), nullable=False),
    Column("user_id", String(36), nullable=False),
    Column("request_timestamp", String(27), nullable=False),
    Column("status", String(12), nullable=False),
    Column("total_count", Integer, nullable=False),
    Column("success_count", Integer, nullable=False),
    Column("failure_count", Integer, nullable=False),
    Column("pending_count", Integer, nullable=False),
    Column("details", Text, nullable=False, comment="JSON: successes, failures, pendings"),
)

# Secrets of this node shared by its workers, such as the key that signs TAXII `next` tokens.
node_secrets = Table(
    "node_secrets",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("value", String(128), nullable=False),
)

# Settings of this node that change its answers (the warninglists it leaves out, the
# correlation cap, the default TLP): kept with the data, so that every interface and every
# process of the node (command line, API workers, bulk helper, TAXII) answers alike. Names
# and values are text; accord.settings parses them (accord.store.node_settings).
node_settings = Table(
    "node_settings",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# Webhooks (accord.store.webhooks, docs/webhooks.md): each belongs to an organisation and
# delivers, as its creating user reads, the versions stored after its cursor (objects.seq).
# The secret signs deliveries (HMAC), so it is kept as it is, like a feed's; it is shown
# once, when the webhook is added. No foreign key on the user: a removed user's webhook stays,
# and says why it stopped.
webhooks = Table(
    "webhooks",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("org_id", String(64), ForeignKey("organisations.id"), nullable=False, index=True),
    Column("user_id", String(36), nullable=False, comment="whose view it delivers"),
    Column("url", Text, nullable=False),
    Column("secret", String(64), nullable=False),
    Column("filters", Text, nullable=False, comment="JSON: types, tlps, labels"),
    Column("created", String(27), nullable=False),
    Column("cursor", SeqType, nullable=False, comment="objects.seq delivered up to"),
    Column("last_success", String(27)),
    Column("last_error", Text),
    Column("failures", Integer, nullable=False, comment="in a row, since the last success"),
    Column("next_attempt", String(27), comment="null: at the next round"),
    Column("claimed_until", String(27), comment="a round holds the webhook until then"),
)

# The last attempts of each webhook (accord.store.webhooks keeps the newest few per webhook).
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("seq", SeqType, primary_key=True, autoincrement=True),
    Column("webhook_id", String(36), ForeignKey("webhooks.id"), nullable=False),
    Column("at", String(27), nullable=False),
    Column("kind", String(8), nullable=False, comment="events or ping"),
    Column("events", Integer, nullable=False),
    Column("last_seq", SeqType, comment="objects.seq of its last event"),
    Column("status", Integer, comment="HTTP status; null: no answer"),
    Column("error", Text),
    Column("milliseconds", Integer, nullable=False),
    Index("ix_webhook_deliveries_hook", "webhook_id", "seq"),
)

# -- Correlation and sightings (accord.store.correlation, accord.store.sightings) --------------

# Pairs of object versions that share an observable, written at ingest, one row per pair (read
# from either end: `relation` says how `seq`'s value relates to `other_seq`'s, and reads the
# other way round from the other end). `hub` is the value they join through
# (the shared value, the network, the parent domain, the host, "file:<key>" for one file's
# hashes); a hub that joins more than the cap is over-correlating and keeps no rows here.
# Rows derived from the observable index, written in bulk on every ingest: no foreign keys,
# whose per-row checks would cost a third of the insert on SQLite.
correlations = Table(
    "correlations",
    metadata,
    Column("seq", SeqType, nullable=False, comment="objects.seq (derived rows: no FK check)"),
    Column("other_seq", SeqType, nullable=False, comment="objects.seq"),
    Column("relation", String(16), nullable=False),
    Column("value", Text, nullable=False, comment="this end's observable"),
    Column("other_value", Text, nullable=False, comment="the other end's observable"),
    Column("hub", Text, nullable=False),
    Column("similarity", SmallInteger, comment="fuzzy hashes: 0-100"),
    Index("ix_correlations_seq", "seq"),
    Index("ix_correlations_other_seq", "other_seq"),
    Index("ix_correlations_hub", "hub"),
)

# Versions written without correlation (`accord ingest --defer-correlation`) that the
# `correlation` job has still to correlate (accord.store.correlation_backlog): written in the
# versions' own transaction, deleted in the transaction that correlates them (or that deletes
# the version: accord.store.taxii). No foreign key, like the correlation rows.
correlation_backlog = Table(
    "correlation_backlog",
    metadata,
    Column("seq", SeqType, primary_key=True, autoincrement=False, comment="objects.seq"),
)

# How many objects each hub has joined (counted at ingest), and whether it went over the cap.
correlation_hubs = Table(
    "correlation_hubs",
    metadata,
    Column("hub", Text, primary_key=True),
    Column("members", Integer, nullable=False),
    Column("over", Boolean, nullable=False),
)

# Hashes known to be of one file (a file object or an indicator with several hashes): each
# value points at its file's key, the smallest value of the group (a union-find in a table).
file_hashes = Table(
    "file_hashes",
    metadata,
    Column("value", String(200), primary_key=True),
    Column("file_key", String(200), nullable=False),
    Index("ix_file_hashes_key", "file_key"),
)

# Fuzzy hashes (ssdeep, TLSH) by comparison bucket: the ssdeep block size, the TLSH length
# byte, so that only hashes that can be similar are compared.
fuzzy_hashes = Table(
    "fuzzy_hashes",
    metadata,
    Column("seq", SeqType, ForeignKey("objects.seq"), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("bucket", Integer, nullable=False),
    Column("value", Text, nullable=False),
    Index("ix_fuzzy_hashes_bucket", "kind", "bucket"),
    Index("ix_fuzzy_hashes_seq", "seq"),
)

# What each stored sighting says, for aggregates (accord.store.sightings): of what, which kind
# (seen, false-positive, expired), how often, when, and whether its reporter is hidden.
sighting_facts = Table(
    "sighting_facts",
    metadata,
    Column("seq", SeqType, ForeignKey("objects.seq"), primary_key=True, autoincrement=False),
    Column("sighting_of", String(300), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("count", Integer, nullable=False),
    Column("anonymous", Boolean, nullable=False),
    Column("first_seen", String(27)),
    Column("last_seen", String(27)),
    Index("ix_sighting_facts_of", "sighting_of"),
)
