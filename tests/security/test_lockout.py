"""Lockout after too many failed logins from one address (that address only), the same answer whether or not the
account exists, unlocking."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from matcher import clock
from matcher.auth.models import Account, LoginLock
from matcher.extensions import db

from .conftest import PASSWORD, call_api

WRONG = "Wrong username or password."
LOCKED = WRONG  # a distinct answer would tell which usernames exist (unknown ones never lock)


ELSEWHERE = "203.0.113.66"  # another client address than the test client's own (127.0.0.1)


def _token_attempt(client, username: str, password: str, address: str = "127.0.0.1"):
    return call_api(client, "POST", "/api/v1/auth/tokens", json={"username": username, "password": password},
                    headers={"Accept-Language": "en"}, environ_base={"REMOTE_ADDR": address})


def _fail(client, username: str, times: int, address: str = "127.0.0.1"):
    return [_token_attempt(client, username, "wrong-password", address).json["message"] for _ in range(times)]


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
    assert account.locked_until is None
    assert db.session.scalar(select(func.count()).select_from(LoginLock)) == 0
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


def test_a_lock_holds_for_the_failing_address_only(app, client, world):
    """Wrong passwords from one address lock the account for that address: the administrator (or anyone) logs in
    from anywhere else, on the API and on the page, while the failing address stays refused."""
    assert _fail(client, "admin", 5, ELSEWHERE) == [WRONG] * 5
    refused = _token_attempt(client, "admin", PASSWORD, ELSEWHERE)
    assert refused.status_code == 401 and refused.json["message"] == LOCKED
    assert _token_attempt(client, "admin", PASSWORD).status_code == 201
    from .conftest import Pages

    assert Pages(app).try_login("admin").status_code == 302
    page = Pages(app)
    page.get("/login", environ_base={"REMOTE_ADDR": ELSEWHERE})
    response = page.post("/login", {"username": "admin", "password": PASSWORD}, environ_base={"REMOTE_ADDR": ELSEWHERE})
    assert response.status_code == 401 and WRONG in response.get_data(as_text=True)
    # The other address's success reset nothing of this one's lock; the lock is shown on the account.
    read = call_api(client, "GET", f"/api/v1/accounts/{world.accounts['admin'].id}", headers=world.h("cw_a"))
    assert read.status_code in (403, 404)
    read = call_api(client, "GET", f"/api/v1/accounts/{world.accounts['admin'].id}", headers=world.h("admin"))
    assert read.json["locked_until"] is not None


def test_failures_count_per_address(client, world):
    """Four failures from each of two addresses lock neither: each address has its own count."""
    assert _fail(client, "cw_a", 4) + _fail(client, "cw_a", 4, ELSEWHERE) == [WRONG] * 8
    assert _token_attempt(client, "cw_a", PASSWORD).status_code == 201
    assert _token_attempt(client, "cw_a", PASSWORD, ELSEWHERE).status_code == 201


def test_the_account_shows_its_latest_lock_and_unlocking_lifts_every_lock(client, world, time_machine):
    start = clock.now()
    time_machine.move_to(start, tick=False)
    _fail(client, "cw_a", 5)
    time_machine.move_to(start + dt.timedelta(minutes=5), tick=False)
    _fail(client, "cw_a", 5, ELSEWHERE)
    account_id = world.accounts["cw_a"].id
    read = call_api(client, "GET", f"/api/v1/accounts/{account_id}", headers=world.h("admin"))
    assert clock.as_utc(dt.datetime.fromisoformat(read.json["locked_until"])) == start + dt.timedelta(minutes=20)
    listed = call_api(client, "GET", "/api/v1/accounts", headers=world.h("admin"))
    assert [a["locked_until"] for a in listed.json if a["id"] == account_id] == [read.json["locked_until"]]
    answer = call_api(client, "PATCH", f"/api/v1/accounts/{account_id}", json={"unlock": True},
                      headers=world.h("admin"))
    assert answer.status_code == 200 and answer.json["locked_until"] is None
    assert _token_attempt(client, "cw_a", PASSWORD).status_code == 201
    assert _token_attempt(client, "cw_a", PASSWORD, ELSEWHERE).status_code == 201


def test_the_lock_keeps_a_keyed_hash_of_the_address_and_audits_no_username(client, world):
    from matcher.audit.models import AuditEvent

    _fail(client, "org", 5, ELSEWHERE)
    _token_attempt(client, "org", PASSWORD, ELSEWHERE)
    db.session.rollback()
    locks = list(db.session.scalars(select(LoginLock)))
    assert len(locks) == 1 and ELSEWHERE not in locks[0].address and len(locks[0].address) == 64
    events = list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.action.in_(["lock", "login_locked", "login_failed"]))))
    assert {e.action for e in events} == {"lock", "login_locked", "login_failed"}
    assert all(e.object_id == world.accounts["org"].id and e.actor_id is None and not e.fields for e in events)
