"""Shared fixtures: the real-data folder, and stores on SQLite and (when
ACCORD_TEST_DATABASE_URL is set) PostgreSQL, each test in a fresh database or schema (the
`store` fixtures' fresh databases come migrated, copied from a template: tests/migrated.py).
The real-data folder: see tests/realdata.py."""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import typer.main
import typer.testing
from sqlalchemy import create_engine, text

from accord.store.node import Store
from community import Community, make_community
from migrated import Templates
from realdata import SHARED_DATA

__all__ = ["Community", "make_community"]

PG_URL = os.environ.get("ACCORD_TEST_DATABASE_URL")

# The suite's apps and servers start without the node's background jobs (accord.jobs, webhook
# deliveries among them), unless a test turns them on (tests/jobs, the webhook tests): otherwise
# every app started on PostgreSQL would start procrastinate's worker, and a server would pull
# its feeds and peers on its own while a test checks what it holds.
os.environ.setdefault("ACCORD_JOBS", "off")
os.environ.setdefault("ACCORD_WEBHOOK_POLL_SECONDS", "0")

# Typer's CliRunner builds the application's whole click command tree again on every
# `invoke`, every command's type hints evaluated anew: some 0.08 s a call, half the time of
# the CLI tests' set-ups. The tree is the same every time (built from the commands' signatures;
# what tests patch, the commands look up when they run), so it is built once per application.
typer.testing._get_command = functools.cache(typer.main.get_command)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks every test that needs the real-data folder `shared_data`, so that
    `-m shared_data` selects them (tests/test_without_shared_data.py runs them with it hidden)."""
    for item in items:
        if "shared_data" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.shared_data)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"the shared test data is not at {SHARED_DATA} (set ACCORD_SHARED_DATA)")
    return SHARED_DATA


def _pg_url(schema: str) -> str:
    assert PG_URL is not None
    separator = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{separator}options=-csearch_path%3D{schema}"


@contextmanager
def _schemas() -> Iterator[Callable[[], str]]:
    if not PG_URL:
        pytest.skip("PostgreSQL tests need ACCORD_TEST_DATABASE_URL (CI sets it)")
    admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    made: list[str] = []

    def make() -> str:
        schema = f"t_{uuid.uuid4().hex[:12]}"
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        made.append(schema)
        return _pg_url(schema)

    try:
        yield make
    finally:
        with admin.begin() as conn:
            for schema in made:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def pg_schemas() -> Iterator[Callable[[], str]]:
    """Makes PostgreSQL URLs, each with a fresh schema as its search_path; all are dropped
    afterwards."""
    with _schemas() as make:
        yield make


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    """Copies of migrated databases for the stores below (tests/migrated.py), once per worker."""
    directory = tmp_path_factory.mktemp("migrated")
    if not PG_URL:
        yield Templates(directory, None)
        return
    with _schemas() as make:
        yield Templates(directory, make)


@pytest.fixture
def pg_schema_url(pg_schemas: Callable[[], str]) -> str:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    return pg_schemas()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'accord.db'}"
    else:
        yield request.getfixturevalue("pg_schema_url")


@pytest.fixture
def store(store_url: str, templates: Templates) -> Iterator[Store]:
    templates.migrated(store_url)
    node = Store.open(store_url)
    node.init()
    try:
        yield node
    finally:
        node.close()


@pytest.fixture
def sqlite_store(tmp_path: Path, templates: Templates) -> Iterator[Store]:
    url = f"sqlite:///{tmp_path / 'accord.db'}"
    templates.migrated(url)
    node = Store.open(url)
    node.init()
    try:
        yield node
    finally:
        node.close()


@pytest.fixture
def community(store: Store) -> Community:
    return make_community(store)
