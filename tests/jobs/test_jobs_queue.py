"""Long jobs on a real RQ queue (Redis at 127.0.0.1:6379, a database number of its own), worked in this process;
a worker that dies halfway leaves nothing half-done, the job is marked failed when read, and submitting it again
completes the work once."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from matcher.candidates.models import Candidate
from matcher.extensions import db
from matcher.jobs import service
from matcher.jobs.models import Job, JobStatus
from matcher.matching import service as matching
from matcher.matching.models import AssignmentDraft
from matcher.referrals.models import Referral
from matcher.slots.models import Slot
from matcher.transfer.kinds import CandidateImporter
from tests.jobs.helpers import candidates_csv

DIED = "The worker running this job stopped before it finished"


class WorkerKilled(BaseException):
    """Stands for the worker being stopped: nothing the job's code could catch and handle."""


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def seats_taken() -> list[int]:
    return list(db.session.scalars(select(Slot.seats_taken).order_by(Slot.id)))


def test_an_assignment_runs_on_the_queue(api, world, rq_queue, work):
    response = api.post("/api/v1/jobs", headers=world.h("org"), json={"kind": "assignment", "params": {}})
    assert response.status_code == 202, response.json
    job_id = response.json["id"]
    assert response.json["status"] == "queued"
    row = db.session.get(Job, job_id)
    assert rq_queue.fetch_job(row.queue_job_id) is not None
    assert api.get(f"/api/v1/jobs/{job_id}", headers=world.h("org")).json["status"] == "queued"
    work()
    job = api.get(f"/api/v1/jobs/{job_id}", headers=world.h("org")).json
    assert job["status"] == "succeeded", job
    assert job["done"] == job["total"] == 4 and job["percent"] == 100
    assert api.get(job["links"]["draft"], headers=world.h("org")).status_code == 200


def test_an_import_travels_in_the_queue_not_the_database(api, world, rq_queue, work):
    content = candidates_csv(2)
    response = api.post("/api/v1/jobs/imports/candidates?dry_run=false", headers=world.h("cw_a"),
                        data={"file": (io.BytesIO(content), "people.csv")}, content_type="multipart/form-data")
    assert response.status_code == 202, response.json
    row = db.session.get(Job, response.json["id"])
    # Beside the RQ job, not in it: RQ keeps the job's record after it ends (tests/jobs/test_job_files.py).
    rq_job = rq_queue.fetch_job(row.queue_job_id)
    assert rq_job.args == (row.id, service.PAYLOAD_KEY.format(rq_id=row.queue_job_id))
    assert rq_queue.connection.hget(rq_job.args[1], "data") == content
    assert "导入" not in row.params_json
    work()
    assert not rq_queue.connection.exists(rq_job.args[1])
    job = api.get(f"/api/v1/jobs/{row.id}", headers=world.h("cw_a")).json
    assert job["status"] == "succeeded" and job["result"]["created"] == 2, job
    assert count(Candidate) == 3 + 2


@pytest.fixture
def dies_saving_the_plan(monkeypatch):
    """The worker dies while the plan is written (its flush), after all the reading and solving."""
    state = {"armed": True}

    def die(session, _context, _instances):
        if state["armed"] and any(isinstance(o, AssignmentDraft) for o in session.new):
            raise WorkerKilled

    event.listen(Session, "before_flush", die)
    yield state
    event.remove(Session, "before_flush", die)


def test_a_worker_killed_writing_the_plan_leaves_none_and_a_rerun_makes_one(api, world, rq_queue, work,
                                                                              dies_saving_the_plan):
    before = seats_taken()
    response = api.post("/api/v1/jobs", headers=world.h("admin"), json={"kind": "assignment", "params": {}})
    job_id = response.json["id"]
    work()  # the work horse dies: RQ records the job failed, our code never got to say anything
    assert db.session.get(Job, job_id).status == JobStatus.RUNNING
    job = api.get(f"/api/v1/jobs/{job_id}", headers=world.h("admin")).json
    assert job["status"] == "failed" and job["error"].startswith(DIED), job
    assert count(AssignmentDraft) == 0 and count(Referral) == 0 and seats_taken() == before
    dies_saving_the_plan["armed"] = False
    again = api.post("/api/v1/jobs", headers=world.h("admin"), json={"kind": "assignment", "params": {}})
    work()
    job = api.get(f"/api/v1/jobs/{again.json['id']}", headers=world.h("admin")).json
    assert job["status"] == "succeeded", job
    assert count(AssignmentDraft) == 1 and count(Referral) == 0 and seats_taken() == before
    # A read again changes nothing: the first job stays failed, the second succeeded.
    assert [j["status"] for j in api.get("/api/v1/jobs", headers=world.h("admin")).json] == ["succeeded", "failed"]


def test_a_worker_killed_halfway_through_an_import_leaves_nothing_and_a_rerun_imports_once(
        api, world, rq_queue, work, monkeypatch):
    content = candidates_csv(3)
    original, calls = CandidateImporter.write, {"armed": True}

    def dies_once_the_rows_are_written(self, built):
        original(self, built)
        if calls["armed"]:
            raise WorkerKilled

    monkeypatch.setattr(CandidateImporter, "write", dies_once_the_rows_are_written)
    first = api.post("/api/v1/jobs/imports/candidates", headers=world.h("cw_a"),
                     data={"file": (io.BytesIO(content), "people.csv")}, content_type="multipart/form-data")
    work()
    job = api.get(f"/api/v1/jobs/{first.json['id']}", headers=world.h("cw_a")).json
    assert job["status"] == "failed" and job["error"].startswith(DIED)
    assert count(Candidate) == 3  # the rows, written before the death, are not kept
    calls["armed"] = False  # (not monkeypatch.undo(): it would also undo the queue's configuration)
    again = api.post("/api/v1/jobs/imports/candidates", headers=world.h("cw_a"),
                     data={"file": (io.BytesIO(content), "people.csv")}, content_type="multipart/form-data")
    work()
    job = api.get(f"/api/v1/jobs/{again.json['id']}", headers=world.h("cw_a")).json
    assert job["status"] == "succeeded" and job["result"]["created"] == 3, job
    assert count(Candidate) == 3 + 3


def test_a_job_whose_queue_entry_is_gone_is_failed_when_read(api, world, rq_queue):
    response = api.post("/api/v1/jobs", headers=world.h("admin"), json={"kind": "assignment", "params": {}})
    rq_queue.connection.flushdb()  # e.g. Redis restarted without persistence
    job = api.get(f"/api/v1/jobs/{response.json['id']}", headers=world.h("admin")).json
    assert job["status"] == "failed" and job["error"].startswith(DIED)
    assert job["links"] == {"self": f"/api/v1/jobs/{job['id']}", "page": f"/jobs/{job['id']}"}


def test_no_redis_answers_503_and_records_why(api, world, app, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    response = api.post("/api/v1/jobs", headers=world.h("admin"), json={"kind": "assignment", "params": {}})
    assert response.status_code == 503
    job = db.session.scalars(select(Job)).one()
    assert job.status == JobStatus.FAILED and json.loads(job.result_json)["error"]["en"]["message"].startswith(
        "The job queue cannot be reached")


# ---- inline jobs whose thread or process died ---------------------------------------------------------

def test_an_inline_job_whose_thread_died_is_failed_when_read(api, world, inline, finish, monkeypatch):
    def killed(**_kwargs):
        raise WorkerKilled

    monkeypatch.setattr(matching, "plan_assignment", killed)
    response = api.post("/api/v1/jobs", headers=world.h("admin"), json={"kind": "assignment", "params": {}})
    finish(response.json["id"])
    assert db.session.get(Job, response.json["id"]).status == JobStatus.RUNNING
    job = api.get(f"/api/v1/jobs/{response.json['id']}", headers=world.h("admin")).json
    assert job["status"] == "failed" and job["error"].startswith(DIED)


def test_an_inline_job_whose_process_died_is_failed_when_listed(api, world, inline):
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                           text=True, check=True)
    dead_pid = int(ended.stdout)
    job = Job(kind="assignment", status=JobStatus.RUNNING, params_json="{}", done=1, total=4,
              created_by_id=world.accounts["org"].id,
              queue_job_id=f"{service.INLINE_PREFIX}{socket.gethostname()[:40]}:{dead_pid}")
    elsewhere = Job(kind="assignment", status=JobStatus.RUNNING, params_json="{}", created_by_id=job.created_by_id,
                    queue_job_id=f"{service.INLINE_PREFIX}another-host:{dead_pid}")
    db.session.add_all([job, elsewhere])
    db.session.commit()
    listed = api.get("/api/v1/jobs", headers=world.h("org")).json
    assert {j["id"]: j["status"] for j in listed} == {job.id: "failed", elsewhere.id: "running"}
