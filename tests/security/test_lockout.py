"""Lockout after too many failed logins, the same answer whether or not the account exists, unlocking."""

from __future__ import annotations

import datetime as dt

from matcher import clock
from matcher.auth.models import Account
from matcher.extensions import db

from .conftest import PASSWORD, call_api

WRONG = "Wrong username or password."
LOCKED = WRONG  # a distinct answer would tell which usernames exist (unknown ones never lock)


def _token_attempt(client, username: str, password: str):
    return call_api(client, "POST", "/api/v1/auth/tokens", json={"username": username, "password": password},
                    headers={"Accept-Language": "en"})


def _fail(client, username: str, times: int):
    return [_token_attempt(client, username, "wrong-password").json["message"] for _ in range(times)]


def test_locked_after_n_failures_with_the_same_answer_as_a_wrong_password(app, client, world):
    limit = app.config["LOGIN_MAX_FAILURES"]
    assert limit == 5 and app.config["LOGIN_LOCKOUT_MINUTES"] == 15
    answers = _fail(client, "cw_a", limit)
    assert answers[:-1] == [WRONG] * (limit - 1) and answers[-1] == LOCKED
    # An unknown username answers as a wrong password does.
    assert _token_attempt(client, "nobody-here", "wrong-password").json["message"] == WRONG
    # Locked: even the right password is refused, on the API and on the login page.
    locked = _token_attempt(client, "cw_a", PASSWORD)
    assert locked.status_code == 401 and locked.json["message"] == LOCKED
    from .conftest import Pages

    page = Pages(app)
    response = page.try_login("cw_a")
    assert response.status_code == 401 and WRONG in response.get_data(as_text=True)
    assert "administrator can unlock" in response.get_data(as_text=True)  # the policy, stated for everyone
    # Other accounts are not affected.
    assert _token_attempt(client, "cw_b", PASSWORD).status_code == 201
    # The lock and each refusal because of it are audited (never the username typed or the password).
    from matcher.audit.models import AuditEvent

    db.session.rollback()
    actions = list(db.session.scalars(db.select(AuditEvent.action).where(
        AuditEvent.object_id == world.accounts["cw_a"].id, AuditEvent.object_type == "account")))
    assert actions.count("lock") == 1 and actions.count("login_locked") == 2


def test_lock_expires_and_a_success_resets_the_count(app, client, world, time_machine):
    _fail(client, "emp_a", 5)
    later = clock.now() + dt.timedelta(minutes=16)
    time_machine.move_to(later, tick=False)
    assert _token_attempt(client, "emp_a", PASSWORD).status_code == 201
    account = db.session.get(Account, world.accounts["emp_a"].id)
    db.session.refresh(account)
    assert account.failed_logins == 0 and account.locked_until is None
    # Four failures, a success, four failures: never locked.
    _fail(client, "emp_a", 4)
    assert _token_attempt(client, "emp_a", PASSWORD).status_code == 201
    assert _fail(client, "emp_a", 4) == [WRONG] * 4
    assert _token_attempt(client, "emp_a", PASSWORD).status_code == 201


def test_administrator_unlocks_through_the_api(client, world):
    _fail(client, "cw_a", 5)
    account_id = world.accounts["cw_a"].id
    read = call_api(client, "GET", f"/api/v1/accounts/{account_id}", headers=world.h("admin"))
    assert read.json["locked_until"] is not None
    refused = call_api(client, "PATCH", f"/api/v1/accounts/{account_id}", json={"unlock": True},
                       headers=world.h("cw_b"))
    assert refused.status_code in (403, 404)
    answer = call_api(client, "PATCH", f"/api/v1/accounts/{account_id}", json={"unlock": True},
                      headers=world.h("admin"))
    assert answer.status_code == 200 and answer.json["locked_until"] is None
    assert _token_attempt(client, "cw_a", PASSWORD).status_code == 201


def test_administrator_unlocks_on_the_account_page(client, world, pages):
    _fail(client, "cw_b", 5)
    admin = pages("admin")
    account_id = world.accounts["cw_b"].id
    page = admin.get(f"/admin/accounts/{account_id}")
    assert 'data-testid="unlock-form"' in page.get_data(as_text=True)
    response = admin.post(f"/admin/accounts/{account_id}/unlock")
    assert response.status_code == 303
    assert 'data-testid="unlock-form"' not in admin.get(f"/admin/accounts/{account_id}").get_data(as_text=True)
    assert pages().try_login("cw_b").status_code == 302
