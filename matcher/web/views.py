"""Logging in and out, the language switch, and the start page that sends each role to its home."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user

from matcher import uow
from matcher.auth.lockout import LoginRefused, log_in
from matcher.auth.sessions import end_session, start_session
from matcher.extensions import db
from matcher.web.base import bp, page

HOMES = {"caseworker": "web.caseworker_home", "employer": "web.employer_home",
         "administrator": "web.admin_home", "organiser": "web.organiser_home"}
LANGUAGES = {"zh_CN", "en"}


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: an open redirect would let a phishing link borrow our login page."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/")
@page()
def home():
    return redirect(url_for(HOMES[current_user.role.value]))


@bp.route("/login", methods=["GET", "POST"])
def login():
    next_url = _safe_next(request.values.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("web.home"))
    if request.method == "GET":
        return render_template("web/login.html", next=next_url)
    username = request.form.get("username", "").strip()
    try:
        with uow.savepoint():
            account = log_in(session=db.session, username=username, password=request.form.get("password", ""),
                             address=get_remote_address())
    except LoginRefused as exc:
        return render_template("web/login.html", next=next_url, username=username,
                               error=str(exc.message)), 401
    start_session(account)  # a new session: nothing from before the login survives it
    login_user(account)
    return redirect(next_url or url_for("web.home"))


@bp.route("/logout", methods=["POST"])
def logout():
    end_session()  # a copy of the cookie must not outlive the logout
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("web.login"))


@bp.route("/language/<code>")
def language(code: str):
    """Switch the language and remember it in a cookie (a year)."""
    response = make_response(redirect(_safe_next(request.args.get("next")) or url_for("web.home")))
    if code in LANGUAGES:
        response.set_cookie("lang", code, max_age=365 * 24 * 3600, samesite="Lax")
    return response
