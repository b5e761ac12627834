"""Accounts with a role and a scope, their login locks, hashed bearer tokens, and ended page sessions."""

from __future__ import annotations

import datetime as dt
import enum

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, func, select
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from matcher import clock
from matcher.dbtypes import UtcDateTime
from matcher.extensions import db
from matcher.offices.models import JudicialOffice
from matcher.places.models import str_enum


class Role(enum.StrEnum):
    ADMINISTRATOR = "administrator"
    CASEWORKER = "caseworker"
    EMPLOYER = "employer"
    ORGANISER = "organiser"


class LoginLock(db.Model):
    """Wrong passwords in a row for one account from one client address, and until when that address may not
    log in to it. Per address, so that nobody can lock an account (an administrator's included) for everyone
    else by typing wrong passwords from somewhere else."""

    __tablename__ = "login_locks"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    # A keyed hash of the address (matcher.auth.lockout): enough to know it again, without keeping the address.
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


# The account the command line acts as when no other is named (matcher.commands): an administrator of every area
# that cannot log in, made by `flask seed reference` (or the first command that needs it).
SYSTEM_USERNAME = "system"


class Account(UserMixin, db.Model):
    """A person who logs in. The role says what they do; the scope (office, company or bureau) where."""

    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint("role != 'caseworker' OR office_id IS NOT NULL", name="caseworker_has_office"),
        CheckConstraint("role != 'employer' OR company_id IS NOT NULL", name="employer_has_company"),
        CheckConstraint("role NOT IN ('organiser', 'administrator') OR bureau_code IS NOT NULL",
                        name="bureau_roles_have_bureau"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    display_name: Mapped[str] = mapped_column(String(60))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role))
    office_id: Mapped[int | None] = mapped_column(ForeignKey("judicial_offices.id"), index=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"), index=True)
    # The justice bureau's area (a city or district code) for administrators and organisers.
    bureau_code: Mapped[str | None] = mapped_column(ForeignKey("places.code"))
    # Where notifications are also sent by email (optional; in-app notifications need none).
    email: Mapped[str | None] = mapped_column(String(120))
    is_active_account: Mapped[bool] = mapped_column("is_active", Boolean, default=True)
    # The latest lock of any address (LoginLock), for administrators to see; read when asked for.
    locked_until: Mapped[dt.datetime | None] = column_property(
        select(func.max(LoginLock.locked_until)).where(LoginLock.account_id == id).scalar_subquery(),
        deferred=True)
    # Bumped to end every session of the account (password change, deactivation, "log out everywhere").
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)

    office: Mapped[JudicialOffice | None] = relationship(lazy="joined")

    @property
    def is_active(self) -> bool:  # Flask-Login asks this
        return self.is_active_account

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMINISTRATOR

    @property
    def is_system(self) -> bool:
        return self.username == SYSTEM_USERNAME and self.role == Role.ADMINISTRATOR


class ApiToken(db.Model):
    """A bearer token; only its SHA-256 is stored, so a database leak yields no usable token."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(60), default="api")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=clock.now)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)

    account: Mapped[Account] = relationship(lazy="joined")


class EndedSession(db.Model):
    """A page session ended by logging out. Sessions live in signed cookies, valid by themselves; a copy of
    the cookie taken before the logout is refused by its id (matcher.security). Kept until the session would
    have reached its absolute timeout anyway, then pruned."""

    __tablename__ = "ended_sessions"

    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
