"""The page tests' client: a browser-like test client that logs in through the form, with its CSRF token."""

from __future__ import annotations

import re

import pytest

from matcher.extensions import db

PASSWORD = "correct-horse-battery"  # tests/conftest.py PASSWORD
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class PageClient:
    """A browser-like client: cookies kept, CSRF token read from the last page, a fresh `g` per request
    (tests hold an app context, which would otherwise carry the logged-in user and locale over)."""

    def __init__(self, app, lang: str = "zh"):
        self.client = app.test_client()
        self.lang = lang
        self.token = None

    def _open(self, method, url, **kwargs):
        from flask import g

        for key in ("_login_user", "_flask_babel", "csrf_token"):
            g.pop(key, None)
        headers = {"Accept-Language": "en" if self.lang == "en" else "zh-CN", "Accept": "text/html",
                   **kwargs.pop("headers", {})}
        try:
            response = self.client.open(url, method=method, headers=headers, **kwargs)
        finally:
            db.session.rollback()
        found = TOKEN.search(response.get_data(as_text=True)) if response.mimetype == "text/html" else None
        if found:
            self.token = found.group(1)
        return response

    def get(self, url, **kwargs):
        return self._open("GET", url, **kwargs)

    def post(self, url, data=None, csrf=True, **kwargs):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.token)
        return self._open("POST", url, data=data, **kwargs)

    def login(self, username):
        self.get("/login")
        response = self.post("/login", {"username": username, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        # The login starts a new session, and with it a new CSRF token: read it from any page, as a browser
        # would from the page it lands on (the not-found page is the cheapest that carries the token).
        self.get("/-/csrf-token")
        return self


@pytest.fixture
def browser(app, world):
    """`browser("emp_a", lang="en")`: a client logged in as that account; `browser()`: not logged in."""
    db.session.commit()

    def make(username=None, lang="zh"):
        client = PageClient(app, lang)
        return client.login(username) if username else client

    return make
