"""Where the real-data folder is: $ACCORD_SHARED_DATA, else ../shared/data beside the checkout.

A test that needs it takes the `shared_data` fixture (tests/conftest.py), which skips with the
reason when the folder is absent; no test reads it at import time, so a clone on its own
collects and passes (tests/test_without_shared_data.py checks this)."""

from __future__ import annotations

import os
from pathlib import Path


def _shared_data() -> Path:
    configured = os.environ.get("ACCORD_SHARED_DATA")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[1].parent / "shared" / "data"


SHARED_DATA = _shared_data()
