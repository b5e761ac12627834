"""REST endpoints for tokens, the current account and (for administrators) accounts."""

from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_limiter.util import get_remote_address

from matcher.apiutil import MAX_PAGE_SIZE, PAGE_SIZE, blueprint, paginate_select
from matcher.auth import service
from matcher.auth.current import current_actor, token_ttl_days
from matcher.auth.lockout import log_in, unlock_account
from matcher.auth.schemas import (
    AccountCreateSchema,
    AccountListQuerySchema,
    AccountReadSchema,
    AccountUpdateSchema,
    LoginSchema,
    TokenSchema,
)
from matcher.extensions import db

blp = blueprint("auth", __name__, "", "Logging in and accounts.")


@blp.route("/auth/tokens")
class Tokens(MethodView):
    @blp.arguments(LoginSchema)
    @blp.response(201, TokenSchema)
    @blp.doc(security=[])
    def post(self, data):
        """Exchange a username and password for a bearer token"""
        account = log_in(session=db.session, username=data["username"], password=data["password"],
                         address=get_remote_address())
        token, record = service.issue_token(session=db.session, account=account, ttl_days=token_ttl_days(),
                                            name=data["name"])
        return {"token": token, "expires_at": record.expires_at}

    @blp.response(204)
    def delete(self):
        """Revoke the token this request is sent with"""
        current_actor()
        token = request.headers.get("Authorization", "").partition(" ")[2].strip()
        service.revoke_token(session=db.session, token=token)


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, AccountReadSchema)
    def get(self):
        """The account you are logged in as"""
        return current_actor()


@blp.route("/accounts")
class Accounts(MethodView):
    @blp.arguments(AccountListQuerySchema, location="query")
    @blp.response(200, AccountReadSchema(many=True))
    @blp.paginate(page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
    def get(self, filters, pagination_parameters):
        """List accounts (administrators)"""
        stmt = service.list_accounts(session=db.session, actor=current_actor(), role=filters.get("role"))
        return paginate_select(db.session, stmt, pagination_parameters)

    @blp.arguments(AccountCreateSchema)
    @blp.response(201, AccountReadSchema)
    def post(self, data):
        """Create an account with its role and scope (administrators)"""
        return service.create_account(session=db.session, actor=current_actor(), data=data)


@blp.route("/accounts/<id:account_id>")
class AccountById(MethodView):
    @blp.response(200, AccountReadSchema)
    def get(self, account_id):
        """Read an account (administrators)"""
        return service.get_account(session=db.session, actor=current_actor(), account_id=account_id)

    @blp.arguments(AccountUpdateSchema)
    @blp.response(200, AccountReadSchema)
    def patch(self, data, account_id):
        """Change an account's name, password, scope or whether it may log in, or unlock it (administrators)

        A new password or a deactivation ends the account's page sessions at once; `unlock: true` lifts a
        lockout after too many failed logins."""
        actor = current_actor()
        if data.pop("unlock", False):
            unlock_account(session=db.session, actor=actor, account_id=account_id)
        return service.update_account(session=db.session, actor=actor, account_id=account_id, data=data)
