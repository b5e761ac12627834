"""Every state-changing page route refuses a POST without the CSRF token; the API routes take no CSRF token
but refuse any write without a bearer token (the session cookie does not count there)."""

from __future__ import annotations

import re

from .conftest import call_api

CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def _url(rule) -> str:
    """The rule with a plausible value for each parameter (`any(a, b)` takes its first choice)."""

    def value(match: re.Match) -> str:
        converter = match.group(1) or ""
        choices = re.match(r"any\(([^,)]+)", converter)
        return choices.group(1).strip() if choices else "1"

    return re.sub(r"<(?:([^:>]+):)?[^>]+>", value, rule.rule)


def _changing_routes(app, *, api: bool):
    rules = [rule for rule in app.url_map.iter_rules()
             if rule.methods & CHANGING and rule.rule.startswith("/api/") == api]
    return sorted((method, _url(rule), rule.endpoint) for rule in rules for method in rule.methods & CHANGING)


def test_every_state_changing_page_route_needs_the_csrf_token(app, pages):
    routes = _changing_routes(app, api=False)
    assert len(routes) > 30 and all(endpoint.startswith("web.") for _m, _u, endpoint in routes)
    admin = pages("admin")
    for method, url, endpoint in routes:
        response = admin.open(method, url, data={"anything": "1"})
        assert response.status_code == 400, (method, url, endpoint, response.status_code)
        assert "The request could not be understood." in response.get_data(as_text=True), url
    # The same without any session: refused just the same.
    anonymous = pages()
    for method, url, _endpoint in routes:
        assert anonymous.open(method, url, data={}).status_code == 400, url


def test_the_login_and_logout_forms_need_the_token_too(pages):
    client = pages()
    client.get("/login")
    response = client.post("/login", {"username": "cw_a", "password": "correct-horse-battery"}, csrf=False)
    assert response.status_code == 400
    logged_in = pages("cw_a")
    assert logged_in.post("/logout", csrf=False).status_code == 400
    assert logged_in.get("/caseworker").status_code == 200  # still logged in


def test_api_routes_are_exempt_but_need_a_bearer_token(app, pages, client, world):
    routes = _changing_routes(app, api=True)
    assert len(routes) > 30
    logged_in = pages("admin")  # holds a page session cookie: the API must not accept it
    for method, url, endpoint in routes:
        if (method, endpoint) == ("POST", "auth.Tokens"):
            continue
        response = call_api(logged_in.client, method, url, json={})
        assert response.status_code == 401, (method, url, response.status_code)
        assert response.is_json and response.json["code"] == 401, url
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    # With a token and without any CSRF token, a write goes through (here: read all notifications).
    answer = call_api(client, "POST", "/api/v1/notifications/read-all", headers=world.h("cw_a"))
    assert answer.status_code < 300, answer.json
    # Logging in needs no token of any kind.
    login = call_api(client, "POST", "/api/v1/auth/tokens", json={"username": "cw_a",
                                                                  "password": "correct-horse-battery"})
    assert login.status_code == 201
