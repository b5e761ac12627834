"""Long jobs with no queue configured: they run in a thread of the web process; the API shows their progress,
result or a clean error; who may submit and see them; the 422s of bad parameters."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import func, select

from matcher.candidates.models import Candidate
from matcher.extensions import db
from matcher.jobs import service
from matcher.jobs.models import Job, JobStatus
from matcher.matching import service as matching
from matcher.matching.models import AssignmentDraft, ScoringModel
from tests.jobs.helpers import candidates_csv


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def writes(monkeypatch):
    """Every progress write that reached the Job row: (done, total, message)."""
    seen = []
    original = service.ProgressWriter._write

    def spy(self):
        wrote = original(self)
        if wrote:
            seen.append((self.done, self.total, self.message))
        return wrote

    monkeypatch.setattr(service.ProgressWriter, "_write", spy)
    monkeypatch.setattr(service, "PROGRESS_INTERVAL", 0.0)
    return seen


def test_assignment_job_reports_progress_and_links_the_draft(api, world, inline, finish, writes):
    response = api.post("/api/v1/jobs", headers=world.h("admin"),
                        json={"kind": "assignment", "params": {"key_subject_weight": 0.5}})
    assert response.status_code == 202, response.json
    job_id = response.json["id"]
    assert response.headers["Location"].endswith(f"/api/v1/jobs/{job_id}")
    assert response.json["status"] in ("queued", "running", "succeeded")
    finish(job_id)
    job = api.get(f"/api/v1/jobs/{job_id}", headers=world.h("admin")).json
    assert job["status"] == "succeeded", job
    assert job["done"] == job["total"] == 4 and job["percent"] == 100
    assert job["error"] is None
    draft_id = job["result"]["draft_id"]
    assert job["links"]["draft"] == f"/api/v1/assignments/{draft_id}"
    assert api.get(job["links"]["draft"], headers=world.h("admin")).json["status"] == "draft"
    # Each step reached the row while the job ran (SQLite too: the plan only reads until it saves).
    assert [w[0] for w in writes] == [0, 1, 2, 3] and {w[1] for w in writes} == {4}
    assert count(AssignmentDraft) == 1


def test_training_job_registers_a_model(api, world, inline, finish):
    response = api.post("/api/v1/jobs", headers=world.h("admin"),
                        json={"kind": "train", "params": {"horizon_days": 90, "activate": True}})
    assert response.status_code == 202, response.json
    finish(response.json["id"])
    job = api.get(f"/api/v1/jobs/{response.json['id']}", headers=world.h("admin")).json
    assert job["status"] == "succeeded", job
    version = job["result"]["model_version"]
    assert db.session.get(ScoringModel, version).active
    assert job["links"]["models_page"] == "/admin/models"


def test_import_job_imports_every_row(api, world, inline, finish, writes):
    response = api.post("/api/v1/jobs/imports/candidates", headers=world.h("cw_a"),
                        data={"file": (io.BytesIO(candidates_csv(3)), "people.csv")},
                        content_type="multipart/form-data")
    assert response.status_code == 202, response.json
    finish(response.json["id"])
    job = api.get(f"/api/v1/jobs/{response.json['id']}", headers=world.h("cw_a")).json
    assert job["status"] == "succeeded", job
    assert job["result"]["created"] == 3 and job["done"] == job["total"] == 3
    assert count(Candidate) == 3 + 3  # the world's three, and the file's
    row = db.session.get(Job, job["id"])
    assert json.loads(row.params_json) == {"kind": "candidates", "dry_run": False}  # no file in the database
    if db.engine.dialect.name == "postgresql":  # SQLite: one writer, so the rows show when the import ends
        assert (0, 3, "Checking and importing the rows") in writes


def test_a_failing_job_gives_a_clean_error(api, world, inline, finish, monkeypatch):
    def broken(**_kwargs):
        raise RuntimeError("/srv/secret/path.py line 12: Traceback")

    monkeypatch.setattr(matching, "plan_assignment", broken)
    response = api.post("/api/v1/jobs", headers=world.h("admin"), json={"kind": "assignment", "params": {}})
    finish(response.json["id"])
    for lang in ("en", "zh"):
        job = api.get(f"/api/v1/jobs/{response.json['id']}", headers=world.h("admin", lang)).json
        assert job["status"] == "failed"
        assert "secret" not in json.dumps(job) and "Traceback" not in json.dumps(job)
        if lang == "en":
            assert job["error"] == "Something went wrong on our side; it has been logged."
        else:
            assert not job["error"].isascii()  # in Chinese
    assert count(AssignmentDraft) == 0


def test_a_file_with_bad_rows_fails_naming_them_and_imports_nothing(api, world, inline, finish):
    response = api.post("/api/v1/jobs/imports/candidates", headers=world.h("cw_a"),
                        data={"file": (io.BytesIO(candidates_csv(3, bad_row=1)), "people.csv")},
                        content_type="multipart/form-data")
    finish(response.json["id"])
    job = api.get(f"/api/v1/jobs/{response.json['id']}", headers=world.h("cw_a")).json
    assert job["status"] == "failed"
    assert "1 of 3 rows" in job["error"]
    assert list(job["errors"]["rows"]) == ["3"] and "education" in job["errors"]["rows"]["3"]
    zh = api.get(f"/api/v1/jobs/{response.json['id']}", headers=world.h("cw_a", "zh")).json
    assert zh["error"] != job["error"]
    assert count(Candidate) == 3


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "assignment", "params": {"key_subject_weight": 9}}, "key_subject_weight"),
    ({"kind": "assignment", "params": {"starts_before": "soon"}}, "starts_before"),
    ({"kind": "assignment", "params": {"no_such": 1}}, "no_such"),
    ({"kind": "train", "params": {"horizon_days": 45}}, "horizon_days"),
])
def test_bad_parameters_are_named(api, world, inline, body, field):
    for lang in ("en", "zh"):
        response = api.post("/api/v1/jobs", headers=world.h("admin", lang), json=body)
        assert response.status_code == 422, response.json
        assert field in response.json["errors"]["params"]
    assert count(Job) == 0


def test_unknown_kind_and_missing_file_are_422(api, world, inline):
    response = api.post("/api/v1/jobs", headers=world.h("admin"), json={"kind": "bake"})
    assert response.status_code == 422 and "kind" in response.json["errors"]
    response = api.post("/api/v1/jobs/imports/candidates", headers=world.h("cw_a"), data={},
                        content_type="multipart/form-data")
    assert response.status_code == 422 and "file" in response.json["errors"]


@pytest.mark.parametrize(("who", "kind", "status"), [
    ("cw_a", "train", 404), ("org", "train", 404), ("admin", "retrain", 202),
    ("cw_a", "assignment", 404), ("emp_a", "assignment", 404), ("org", "assignment", 202),
])
def test_who_may_submit(api, world, inline, finish, who, kind, status):
    response = api.post("/api/v1/jobs", headers=world.h(who), json={"kind": kind, "params": {}})
    assert response.status_code == status, response.json
    if status == 202:
        finish(response.json["id"])


def test_employers_cannot_import_candidates(api, world, inline):
    response = api.post("/api/v1/jobs/imports/candidates", headers=world.h("emp_a"),
                        data={"file": (io.BytesIO(candidates_csv(1)), "people.csv")},
                        content_type="multipart/form-data")
    assert response.status_code == 403


def test_a_job_is_seen_by_its_creator_and_administrators_only(api, world, inline, finish):
    response = api.post("/api/v1/jobs/imports/candidates", headers=world.h("cw_a"),
                        data={"file": (io.BytesIO(candidates_csv(1)), "people.csv")},
                        content_type="multipart/form-data")
    job_id = response.json["id"]
    finish(job_id)
    assert api.get(f"/api/v1/jobs/{job_id}", headers=world.h("cw_b")).status_code == 404
    assert api.get(f"/api/v1/jobs/{job_id}", headers=world.h("emp_a")).status_code == 404
    assert api.get(f"/api/v1/jobs/{job_id}").status_code == 401
    assert api.get("/api/v1/jobs").status_code == 401
    assert api.get(f"/api/v1/jobs/{job_id}", headers=world.h("admin")).status_code == 200
    assert [j["id"] for j in api.get("/api/v1/jobs", headers=world.h("cw_a")).json] == [job_id]
    assert api.get("/api/v1/jobs", headers=world.h("cw_b")).json == []
    assert [j["id"] for j in api.get("/api/v1/jobs?status=succeeded", headers=world.h("admin")).json] == [job_id]
    assert api.get("/api/v1/jobs?status=failed", headers=world.h("admin")).json == []


def test_the_command_line_runs_a_job_in_the_foreground(app, world, inline):
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["jobs", "submit", "assignment", "-p", "key_subject_weight=0.5",
                                                "--as", "admin"])
    assert result.exit_code == 0, result.output
    assert "succeeded" in result.output and "draft_id" in result.output
    db.session.expire_all()
    job = db.session.scalars(select(Job)).one()
    assert job.status == JobStatus.SUCCEEDED and job.done == job.total == 4
    assert count(AssignmentDraft) == 1
