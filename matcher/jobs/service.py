"""Long jobs: training a model, a batch assignment, a large import.

`submit()` records a Job (in its own commit) and then either puts it on an RQ queue, when `REDIS_URL`
(XINTU_REDIS_URL) is configured, or runs it in a background thread of this process, with its own app
context and database session, so the page that started it can show its progress. The command line runs it
in the foreground (`foreground=True`) with a progress bar.

Whoever runs it calls `execute()`: claim the job (queued -> running, conditional, so it runs once), run the
service of its kind, record the result or a user-facing error (never a traceback). The services report
progress through a `progress(done, total, message)` callback; it is written to the Job row in a short
transaction of its own, at most five times a second.

The services are crash-safe (each writes in one transaction at its end), so a job whose worker died leaves
nothing half-done; such a job is found (its RQ job failed or gone, its thread or process no longer alive)
and marked failed when it is read, and submitting it again completes the work.

An import's file never goes to the database (it holds personal data and may be large): an inline job
keeps it in memory; a queued job leaves it in Redis under a key of its own beside the RQ job (whose record RQ
keeps for RESULT_TTL or FAILURE_TTL and which holds only the job's id and that key). The worker takes the file
out of Redis as the job starts; a file never taken expires after PAYLOAD_TTL, and a dead worker's is deleted
when its job is marked failed.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from flask import current_app
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError
from sqlalchemy import Select, or_, select, update
from sqlalchemy.orm import Session

from matcher import clock, policy
from matcher.apiutil import apply_sort
from matcher.auth.models import Account, Role
from matcher.errors import DomainError, Forbidden, Invalid, NotFound, translate, translate_errors
from matcher.extensions import db
from matcher.jobs.models import Job, JobStatus
from matcher.jobs.schemas import ImportParamsSchema, RetrainParamsSchema, TrainParamsSchema

log = logging.getLogger(__name__)

Progress = Callable[..., None]  # progress(done, total=None, message=None)

ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)
PROGRESS_INTERVAL = 0.2  # seconds between two progress writes: at most five a second
RESULT_TTL = 600  # seconds RQ keeps a finished job's record (ids and status only) in Redis
FAILURE_TTL = 24 * 3600  # ... and a failed one's
PAYLOAD_TTL = 24 * 3600  # seconds an import's file waits in Redis for a worker to take it
PAYLOAD_KEY = "xintu:job-file:{rq_id}"
ERROR_DETAIL_LIMIT = 100  # row errors kept for a failed import (the first ones)
INLINE_PREFIX = "inline:"

DIED = _l("The worker running this job stopped before it finished (it was stopped, restarted or ran out of "
          "time). Nothing half-done was kept: submit the job again.")
UNEXPECTED = _l("Something went wrong on our side; it has been logged.")
QUEUE_DOWN = _l("The job queue cannot be reached; try again in a moment.")
PAYLOAD_GONE = _l("The uploaded file is no longer kept (the job waited too long for a worker): submit it again.")

_alive: set[int] = set()  # ids of the jobs this process runs inline right now
_threads: dict[int, threading.Thread] = {}
_alive_lock = threading.Lock()


class QueueUnavailable(DomainError):
    status = 503


# ---- the kinds of job ------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class JobKind:
    name: str
    # Check the parameters (with the synchronous endpoint's schema) and that the actor may do this; return
    # them JSON-ready, to be stored with the job.
    prepare: Callable[[Account | None, dict, dict | None], dict]
    # Run it: the stored parameters, the payload, a progress callback -> the result (JSON-ready).
    run: Callable[[Session, Account | None, dict, dict | None, Progress], dict]
    # Writes only at its end: on SQLite (one writer at a time) a progress report may end its read transaction.
    reads_first: bool = True


def _load(schema, params: Any) -> dict:
    try:
        return schema.load(params if isinstance(params, dict) else {})
    except ValidationError as exc:
        raise Invalid(_l("Some fields are not valid."), errors={"params": exc.messages}) from None


def _prepare_train(actor, params, _payload):
    if actor is not None:
        policy.require(actor, policy.Rule.MATCH_ADMIN)
    return _load(TrainParamsSchema(), params)


def _run_train(session, actor, params, _payload, progress):
    from matcher.matching.service import outcomes_learned_from, train_model_on_outcomes

    record = train_model_on_outcomes(session=session, actor=actor, horizon_days=params["horizon_days"],
                                     activate=params["activate"], progress=progress)
    return {"model_version": record.version, "model_kind": record.kind, "active": bool(record.active),
            "outcomes_learned_from": outcomes_learned_from(record)}


def _prepare_retrain(actor, params, _payload):
    if actor is not None:
        policy.require(actor, policy.Rule.MATCH_ADMIN)
    return _load(RetrainParamsSchema(), params)


def _run_retrain(session, actor, params, _payload, progress):
    from matcher.matching.service import outcomes_learned_from, retrain

    result = retrain(session=session, actor=actor, progress=progress, **params)
    return {"trained": result.trained, "activated": result.activated, "new_outcomes": result.new_outcomes,
            "previous_version": result.previous_version,
            "model_version": result.record.version if result.record is not None else None,
            "outcomes_learned_from": (outcomes_learned_from(result.record) if result.record is not None else None),
            "metric": result.metric, "new_score": result.new_score, "previous_score": result.previous_score,
            "reason": result.reason}


def _prepare_assignment(actor, params, _payload):
    from matcher.matching.schemas import AssignmentParamsSchema

    if actor is not None:
        policy.require(actor, policy.Rule.MATCH_PLAN)
    schema = AssignmentParamsSchema()
    return schema.dump(_load(schema, params))  # dates as ISO text; loaded again when run


def _run_assignment(session, actor, params, _payload, progress):
    from matcher.matching.schemas import AssignmentParamsSchema
    from matcher.matching.service import plan_assignment

    draft = plan_assignment(session=session, actor=actor, params=AssignmentParamsSchema().load(params),
                            progress=progress)
    return {"draft_id": draft.id, "summary": json.loads(draft.summary_json)}


def _prepare_import(actor, params, payload):
    from matcher.transfer.kinds import IMPORTERS

    params = _load(ImportParamsSchema(), params)
    importer = IMPORTERS.get(params["kind"])
    if importer is None:
        raise NotFound(_l("Unknown kind of file %(kind)s.", kind=params["kind"]))
    if actor is not None and actor.role not in importer.roles:
        raise Forbidden(_l("Your role cannot import %(kind)s.", kind=params["kind"]))
    if not payload or not isinstance(payload.get("data"), bytes | bytearray) or not payload["data"]:
        raise Invalid(_l("Choose the file to import (CSV or .xlsx)."), field="file")
    return params


def _run_import(session, actor, params, payload, progress):
    from matcher.transfer.service import import_file

    report = import_file(session=session, actor=actor, kind=params["kind"], data=bytes(payload["data"]),
                         filename=payload.get("filename"), dry_run=params["dry_run"], progress=progress)
    return report.as_dict()


def import_needs_job(kind: str, data: bytes, filename: str | None) -> bool:
    """Whether an import is too long to run while its request waits: more data rows than IMPORT_INLINE_MAX_ROWS,
    counted by reading no further than that. A file that cannot be read is not: it is refused at once."""
    from matcher.transfer.columns import KIND_COLUMNS
    from matcher.transfer.files import count_data_rows

    limit = int(current_app.config.get("IMPORT_INLINE_MAX_ROWS") or 0)
    columns = KIND_COLUMNS.get(kind)
    if limit <= 0 or columns is None:
        return False
    return count_data_rows(data, filename, columns, up_to=limit + 1) > limit


KINDS: dict[str, JobKind] = {
    "train": JobKind("train", _prepare_train, _run_train),
    "retrain": JobKind("retrain", _prepare_retrain, _run_retrain),
    "assignment": JobKind("assignment", _prepare_assignment, _run_assignment),
    # An import checks every row before it writes any (matcher.transfer.service): its reads end at each progress
    # report, so on SQLite other writers get in while it checks, and the write lock is held for the write only.
    "import": JobKind("import", _prepare_import, _run_import),
}

# The steps the services report, translated when read (the row keeps the English text, no personal data).
STEP_MESSAGES = {
    "Queued": _l("Queued"),
    "Started": _l("Started"),
    "Finished": _l("Finished"),
    "Reading the recorded outcomes": _l("Reading the recorded outcomes"),
    "Training the model": _l("Training the model"),
    "Checking fairness": _l("Checking fairness"),
    "Saving the model": _l("Saving the model"),
    "Reading candidates and open slots": _l("Reading candidates and open slots"),
    "Scoring the eligible pairs": _l("Scoring the eligible pairs"),
    "Solving the assignment": _l("Solving the assignment"),
    "Saving the plan": _l("Saving the plan"),
    "Checking and importing the rows": _l("Checking and importing the rows"),
}


# What the queue runs, named (the worker module builds an app when the queue worker has none).
QUEUED_FUNCTION = "matcher.jobs.worker.run_queued"


# ---- submitting -------------------------------------------------------------------------------------

def queue_configured() -> bool:
    return bool(current_app.config.get("REDIS_URL"))


def submit(session: Session, actor: Account | None, kind: str, params: dict | None, payload: dict | None = None, *,
           foreground: bool = False, on_progress: Progress | None = None) -> Job:
    """Record a job and start it: on the queue when one is configured (unless `foreground`), else inline (in a
    thread, or here and now when `foreground`). Raises what the synchronous endpoint would (422, 404, 403)."""
    spec = KINDS.get(kind)
    if spec is None:
        raise Invalid(_l("Unknown kind of job."), field="kind")
    stored = spec.prepare(actor, params or {}, payload)
    job = Job(kind=kind, status=JobStatus.QUEUED, done=0, message="Queued",
              params_json=json.dumps(stored, ensure_ascii=False, default=str),
              created_by_id=actor.id if actor is not None else None)
    session.add(job)
    session.flush()
    job_id = job.id
    if queue_configured() and not foreground:
        # Unique even when a database is rebuilt and its ids start again.
        job.queue_job_id = rq_id = f"xintu-job-{job_id}-{uuid.uuid4().hex[:12]}"
        session.commit()
        try:
            connection = _redis()
            payload_key = _stash_payload(connection, rq_id, payload) if payload is not None else None
            _queue(connection).enqueue_call(QUEUED_FUNCTION, args=(job_id, payload_key), job_id=rq_id,
                                            timeout=int(current_app.config.get("JOB_TIMEOUT") or 3600),
                                            result_ttl=RESULT_TTL, failure_ttl=FAILURE_TTL,
                                            description=f"xintu {kind} job {job_id}")
        except Exception as exc:  # noqa: BLE001 - Redis down or refusing: the job cannot run; say so
            log.warning("jobs: could not enqueue job %s (%s)", job_id, type(exc).__name__)
            _finish(job_id, JobStatus.FAILED, error=QUEUE_DOWN)
            _drop_payload(rq_id)
            raise QueueUnavailable(QUEUE_DOWN) from None
        return session.get(Job, job_id)
    job.queue_job_id = f"{INLINE_PREFIX}{socket.gethostname()[:40]}:{os.getpid()}"
    with _alive_lock:
        _alive.add(job_id)
    session.commit()
    if foreground:
        try:
            execute(job_id, payload, on_progress=on_progress)
        finally:
            with _alive_lock:
                _alive.discard(job_id)
        session.expire_all()
        return session.get(Job, job_id)
    app = current_app._get_current_object()  # noqa: SLF001 - the app itself, for the thread's own context
    thread = threading.Thread(target=_thread_main, args=(app, job_id, payload), name=f"xintu-job-{job_id}",
                              daemon=True)
    with _alive_lock:
        _threads[job_id] = thread
    thread.start()
    return job


def _thread_main(app, job_id: int, payload: dict | None) -> None:
    try:
        with app.app_context():
            try:
                execute(job_id, payload)
            finally:
                db.session.remove()
    except BaseException as exc:  # noqa: BLE001 - a thread has no one to raise to; the row says what happened
        log.warning("jobs: inline job %s ended by %s", job_id, type(exc).__name__)
    finally:
        with _alive_lock:
            _alive.discard(job_id)
            _threads.pop(job_id, None)


def wait(job_id: int, timeout: float = 60.0) -> bool:
    """Wait for an inline job of this process to end (tests, the command line); False on time-out."""
    thread = _threads.get(job_id)
    if thread is not None:
        thread.join(timeout)
        return not thread.is_alive()
    return True


def _redis():
    from redis import Redis

    return Redis.from_url(current_app.config["REDIS_URL"], socket_connect_timeout=2, socket_timeout=5)


def _queue(connection=None):
    from rq import Queue

    return Queue(current_app.config.get("JOBS_QUEUE") or "xintu", connection=connection or _redis())


def _stash_payload(connection, rq_id: str, payload: dict) -> str:
    """Keep an import's file in Redis for the worker, under a key of its own (not in the RQ job, whose record
    outlives the job); returns the key."""
    key = PAYLOAD_KEY.format(rq_id=rq_id)
    with connection.pipeline() as pipe:
        pipe.hset(key, mapping={"data": bytes(payload["data"]), "filename": payload.get("filename") or ""})
        pipe.expire(key, PAYLOAD_TTL)
        pipe.execute()
    return key


def _take_payload(key: str) -> dict | None:
    """The file kept under `key`, deleted from Redis in the same step: from here on only this worker holds it,
    and whatever becomes of the job, nothing of it is left in Redis. None when it expired or was taken."""
    with _redis().pipeline() as pipe:
        pipe.hgetall(key)
        pipe.delete(key)
        stored, _deleted = pipe.execute()
    if not stored:
        return None
    return {"data": stored[b"data"], "filename": stored[b"filename"].decode() or None}


def _drop_payload(rq_id: str) -> None:
    """Delete a queued job's file if it is still in Redis (the job could not be queued, or its worker died before
    taking it). Best effort: an unreachable Redis lets it expire after PAYLOAD_TTL."""
    from redis.exceptions import RedisError

    try:
        _redis().delete(PAYLOAD_KEY.format(rq_id=rq_id))
    except RedisError as exc:
        log.warning("jobs: could not delete the file of queue job %s (%s)", rq_id, type(exc).__name__)


# ---- running ---------------------------------------------------------------------------------------

def execute(job_id: int, payload: dict | None = None, *, on_progress: Progress | None = None) -> Job | None:
    """Run a recorded job here, in the current app context's session. Runs it once: a job that is no longer
    queued (done, failed, or claimed by another worker) is left as it is."""
    session = db.session()  # this context's Session itself (not the scoped proxy)
    claimed = session.execute(
        update(Job).where(Job.id == job_id, Job.status == JobStatus.QUEUED)
        .values(status=JobStatus.RUNNING, started_at=clock.now(), message="Started")
        .execution_options(synchronize_session=False)).rowcount
    session.commit()
    job = session.get(Job, job_id)
    if job is None or claimed != 1:
        return job
    kind = job.kind
    spec = KINDS[kind]
    params = json.loads(job.params_json or "{}")
    actor = session.get(Account, job.created_by_id) if job.created_by_id is not None else None
    session.commit()  # end the read: on SQLite, an open transaction holds the only write lock
    progress = ProgressWriter(job_id, session, release_reads=spec.reads_first, echo=on_progress)
    try:
        result = spec.run(session, actor, params, payload, progress)
    except DomainError as exc:
        session.rollback()
        _finish(job_id, JobStatus.FAILED, error=exc.message, errors=exc.errors or None, progress=progress)
    except ValidationError as exc:
        session.rollback()
        _finish(job_id, JobStatus.FAILED, error=_l("Some fields are not valid."),
                errors={"params": exc.messages}, progress=progress)
    except Exception as exc:  # noqa: BLE001 - any other failure: logged by type, told to the user plainly
        session.rollback()
        log.error("jobs: %s job %s failed: %s", kind, job_id, type(exc).__name__)
        _finish(job_id, JobStatus.FAILED, error=UNEXPECTED, progress=progress)
    else:
        session.commit()
        _finish(job_id, JobStatus.SUCCEEDED, result=result, progress=progress)
    session.expire_all()
    return session.get(Job, job_id)


class ProgressWriter:
    """The `progress(done, total, message)` a service calls: kept, and written to the Job row in a short
    transaction of its own at most every PROGRESS_INTERVAL seconds."""

    def __init__(self, job_id: int, session: Session, *, release_reads: bool, echo: Progress | None = None):
        self.job_id, self.session, self.release_reads, self.echo = job_id, session, release_reads, echo
        self.done, self.total, self.message = 0, None, None
        self.last_write = 0.0
        self.writes = 0

    def __call__(self, done: int, total: int | None = None, message: str | None = None) -> None:
        self.done = int(done)
        if total is not None:
            self.total = int(total)
        if message is not None:
            self.message = str(message)[:200]
        if self.echo is not None:
            self.echo(self.done, self.total, self.message)
        now = time.monotonic()
        if now - self.last_write < PROGRESS_INTERVAL:
            return
        if self._write():
            self.last_write = now

    def _write(self) -> bool:
        if db.engine.dialect.name == "sqlite" and self.session.in_transaction():
            # SQLite has one writer at a time, and this job's transaction holds it: a job that has only read so
            # far may end its read here; one that has written (an import's rows) reports when it ends.
            if not self.release_reads or self.session.new or self.session.dirty or self.session.deleted:
                return False
            self.session.commit()
        with Session(db.engine) as own:
            own.execute(update(Job).where(Job.id == self.job_id, Job.status == JobStatus.RUNNING)
                        .values(done=self.done, total=self.total, message=self.message)
                        .execution_options(synchronize_session=False))
            own.commit()
        self.writes += 1
        return True


def _in_both_languages(message: Any, errors: dict | None) -> dict:
    both = {}
    for code, locale in (("zh", "zh_CN"), ("en", "en")):
        with force_locale(locale):
            both[code] = {"message": translate(message),
                          "errors": translate_errors(_shorten(errors)) if errors else None}
    return both


def _shorten(errors: Any) -> Any:
    """At most ERROR_DETAIL_LIMIT entries at each level (a file with 10,000 bad rows keeps the first 100)."""
    if isinstance(errors, dict):
        return {key: _shorten(value) for key, value in list(errors.items())[:ERROR_DETAIL_LIMIT]}
    return errors


def _finish(job_id: int, status: JobStatus, *, result: dict | None = None, error: Any = None,
            errors: dict | None = None, progress: ProgressWriter | None = None,
            only_if: tuple[JobStatus, ...] = (JobStatus.QUEUED, JobStatus.RUNNING)) -> bool:
    values: dict[str, Any] = {"status": status, "finished_at": clock.now()}
    if status == JobStatus.SUCCEEDED:
        total = progress.total if progress is not None and progress.total else 1
        values.update(done=total, total=total, message="Finished",
                      result_json=json.dumps(result or {}, ensure_ascii=False, default=str))
    else:
        both = _in_both_languages(error if error is not None else UNEXPECTED, errors)
        values.update(error=both["zh"]["message"][:500],
                      result_json=json.dumps({"error": both}, ensure_ascii=False, default=str))
        if progress is not None:
            values.update(done=progress.done, total=progress.total, message=progress.message)
    with Session(db.engine) as own:
        changed = own.execute(update(Job).where(Job.id == job_id, Job.status.in_(only_if)).values(**values)
                              .execution_options(synchronize_session=False)).rowcount
        own.commit()
    return changed == 1


# ---- reading, and finding the jobs whose worker died -----------------------------------------------

# The columns the jobs list may be sorted by (`sort`, "-" in front for descending; newest first by default).
SORT_COLUMNS = {"id": Job.id, "kind": Job.kind, "status": Job.status, "created_at": Job.created_at}


def list_jobs(*, session: Session, actor: Account, status: str | None = None, kind: str | None = None,
              q: str | None = None, kinds: list[str] | None = None, sort: str | None = None) -> Select:
    """Your jobs (administrators: everyone's), newest first; jobs whose worker died are marked failed first.
    `q`: a job number, or any part of its kind's code; `kinds`: more kinds it also finds (the page passes the
    kinds whose label holds the words searched)."""
    sweep(session, actor=actor)
    stmt = policy.jobs(actor)
    if status:
        stmt = stmt.where(Job.status == JobStatus(status))
    if kind:
        stmt = stmt.where(Job.kind == kind)
    query = (q or "").strip().lstrip("#")
    if query:
        matches = [Job.kind.contains(query, autoescape=True), Job.kind.in_(kinds or [])]
        if query.isdigit():
            matches.append(Job.id == int(query))
        stmt = stmt.where(or_(*matches))
    sort = sort if sort and sort.lstrip("-") in SORT_COLUMNS else "-id"
    return apply_sort(stmt, sort, SORT_COLUMNS, Job.id.desc())


def get_job(*, session: Session, actor: Account, job_id: int) -> Job:
    job = policy.find(session, actor, policy.jobs(actor), Job, job_id, _l("No such job."), object_type="job")
    if job.status in ACTIVE and _worker_died(job):
        _mark_died(session, job)
    return job


def sweep(session: Session, *, actor: Account | None = None, limit: int = 200) -> int:
    """Mark failed the queued or running jobs (of those `actor` sees) whose worker is gone; how many."""
    stmt = select(Job).where(Job.status.in_(ACTIVE)).order_by(Job.id).limit(limit)
    if actor is not None and actor.role != Role.ADMINISTRATOR:
        stmt = stmt.where(Job.created_by_id == actor.id)
    marked = 0
    for job in session.scalars(stmt).all():
        if _worker_died(job):
            marked += _mark_died(session, job)
    return marked


def _mark_died(session: Session, job: Job) -> bool:
    # Read before the commit expires them (a refresh would begin a transaction again).
    job_id, marker = job.id, job.queue_job_id
    session.commit()  # end the read (SQLite: one writer) before writing in a transaction of its own
    changed = _finish(job_id, JobStatus.FAILED, error=DIED)
    if marker and not marker.startswith(INLINE_PREFIX):
        _drop_payload(marker)  # a worker that died before taking the file leaves it behind
    session.refresh(job)
    return changed


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _worker_died(job: Job) -> bool:
    marker = job.queue_job_id
    if not marker:
        return False
    if marker.startswith(INLINE_PREFIX):
        host, _, pid_text = marker[len(INLINE_PREFIX):].rpartition(":")
        if host != socket.gethostname()[:40] or not pid_text.isdigit():
            return False  # run by a process elsewhere: cannot tell from here
        pid = int(pid_text)
        if pid == os.getpid():
            with _alive_lock:
                return job.id not in _alive
        return not _pid_alive(pid)
    if not current_app.config.get("REDIS_URL"):
        return False
    return _rq_job_dead(marker)


def _rq_job_dead(rq_id: str) -> bool:
    from redis.exceptions import RedisError
    from rq.exceptions import NoSuchJobError
    from rq.job import Job as RqJob
    from rq.job import JobStatus as RqStatus

    try:
        connection = _redis()
        try:
            rq_job = RqJob.fetch(rq_id, connection=connection)
        except NoSuchJobError:
            return True
        status = rq_job.get_status()
        if status == RqStatus.STARTED:
            # A worker killed outright leaves its job "started"; RQ moves it to failed once its time is up.
            _queue(connection).started_job_registry.cleanup()
            status = rq_job.get_status()
    except RedisError:
        return False  # cannot tell now; ask again at the next read
    return status in (RqStatus.FAILED, RqStatus.STOPPED, RqStatus.CANCELED)


# ---- what a job looks like to its reader -------------------------------------------------------------

def _lang() -> str:
    from flask_babel import get_locale

    locale = get_locale()
    return "zh" if locale is None or locale.language == "zh" else "en"


def step_text(message: str | None) -> str | None:
    if not message:
        return None
    known = STEP_MESSAGES.get(message)
    return str(known) if known is not None else gettext(message)


def job_links(job: Job, result: dict | None) -> dict:
    links = {"self": f"/api/v1/jobs/{job.id}", "page": f"/jobs/{job.id}"}
    if job.status == JobStatus.SUCCEEDED and result:
        if job.kind in ("train", "retrain") and result.get("model_version"):
            links.update(models="/api/v1/models", models_page="/admin/models")
        if job.kind == "assignment" and result.get("draft_id"):
            links["draft"] = f"/api/v1/assignments/{result['draft_id']}"
    return links


def job_view(job: Job) -> dict:
    """The job as the API and the pages show it, in the reader's language."""
    stored = json.loads(job.result_json) if job.result_json else None
    result, error, errors = None, None, None
    if job.status == JobStatus.FAILED:
        both = (stored or {}).get("error") or {}
        mine = both.get(_lang()) or {}
        error = mine.get("message") or job.error
        errors = mine.get("errors")
    else:
        result = stored
    percent = None
    if job.total:
        percent = max(0, min(100, int(100 * job.done / job.total)))
    return {"id": job.id, "kind": job.kind, "status": job.status.value, "done": job.done, "total": job.total,
            "percent": percent, "message": step_text(job.message),
            "params": json.loads(job.params_json or "{}"), "result": result, "error": error, "errors": errors,
            "links": job_links(job, result), "created_by_id": job.created_by_id, "created_at": job.created_at,
            "started_at": job.started_at, "finished_at": job.finished_at}


def recent_jobs(*, session: Session, actor: Account, status: str | None = None, limit: int = 100,
                **search) -> list[Job]:
    """The first `limit` jobs `list_jobs` selects (newest first unless sorted otherwise); `search`: q, kinds, sort."""
    return list(session.scalars(list_jobs(session=session, actor=actor, status=status, **search).limit(limit)))
