"""What every page module builds on: the blueprint, the CSRF guard, `@page(roles)` and the acting account."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, redirect, request, url_for
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
