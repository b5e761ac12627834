"""Long imports never die with their request (issue 16): a file of more data rows than IMPORT_INLINE_MAX_ROWS sent
to the synchronous POST /imports/{kind} becomes an import job by itself (202, Location: the job); a short one is
imported while the request waits, as before."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from matcher.candidates.models import Candidate
from matcher.extensions import db
from matcher.jobs.models import Job
from tests.jobs.helpers import candidates_csv


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def short_limit(app, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_INLINE_MAX_ROWS", 3)


def upload(api, world, content: bytes, query: str = ""):
    return api.post(f"/api/v1/imports/candidates{query}", headers=world.h("cw_a"),
                    data={"file": (io.BytesIO(content), "people.csv")}, content_type="multipart/form-data")


def test_a_file_over_the_limit_becomes_a_job_and_the_answer_follows_it(api, world, inline, finish, short_limit):
    before = count(Candidate)
    response = upload(api, world, candidates_csv(4))
    assert response.status_code == 202, response.json
    job_id = response.json["id"]
    assert response.headers["Location"].endswith(f"/api/v1/jobs/{job_id}")
    assert response.json["kind"] == "import" and response.json["params"] == {"kind": "candidates", "dry_run": False}
    finish(job_id)
    job = api.get(response.headers["Location"], headers=world.h("cw_a")).json
    assert job["status"] == "succeeded", job
    assert job["result"] == {"kind": "candidates", "dry_run": False, "rows": 4, "created": 4}
    assert count(Candidate) == before + 4


def test_a_dry_run_over_the_limit_is_a_dry_run_job(api, world, inline, finish, short_limit):
    before = count(Candidate)
    response = upload(api, world, candidates_csv(5), "?dry_run=true")
    assert response.status_code == 202
    finish(response.json["id"])
    job = api.get(f"/api/v1/jobs/{response.json['id']}", headers=world.h("cw_a")).json
    assert job["result"]["dry_run"] is True and job["result"]["created"] == 0
    assert count(Candidate) == before


def test_a_file_within_the_limit_is_imported_while_the_request_waits(api, world, inline, short_limit):
    response = upload(api, world, candidates_csv(3))
    assert response.status_code == 200, response.json
    assert response.json == {"kind": "candidates", "dry_run": False, "rows": 3, "created": 3}
    assert count(Job) == 0


def test_blank_rows_do_not_count_towards_the_limit(api, world, inline, short_limit):
    response = upload(api, world, candidates_csv(2) + b"\r\n" * 10_000 + b",,,,\r\n" * 100)
    assert response.status_code == 200, response.json
    assert count(Job) == 0


def test_a_bad_file_over_the_limit_is_refused_at_once(api, world, inline, short_limit):
    response = upload(api, world, candidates_csv(5).replace(b"name,", b"nme,", 1))
    assert response.status_code == 422
    assert "columns" in response.json["errors"]
    assert count(Job) == 0
