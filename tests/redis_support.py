"""The test Redis, for the job-queue tests."""

from __future__ import annotations

import os

import pytest


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
