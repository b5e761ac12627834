"""The test Redis, for the job-queue tests."""

from __future__ import annotations

import os

import pytest


def worker_index() -> int:
    """Which pytest-xdist worker runs this process (0 without xdist): each keeps to its own databases."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0


def worker_redis_url(url: str) -> str:
    """`url` with its database number moved by the worker's index times 3 (13, 10, 7 ... for 13): workers
    emptying their database never empty another's."""
    base, _, number = url.rpartition("/")
    return f"{base}/{int(number) - 3 * worker_index()}" if number.isdigit() else url


def redis_or_skip(url: str):
    """A connection to the test Redis at `url`, emptied. Without one the test is skipped, saying why; in CI
    (which starts Redis in scripts/test.sh) it fails instead, so a missing queue never passes unnoticed."""
    redis = pytest.importorskip("redis")
    connection = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        connection.ping()
    except redis.exceptions.RedisError as exc:
        message = f"Redis at {url} is unreachable ({type(exc).__name__}); scripts/test.sh starts it"
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(message + "; CI must run the job-queue tests", pytrace=False)
        pytest.skip(message)
    connection.flushdb()
    return connection
