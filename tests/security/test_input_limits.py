"""Input the API refuses on every endpoint, walked from the URL map and the OpenAPI document: query parameters an
operation does not declare (422 naming each), and JSON bodies nested too deeply (400, before anything recurses)."""

from __future__ import annotations

import re

import pytest

from matcher.apiutil import declared_query_parameters
from matcher.security import MAX_JSON_DEPTH

from .conftest import PASSWORD, call_api

UNKNOWN = "definitely_not_a_parameter"


def _operations(app):
    """(method, url, operation) for every API operation, its path parameters filled with values that route."""
    spec = app.test_client().get("/api/openapi.json").json
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/api/v1"):
            continue
        values = {name: min(getattr(converter, "items", ["1"])) for name, converter in rule._converters.items()}
        url = app.url_map.bind("localhost").build(rule.endpoint, values)
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, url, spec["paths"][path][method.lower()]


def _nested(depth: int) -> str:
    """A JSON object whose `x` is `depth - 1` arrays deep: `depth` levels in all."""
    return '{"x": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"


# ---- unknown query parameters ----------------------------------------------------------------------------------

def test_a_misspelt_filter_is_refused_not_ignored(api, world):
    answer = api.get("/api/v1/referrals?stauts=sent&pag=2", headers=world.h("admin"))
    assert answer.status_code == 422
    assert answer.json == {
        "code": 422, "status": "Unprocessable Entity",
        "message": "Unknown query parameters: check their spelling against the API documentation.",
        "errors": {"stauts": ["Unknown query parameter."], "pag": ["Unknown query parameter."]}}
    chinese = api.get("/api/v1/referrals?stauts=sent", headers=world.h("admin", "zh-CN"))
    assert chinese.status_code == 422 and chinese.json["errors"]["stauts"] == ["未知的查询参数。"]
    # What the operation declares passes: its filters, pagination and the language.
    listed = api.get("/api/v1/referrals?status=sent&page=1&page_size=5&lang=zh", headers=world.h("admin"))
    assert listed.status_code == 200, listed.json


def test_every_operation_refuses_a_query_parameter_it_does_not_declare(app, client, world):
    admin = world.h("admin")
    wrong = []
    for method, url, _operation in _operations(app):
        answer = call_api(client, method, f"{url}?{UNKNOWN}=1&lang=en", headers=admin)
        if answer.status_code != 422 or set(answer.json.get("errors", {})) != {UNKNOWN}:
            wrong.append((method, url, answer.status_code))
    assert not wrong


def test_an_anonymous_write_is_refused_for_the_missing_token_first(client, ctx):
    answer = call_api(client, "POST", f"/api/v1/candidates?{UNKNOWN}=1", json={})
    assert answer.status_code == 401


def test_the_document_declares_what_every_operation_takes_and_answers(app):
    """Every operation documents `lang` and the 422 of an unknown query parameter, and the refusal covers every
    operation of the URL map (what is refused and what is documented come from the same document)."""
    operations = list(_operations(app))
    assert all(any(p["in"] == "query" and p["name"] == "lang" for p in operation["parameters"])
               and "422" in operation["responses"] for _method, _url, operation in operations)
    spec = app.test_client().get("/api/openapi.json").json
    declared = declared_query_parameters(app, spec)
    assert len(declared) == len(operations)
    assert declared[("referrals.Referrals", "GET")] >= {"status", "page", "page_size", "lang"}


# ---- deeply nested JSON ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 500, 100_000])
def test_the_login_refuses_deeply_nested_json(app, client, ctx, monkeypatch, depth):
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT_ENABLED", True)  # its key reads the username from the body
    answer = call_api(client, "POST", "/api/v1/auth/tokens", data=_nested(depth), content_type="application/json",
                      headers={"Accept-Language": "en"})
    assert answer.status_code == 400
    message = f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep."
    assert answer.json == {"code": 400, "status": "Bad Request", "message": message, "errors": {"json": [message]}}


def test_json_nested_up_to_the_limit_is_read_as_usual(client, world):
    answer = call_api(client, "POST", "/api/v1/auth/tokens", data=_nested(MAX_JSON_DEPTH),
                      content_type="application/json", headers={"Accept-Language": "en"})
    assert answer.status_code == 422 and "json" not in answer.json["errors"]  # the schema's own answer
    login = call_api(client, "POST", "/api/v1/auth/tokens", json={"username": "cw_a", "password": PASSWORD})
    assert login.status_code == 201


def test_every_operation_that_reads_json_refuses_it_nested_too_deeply(app, client, world):
    admin = world.h("admin")
    wrong, checked = [], 0
    for method, url, operation in _operations(app):
        if "application/json" not in operation.get("requestBody", {}).get("content", {}):
            continue
        checked += 1
        answer = call_api(client, method, url, data=_nested(500), content_type="application/json", headers=admin)
        if answer.status_code != 400 or "json" not in answer.json.get("errors", {}):
            wrong.append((method, url, answer.status_code))
    assert checked > 30 and not wrong
