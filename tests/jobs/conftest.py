"""Fixtures for long jobs: the inline mode (no queue), and RQ on the real Redis at 127.0.0.1:6379 in a database
number of its own (emptied before and after each test), worked by an in-process SimpleWorker."""

from __future__ import annotations

import os
import uuid

import pytest

from matcher.extensions import db
from matcher.jobs import service
from tests.redis_support import redis_or_skip, worker_redis_url

REDIS_URL = worker_redis_url(os.environ.get("XINTU_TEST_REDIS_URL") or "redis://127.0.0.1:6379/13")


@pytest.fixture
def inline(app, monkeypatch):
    """No queue configured: jobs run in a background thread of this process."""
    monkeypatch.setitem(app.config, "REDIS_URL", None)
    return app


@pytest.fixture
def rq_queue(app, monkeypatch):
    """A queue on the test Redis database; skipped (with the reason) only if Redis cannot be reached."""
    connection = redis_or_skip(REDIS_URL)
    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
    monkeypatch.setitem(app.config, "JOBS_QUEUE", f"xintu-test-{uuid.uuid4().hex[:8]}")
    with app.app_context():
        queue = service._queue()  # noqa: SLF001
    yield queue
    connection.flushdb()
    connection.close()


@pytest.fixture
def work(rq_queue):
    """Run the queued jobs now, in this process (the test's own session must not hold SQLite's write lock)."""
    from rq import SimpleWorker

    class BurstWorker(SimpleWorker):
        # No pubsub thread (it carries stop-job commands, which no test sends): when a burst ends before that
        # thread is listening, stopping it waits out its 60-second poll.
        def subscribe(self) -> None:
            self.pubsub_thread = None

        def unsubscribe(self) -> None:
            pass

    def run() -> None:
        db.session.commit()
        BurstWorker([rq_queue], connection=rq_queue.connection).work(burst=True, with_scheduler=False)
        db.session.expire_all()

    return run


@pytest.fixture
def finish():
    """Wait for an inline job to end, then forget what this test's session had read."""

    def wait(job_id: int) -> None:
        db.session.commit()
        assert service.wait(job_id, timeout=60), "the inline job did not finish within 60 s"
        db.session.expire_all()

    return wait
