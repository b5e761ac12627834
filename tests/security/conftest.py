"""Security tests' helpers: a page client that logs in through the form (CSRF token included)."""

from __future__ import annotations

import re

import pytest

from matcher.extensions import db

PASSWORD = "correct-horse-battery"  # tests/conftest.py PASSWORD
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
SESSION_COOKIE = "session"


class Pages:
    """Cookies kept, the CSRF token read from the last page, a fresh `g` per request (tests hold an app
    context, which would otherwise carry the logged-in user over from one request to the next)."""

    def __init__(self, app, lang: str = "en"):
        self.app = app
        self.client = app.test_client()
        self.lang = lang
        self.token: str | None = None

    def open(self, method: str, url: str, **kwargs):
        from flask import g

        for key in ("_login_user", "_flask_babel", "csrf_token"):
            g.pop(key, None)
        headers = {"Accept-Language": self.lang, "Accept": "text/html", **kwargs.pop("headers", {})}
        try:
            response = self.client.open(url, method=method, headers=headers, **kwargs)
        finally:
            db.session.rollback()
        found = TOKEN.search(response.get_data(as_text=True)) if response.mimetype == "text/html" else None
        if found:
            self.token = found.group(1)
        return response

    def get(self, url: str, **kwargs):
        return self.open("GET", url, **kwargs)

    def post(self, url: str, data: dict | None = None, csrf: bool = True, **kwargs):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.token)
        return self.open("POST", url, data=data, **kwargs)

    def try_login(self, username: str, password: str = PASSWORD):
        self.get("/login")
        return self.post("/login", {"username": username, "password": password})

    def login(self, username: str):
        response = self.try_login(username)
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        self.get("/-/csrf-token")  # the new session's CSRF token, from any page (here the cheap 404 page)
        return self

    def session_cookie(self) -> str | None:
        cookie = self.client.get_cookie(SESSION_COOKIE)
        return cookie.value if cookie else None

    def session_data(self) -> dict:
        with self.client.session_transaction() as data:
            return dict(data)


@pytest.fixture
def pages(app, world):
    """`pages("cw_a")`: a client logged in as that account; `pages()`: not logged in."""
    db.session.commit()

    def make(username: str | None = None, lang: str = "en") -> Pages:
        client = Pages(app, lang)
        return client.login(username) if username else client

    return make


def call_api(client, method: str, url: str, **kwargs):
    """An API call through the plain test client, with a fresh `g` (see Pages)."""
    from flask import g

    g.pop("_login_user", None)
    try:
        return client.open(url, method=method, **kwargs)
    finally:
        db.session.rollback()
