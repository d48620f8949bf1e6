"""PostgreSQL clusters of a test's own: a primary and a streaming replica in a temporary
folder (``initdb``, ``pg_basebackup -R``, ``pg_ctl`` on free ports), for the read-replica
tests. PostgreSQL's programs refuse to run as root: as root they run as the ``postgres``
user (``runuser``), in a folder that user owns."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

PG_BIN = Path(os.environ.get("ACCORD_PG_BIN", "/usr/lib/postgresql/15/bin"))
PROGRAMS = ("initdb", "pg_ctl", "pg_basebackup", "postgres")
DATABASE = "accord"


def missing() -> str | None:
    """Why the clusters cannot be made here, or None."""
    for program in PROGRAMS:
        if not (PG_BIN / program).is_file():
            return f"{PG_BIN / program} is missing (set ACCORD_PG_BIN to PostgreSQL's bin folder)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root, and there is no postgres user to run PostgreSQL as"
        if shutil.which("runuser") is None:
            return "running as root, and runuser (to run PostgreSQL as postgres) is missing"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _run(*args: str) -> None:
    command = [str(PG_BIN / args[0]), *args[1:]]
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    found = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if found.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:2])} failed: {found.stderr.strip() or found.stdout}")


@dataclass
class Cluster:
    """One PostgreSQL server: its data folder, port and log."""

    data: Path
    port: int
    sockets: Path
    running: bool = field(default=False)

    def url(self, **query: str) -> str:
        tail = "&".join(f"{key}={value}" for key, value in query.items())
        return f"postgresql://postgres@127.0.0.1:{self.port}/{DATABASE}" + (
            f"?{tail}" if tail else ""
        )

    def start(self) -> None:
        _run("pg_ctl", "-D", str(self.data), "-l", f"{self.data}.log", "-w", "-t", "60", "start")
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        """``mode`` ``immediate``: killed, as a crash would (recovery at the next start)."""
        if self.running:
            _run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")
            self.running = False

    def scalar(self, sql: str, database: str = DATABASE) -> object:
        """One value, on a connection of its own (autocommit)."""
        engine = create_engine(
            f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}",
            isolation_level="AUTOCOMMIT",
            poolclass=NullPool,
        )
        try:
            with engine.connect() as conn:
                found = conn.execute(text(sql))
                return found.scalar() if found.returns_rows else None
        finally:
            engine.dispose()


class Clusters:
    """A primary and its streaming replica, made by `start` and removed by `remove`."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="accord-pg-"))
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
        self.primary = Cluster(self.root / "primary", free_port(), self.root)
        self.replica = Cluster(self.root / "replica", free_port(), self.root)

    def start(self) -> None:
        primary, replica = self.primary, self.replica
        _run("initdb", "-D", str(primary.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
             "--locale=C", "--no-sync")  # fmt: skip
        settings = {
            "port": primary.port,
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.root}'",
            "wal_level": "replica",
            "max_wal_senders": 5,
            "hot_standby": "on",
            "shared_buffers": "'32MB'",
        }
        self._configure(primary.data, settings)
        primary.start()
        primary.scalar(f"CREATE DATABASE {DATABASE}", database="postgres")
        _run("pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
             "-D", str(replica.data), "-R", "-X", "stream", "-c", "fast", "--no-sync")  # fmt: skip
        self._configure(replica.data, {"port": replica.port})
        replica.start()

    @staticmethod
    def _configure(data: Path, settings: dict[str, object]) -> None:
        lines = "".join(f"{name} = {value}\n" for name, value in settings.items())
        # Appended to the file as its owner: later lines win over earlier ones.
        _run_append(data / "postgresql.conf", lines)

    def caught_up(self, timeout: float = 30.0) -> None:
        """Wait until the replica has replayed everything the primary has written."""
        wanted = str(self.primary.scalar("SELECT pg_current_wal_lsn()::text"))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = self.replica.scalar(
                f"SELECT pg_last_wal_replay_lsn() >= '{wanted}'::pg_lsn", database="postgres"
            )
            if done:
                return
            time.sleep(0.05)
        raise AssertionError(f"the replica did not replay up to {wanted} in {timeout} s")

    def remove(self) -> None:
        """Stop both servers (killed: nothing of theirs is kept) and remove the folder."""
        for cluster in (self.replica, self.primary):
            try:
                cluster.stop("immediate")
            except Exception:  # the folder goes anyway; a server left would hold a port
                _kill(cluster.data)
        shutil.rmtree(self.root, ignore_errors=True)


def _run_append(path: Path, lines: str) -> None:
    # The data folder belongs to postgres (mode 0700): as root, Python may still write.
    with path.open("a", encoding="utf-8") as handle:
        handle.write(lines)


def _kill(data: Path) -> None:
    """Kill the server this test started on ``data``, by the process id it wrote there."""
    try:
        pid = int((data / "postmaster.pid").read_text().split("\n", 1)[0])
        os.kill(pid, signal.SIGKILL)
    except (OSError, ValueError):
        pass
