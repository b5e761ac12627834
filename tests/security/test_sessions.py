"""Page sessions: cookie flags, a new session at login, idle and absolute timeouts, and accounts that are
deactivated or get a new password losing their sessions and their API tokens at once."""

from __future__ import annotations

import datetime as dt

from matcher import clock

from .conftest import PASSWORD, call_api


def _session_set_cookie(response) -> str:
    cookies = [value for value in response.headers.getlist("Set-Cookie") if value.startswith("session=")]
    assert cookies, "the login sets the session cookie"
    return cookies[-1]


def test_session_cookie_is_secure_httponly_and_samesite_lax(pages):
    client = pages()
    response = client.try_login("cw_a")
    assert response.status_code == 302
    cookie = _session_set_cookie(response)
    flags = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")[1:]}
    assert "secure" in flags and "httponly" in flags
    assert flags["samesite"].lower() == "samesite=lax"
    assert "expires" not in flags and "max-age" not in flags  # gone when the browser closes


def test_the_login_starts_a_new_session(pages):
    client = pages()
    client.get("/login")
    with client.client.session_transaction() as data:
        data["planted"] = "by someone else"
    before = client.session_data()
    assert client.try_login("cw_a").status_code == 302
    after = client.session_data()
    assert "planted" not in after and after.get("csrf_token") != before.get("csrf_token")
    first_id = after["sid"]
    client.get("/-/csrf-token")
    client.post("/logout")
    assert "_user_id" not in client.session_data()
    assert client.try_login("cw_a").status_code == 302
    assert client.session_data()["sid"] != first_id


def test_idle_timeout(pages, time_machine):
    client = pages("cw_a")
    start = clock.now()
    time_machine.move_to(start + dt.timedelta(minutes=29), tick=False)
    assert client.get("/caseworker").status_code == 200  # active: the idle clock starts again
    time_machine.move_to(start + dt.timedelta(minutes=29 + 29), tick=False)
    assert client.get("/caseworker").status_code == 200
    time_machine.move_to(start + dt.timedelta(minutes=29 + 29 + 31), tick=False)
    response = client.get("/caseworker")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "_user_id" not in client.session_data()


def test_absolute_timeout(pages, time_machine, app):
    client = pages("cw_a")
    start = clock.now()
    minutes = 0
    while minutes < app.config["SESSION_MAX_HOURS"] * 60:  # busy all day, never idle
        minutes += 25
        time_machine.move_to(start + dt.timedelta(minutes=minutes), tick=False)
        response = client.get("/-/still-here")
        if "_user_id" not in client.session_data():
            break
    assert minutes > app.config["SESSION_MAX_HOURS"] * 60 - 25
    response = client.get("/caseworker")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_deactivated_account_loses_its_session_and_tokens_at_once(pages, client, world):
    page = pages("cw_a")
    assert page.get("/caseworker").status_code == 200
    assert call_api(client, "GET", "/api/v1/me", headers=world.h("cw_a")).status_code == 200
    answer = call_api(client, "PATCH", f"/api/v1/accounts/{world.accounts['cw_a'].id}", json={"is_active": False},
                          headers=world.h("admin"))
    assert answer.status_code == 200, answer.json
    response = page.get("/caseworker")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert call_api(client, "GET", "/api/v1/me", headers=world.h("cw_a")).status_code == 401
    assert pages().try_login("cw_a").status_code == 401
    # Reactivated, the account logs in again, but the old session stays ended.
    answer = call_api(client, "PATCH", f"/api/v1/accounts/{world.accounts['cw_a'].id}", json={"is_active": True},
                          headers=world.h("admin"))
    assert answer.status_code == 200, answer.json
    assert page.get("/caseworker").status_code == 302
    assert pages("cw_a").get("/caseworker").status_code == 200


def test_reactivating_an_account_does_not_bring_its_tokens_back(client, world):
    """A deactivation revokes every token of the account for good: whoever held one meanwhile keeps nothing."""
    from matcher.audit.models import AuditEvent
    from matcher.extensions import db

    account_id = world.accounts["emp_b"].id
    assert call_api(client, "GET", "/api/v1/me", headers=world.h("emp_b")).status_code == 200
    for active in (False, True):
        answer = call_api(client, "PATCH", f"/api/v1/accounts/{account_id}", json={"is_active": active},
                          headers=world.h("admin"))
        assert answer.status_code == 200, answer.json
    assert call_api(client, "GET", "/api/v1/me", headers=world.h("emp_b")).status_code == 401
    # The account itself works again: it logs in and gets a new token.
    fresh = call_api(client, "POST", "/api/v1/auth/tokens", json={"username": "emp_b", "password": PASSWORD})
    assert fresh.status_code == 201
    deactivation = db.session.scalars(db.select(AuditEvent).where(
        AuditEvent.action == "deactivate", AuditEvent.object_id == account_id)).one()
    assert "api_tokens" in deactivation.fields


def test_a_new_password_ends_the_accounts_sessions_and_tokens(pages, client, world):
    assert call_api(client, "GET", "/api/v1/me", headers=world.h("emp_a")).status_code == 200
    page = pages("emp_a")
    other = pages("emp_a")
    admin = pages("admin")
    account_id = world.accounts["emp_a"].id
    admin.get(f"/admin/accounts/{account_id}")
    response = admin.post(f"/admin/accounts/{account_id}", {
        "display_name": "emp_a", "is_active": "on", "company_id": str(world.company_a.id),
        "password": "a-brand-new-password"})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    for browser in (page, other):
        response = browser.get("/employer")
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert pages().try_login("emp_a", "a-brand-new-password").status_code == 302
    assert pages().try_login("emp_a", PASSWORD).status_code == 401
    # A token issued under the old password is revoked with it.
    assert call_api(client, "GET", "/api/v1/me", headers=world.h("emp_a")).status_code == 401


def test_api_ignores_the_session_cookie(pages):
    page = pages("cw_a")
    assert page.get("/api/v1/me", headers={"Accept": "application/json"}).status_code == 401


def test_session_version_moves_on_password_and_deactivation_only(session, world):
    from matcher.auth.models import Account

    account = session.get(Account, world.accounts["org"].id)
    start = account.session_version
    session.commit()  # expired attributes: the old value is loaded to compare
    account.password_hash = "scrypt:new"
    assert account.session_version == start + 1
    account.display_name = "renamed"
    account.is_active_account = True  # unchanged
    assert account.session_version == start + 1
    account.is_active_account = False
    assert account.session_version == start + 2
    account.is_active_account = True  # reactivating ends nothing more
    assert account.session_version == start + 2
    session.rollback()


def test_a_copied_cookie_is_logged_out_with_its_session(app, pages):
    """Logging out ends the session on the server: a copy of its cookie taken before is refused afterwards,
    while the account's other sessions go on."""
    from .conftest import SESSION_COOKIE, Pages

    page, other = pages("cw_a"), pages("cw_a")
    copy = Pages(app)
    copy.client.set_cookie(SESSION_COOKIE, page.session_cookie())
    assert copy.get("/caseworker").status_code == 200  # the copy works as long as the session lasts
    assert page.post("/logout").status_code == 302
    response = copy.get("/caseworker")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "_user_id" not in copy.session_data()
    assert other.get("/caseworker").status_code == 200


def test_ended_sessions_are_kept_until_their_absolute_timeout(app, pages, time_machine):
    from sqlalchemy import func, select

    from matcher.auth.models import EndedSession
    from matcher.extensions import db

    start = clock.now()
    time_machine.move_to(start, tick=False)
    pages("cw_a").post("/logout")
    ended = db.session.scalars(select(EndedSession)).one()
    timeout = dt.timedelta(hours=app.config["SESSION_MAX_HOURS"])
    assert abs(ended.expires_at - (start + timeout)) < dt.timedelta(seconds=1)
    time_machine.move_to(start + dt.timedelta(hours=app.config["SESSION_MAX_HOURS"], minutes=1), tick=False)
    pages("cw_b").post("/logout")  # a later logout prunes the records past their timeout
    assert db.session.scalar(select(func.count()).select_from(EndedSession)) == 1
