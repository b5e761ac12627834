"""Flask extensions, created unbound here and bound to an app in create_app."""

from __future__ import annotations

from functools import cached_property

from flask import g, has_app_context
from flask_babel import Babel, Domain
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints keep Alembic migrations portable between SQLite (batch mode) and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()


class _RequestDomain(Domain):
    """flask-babel's message domain, keeping the request's translations for the request.

    Every message shown goes through `get_translations`, which finds the request's locale and names it to look its
    catalogue up: about 10 µs, hundreds of times a page (a recommendations page's reasons in two languages and its
    template's words: some 15 % of its time). flask-babel's request state has a place for the translations in use,
    `babel_translations`, which `force_locale` empties on entry and restores on exit and `refresh` forgets, but
    which nothing fills: filled here, the translations are found once per request and language."""

    def get_translations(self):
        state = g.get("_flask_babel") if has_app_context() else None
        found = getattr(state, "babel_translations", None)
        if found is None:
            found = super().get_translations()
            state = g.get("_flask_babel") if has_app_context() else None  # made by flask-babel if it was not yet
            if state is not None:
                state.babel_translations = found
        return found


class _Babel(Babel):
    @cached_property
    def domain_instance(self):
        return _RequestDomain(domain=self.domain)


babel = _Babel()
