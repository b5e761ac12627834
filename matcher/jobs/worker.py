"""The function an RQ worker runs (named by `service.QUEUED_FUNCTION`): an edge, like a request or a command."""

from __future__ import annotations

from flask import current_app, has_app_context

from matcher.extensions import db
from matcher.jobs import service
from matcher.jobs.models import JobStatus


def run_queued(job_id: int, payload_key: str | None = None) -> None:
    """The function an RQ worker runs: the job, in an app context of its own, with the file it was given (taken
    out of Redis first)."""
    if has_app_context():
        app = current_app._get_current_object()  # noqa: SLF001
    else:  # a worker started without `flask jobs worker` (e.g. plain `rq worker`)
        from matcher import create_app

        app = create_app()
    with app.app_context():
        try:
            payload = service._take_payload(  # noqa: SLF001 - the worker half of the jobs service
                payload_key) if payload_key is not None else None
            if payload_key is not None and payload is None:
                service._finish(job_id, JobStatus.FAILED, error=service.PAYLOAD_GONE)
                return
            service.execute(job_id, payload)
        finally:
            db.session.remove()
