"""The job pages: start a batch assignment, an import or training from a form, follow the job's page (its status
JSON, polled by static/js/jobs.js), and reach the result; others' jobs are not found."""

from __future__ import annotations

import io
import re

import pytest

from matcher.extensions import db
from tests.jobs.helpers import candidates_csv
from tests.web.conftest import PageClient


@pytest.fixture
def browser(app, world, inline):
    db.session.commit()

    def make(username, lang="en"):
        return PageClient(app, lang).login(username)

    return make


def job_id_of(response) -> int:
    assert response.status_code == 303, response.get_data(as_text=True)[:800]
    return int(re.search(r"/jobs/(\d+)$", response.headers["Location"]).group(1))


def test_an_organiser_runs_a_batch_assignment_and_reaches_the_draft(browser, finish):
    page = browser("org")
    listing = page.get("/jobs")
    assert listing.status_code == 200 and 'data-testid="assignment-form"' in listing.get_data(as_text=True)
    job_id = job_id_of(page.post("/jobs/assignment", {"key_subject_weight": "0.5", "district": ""}))
    running = page.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "js/jobs.js" in running and "<progress" in running
    finish(job_id)
    status = page.get(f"/jobs/{job_id}/status.json").get_json()
    assert status["status"] == "succeeded" and status["percent"] == 100
    done = page.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert f"/api/v1/assignments/{status['result']['draft_id']}" in done
    assert "data-job-status-url" not in done  # finished: nothing to poll
    assert f'data-testid="job-{job_id}"' in page.get("/jobs").get_data(as_text=True)


def test_bad_assignment_fields_are_shown_next_to_them(browser):
    response = browser("admin").post("/jobs/assignment", {"key_subject_weight": "9"})
    assert response.status_code == 422
    assert 'id="key_subject_weight-error"' in response.get_data(as_text=True)
    backwards = browser("admin").post("/jobs/assignment", {"released_from": "2025-03-01", "released_to": "2025-02-01"})
    assert backwards.status_code == 422
    assert 'id="released_to-error"' in backwards.get_data(as_text=True)


def test_a_batch_assignment_for_a_release_period_from_the_page(browser, finish):
    page = browser("admin")
    assert 'name="released_from"' in page.get("/jobs").get_data(as_text=True)
    job_id = job_id_of(page.post("/jobs/assignment", {"released_from": "2000-01-01", "released_to": "2000-12-31"}))
    finish(job_id)
    status = page.get(f"/jobs/{job_id}/status.json").get_json()
    assert status["status"] == "succeeded" and status["result"]["summary"]["candidates"] == 0  # nobody then


def test_a_caseworker_imports_a_file_and_sees_the_outcome_in_chinese(browser, finish):
    page = browser("cw_a", lang="zh")
    assert 'data-testid="assignment-form"' not in page.get("/jobs").get_data(as_text=True)
    job_id = job_id_of(page.post("/jobs/import", {"kind": "candidates",
                                                  "file": (io.BytesIO(candidates_csv(2)), "people.csv")},
                                 content_type="multipart/form-data"))
    finish(job_id)
    html = page.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert 'data-testid="created">2<' in html
    assert "导入文件" in html  # the kind's label, in Chinese


def test_an_import_without_a_file_is_refused_on_the_form(browser):
    response = browser("cw_a").post("/jobs/import", {"kind": "candidates"}, content_type="multipart/form-data")
    assert response.status_code == 422 and 'id="file-error"' in response.get_data(as_text=True)


def test_an_administrator_trains_from_the_models_page(browser, finish):
    page = browser("admin")
    assert 'data-testid="train-form"' in page.get("/admin/models").get_data(as_text=True)
    job_id = job_id_of(page.post("/jobs/train", {"horizon_days": "90", "activate": "1"}))
    finish(job_id)
    html = page.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert 'data-testid="result-link"' in html and "/admin/models" in html


def test_others_jobs_are_not_found(browser, finish):
    owner = browser("cw_a")
    job_id = job_id_of(owner.post("/jobs/import", {"kind": "candidates",
                                                   "file": (io.BytesIO(candidates_csv(1)), "people.csv")},
                                  content_type="multipart/form-data"))
    finish(job_id)
    other = browser("cw_b")
    assert other.get(f"/jobs/{job_id}").status_code == 404
    assert other.get(f"/jobs/{job_id}/status.json").status_code == 404
    assert browser("admin").get(f"/jobs/{job_id}").status_code == 200
    assert browser("cw_b").post("/jobs/train", {"horizon_days": "90"}).status_code == 404
    assert browser("emp_a").post("/jobs/assignment", {}).status_code == 404


def test_the_background_jobs_page_has_its_own_words_in_chinese(browser, finish):
    """Today the list borrows the job-slot vocabulary: "就业岗位" over the jobs, "已上岗" over their start and a
    link "开放"; and the title "任务" is the navigation's."""
    page = browser("org", lang="zh")
    job_id = job_id_of(page.post("/jobs/assignment", {"key_subject_weight": "0.5"}))
    finish(job_id)
    html = page.get("/jobs").get_data(as_text=True)
    table = html.split('data-testid="jobs"', 1)[1].split("</table>", 1)[0]
    head = table.split("</thead>", 1)[0]
    assert "<h1>后台任务</h1>" in html
    assert "就业岗位" not in head and "已上岗" not in head and "开放" not in table
    assert "任务" in head and "提交于" in head and "任务状态" in head
    assert ">查看</a>" in html


def test_the_jobs_list_searches_and_sorts(browser, finish):
    page = browser("org", lang="zh")
    first = job_id_of(page.post("/jobs/assignment", {"key_subject_weight": "0.5"}))
    second = job_id_of(page.post("/jobs/assignment", {"key_subject_weight": "0.2"}))
    finish(first)
    finish(second)
    listed = page.get("/jobs").get_data(as_text=True)
    assert listed.index(f'data-testid="job-{second}"') < listed.index(f'data-testid="job-{first}"')  # newest first
    oldest_first = page.get("/jobs?sort=id").get_data(as_text=True)
    assert oldest_first.index(f'data-testid="job-{first}"') < oldest_first.index(f'data-testid="job-{second}"')
    assert 'aria-sort="ascending"' in oldest_first
    only = page.get(f"/jobs?q={first}").get_data(as_text=True)
    assert f'data-testid="job-{first}"' in only and f'data-testid="job-{second}"' not in only
    by_label = page.get("/jobs?q=批量").get_data(as_text=True)  # any part of the label shown: 批量分配
    assert f'data-testid="job-{first}"' in by_label
    assert 'data-testid="job-' not in page.get("/jobs?q=导入").get_data(as_text=True)
    assert page.get("/jobs?sort=bogus").status_code == 200


def test_an_organiser_plans_with_seats_held_and_sees_the_gain_in_chinese(browser, finish):
    page = browser("org", lang="zh")
    assert 'name="hold_seats"' in page.get("/jobs").get_data(as_text=True)
    job_id = job_id_of(page.post("/jobs/assignment", {"hold_seats": "1", "horizon_days": "60"}))
    finish(job_id)
    html = page.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert 'data-testid="holding"' in html and "预留名额时预计稳定就业人数" in html and "前瞻 60 天" in html
    assert 'data-testid="expected-gain"' in html
    refused = page.post("/jobs/assignment", {"hold_seats": "1", "horizon_days": "500"})
    assert refused.status_code == 422 and 'id="horizon_days-error"' in refused.get_data(as_text=True)
