"""What every PostgreSQL connection of the node is opened with."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from accord.store.engine import close_engine, open_engine

pytestmark = pytest.mark.postgres


def test_jit_is_off_and_the_url_is_handed_on_as_it_came(pg_schema_url: str) -> None:
    # JIT compilation cost 330 ms of a 336 ms correlation join at ingest (bench/scale.py);
    # the URL itself must stay as given: procrastinate and pg_dump get it, and libpq would
    # read a "+" in its query as part of the schema's name.
    engine = open_engine(pg_schema_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SHOW jit")).scalar() == "off"
            schema = conn.execute(text("SELECT current_schema()")).scalar()
        assert isinstance(schema, str) and schema.startswith("t_")
        assert "jit" not in engine.url.render_as_string()
        assert engine.url.query["options"] == f"-csearch_path={schema}"
    finally:
        close_engine(engine)
