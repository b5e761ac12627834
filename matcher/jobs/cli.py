"""`flask --app matcher jobs worker|submit|list|sweep`: the RQ worker, and long jobs from the command line."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from matcher import uow
from matcher.commands import acting
from matcher.errors import DomainError, translate, translate_errors
from matcher.extensions import db

jobs_cli = AppGroup("jobs", help="Long jobs: run the queue's worker, submit a job, list jobs.")


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Run the jobs waiting now, then stop.")
@click.option("--simple", is_flag=True, help="Run jobs in this process (no fork per job).")
def worker(burst: bool, simple: bool) -> None:
    """Run an RQ worker on XINTU_REDIS_URL's queue (XINTU_JOBS_QUEUE), with the application's context."""
    from rq import SimpleWorker, Worker

    from matcher.jobs import service

    if not service.queue_configured():
        raise click.ClickException("no queue is configured: set XINTU_REDIS_URL (jobs then run in the web process)")

    class AppWorker(Worker):
        def main_work_horse(self, job, queue):
            # The forked work horse must not use the connections the worker's pool opened before the fork.
            db.engine.dispose(close=False)
            super().main_work_horse(job, queue)

    queue = service._queue()  # noqa: SLF001 - the one queue the application submits to
    db.session.remove()
    cls = SimpleWorker if simple else AppWorker
    click.echo(f"worker on queue {queue.name} ({'burst' if burst else 'waiting for jobs'})")
    cls([queue], connection=queue.connection).work(burst=burst, with_scheduler=False)


@jobs_cli.command("submit")
@click.argument("kind", type=click.Choice(["train", "retrain", "assignment", "import"]))
@click.option("--param", "-p", "raw_params", multiple=True, metavar="NAME=VALUE",
              help="A parameter, e.g. -p horizon_days=90 -p activate=true -p district=330782.")
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="import: the file (CSV or .xlsx); the import's kind is -p kind=candidates.")
@click.option("--queue/--inline", "use_queue", default=None,
              help="On the queue (default when XINTU_REDIS_URL is set) or here in the foreground.")
@acting
def submit(kind: str, raw_params: tuple[str, ...], path: Path | None, use_queue: bool | None, actor) -> None:
    """Submit a long job; without a queue it runs here with a progress bar. The job is the unit of work: this
    command commits the system account, if it had to make it, before the job starts."""
    from matcher.jobs import service

    # Values stay text: the kind's schema reads numbers, dates and true/false from text as a form's would.
    params = dict(item.partition("=")[::2] for item in raw_params)
    payload = {"data": path.read_bytes(), "filename": path.name} if path is not None else None
    uow.commit()
    queued = service.queue_configured() if use_queue is None else use_queue
    if queued and not service.queue_configured():
        raise click.ClickException("no queue is configured: set XINTU_REDIS_URL")
    try:
        _submit(kind, params, payload, actor, queued)
    except DomainError as exc:
        uow.rollback()
        details = "; ".join(f"{key}: {json.dumps(value, ensure_ascii=False)}"
                            for key, value in translate_errors(exc.errors).items()) if exc.errors else ""
        raise click.ClickException(translate(exc.message) + (f" ({details})" if details else "")) from None


def _submit(kind, params, payload, actor, queued: bool) -> None:
    from matcher.jobs import service

    if queued:
        job = service.submit(db.session, actor, kind, params, payload)
        click.echo(f"job {job.id} queued on {current_app.config['JOBS_QUEUE']}; follow it with a worker running")
        _follow(job.id)
        return
    with click.progressbar(length=1, label=f"{kind} job", show_percent=True) as bar:
        state = {"done": 0}

        def on_progress(done, total, message):
            if total and bar.length != total:
                bar.length = total
            if done > state["done"]:
                bar.update(done - state["done"])
                state["done"] = done
            if message:
                bar.label = f"{kind}: {message}"

        job = service.submit(db.session, actor, kind, params, payload, foreground=True, on_progress=on_progress)
        if job.total and state["done"] < job.total:
            bar.length = job.total
            bar.update(job.total - state["done"])
    _echo(job)


def _follow(job_id: int) -> None:
    from matcher.jobs import service
    from matcher.jobs.models import Job

    last = None
    while True:
        db.session.expire_all()
        job = db.session.get(Job, job_id)
        if job.status in service.ACTIVE and service._worker_died(job):  # noqa: SLF001
            service._mark_died(db.session, job)  # noqa: SLF001
        seen = (job.status, job.done, job.total, job.message)
        db.session.rollback()  # hold no transaction while waiting (SQLite: it would hold the only write lock)
        if seen != last:
            click.echo(f"  {seen[0].value} {seen[1]}/{seen[2] or '?'} {seen[3] or ''}")
            last = seen
        if seen[0] not in service.ACTIVE:
            break
        time.sleep(1)
    _echo(db.session.get(Job, job_id))


def _echo(job) -> None:
    from matcher.jobs import service

    view = service.job_view(job)
    click.echo(f"job {job.id} ({job.kind}): {view['status']}")
    if view["error"]:
        click.echo(f"  error: {view['error']}")
        for key, value in (view["errors"] or {}).items():
            click.echo(f"  {key}: {json.dumps(value, ensure_ascii=False)}")
    for key, value in (view["result"] or {}).items():
        click.echo(f"  {key}: {json.dumps(value, ensure_ascii=False, default=str)}")


@jobs_cli.command("list")
@click.option("--status", type=click.Choice(["queued", "running", "succeeded", "failed"]), default=None)
def list_jobs(status: str | None) -> None:
    """The latest jobs (all accounts), after marking failed those whose worker died."""
    from matcher.jobs import service
    from matcher.jobs.models import Job

    service.sweep(db.session)
    stmt = db.select(Job).order_by(Job.id.desc()).limit(50)
    if status:
        stmt = stmt.where(Job.status == status)
    for job in db.session.scalars(stmt):
        click.echo(f"{job.id}\t{job.kind}\t{job.status.value}\t{job.done}/{job.total or '?'}\t"
                   f"{job.created_at:%Y-%m-%d %H:%M}\t{job.error or ''}")


@jobs_cli.command("sweep")
def sweep() -> None:
    """Mark failed the queued or running jobs whose worker is gone (also done whenever a job is read)."""
    from matcher.jobs import service

    click.echo(f"{service.sweep(db.session)} jobs marked failed")
