"""The pre-release hand-over page with a list too long to check or import while the page waits (issue 16): it goes
to a background job by itself, and the page goes to the job's page, which shows the figures per office."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io

import pytest

from matcher.clock import today
from matcher.extensions import db
from matcher.jobs import service as jobs
from matcher.jobs.models import Job


def release_list(kit, count: int) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["姓名", "身份证号", "文化程度", "释放日期", "释放单位", "罪名类别", "户籍地", "居住地",
                     "重点帮教对象"])
    release = (today() + dt.timedelta(days=20)).isoformat()
    for n in range(count):
        writer.writerow([f"王{n}", kit.make_id_number(seq=600 + n), "初中", release, "浙江省第一监狱", "盗窃",
                         kit.CHOUCHENG, kit.CHOUCHENG, "否"])
    return buffer.getvalue().encode("gbk")


@pytest.fixture
def short_limit(app, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_INLINE_MAX_ROWS", 2)
    monkeypatch.setitem(app.config, "REDIS_URL", None)


def finished(job_id: int) -> Job:
    db.session.commit()
    assert jobs.wait(job_id, timeout=60)
    db.session.expire_all()
    return db.session.get(Job, job_id)


def test_a_long_list_is_checked_then_imported_as_jobs_whose_page_the_page_goes_to(browser, world, kit, short_limit):
    page = browser("admin", "en")
    content = release_list(kit, 3)
    response = page.post("/admin/release-lists/preview", {"file": (io.BytesIO(content), "名单.csv")},
                         content_type="multipart/form-data")
    assert response.status_code == 303
    job_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    assert finished(job_id).status.value == "succeeded"
    body = page.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert 'data-testid="by-office"' in body and 'data-testid="import-again"' in body

    response = page.post("/admin/release-lists/import", {"content": base64.b64encode(content).decode(),
                                                         "filename": "名单.csv"})
    assert response.status_code == 303
    job_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    job = finished(job_id)
    assert job.status.value == "succeeded", job.error
    body = page.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert 'data-testid="created">3<' in body and 'data-testid="by-office"' in body


def test_a_short_list_is_still_checked_on_the_page(browser, world, kit, short_limit):
    page = browser("admin", "en")
    response = page.post("/admin/release-lists/preview", {"file": (io.BytesIO(release_list(kit, 2)), "名单.csv")},
                         content_type="multipart/form-data")
    assert response.status_code == 200
    assert 'data-testid="preview"' in response.get_data(as_text=True)
