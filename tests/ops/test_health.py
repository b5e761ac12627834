"""GET /healthz (liveness, no database) and GET /readyz (database, migrations, model, Redis when configured)."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

SECRET_DSN = "postgresql://xintu:s3cret-pw@db.internal.example:5432/xintu"


def _no_session_touched(response):
    # (Flask-Login's after-request hook reads the session, hence `Vary: Cookie`; nothing is written.)
    assert "Set-Cookie" not in response.headers


def _unreachable(*_args, **_kwargs):
    raise OperationalError("SELECT 1", {}, Exception(f'connection to "{SECRET_DSN}" failed: timeout'))


def test_healthz_is_live_without_the_database(client, monkeypatch):
    monkeypatch.setattr(Session, "execute", _unreachable)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "ok"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Request-ID"]
    _no_session_touched(response)


def test_readyz_is_ready_with_database_migrations_and_model(client, at_head, active_model):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json == {"status": "ready", "checks": {
        "database": "ok", "migrations": "ok", "model": "ok", "redis": "not configured"}}
    assert response.headers["Cache-Control"] == "no-store"
    _no_session_touched(response)


def test_readyz_503_without_an_active_model(client, at_head):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["failing"] == ["model"]
    assert response.json["checks"]["database"] == "ok"
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_503_when_the_schema_is_behind(client, session, active_model):
    from sqlalchemy import text

    session.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
    session.execute(text("INSERT INTO alembic_version VALUES ('0001')"))
    session.commit()
    try:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json["failing"] == ["migrations"]
    finally:
        session.execute(text("DROP TABLE alembic_version"))
        session.commit()


def test_readyz_503_when_the_database_is_unreachable_says_nothing_of_it(client, monkeypatch, caplog):
    monkeypatch.setattr(Session, "execute", _unreachable)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["failing"] == ["database", "migrations", "model"]
    assert response.json["checks"]["migrations"] == "not checked"
    body = response.get_data(as_text=True)
    for internal in ("s3cret", "db.internal", "5432", "postgresql://", "timeout", "OperationalError"):
        assert internal not in body
    assert "s3cret" not in caplog.text and "db.internal" not in caplog.text
    assert "database failing (OperationalError)" in caplog.text


@pytest.mark.parametrize("where", ["config", "environment"])
def test_readyz_checks_redis_only_when_configured(client, app, at_head, active_model, monkeypatch, where):
    unreachable = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    if where == "config":
        monkeypatch.setitem(app.config, "REDIS_URL", unreachable)
    else:
        monkeypatch.setenv("XINTU_REDIS_URL", unreachable)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["failing"] == ["redis"]
    assert "127.0.0.1" not in response.get_data(as_text=True)


def test_redis_that_answers_is_ready(client, app, at_head, active_model, monkeypatch):
    import redis

    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setattr(redis.Redis, "ping", lambda self: True)
    response = client.get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json["checks"]["redis"] == "ok"


def test_ops_endpoints_stay_out_of_a_logged_in_session(client, world, kit):
    from flask import g

    page = client.get("/login")
    token = page.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    g.pop("_login_user", None)
    logged_in = client.post("/login", data={"username": "cw_a", "password": kit.PASSWORD, "csrf_token": token})
    assert logged_in.status_code == 302
    with client.session_transaction() as kept:  # last seen two minutes ago: a page would refresh the cookie
        kept["seen_at"] -= 120
    for url in ("/healthz", "/readyz", "/metrics"):
        g.pop("_login_user", None)
        response = client.get(url)
        assert response.status_code in (200, 503), url
        _no_session_touched(response)
        assert "_login_user" not in g  # the account was never loaded
    g.pop("_login_user", None)
    assert "Set-Cookie" in client.get("/caseworker").headers  # (a page does refresh it)


@pytest.mark.parametrize("offered", ["0f8e2c4a-9b1d-4e7f-a3c5-6d2b8e1f4a90", "0F8E2C4A9B1D4E7FA3C56D2B8E1F4A90"])
def test_a_uuid_request_id_is_echoed(client, offered):
    assert client.get("/healthz", headers={"X-Request-ID": offered}).headers["X-Request-ID"] == offered


@pytest.mark.parametrize("offered", [
    "110101199003077777",  # an ID number: letters and digits, as an id may be
    "lb-7f3a.42", "张三 13812345678 <script>",
    "0f8e2c4a-9b1d-4e7f-a3c5-6d2b8e1f4a9", "0f8e2c4a9b1d4e7fa3c56d2b8e1f4a9g",  # a digit short, not hex
    "{0f8e2c4a-9b1d-4e7f-a3c5-6d2b8e1f4a90}", "0f8e2c4a-9b1d4e7f-a3c5-6d2b8e1f4a90",
])
def test_anything_but_a_uuid_is_replaced_and_never_logged(client, offered, logs):
    made = client.get("/healthz", headers={"X-Request-ID": offered}).headers["X-Request-ID"]
    assert made != offered and len(made) == 32 and made.isalnum()
    assert offered not in logs.everything()


def test_each_request_gets_its_own_id(client):
    assert client.get("/login").headers["X-Request-ID"] != client.get("/login").headers["X-Request-ID"]
