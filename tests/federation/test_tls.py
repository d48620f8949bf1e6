"""TLS between nodes, with certificates from a test CA (trustme): a node served over HTTPS by
the real command (`accord serve --certfile --keyfile`, a subprocess), others by uvicorn in a
thread with a bad certificate (expired, another host's); the TAXII client verifies each and
says why it refuses; the portal's cookies are Secure and ``__Host-`` over TLS; ``accord serve``
refuses TLS files it cannot use before it serves anything (exit code 2)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
import pytest
import trustme
import uvicorn
from cryptography.hazmat.primitives import serialization
from typer.testing import CliRunner

from accord.api.app import create_app
from accord.cli.main import app
from accord.federation.taxii_client import TaxiiClient, TaxiiClientError
from accord.federation.tls import client_context
from accord.ingest.stix import Ingester, IngestOptions
from accord.intel.benign import BenignLists
from accord.settings import Settings
from accord.store.node import Store
from community import make_community

runner = CliRunner()
PASSWORD = "a long test passphrase 2026"
INDICATOR = {
    "type": "indicator",
    "spec_version": "2.1",
    "id": "indicator--7e1a0000-0000-4000-8000-000000000001",
    "created": "2026-01-01T00:00:00Z",
    "modified": "2026-01-01T00:00:00Z",
    "pattern": "[domain-name:value = 'tls-test.example']",
    "pattern_type": "stix",
    "valid_from": "2026-01-01T00:00:00Z",
    "object_marking_refs": ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"],
}  # TLP:GREEN (TLP 2.0)


@dataclass
class Pki:
    """A test CA, its certificate as a file, and a folder for the nodes' files."""

    ca: trustme.CA
    ca_file: str
    directory: Path

    def pair(self, name: str, leaf: trustme.LeafCert) -> tuple[str, str]:
        cert, key = self.directory / f"{name}.crt", self.directory / f"{name}.key"
        for blob in leaf.cert_chain_pems:
            blob.write_to_path(str(cert), append=True)
        leaf.private_key_pem.write_to_path(str(key))
        return str(cert), str(key)


@dataclass
class Node:
    url: str  # https://127.0.0.1:PORT
    key: str  # the analyst's API key
    email: str
    db: str


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    directory = tmp_path_factory.mktemp("pki")
    ca = trustme.CA(organization_name="Accord test community CA")
    ca_file = directory / "community-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return Pki(ca, str(ca_file), directory)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _seeded(db: str) -> tuple[str, str]:
    """A node's database with the test community, one GREEN indicator and the analyst's
    portal password: (the analyst's e-mail, API key)."""
    store = Store.open(db)
    try:
        store.init()
        community = make_community(store)
        analyst = community.analyst
        store.credentials.set_password(analyst.id, PASSWORD)
        report = Ingester(store, analyst).ingest_bytes(
            orjson.dumps({"type": "bundle", "id": "bundle--1", "objects": [INDICATOR]}),
            "test",
            IngestOptions(),
        )
        assert report.ok, report.summary()
        return analyst.email, store.directory.new_key(analyst.email)
    finally:
        store.close()


@pytest.fixture(scope="module")
def node(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    """`accord serve --certfile --keyfile` as a subprocess, with a certificate of the test CA
    for 127.0.0.1 and localhost."""
    directory = tmp_path_factory.mktemp("tls-node")
    db = f"sqlite:///{directory / 'accord.db'}"
    email, key = _seeded(db)
    cert, private = pki.pair("node-a", pki.ca.issue_cert("127.0.0.1", "localhost"))
    port = _free_port()
    args = [sys.executable, "-m", "accord.cli.main", "--db", db, "serve", "--port", str(port)]
    args += ["--certfile", cert, "--keyfile", private, "--no-bulk-helper"]
    log_path = directory / "serve.log"
    url = f"https://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, env=os.environ | {"PYTHONUNBUFFERED": "1"}
        )
        try:
            deadline = time.monotonic() + 90  # a cold start loads the warninglists index
            with httpx.Client(verify=client_context(pki.ca_file)) as probe:
                while True:
                    if process.poll() is not None:
                        raise AssertionError(f"accord serve stopped: {log_path.read_text()}")
                    try:
                        if probe.get(f"{url}/health", timeout=1).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    if time.monotonic() > deadline:
                        raise AssertionError(f"accord serve did not start: {log_path.read_text()}")
                    time.sleep(0.1)
            yield Node(url, key, email, db)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    assert "Accord node on https://" in log_path.read_text()


@contextmanager
def served_with(pki: Pki, tmp_path: Path, leaf: trustme.LeafCert) -> Iterator[str]:
    """The node's application under uvicorn over TLS with ``leaf``, in a thread of this
    process (as `accord serve` runs it, without warninglists: nothing here looks up)."""
    db = f"sqlite:///{tmp_path / 'other.db'}"
    store = Store.open(db)
    store.init()
    cert, key = pki.pair(f"leaf-{tmp_path.name}", leaf)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    config = uvicorn.Config(
        create_app(Settings(database_url=db), store=store, lists=BenignLists(store, None)),
        log_config=None,
        log_level="warning",
        access_log=False,
        ws="none",
        ssl_certfile=cert,
        ssl_keyfile=key,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        yield f"127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
        store.close()


def _refusal(url: str, **client: str | None) -> str:
    with TaxiiClient(url, **client) as remote, pytest.raises(TaxiiClientError) as refused:
        remote.discovery()
    assert refused.value.status == 0
    return str(refused.value)


# -- the TAXII client ----------------------------------------------------------------------


def test_a_trusted_ca_reads_discovery_collections_and_objects(pki: Pki, node: Node) -> None:
    with TaxiiClient(f"{node.url}/taxii2/", key=node.key, ca_file=pki.ca_file) as remote:
        assert remote.discovery()["api_roots"]
        collections = remote.collections()
        assert collections
        page = remote.objects_page(collections[0]["id"])
        assert INDICATOR["id"] in {obj["id"] for obj in page.objects}


def test_a_private_ca_is_refused_from_the_system_store_with_a_hint(node: Node) -> None:
    message = _refusal(f"{node.url}/taxii2/", key=node.key)
    assert (
        "certificate verify failed: unable to get local issuer certificate "
        "(give the peer's CA with --ca-file)"
    ) in message


def test_a_ca_file_of_another_ca_is_refused(node: Node, tmp_path: Path) -> None:
    stranger = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(stranger))
    message = _refusal(f"{node.url}/taxii2/", key=node.key, ca_file=str(stranger))
    assert f"the CA file {stranger} does not hold the CA that signed it" in message


def test_an_expired_certificate_is_refused(pki: Pki, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    leaf = pki.ca.issue_cert(
        "127.0.0.1", not_before=now - timedelta(days=30), not_after=now - timedelta(days=1)
    )
    with served_with(pki, tmp_path, leaf) as address:
        message = _refusal(f"https://{address}/taxii2/", ca_file=pki.ca_file)
    assert "certificate has expired" in message


def test_a_certificate_for_another_host_is_refused(pki: Pki, tmp_path: Path) -> None:
    leaf = pki.ca.issue_cert("node-b.example")
    with served_with(pki, tmp_path, leaf) as address:
        by_address = _refusal(f"https://{address}/taxii2/", ca_file=pki.ca_file)
        port = address.rsplit(":", 1)[1]
        by_name = _refusal(f"https://localhost:{port}/taxii2/", ca_file=pki.ca_file)
    assert "hostname mismatch" in by_address and "'127.0.0.1'" in by_address
    assert "hostname mismatch" in by_name and "'localhost'" in by_name


def test_a_ca_file_that_is_not_there_or_not_a_certificate(pki: Pki, tmp_path: Path) -> None:
    with pytest.raises(TaxiiClientError, match="no such file"):
        TaxiiClient("https://127.0.0.1:1/taxii2/", ca_file=str(tmp_path / "nope.pem"))
    _, key = pki.pair("stray", pki.ca.issue_cert("stray.example"))
    with pytest.raises(TaxiiClientError, match="holds no PEM certificate"):
        TaxiiClient("https://127.0.0.1:1/taxii2/", ca_file=key)


def test_feed_pull_over_tls_takes_the_ca_file(pki: Pki, node: Node, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'puller.db'}"
    store = Store.open(db)
    try:
        store.init()
        make_community(store)
    finally:
        store.close()
    with TaxiiClient(f"{node.url}/taxii2/", key=node.key, ca_file=pki.ca_file) as peer:
        collection = peer.collections()[0]["id"]
    remote = ["--taxii", f"{node.url}/taxii2/", "--collection", collection, "--key", node.key]
    added = runner.invoke(
        app, ["--db", db, "feed", "add", "node-a", *remote, "--as", "analyst@cert.example"]
    )
    assert added.exit_code == 0, added.output
    refused = runner.invoke(app, ["--db", db, "feed", "pull", "node-a", "--json"])
    assert refused.exit_code == 1
    assert "give the peer's CA with --ca-file" in orjson.loads(refused.stdout)[0]["error"]
    pulled = runner.invoke(
        app, ["--db", db, "feed", "pull", "node-a", "--ca-file", pki.ca_file, "--json"]
    )
    assert pulled.exit_code == 0, pulled.output
    assert orjson.loads(pulled.stdout)[0]["stored"] == 1
    missing = runner.invoke(
        app, ["--db", db, "feed", "pull", "node-a", "--ca-file", str(tmp_path / "nope.pem")]
    )
    assert missing.exit_code == 2 and "no such file" in missing.output


# -- the portal over TLS -----------------------------------------------------------------


def test_the_portal_sets_secure_host_cookies_over_tls(pki: Pki, node: Node) -> None:
    with httpx.Client(base_url=node.url, verify=client_context(pki.ca_file)) as browser:
        form = browser.get("/sign-in")
        assert form.status_code == 200
        assert "; secure" in form.headers["set-cookie"].lower()
        token = browser.cookies["accord_signin"]
        signed_in = browser.post(
            "/sign-in",
            data={"email": node.email, "password": PASSWORD, "signin_token": token, "next": "/"},
            headers={"Origin": node.url},
        )
        assert signed_in.status_code == 303, signed_in.text
        session = next(
            value
            for value in signed_in.headers.get_list("set-cookie")
            if value.startswith("__Host-accord_session=")
        )
        attributes = {part.strip().lower() for part in session.split(";")[1:]}
        assert {"secure", "httponly", "path=/", "samesite=strict"} <= attributes
        assert not any(part.startswith("domain") for part in attributes)  # __Host- forbids it
        home = browser.get("/")
        assert home.status_code == 200 and node.email in home.text


# -- accord serve refuses TLS files it cannot use ------------------------------------------


def test_serve_with_a_key_of_another_certificate_fails_before_serving(
    pki: Pki, tmp_path: Path
) -> None:
    cert, _ = pki.pair("mine", pki.ca.issue_cert("127.0.0.1"))
    _, other_key = pki.pair("theirs", pki.ca.issue_cert("127.0.0.1"))
    port = _free_port()
    db = f"sqlite:///{tmp_path / 'accord.db'}"
    args = [sys.executable, "-m", "accord.cli.main", "--db", db, "serve", "--port", str(port)]
    done = subprocess.run(
        [*args, "--certfile", cert, "--keyfile", other_key],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ | {"COLUMNS": "200"},
    )
    assert done.returncode == 2, done.stderr
    assert f"key file {other_key} does not match the certificate in {cert}" in done.stderr
    assert "Traceback" not in done.stderr and "Accord node on" not in done.stdout


def _encrypted(key_file: str, path: Path) -> str:
    key = serialization.load_pem_private_key(Path(key_file).read_bytes(), password=None)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    return str(path)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("missing certificate", "no such file"),
        ("missing key", "no such file"),
        ("key without certificate", "--keyfile needs --certfile"),
        ("key in place of the certificate", "no PEM certificate in it"),
        ("certificate without its key", "holds no private key"),
        ("encrypted key", "encrypted with a passphrase"),
    ],
)
def test_serve_refuses_tls_files_it_cannot_use(
    pki: Pki, tmp_path: Path, case: str, expected: str
) -> None:
    cert, key = pki.pair(f"case-{tmp_path.name}", pki.ca.issue_cert("127.0.0.1"))
    options = {
        "missing certificate": ["--certfile", str(tmp_path / "nope.crt"), "--keyfile", key],
        "missing key": ["--certfile", cert, "--keyfile", str(tmp_path / "nope.key")],
        "key without certificate": ["--keyfile", key],
        "key in place of the certificate": ["--certfile", key, "--keyfile", key],
        "certificate without its key": ["--certfile", cert],
        "encrypted key": ["--certfile", cert, "--keyfile", _encrypted(key, tmp_path / "e.key")],
    }[case]
    db = f"sqlite:///{tmp_path / 'accord.db'}"
    done = runner.invoke(app, ["--db", db, "serve", "--port", "1", *options])
    assert done.exit_code == 2, done.output
    assert expected in " ".join(done.output.split())
