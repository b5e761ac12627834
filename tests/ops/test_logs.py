"""Structured logs: one access line per request with the request id, the URL rule, the status, the duration
and the actor by id and role; and no personal data anywhere in what is logged."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from urllib.parse import quote, quote_plus

from flask import g

from matcher.ops.logs import REDACTED, redact

NAME = "欧阳秋菊"
PHONE = "13912345678"
ADDRESS = "稠城街道绣湖路88号"
TRACE = "5e0c7d9a-3f41-4b8e-9c2a-7d16e0b4f853"  # a caller's request id (a UUID, or it is replaced)


def _fresh():
    """The tests hold an app context, so `g` would carry the account and the CSRF token between requests."""
    for key in ("_login_user", "_flask_babel", "csrf_token"):
        g.pop(key, None)


def _login_page(client, username, password):
    _fresh()
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    _fresh()
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token}), token


def _csrf(client, url):
    _fresh()
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(url).get_data(as_text=True))
    return found.group(1) if found else ""


def test_access_line_in_json(client, world, logs):
    url = f"/api/v1/candidates/{world.cand_a.id}"
    response = client.get(url + "?lang=en", headers={**world.h("cw_a"), "X-Request-ID": TRACE})
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == TRACE
    lines = [line for line in logs.json_lines() if line["logger"] == "matcher.access"]
    assert len(lines) == 1
    line = lines[0]
    assert {key: line[key] for key in ("level", "request_id", "method", "endpoint", "status", "actor_id",
                                       "actor_role")} == {
        "level": "INFO", "request_id": TRACE, "method": "GET",
        "endpoint": "/api/v1/candidates/<id:candidate_id>", "status": 200,
        "actor_id": world.accounts["cw_a"].id, "actor_role": "caseworker"}
    assert isinstance(line["duration_ms"], int | float) and line["duration_ms"] >= 0
    assert dt.datetime.fromisoformat(line["time"])
    assert "username" not in line and "cw_a" not in json.dumps(line) and "lang=en" not in json.dumps(line)


def test_every_request_gets_one_line_with_its_id_even_refused_ones(client, world, logs):
    client.post("/api/v1/candidates", json={"name": NAME})  # no token: 401 from a before-request hook
    client.get("/no-such-page")
    client.get("/caseworker")  # anonymous: a redirect to the login page
    lines = [line for line in logs.json_lines() if line["logger"] == "matcher.access"]
    assert [(line["endpoint"], line["status"]) for line in lines] == [
        ("/api/v1/candidates", 401), ("<unmatched>", 404), ("/caseworker", 302)]
    assert all(len(line["request_id"]) == 32 for line in lines)
    assert all(line["actor_id"] is None for line in lines)


def test_a_page_login_and_the_pages_after_it_name_the_actor(client, world, kit, logs):
    # Through each way Flask-Login finds an account: login_user (its signal), then the session (the user loader).
    logged_in, _token = _login_page(client, "cw_a", kit.PASSWORD)
    assert logged_in.status_code == 302
    _fresh()
    assert client.get("/caseworker").status_code == 200
    lines = [line for line in logs.json_lines() if line["logger"] == "matcher.access"]
    assert [(line["endpoint"], line["actor_id"], line["actor_role"]) for line in lines] == [
        ("/login", None, None), ("/login", world.accounts["cw_a"].id, "caseworker"),
        ("/caseworker", world.accounts["cw_a"].id, "caseworker")]


def test_text_format_carries_the_same_fields(client, logs):
    client.get("/healthz", headers={"X-Request-ID": TRACE})
    text = logs.text_stream.getvalue()
    assert f"matcher.access GET /healthz 200 request_id={TRACE} method=GET endpoint=/healthz status=200 duration_ms=" \
        in text


def test_no_personal_data_in_any_log_output(app, client, world, kit, logs, monkeypatch):
    """A caseworker types a person's name, ID number and phone into search boxes, forms and the API; a
    stranger tries them as a username. Nothing of them appears in any log record, at any level."""
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT_ENABLED", True)  # the throttle's paths log too
    id_number = kit.make_id_number(born="19850312", seq=777)
    personal = (NAME, id_number, PHONE, ADDRESS)
    # API: search, create (and again: a duplicate), read, change, a token for a username that is a name.
    headers = world.h("cw_a")
    for value in personal:
        assert client.get("/api/v1/candidates", query_string={"q": value}, headers=headers).status_code in (200, 422)
    body = {"name": NAME, "id_number": id_number, "phone": PHONE, "education": "junior_secondary",
            "hukou": {"code": kit.CHOUCHENG}, "residence": {"code": kit.CHOUCHENG}, "residence_address": ADDRESS,
            "release_date": "2026-01-05", "offence_category": "theft", "consents": ["data_processing"]}
    created = client.post("/api/v1/candidates", json=body, headers=headers)
    assert created.status_code == 201, created.json
    candidate_id = created.json["id"]
    assert client.post("/api/v1/candidates", json=body, headers=headers).status_code in (409, 422)
    assert client.post("/api/v1/candidates", json={**body, "id_number": id_number[:-1] + "0",
                                                   "phone": "x" + PHONE}, headers=headers).status_code == 422
    assert client.patch(f"/api/v1/candidates/{candidate_id}", json={"phone": PHONE, "residence_address": ADDRESS},
                        headers=headers).status_code == 200
    assert client.get(f"/api/v1/candidates/{candidate_id}", headers=headers).status_code == 200
    assert client.post("/api/v1/auth/tokens", json={"username": NAME, "password": id_number}).status_code == 401
    assert client.get(f"/api/v1/candidates/{id_number}", headers=headers).status_code == 404
    # Pages: a failed login with the person's name as username, then the caseworker's searches and forms.
    refused, _ = _login_page(client, NAME, id_number)
    assert refused.status_code == 401
    logged_in, _ = _login_page(client, "cw_a", kit.PASSWORD)
    assert logged_in.status_code == 302
    for value in personal:
        _fresh()
        # An ID number in the list's search is refused (it would stay in the address): the lookup form takes it.
        assert client.get("/caseworker/candidates", query_string={"q": value}).status_code in (200, 422)
    token = _csrf(client, "/caseworker/candidates/new")
    _fresh()
    assert client.post("/caseworker/candidates/lookup",
                       data={"csrf_token": token, "id_number": id_number}).status_code in (200, 302, 409, 422)
    form = {"csrf_token": token, "name": NAME, "id_number": id_number, "phone": PHONE, "residence_address": ADDRESS,
            "education": "junior_secondary", "offence_category": "theft", "release_date": "2026-01-05",
            "hukou": kit.CHOUCHENG, "residence": kit.CHOUCHENG, "risk_grade": "green"}
    _fresh()
    assert client.post("/caseworker/candidates/new", data=form).status_code in (409, 422)  # a duplicate
    _fresh()
    assert client.post("/caseworker/candidates/new", data={**form, "csrf_token": "forged"}).status_code == 400
    _fresh()
    assert client.get(f"/caseworker/candidates/{candidate_id}", query_string={"from": NAME}).status_code == 200
    _fresh()
    assert client.get(f"/caseworker/{id_number}", query_string={"phone": PHONE}).status_code == 404

    assert any(line.get("endpoint") == "/caseworker/candidates" for line in logs.json_lines())
    assert len(logs.records) >= 20
    everything = logs.everything()
    for value in personal:
        for form in (value, quote(value), quote_plus(value), json.dumps(value)[1:-1]):
            assert form not in everything, (value, form)
    assert id_number[:14] not in everything and PHONE[3:] not in everything  # not even in part
    assert "cw_a" not in everything  # usernames neither: the actor is an id and a role


def test_the_safety_net_redacts_id_and_mobile_shapes(logs):
    logging.getLogger("matcher.test").warning("looked up %s and %s", "110101199003077578", "13812345678")
    logging.getLogger("matcher.test").warning("id 11010119900307757X, tel 15900001111; order 2026112200012345")
    text = logs.json_stream.getvalue() + logs.text_stream.getvalue()
    assert "110101199003077578" not in text and "13812345678" not in text
    assert "11010119900307757X" not in text and "15900001111" not in text
    assert text.count(REDACTED) == 8
    assert redact("slot 12, seats 13, page 2") == "slot 12, seats 13, page 2"


def test_the_development_server_request_line_is_dropped():
    from matcher.ops.logs import DropWerkzeugAccessLines

    keep = DropWerkzeugAccessLines().filter
    line = '127.0.0.1 - - [22/Nov/2026 11:00:00] "GET /caseworker/candidates?q=%E6%AC%A7 HTTP/1.1" 200 -'
    assert not keep(logging.makeLogRecord({"name": "werkzeug", "msg": line}))
    assert keep(logging.makeLogRecord({"name": "werkzeug", "msg": " * Running on http://127.0.0.1:5000"}))
