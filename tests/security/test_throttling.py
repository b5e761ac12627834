"""Login throttling (Flask-Limiter): per client address and per username, answered 429 in the asker's format.
Off in the other tests; switched on here."""

from __future__ import annotations

import pytest

from .conftest import Pages, call_api


@pytest.fixture
def throttled(app, monkeypatch):
    limiter = app.extensions["xintu_limiter"]
    limiter.reset()
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT_ENABLED", True)
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT_PER_USERNAME", "3 per minute")
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT_PER_ADDRESS", "6 per minute")
    yield
    limiter.reset()


def _attempt(client, username: str):
    return call_api(client, "POST", "/api/v1/auth/tokens", json={"username": username, "password": "wrong"},
                    headers={"Accept-Language": "en"})


def test_api_logins_are_throttled_per_username_then_per_address(client, world, throttled):
    assert [_attempt(client, "org").status_code for _ in range(3)] == [401] * 3
    limited = _attempt(client, "org")
    assert limited.status_code == 429
    assert limited.json["code"] == 429 and limited.json["message"] == "Too many requests."
    assert "Retry-After" in limited.headers
    # Other usernames from the same address: the address's six per minute run out too.
    statuses = [_attempt(client, f"user{n}").status_code for n in range(4)]
    assert statuses[0] == 401 and statuses[-1] == 429, statuses


def test_page_logins_are_throttled_with_a_page(app, world, throttled):
    page = Pages(app)
    for _ in range(3):
        assert page.try_login("org", "wrong").status_code == 401
    response = page.try_login("org", "wrong")
    assert response.status_code == 429
    assert response.mimetype == "text/html" and "Too many requests." in response.get_data(as_text=True)


def test_throttling_is_off_in_tests_unless_switched_on(client, world, app):
    assert app.config["LOGIN_RATE_LIMIT_ENABLED"] is False
    assert all(_attempt(client, "org").status_code == 401 for _ in range(12))
