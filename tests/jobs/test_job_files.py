"""A queued import's file (plaintext ID numbers, names) leaves Redis as soon as the job ends, whether it
succeeded, failed or its worker died; what stays is only what the job's status needs (ids)."""

from __future__ import annotations

import io
import zlib

import pytest

import matcher.transfer.service as transfer_service
from matcher.extensions import db
from matcher.jobs import service
from matcher.jobs.models import Job
from tests.conftest import make_id_number
from tests.jobs.helpers import candidates_csv

DIED = "The worker running this job stopped before it finished"


class WorkerKilled(BaseException):
    """Stands for the worker being stopped: nothing the job's code could catch and handle."""


def submit_import(api, world, content: bytes, dry_run: bool = False) -> Job:
    response = api.post(f"/api/v1/jobs/imports/candidates?dry_run={str(dry_run).lower()}", headers=world.h("cw_a"),
                        data={"file": (io.BytesIO(content), "people.csv")}, content_type="multipart/form-data")
    assert response.status_code == 202, response.json
    return db.session.get(Job, response.json["id"])


def stored_values(connection, key: bytes) -> list[bytes]:
    kind = connection.type(key)
    if kind == b"string":
        return [connection.get(key)]
    if kind == b"hash":
        return list(connection.hgetall(key).values())
    if kind == b"list":
        return connection.lrange(key, 0, -1)
    if kind == b"set":
        return list(connection.smembers(key))
    if kind == b"zset":
        return connection.zrange(key, 0, -1)
    if kind == b"stream":  # RQ keeps results in streams
        return [value for _id, fields in connection.xrange(key) for value in fields.values()]
    return []


def keys_holding(queue, job: Job, secrets: list[bytes]) -> list[bytes]:
    """Keys of this test's queue and job whose values (zlib-compressed ones unpacked, as RQ stores a job's data)
    hold any of the secrets. Other keys in the database may belong to someone else's tests."""
    connection = queue.connection
    found = []
    for key in connection.scan_iter():
        if queue.name.encode() not in key and job.queue_job_id.encode() not in key:
            continue
        for value in stored_values(connection, key):
            forms = [value]
            try:
                forms.append(zlib.decompress(value))
            except (zlib.error, TypeError):
                pass
            if any(secret in form for secret in secrets for form in forms):
                found.append(key)
    return found


def secrets_of(n: int) -> list[bytes]:
    return [make_id_number(seq=200 + i).encode() for i in range(n)] + ["导入200".encode()]


@pytest.mark.parametrize("dry_run", [False, True])
def test_a_failed_import_leaves_nothing_of_its_file_in_redis(api, world, rq_queue, work, dry_run):
    job = submit_import(api, world, candidates_csv(3, bad_row=1), dry_run=dry_run)
    assert keys_holding(rq_queue, job, secrets_of(3))  # the file waits for a worker (the check finds it)
    work()
    view = api.get(f"/api/v1/jobs/{job.id}", headers=world.h("cw_a")).json
    assert view["status"] == "failed" and list(view["errors"]["rows"]) == ["3"], view
    assert keys_holding(rq_queue, job, secrets_of(3)) == []
    # What stays is the RQ job's record, for the status: the job's id and the name of a key now gone.
    rq_job = rq_queue.fetch_job(job.queue_job_id)
    assert rq_job is not None and rq_job.args == (job.id, service.PAYLOAD_KEY.format(rq_id=job.queue_job_id))
    assert not rq_queue.connection.exists(rq_job.args[1])


def test_a_successful_import_leaves_nothing_either(api, world, rq_queue, work):
    job = submit_import(api, world, candidates_csv(2))
    work()
    assert api.get(f"/api/v1/jobs/{job.id}", headers=world.h("cw_a")).json["status"] == "succeeded"
    assert keys_holding(rq_queue, job, secrets_of(2)) == []


def test_a_worker_that_dies_halfway_leaves_nothing_of_the_file(api, world, rq_queue, work, monkeypatch):
    original, calls = transfer_service._load_row, {"n": 0}

    def dies_on_the_second_row(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise WorkerKilled
        return original(*args, **kwargs)

    monkeypatch.setattr(transfer_service, "_load_row", dies_on_the_second_row)
    job = submit_import(api, world, candidates_csv(3))
    work()  # RQ keeps the failed job a day (FAILURE_TTL): without the file
    assert rq_queue.failed_job_registry.get_job_ids() == [job.queue_job_id]
    assert keys_holding(rq_queue, job, secrets_of(3)) == []
    view = api.get(f"/api/v1/jobs/{job.id}", headers=world.h("cw_a")).json
    assert view["status"] == "failed" and view["error"].startswith(DIED)


def test_a_dead_workers_file_is_deleted_when_its_job_is_marked_failed(api, world, rq_queue):
    job = submit_import(api, world, candidates_csv(2))
    key = service.PAYLOAD_KEY.format(rq_id=job.queue_job_id)
    assert rq_queue.connection.ttl(key) <= service.PAYLOAD_TTL  # never kept for ever, even if nobody looks
    rq_queue.fetch_job(job.queue_job_id).delete()  # its worker died and RQ's record of it is gone: not the file
    assert rq_queue.connection.exists(key)
    view = api.get(f"/api/v1/jobs/{job.id}", headers=world.h("cw_a")).json
    assert view["status"] == "failed" and view["error"].startswith(DIED)
    assert not rq_queue.connection.exists(key)
    assert keys_holding(rq_queue, job, secrets_of(2)) == []


def test_a_job_whose_file_expired_says_so(api, world, rq_queue, work):
    job = submit_import(api, world, candidates_csv(2))
    rq_queue.connection.delete(service.PAYLOAD_KEY.format(rq_id=job.queue_job_id))  # as PAYLOAD_TTL would
    work()
    for lang, words in (("en", "The uploaded file is no longer kept"), ("zh", "上传的文件已不再保留")):
        view = api.get(f"/api/v1/jobs/{job.id}", headers=world.h("cw_a", lang)).json
        assert view["status"] == "failed" and view["error"].startswith(words), view
