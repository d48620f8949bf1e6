"""Periodic jobs for the tests: each counts its runs (and may fail), with a period of a second
set through its own environment variable."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from accord.jobs.definitions import PeriodicJob
from accord.settings import Settings
from accord.store.node import Store

ENV = {"ACCORD_JOBS": "auto", "TEST_JOB_SECONDS": "1", "TEST_FAILING_SECONDS": "1"}


class Counter:
    """Runs of a job, from any thread."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, store: Store, settings: Settings) -> None:
        with self._lock:
            self.times.append(time.time())

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.times)


class Failing(Counter):
    def __call__(self, store: Store, settings: Settings) -> None:
        super().__call__(store, settings)
        raise RuntimeError("the peer is down")


def job(name: str, run: Callable[[Store, Settings], object], env: str) -> PeriodicJob:
    return PeriodicJob(name, run, env, summary=f"test job {name}")


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return condition()
