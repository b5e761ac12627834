"""A page session's lifecycle: rotation at login, idle and absolute timeouts, the account's session version (a
new password or a deactivation ends every session), and logout ending it on the server."""

from __future__ import annotations

import datetime as dt
import secrets

from flask import current_app, request, session
from sqlalchemy import delete, event
from sqlalchemy.exc import IntegrityError

from matcher import clock
from matcher.auth.models import Account, EndedSession
from matcher.extensions import db

# What the session keeps besides Flask-Login's own keys.
SESSION_ID, SESSION_VERSION, LOGGED_IN_AT, LAST_SEEN_AT = "sid", "sv", "login_at", "seen_at"
# Writing the last-seen time re-sends the cookie; once a minute is precise enough for a 30-minute timeout.
SEEN_RESOLUTION_SECONDS = 60
# Anonymous operations endpoints (matcher.ops): outside the session and the login throttling.
OPS_PATHS = ("/healthz", "/readyz", "/metrics")


def start_session(account: Account) -> None:
    """Call before login_user(): a fresh session (nothing carried over from before the login, so a
    planted session cannot be promoted), with its own id, the account's session version and the times."""
    session.clear()
    now = clock.now().timestamp()
    session[SESSION_ID] = secrets.token_urlsafe(16)
    session[SESSION_VERSION] = account.session_version
    session[LOGGED_IN_AT] = now
    session[LAST_SEEN_AT] = now


def end_session() -> None:
    """Logging out ends the session on the server too. A session is a signed cookie, valid by itself, so a copy
    taken before the logout would still work: its id is recorded as ended and refused from now on, until the
    session would have reached its absolute timeout anyway (then the record is pruned). The account's other
    sessions go on."""
    sid, logged_in_at = session.get(SESSION_ID), session.get(LOGGED_IN_AT)
    if not isinstance(sid, str) or not isinstance(logged_in_at, int | float):
        return  # not a session this module started: nothing to end
    now = clock.now()
    expires_at = dt.datetime.fromtimestamp(logged_in_at, dt.UTC) + dt.timedelta(
        hours=current_app.config["SESSION_MAX_HOURS"])
    try:
        with db.session.begin_nested():
            db.session.execute(delete(EndedSession).where(EndedSession.expires_at < now))
            if expires_at > now:
                db.session.add(EndedSession(sid=sid, expires_at=expires_at))
    except IntegrityError:
        pass  # the same session logged out twice at once: ended already


def _session_was_ended(sid) -> bool:
    return not isinstance(sid, str) or db.session.get(EndedSession, sid) is not None


def session_is_current(account: Account) -> bool:
    """The session was started for this account's present session version (see _bump_session_version)."""
    return session.get(SESSION_VERSION) == account.session_version


def check_session_lifetime() -> None:
    """Ends a page session idle longer than SESSION_IDLE_MINUTES or older than SESSION_MAX_HOURS, or ended by a
    logout (a copy of its cookie)."""
    if request.path in OPS_PATHS or "_user_id" not in session or request.path.startswith(("/api/", "/static/")):
        return  # health, readiness and metrics never touch the session (matcher.ops)
    now = clock.now().timestamp()
    config = current_app.config
    logged_in_at, last_seen_at = session.get(LOGGED_IN_AT), session.get(LAST_SEEN_AT)
    if (not isinstance(logged_in_at, int | float) or not isinstance(last_seen_at, int | float)
            or now - last_seen_at > config["SESSION_IDLE_MINUTES"] * 60
            or now - logged_in_at > config["SESSION_MAX_HOURS"] * 3600
            or _session_was_ended(session.get(SESSION_ID))):
        session.clear()
        return
    if now - last_seen_at >= SEEN_RESOLUTION_SECONDS:
        session[LAST_SEEN_AT] = now


@event.listens_for(Account.password_hash, "set", propagate=True, active_history=True)
def _new_password_ends_sessions(account: Account, value, oldvalue, _initiator) -> None:
    """A new password ends every session of the account at once (Flask-Login's loader compares)."""
    if isinstance(oldvalue, str) and value != oldvalue:
        account.session_version = (account.session_version or 0) + 1


@event.listens_for(Account.is_active_account, "set", propagate=True, active_history=True)
def _deactivation_ends_sessions(account: Account, value, oldvalue, _initiator) -> None:
    """A deactivated account loses its sessions at once (auth.service revokes its API tokens)."""
    if oldvalue is True and value is False:
        account.session_version = (account.session_version or 0) + 1
