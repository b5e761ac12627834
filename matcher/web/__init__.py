"""The web application: server-rendered pages over the same services as the API (zh-CN first)."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, Flask, abort, redirect, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFProtect

from matcher.auth.models import Role

bp = Blueprint("web", __name__)
csrf = CSRFProtect()


def page(*roles: Role):
    """A page for these roles: log in first; another role gets the not-found page (as the API's 404)."""

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
            if roles and current_user.role not in roles:
                abort(404)
            return view(*args, **kwargs)

        return wrapped

    return decorate


def actor():
    return current_user._get_current_object()  # noqa: SLF001 - the Account behind the proxy


def register_web(app: Flask, api_blueprints) -> None:
    csrf.init_app(app)
    for blueprint in api_blueprints:  # bearer-token API: no cookies, so no CSRF token
        csrf.exempt(blueprint)
    # Importing the page modules registers their routes on bp.
    from matcher.web import (  # noqa: F401
        admin,
        audit,
        caseworker,
        employer,
        exports,
        fairday,
        fairs,
        followup,
        handover,
        jobs,
        notify,
        organiser,
        records,
        reports,
        views,
    )

    app.register_blueprint(bp)

    from matcher.web.filters import register_filters

    register_filters(app)
