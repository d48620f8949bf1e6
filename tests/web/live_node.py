"""The whole node (`accord.api.app.create_app`: API, TAXII and the portal) served by uvicorn
on a free loopback port, in a thread of the test process, over a SQLite store seeded with the
leak matrix's cast and data: so that a browser can be pointed at it and a test can still
reach into the store."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyotp
import uvicorn
from portal_support import DOCUMENTATION_LISTS, cheap_hashes

from accord.api.app import create_app
from accord.model.roles import Role
from accord.model.visibility import Viewer
from accord.settings import Settings
from accord.store.node import Store
from accord.store.organisations import User
from community import Community, make_community
from leakdata import load_matrix

START_SECONDS = 30.0  # loading the warninglists index dominates a cold start


def password_of(user: User) -> str:
    """Every seeded user's portal password: made from the e-mail, so a test needs no table."""
    return f"pw {user.email} 2026"


@dataclass
class Cast:
    """Who is on the live node: the leak matrix's community and one user of each other role,
    each with a password (`password_of`) and an API key."""

    community: Community
    admin: User  # node admin, CERT-EX; signs in with a second factor (`totp_secret`)
    org_admin: User  # Water Utility's admin
    reader: User  # Police Cyber Unit, reads and looks up
    viewers: dict[str, Viewer]  # the leak matrix's viewers by name (creator, outsider, ...)
    keys: dict[str, str] = field(default_factory=dict)  # e-mail -> API key
    totp_secret: str = ""  # the admin's

    def users(self) -> list[User]:
        c = self.community
        return [
            c.analyst,
            c.colleague,
            c.investigator,
            c.operator,
            self.admin,
            self.org_admin,
            self.reader,
        ]


def seed(store: Store) -> Cast:
    """Three organisations, a user of every role, and one indicator at each TLP level in two
    versions (tests/leakdata.py: who must see each is its EXPECTED)."""
    cheap_hashes(store)  # every browser test signs in: a node's Argon2id costs ~0.5 s each
    community = make_community(store)
    viewers = load_matrix(store, community)
    d = store.directory
    admin, _ = d.add_user("admin@node.example", "CERT-EX", Role.ADMIN)
    org_admin, _ = d.add_user("boss@water.example", "Water Utility", Role.ORG_ADMIN)
    reader, _ = d.add_user("reader@police.example", "Police Cyber Unit", Role.READER)
    cast = Cast(community, admin, org_admin, reader, viewers)
    cast.keys = {user.email: d.new_key(user.email) for user in cast.users()}
    for user in cast.users():
        store.credentials.set_password(user.id, password_of(user))
    cast.totp_secret = store.credentials.new_totp_secret()
    now = pyotp.TOTP(cast.totp_secret).now()
    assert store.credentials.enable_totp(admin.id, cast.totp_secret, now)
    return cast


def next_totp_code(secret: str) -> str:
    """A code the node takes once from now on: the next 30-second step's (one step of drift
    is allowed; a step once used is refused, and seeding used the current one). A node takes
    one such sign-in per step: a test that makes it has the admin to itself."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def _loopback_socket() -> socket.socket:
    """A listening socket on a free port of 127.0.0.1, handed to uvicorn as it is: no window
    between choosing the port and binding it, in which another xdist worker could take it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


class LiveNode:
    """The node's application under uvicorn in a daemon thread. `start` returns once it
    answers; `stop` lets uvicorn finish its requests and run the application's shutdown."""

    def __init__(self, store: Store, settings: Settings, cast: Cast) -> None:
        self.store = store
        self.settings = settings
        self.cast = cast
        self._socket = _loopback_socket()
        port = int(self._socket.getsockname()[1])
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(
            create_app(settings, store=store),
            log_config=None,  # the test process's logging stays as pytest set it
            log_level="warning",
            access_log=False,
            ws="none",  # the node serves no WebSocket; and the websockets import warns
            lifespan="on",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name="accord-live-node",
            daemon=True,
        )

    def start(self) -> LiveNode:
        self._thread.start()
        deadline = time.monotonic() + START_SECONDS
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the live node stopped while starting (see the log above)")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the live node did not start in {START_SECONDS:.0f} s")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)
        self._socket.close()


@contextmanager
def started(directory: Path, **settings: Any) -> Iterator[LiveNode]:
    """A fresh SQLite store in ``directory``, seeded, and the node serving it until the block
    ends. ``settings`` change `Settings` fields (the sign-in limits, say)."""
    url = f"sqlite:///{directory / 'accord.db'}"
    store = Store.open(url)
    try:
        store.init()
        cast = seed(store)
        node = LiveNode(
            store,
            Settings(
                database_url=url,
                public_lookups=True,
                warninglists_ignore=DOCUMENTATION_LISTS,
                **settings,
            ),
            cast,
        ).start()
        try:
            yield node
        finally:
            node.stop()
    finally:
        store.close()
