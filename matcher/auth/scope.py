"""Role checks and the query filters that keep every actor inside their scope.

A service fetches objects *through* these filters, so an object outside the actor's scope is
simply not found (404) rather than fetched and then refused.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from matcher.auth.models import Account, Role
from matcher.errors import NotFound


def require_role(actor: Account, *roles: Role) -> None:
    """Unknown to other roles: answered as not found, like anything else outside one's scope."""
    if actor.role not in roles:
        raise NotFound(_l("Not found."))
