"""No stack traces or internals in any answer; debug off by default; a modern password hash."""

from __future__ import annotations

import pytest
from werkzeug.security import check_password_hash

from matcher.config import Config


def _boom(*_args, **_kwargs):
    raise RuntimeError("secret internals: /srv/xintu/matcher/thing.py line 42")


@pytest.mark.parametrize("accept", ["text/html", "application/json"])
def test_an_unexpected_error_answers_the_generic_page_or_json(app, client, monkeypatch, accept, world):
    monkeypatch.setitem(app.view_functions, "web.login", _boom)
    response = client.get("/login", headers={"Accept": accept, "Accept-Language": "en"})
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    for leak in ("Traceback", "RuntimeError", "secret internals", ".py", "line 42"):
        assert leak not in body, leak
    assert "Something went wrong on our side" in body
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_an_unexpected_api_error_answers_json(app, client, monkeypatch, world):
    monkeypatch.setitem(app.view_functions, "auth.Me", _boom)
    response = client.get("/api/v1/me", headers=world.h("cw_a"))
    assert response.status_code == 500 and response.is_json
    assert response.json == {"code": 500, "status": "Internal Server Error",
                             "message": "Something went wrong on our side; it has been logged."}


def test_debug_is_off_and_passwords_use_scrypt_by_default(app):
    assert not getattr(Config, "DEBUG", False) and not app.debug
    assert Config.PASSWORD_HASH_METHOD == "scrypt"
    assert Config.SESSION_COOKIE_SECURE and Config.SESSION_COOKIE_HTTPONLY and Config.SESSION_COOKIE_SAMESITE == "Lax"
    from matcher.auth.service import hash_password

    with app.test_request_context():
        app.config["PASSWORD_HASH_METHOD"], saved = Config.PASSWORD_HASH_METHOD, app.config["PASSWORD_HASH_METHOD"]
        try:
            stored = hash_password("a-long-enough-password")
        finally:
            app.config["PASSWORD_HASH_METHOD"] = saved
    assert stored.startswith("scrypt:32768:8:1$")
    assert check_password_hash(stored, "a-long-enough-password")
