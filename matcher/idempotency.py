"""Idempotency keys for API writes: a request retried with the same `Idempotency-Key` header is answered once.

The first request with a key stores a row (status None: in progress) in a unit of work of its own; the unique
constraint (account, key) decides who is first when retries race. The view then runs, and its answer (status and
JSON body) is stored on the row in the view's own unit of work, so the work and its answer are committed together.
A retry with the same key and the same request (method, path and body) gets that answer again, marked
`Idempotent-Replayed: true`; with another request, 422; while the first is still running, 409. A failed first
request (any error answer, or a commit that failed) releases the key: it changed nothing, so it may be retried as
it is. Keys are kept 24 hours (expired ones are deleted when the account stores a new key).

If the process dies while the view runs, the key stays "in progress" (409) until it expires: the request is never
run twice, and the client reads the resource to see what happened.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from copy import deepcopy
from functools import wraps

from flask import Response, current_app, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from matcher import clock, uow
from matcher.audit.models import IdempotencyKey
from matcher.auth.current import current_actor
from matcher.errors import Conflict, Invalid
from matcher.extensions import db

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_LIFETIME = dt.timedelta(hours=24)
_VALID_KEY = re.compile(r"[\x21-\x7e]{1,100}")

# The header as an OpenAPI parameter, on every operation that takes it.
PARAMETER = {
    "in": "header", "name": HEADER, "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": "^[\\x21-\\x7e]{1,100}$"},
    "description": "Optional. A key of your choosing (1-100 visible ASCII characters, e.g. a UUID) that makes a "
                   "retry safe: the same key with the same request within 24 hours gets the first answer again "
                   f"(with `{REPLAYED_HEADER}: true`) instead of doing the work twice; the same key with another "
                   "request answers 422; while the first request is still running, 409. An error answer releases "
                   "the key.",
}


def idempotent(view):
    """Decorate a flask-smorest view method (outermost, above @blp.arguments) to honour `Idempotency-Key`."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not _VALID_KEY.fullmatch(key):
            raise Invalid(_l("An idempotency key is 1 to 100 visible ASCII characters."), field=HEADER)
        account_id = current_actor().id
        fingerprint = request_hash()
        stored = _claim(account_id, key, fingerprint)
        if stored is not None:
            return _replay(stored, fingerprint)
        # Whatever becomes of the view's unit of work, a key still "in progress" after it is released.
        uow.keep(lambda session: _release(session, account_id, key))
        response = current_app.make_response(view(*args, **kwargs))
        if response.status_code < 400 and not response.is_streamed:
            _store(account_id, key, response)
        return response

    wrapper._apidoc = deepcopy(getattr(view, "_apidoc", {}))
    manual = wrapper._apidoc.setdefault("manual_doc", {})
    manual.setdefault("parameters", []).append(PARAMETER)
    return wrapper


def request_hash() -> str:
    """What makes two requests the same: method, path, query and body (JSON compared by content, not spelling)."""
    body = request.get_data(cache=True)
    try:
        body = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode() if body else b""
    except ValueError:
        pass  # not JSON: the bytes as they came
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), request.query_string, body):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def _claim(account_id: int, key: str, fingerprint: str) -> IdempotencyKey | None:
    """Store the key as in progress and return None, or, when it is already stored, return that row."""
    session = db.session
    uow.commit()  # whatever the authentication read or wrote stays out of the key's unit of work
    session.execute(delete(IdempotencyKey).where(IdempotencyKey.account_id == account_id,
                                                 IdempotencyKey.created_at < clock.now() - KEY_LIFETIME))
    session.add(IdempotencyKey(account_id=account_id, key=key, method=request.method, path=request.path[:200],
                               request_hash=fingerprint, status=None))
    try:
        uow.commit()
        return None
    except Conflict:
        pass  # another request holds the key
    stored = session.scalar(select(IdempotencyKey).where(IdempotencyKey.account_id == account_id,
                                                         IdempotencyKey.key == key))
    if stored is None:  # the first request failed and released the key just now: this one is the first now
        return _claim(account_id, key, fingerprint)
    return stored


def _replay(stored: IdempotencyKey, fingerprint: str) -> Response:
    if stored.request_hash != fingerprint:
        raise Invalid(_l("This idempotency key was used for another request; use a new key."), field=HEADER)
    if stored.status is None:
        raise Conflict(_l("A request with this idempotency key is in progress; retry in a moment."), field=HEADER)
    response = Response(stored.response_body, status=stored.status, mimetype="application/json")
    response.headers[REPLAYED_HEADER] = "true"
    return response


def _store(account_id: int, key: str, response: Response) -> None:
    row = db.session.scalar(select(IdempotencyKey).where(IdempotencyKey.account_id == account_id,
                                                         IdempotencyKey.key == key))
    if row is not None:
        row.status, row.response_body = response.status_code, response.get_data(as_text=True)


def _release(session, account_id: int, key: str) -> None:
    session.execute(delete(IdempotencyKey).where(IdempotencyKey.account_id == account_id,
                                                 IdempotencyKey.key == key, IdempotencyKey.status.is_(None)))
