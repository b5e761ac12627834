"""Logging in with bearer tokens, revoking and expiring them, and administrators managing accounts."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import String, Text, select, update

from matcher import clock
from matcher.auth.models import Account, ApiToken
from matcher.extensions import db


def _login(api, username: str, password: str, **extra):
    return api.post("/api/v1/auth/tokens", json={"username": username, "password": password, **extra},
                    headers={"Accept-Language": "en"})


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}", "Accept-Language": "en"}


def test_login_returns_a_token_that_works(api, world, kit, app):
    response = _login(api, "cw_a", kit.PASSWORD, name="nightly-script")
    assert response.status_code == 201, response.json
    token = response.json["token"]
    assert token.startswith("xt_") and len(token) > 30
    expires = dt.datetime.fromisoformat(response.json["expires_at"])
    ttl = dt.timedelta(days=app.config["API_TOKEN_TTL_DAYS"])
    assert abs(expires - (clock.now() + ttl)) < dt.timedelta(minutes=5)

    me = api.get("/api/v1/me", headers=_bearer(token))
    assert me.status_code == 200
    assert me.json["username"] == "cw_a" and me.json["role"] == "caseworker"
    assert me.json["office_id"] == world.office_a.id
    assert me.json["last_login_at"] is not None
    assert "password" not in me.json and "password_hash" not in me.json
    record = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hashlib.sha256(token.encode())
                                                      .hexdigest()))
    assert record.name == "nightly-script"


def test_each_login_gives_a_new_token(api, world, kit):
    first = _login(api, "emp_a", kit.PASSWORD).json["token"]
    second = _login(api, "emp_a", kit.PASSWORD).json["token"]
    assert first != second
    assert api.get("/api/v1/me", headers=_bearer(first)).status_code == 200
    assert api.get("/api/v1/me", headers=_bearer(second)).status_code == 200


def test_wrong_password_and_unknown_user_get_the_same_answer(api, world):
    wrong = _login(api, "cw_a", "not-the-password")
    unknown = _login(api, "no_such_user", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json == unknown.json
    assert wrong.json["message"] == "Wrong username or password."
    assert "token" not in wrong.json


def test_login_needs_both_fields(api, world):
    response = api.post("/api/v1/auth/tokens", json={"username": "cw_a"})
    assert response.status_code == 422
    assert "password" in response.json["errors"]


def test_revoked_token_stops_working(api, world, kit):
    token = _login(api, "cw_a", kit.PASSWORD).json["token"]
    assert api.delete("/api/v1/auth/tokens", headers=_bearer(token)).status_code == 204
    assert api.get("/api/v1/me", headers=_bearer(token)).status_code == 401
    # Only that token: the account's other token still works.
    assert api.get("/api/v1/me", headers=world.h("cw_a")).status_code == 200
    record = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hashlib.sha256(token.encode())
                                                      .hexdigest()))
    assert record.revoked_at is not None


def test_revoking_needs_a_valid_token(api, world):
    assert api.delete("/api/v1/auth/tokens").status_code == 401
    assert api.delete("/api/v1/auth/tokens", headers=_bearer("xt_not-a-token")).status_code == 401


def test_expired_token_is_rejected(api, world, session):
    token = world.tokens["emp_b"]
    assert api.get("/api/v1/me", headers=_bearer(token)).status_code == 200
    session.execute(update(ApiToken).where(ApiToken.account_id == world.accounts["emp_b"].id)
                    .values(expires_at=clock.now() - dt.timedelta(seconds=1)))
    session.commit()
    response = api.get("/api/v1/me", headers=_bearer(token))
    assert response.status_code == 401
    assert response.json["code"] == 401


def test_a_token_issued_already_expired_never_works(api, world, session):
    from matcher.auth.service import issue_token

    token, _record = issue_token(session=session, account=world.accounts["org"], ttl_days=-1)
    assert api.get("/api/v1/me", headers=_bearer(token)).status_code == 401


@pytest.mark.parametrize("header", ["Basic Y3dfYTpwYXNzd29yZA==", "Bearer", "Bearer ", "Token abc",
                                    "Bearer xt_made-up-token"])
def test_malformed_or_unknown_credentials_are_rejected(api, world, header):
    response = api.get("/api/v1/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert set(response.json) == {"code", "status", "message"}


def test_bearer_scheme_is_case_insensitive(api, world):
    response = api.get("/api/v1/me", headers={"Authorization": f"bearer {world.tokens['org']}"})
    assert response.status_code == 200
    assert response.json["role"] == "organiser"


def test_inactive_account_cannot_log_in_nor_use_its_tokens(api, world, kit):
    emp_a = world.accounts["emp_a"].id
    response = api.patch(f"/api/v1/accounts/{emp_a}", json={"is_active": False}, headers=world.h("admin"))
    assert response.status_code == 200 and response.json["is_active"] is False

    assert api.get("/api/v1/me", headers=world.h("emp_a")).status_code == 401
    refused = _login(api, "emp_a", kit.PASSWORD)
    assert refused.status_code == 401
    # Same answer as a wrong password: the answer does not tell that the account exists.
    assert refused.json == _login(api, "emp_a", "wrong-password-here").json

    api.patch(f"/api/v1/accounts/{emp_a}", json={"is_active": True}, headers=world.h("admin"))
    assert _login(api, "emp_a", kit.PASSWORD).status_code == 201
    # The deactivation revoked its tokens for good: reactivated, the account needs a new one.
    assert api.get("/api/v1/me", headers=world.h("emp_a")).status_code == 401


def _every_text_value(session):
    for table in db.metadata.sorted_tables:
        text_columns = [c for c in table.columns if isinstance(c.type, String | Text)]
        if not text_columns:
            continue
        for row in session.execute(select(*text_columns)):
            yield from (value for value in row if value is not None)


def test_tokens_are_stored_hashed_only(api, world, kit, session):
    token = _login(api, "cw_b", kit.PASSWORD).json["token"]
    session.expire_all()
    assert all(token not in str(value) for value in _every_text_value(session))
    assert all(world.tokens["admin"] not in str(value) for value in _every_text_value(session))
    hashes = set(session.scalars(select(ApiToken.token_hash)))
    assert hashlib.sha256(token.encode()).hexdigest() in hashes


def test_passwords_are_stored_hashed_only(api, world, session):
    response = api.post("/api/v1/accounts", headers=world.h("admin"), json={
        "username": "cw_new", "display_name": "新社工", "password": "a-long-secret-1", "role": "caseworker",
        "office_id": world.office_a.id})
    assert response.status_code == 201
    assert "password" not in response.json
    assert all("a-long-secret-1" not in str(value) for value in _every_text_value(session))


# ---- accounts (administrators) ---------------------------------------------------------------------

def _new_account(api, world, **fields):
    body = {"username": "new_user", "display_name": "新用户", "password": "long-enough-password"} | fields
    return api.post("/api/v1/accounts", json=body, headers=world.h("admin"))


def test_admin_creates_a_caseworker_who_can_log_in(api, world):
    response = _new_account(api, world, role="caseworker", office_id=world.office_b.id)
    assert response.status_code == 201, response.json
    assert response.json["role"] == "caseworker" and response.json["office_id"] == world.office_b.id
    assert response.json["is_active"] is True
    token = _login(api, "new_user", "long-enough-password").json["token"]
    listed = api.get("/api/v1/candidates", headers=_bearer(token))
    assert {c["id"] for c in listed.json} == {world.cand_b.id, world.cand_dual.id}


@pytest.mark.parametrize(("role", "field"), [
    ("caseworker", "office_id"), ("employer", "company_id"), ("organiser", "bureau_code"),
    ("administrator", "bureau_code")])
def test_an_account_needs_the_scope_of_its_role(api, world, role, field):
    response = _new_account(api, world, role=role)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]
    assert db.session.scalar(select(Account).where(Account.username == "new_user")) is None


def test_an_employer_account_with_its_company(api, world):
    response = _new_account(api, world, role="employer", company_id=world.company_b.id)
    assert response.status_code == 201
    token = _login(api, "new_user", "long-enough-password").json["token"]
    assert {s["id"] for s in api.get("/api/v1/slots", headers=_bearer(token)).json} == {world.slot_b.id}


@pytest.mark.parametrize(("fields", "bad"), [
    ({"password": "short"}, "password"),
    ({"username": "has space"}, "username"),
    ({"username": "ab"}, "username"),
    ({"role": "superuser"}, "role"),
    ({"is_admin": True}, "is_admin"),
])
def test_account_fields_are_validated(api, world, fields, bad):
    response = _new_account(api, world, **({"role": "organiser", "bureau_code": "330700"} | fields))
    assert response.status_code == 422, response.json
    assert bad in response.json["errors"]


def test_usernames_are_unique(api, world):
    response = _new_account(api, world, username="cw_a", role="organiser", bureau_code="330700")
    assert response.status_code == 409
    assert "username" in response.json["errors"]


@pytest.mark.parametrize("role", ["cw_a", "emp_a", "org"])
def test_only_administrators_create_accounts(api, world, role):
    response = api.post("/api/v1/accounts", headers=world.h(role), json={
        "username": "sneaky", "display_name": "x", "password": "long-enough-password",
        "role": "administrator",
        "bureau_code": "330700"})
    assert response.status_code == 404
    assert db.session.scalar(select(Account).where(Account.username == "sneaky")) is None


def test_admin_changes_a_password(api, world, kit):
    cw_b = world.accounts["cw_b"].id
    response = api.patch(f"/api/v1/accounts/{cw_b}", json={"password": "a-brand-new-password"},
                         headers=world.h("admin"))
    assert response.status_code == 200
    assert _login(api, "cw_b", kit.PASSWORD).status_code == 401
    assert _login(api, "cw_b", "a-brand-new-password").status_code == 201


def test_removing_a_caseworkers_office_is_refused(api, world):
    cw_a = world.accounts["cw_a"].id
    response = api.patch(f"/api/v1/accounts/{cw_a}", json={"office_id": None}, headers=world.h("admin"))
    assert response.status_code == 422
    assert "office_id" in response.json["errors"]
    kept = api.get(f"/api/v1/accounts/{cw_a}", headers=world.h("admin")).json["office_id"]
    assert kept == world.office_a.id


def test_account_list_filters_by_role(api, world):
    response = api.get("/api/v1/accounts", query_string={"role": "employer"}, headers=world.h("admin"))
    assert response.status_code == 200
    assert {a["username"] for a in response.json} == {"emp_a", "emp_b"}


@pytest.mark.parametrize(("role", "field", "value"), [
    ("caseworker", "office_id", 987654), ("employer", "company_id", 987654),
    ("organiser", "bureau_code", "999999")])
def test_an_unknown_scope_is_named_as_the_bad_field(api, world, role, field, value):
    response = _new_account(api, world, role=role, **{field: value})
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]


def test_moving_a_caseworker_to_an_unknown_office_is_invalid_not_a_crash(api, world):
    cw_a = world.accounts["cw_a"].id
    response = api.patch(f"/api/v1/accounts/{cw_a}", json={"office_id": 987654}, headers=world.h("admin"))
    assert response.status_code == 422, response.json
    assert "office_id" in response.json["errors"]


def test_every_401_names_the_bearer_scheme(api, world):
    response = api.get("/api/v1/me")
    assert response.status_code == 401
    assert response.headers.get("WWW-Authenticate", "").startswith("Bearer")


def test_an_administrator_cannot_deactivate_their_own_account(api, world):
    admin = world.accounts["admin"].id
    response = api.patch(f"/api/v1/accounts/{admin}", json={"is_active": False}, headers=world.h("admin"))
    assert response.status_code == 422, response.json
    assert "is_active" in response.json["errors"]
