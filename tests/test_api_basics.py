"""What every API answer shares: health, the OpenAPI document and offline docs page, the JSON error
shape in Chinese or English, bad bodies, pagination and sorting."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from werkzeug.routing import Rule

from matcher import clock

CJK = re.compile(r"[\u4e00-\u9fff]")


def soon() -> str:
    """A start a new slot may have: next week (a new slot cannot start before today)."""
    return (clock.today() + dt.timedelta(days=7)).isoformat()


def _has_chinese(text: str) -> bool:
    return bool(CJK.search(text))


def _flat(messages) -> list[str]:
    """A field's messages, whatever nesting the error tree uses."""
    if isinstance(messages, dict):
        return [m for value in messages.values() for m in _flat(value)]
    if isinstance(messages, list | tuple):
        return [m for value in messages for m in _flat(value)]
    return [str(messages)]


# ---- health, OpenAPI, docs ---------------------------------------------------------------------------

def test_healthz_answers_json(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.is_json
    assert response.json["status"] == "ok"
    assert response.json["database"] in ("sqlite", "postgresql")


def _openapi_path(rule: Rule) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)


def test_openapi_lists_every_api_path_and_method(client, app):
    spec = client.get("/api/openapi.json").json
    documented = spec["paths"]
    routes = [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")]
    assert len(routes) >= 25
    for rule in routes:
        path = _openapi_path(rule)
        assert path in documented, f"{rule.rule} is not in the OpenAPI document"
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in documented[path], f"{method} {rule.rule} is not documented"
    assert set(documented) == {_openapi_path(rule) for rule in routes}


def test_openapi_declares_bearer_auth(client):
    spec = client.get("/api/openapi.json").json
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    assert {"bearerAuth": []} in spec["security"]
    # Logging in is the one operation that needs no token.
    assert spec["paths"]["/api/v1/auth/tokens"]["post"]["security"] == []
    assert spec["info"]["title"].startswith("Xintu")


def test_docs_page_uses_only_local_assets(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "swagger-init.js" in html  # starts SwaggerUIBundle from a static file: no inline script (CSP)
    assert not re.search(r"https?://", html), "the docs page must work offline"
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert assets
    assert all(asset.startswith("/static/vendor/swagger-ui/") or asset == "/static/swagger-init.js"
               for asset in assets), assets
    assert {asset.rsplit("/", 1)[-1] for asset in assets} >= {"swagger-ui.css", "swagger-ui-bundle.js",
                                                                "swagger-ui-standalone-preset.js"}
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200, asset
        assert len(served.data) > (100 if asset == "/static/swagger-init.js" else 1000), asset
    assert "/api/openapi.json" in html


# ---- the error shape -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/api/v1/no-such-thing", 404),
    ("DELETE", "/api/v1/slots", 405),
    ("PUT", "/api/v1/me", 405),
])
def test_http_errors_are_json(api, world, method, path, status):
    response = api.open(path, method=method, headers=world.h("admin"))
    assert response.status_code == status
    assert response.is_json
    assert response.json["code"] == status
    assert set(response.json) <= {"code", "status", "message", "errors"}
    assert response.json["message"]


def test_malformed_json_is_a_json_400(api, world):
    response = api.post("/api/v1/slots", data='{"kind": "job", "title": ',
                        headers={**world.h("emp_a"), "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.is_json
    assert response.json["code"] == 400


@pytest.mark.parametrize(("data", "content_type"), [
    ("kind=job&title=厨师", "application/x-www-form-urlencoded"),
    ("just some text", "text/plain"),
    ("", "application/json"),
])
def test_a_body_that_is_not_json_is_refused_with_a_json_4xx(api, world, data, content_type):
    headers = {**world.h("emp_a"), "Content-Type": content_type}
    response = api.post("/api/v1/slots", data=data, headers=headers)
    assert 400 <= response.status_code < 500
    assert response.is_json and response.json["code"] == response.status_code
    pagination = api.get("/api/v1/slots", headers=world.h("emp_a")).headers["X-Pagination"]
    assert pagination.startswith('{"total": 2')  # slot_a and draft_a: nothing was created


@pytest.mark.parametrize("body", [[1, 2], "a string", 42, None])
def test_a_json_body_that_is_not_an_object_is_refused(api, world, body):
    response = api.post("/api/v1/candidates", json=body, headers=world.h("cw_a"))
    assert response.status_code in (400, 422)
    assert response.is_json


NASTY_VALUES = [None, "", "x" * 5000, -1, 2**31 - 1, 1.5, [], {}, True, "2026-02-30", "１２３", "<script>"]


@pytest.mark.parametrize(("who", "path", "field"), [
    ("emp_a", "/api/v1/slots", "seats"),
    ("emp_a", "/api/v1/slots", "starts_on"),
    ("emp_a", "/api/v1/slots", "place"),
    ("cw_a", "/api/v1/candidates", "id_number"),
    ("cw_a", "/api/v1/candidates", "residence"),
    ("cw_a", "/api/v1/candidates", "skills"),
    ("cw_a", "/api/v1/referrals", "candidate_id"),
    ("admin", "/api/v1/bases", "credit_code"),
])
def test_bad_values_never_cause_a_500(api, world, kit, who, path, field):
    answers = {}
    for index, value in enumerate(NASTY_VALUES):
        valid = {  # unique identifiers each time, so an accepted value cannot turn the next into a conflict
            "/api/v1/slots": {"kind": "job", "title": "厨师", "seats": 2, "place": {"code": kit.CHOUCHENG},
                              "starts_on": soon()},
            "/api/v1/candidates": {"name": "张三", "id_number": kit.make_id_number(seq=900 + index),
                                   "education": "primary",
                                   "hukou": {"code": kit.CHOUCHENG}, "residence": {"code": kit.CHOUCHENG},
                                   "release_date": "2025-01-01", "offence_category": "theft"},
            "/api/v1/referrals": {"candidate_id": world.cand_a.id, "slot_id": world.slot_a.id},
            "/api/v1/bases": {"name": "某某有限公司", "industry": "物流",
                              "credit_code": kit.make_credit_code(f"91330782D{index:02d}"),
                              "place": {"code": kit.CHOUCHENG}},
        }[path]
        response = api.post(path, json=valid | {field: value}, headers=world.h(who))
        answers[repr(value)[:20]] = response.status_code
        assert response.is_json, value
        if response.status_code == 422 and "errors" in response.json:
            assert field in response.json["errors"] or "_schema" in response.json["errors"], response.json
    assert all(status < 500 for status in answers.values()), answers
    assert any(status == 422 for status in answers.values()), answers


@pytest.mark.parametrize(("path", "field"), [
    ("/api/v1/slots", "seats"), ("/api/v1/slots", "pay_max"), ("/api/v1/slots", "hours_per_week"),
    ("/api/v1/candidates", "max_travel_km"), ("/api/v1/candidates", "birth_year")])
def test_huge_numbers_are_invalid_not_a_crash(api, world, path, field):
    response = api.post(path, json={field: 10**30}, headers=world.h("admin"))
    assert response.status_code == 422
    assert field in response.json["errors"]


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/api/v1/slots/1000000000000000000000000000000", None),
    ("GET", "/api/v1/candidates?office_id=1000000000000000000000000000000", None),
    ("GET", "/api/v1/slots?company_id=1000000000000000000000000000000", None),
    ("POST", "/api/v1/referrals", {"candidate_id": 10**30, "slot_id": 1}),
])
def test_an_id_out_of_range_is_not_found_or_invalid(api, world, method, path, body):
    response = api.open(path, method=method, json=body, headers=world.h("admin"))
    assert response.status_code in (404, 422), response.json


# ---- languages -------------------------------------------------------------------------------------------

def _invalid_slot(api, world, lang: str):
    body = {"kind": "job", "title": "厨师", "seats": 0, "place": {"code": "330782001"},
            "starts_on": soon()}
    return api.post("/api/v1/slots", json=body, headers=world.h("emp_a", lang))


def test_range_errors_in_english_and_chinese(api, world):
    english = _invalid_slot(api, world, "en")
    chinese = _invalid_slot(api, world, "zh-CN")
    assert english.status_code == chinese.status_code == 422
    assert english.json["errors"]["seats"] == [
        "Must be greater than or equal to 1 and less than or equal to 1000."]
    assert _flat(chinese.json["errors"]["seats"]) == ["必须大于等于 1 且小于等于 1000。"]


def test_the_summary_message_follows_the_language(api, world):
    english = _invalid_slot(api, world, "en")
    chinese = _invalid_slot(api, world, "zh-CN")
    assert english.json["message"] == "Some fields are not valid."
    assert _has_chinese(chinese.json["message"]), chinese.json


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/api/v1/slots", {"kind": "job", "title": "厨师", "seats": 2, "place": {"code": "330782001"},
                       "starts_on": soon(), "colour": "red"}, "colour"),
    ("/api/v1/slots", {"kind": "job", "title": "厨师", "place": {"code": "330782001"},
                       "starts_on": soon()}, "seats"),
    ("/api/v1/slots", {"kind": "job", "title": "厨师", "seats": "three", "place": {"code": "330782001"},
                       "starts_on": soon()}, "seats"),
    ("/api/v1/slots", {"kind": "training", "title": "厨师培训", "seats": 2, "place": {"code": "330782001"},
                       "starts_on": soon()}, "course_code"),
    ("/api/v1/slots", {"kind": "job", "title": "厨师", "seats": 2, "place": {"code": "330782999"},
                       "starts_on": soon()}, "place"),
])
def test_field_messages_follow_the_language(api, world, path, body, field):
    english = api.post(path, json=body, headers=world.h("emp_a", "en"))
    chinese = api.post(path, json=body, headers=world.h("emp_a", "zh-CN"))
    assert english.status_code == chinese.status_code == 422
    english_text, chinese_text = _flat(english.json["errors"][field]), _flat(chinese.json["errors"][field])
    assert not any(_has_chinese(m) for m in english_text), english_text
    assert all(_has_chinese(m) for m in chinese_text), chinese_text


def test_domain_messages_follow_the_language(api, world):
    english = api.get("/api/v1/slots/987654", headers=world.h("admin", "en"))
    chinese = api.get("/api/v1/slots/987654", headers=world.h("admin", "zh-CN"))
    assert english.json["message"] == "No such slot."
    assert _has_chinese(chinese.json["message"]), chinese.json


def test_lang_parameter_overrides_the_header(api, world):
    response = api.get("/api/v1/slots/987654?lang=en", headers=world.h("admin", "zh-CN"))
    assert response.json["message"] == "No such slot."


# ---- pagination and sorting ------------------------------------------------------------------------------

@pytest.fixture
def many_slots(world, session, kit):
    for number in range(7):
        kit.new_slot(session, world.accounts["emp_a"], title=f"岗位{number:02d}", pay_max=5000 + number * 100)
    return 7 + 2  # plus slot_a and draft_a


def test_pagination_header_and_pages(api, world, many_slots):
    import json

    first = api.get("/api/v1/slots?page_size=4&sort=title", headers=world.h("emp_a"))
    assert first.status_code == 200
    pagination = json.loads(first.headers["X-Pagination"])
    assert pagination["total"] == many_slots
    assert pagination["total_pages"] == 3
    assert pagination["page"] == 1 and pagination["next_page"] == 2
    last = api.get("/api/v1/slots?page_size=4&page=3&sort=title", headers=world.h("emp_a"))
    assert len(first.json) == 4 and len(last.json) == many_slots - 8
    seen = [s["id"] for page in (1, 2, 3)
            for s in api.get(f"/api/v1/slots?page_size=4&page={page}&sort=title",
                             headers=world.h("emp_a")).json]
    assert len(seen) == len(set(seen)) == many_slots


@pytest.mark.parametrize("query", ["page_size=201", "page_size=0", "page=0", "page_size=abc"])
def test_bad_pagination_is_refused(api, world, query):
    response = api.get(f"/api/v1/slots?{query}", headers=world.h("admin"))
    assert response.status_code == 422
    assert set(response.json["errors"]) & {"page", "page_size"}


def test_page_size_up_to_the_maximum_is_allowed(api, world, many_slots):
    response = api.get("/api/v1/slots?page_size=200", headers=world.h("admin"))
    assert response.status_code == 200
    assert len(response.json) == many_slots + 1  # and slot_b


def test_sort_ascending_and_descending(api, world, many_slots):
    up = [s["title"] for s in api.get("/api/v1/slots?sort=title", headers=world.h("emp_a")).json]
    down = [s["title"] for s in api.get("/api/v1/slots?sort=-title", headers=world.h("emp_a")).json]
    assert up == sorted(up) and down == list(reversed(up))
    pay = [s["pay_max"] for s in api.get("/api/v1/slots?sort=-pay_max", headers=world.h("emp_a")).json]
    assert pay == sorted(pay, reverse=True)


@pytest.mark.parametrize("path", ["/api/v1/slots", "/api/v1/candidates", "/api/v1/bases",
                                  "/api/v1/referrals"])
def test_unknown_sort_is_refused(api, world, path):
    response = api.get(f"{path}?sort=id_number", headers=world.h("admin"))
    assert response.status_code == 422
    assert "sort" in response.json["errors"]
