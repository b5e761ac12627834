"""The secret that keys the audit log's hash chain (HMAC-SHA256) and signs its anchors, kept out of the database.

A plain SHA-256 chain can be recomputed by anyone who can write the database; a keyed one only by whoever holds
this key. It comes from `XINTU_AUDIT_KEY` (the key itself) or `XINTU_AUDIT_KEY_FILE` (a file holding it); with
neither, a random key is made once in the instance folder (`instance/audit.key`, mode 0600), which suits a laptop.
Every process that writes or verifies the log (web, job workers, cron) must see the same key.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path

from flask import current_app

log = logging.getLogger(__name__)

KEY_FILE_NAME = "audit.key"
KEY_ID_LENGTH = 16  # the length of audit_events.key_id
# A short key could be guessed offline from any event's hash (the content hashed is in the same row).
MIN_KEY_BYTES = 32
MAKE_ONE = "python -c 'import secrets; print(secrets.token_hex(32))'"


class AuditKeyError(RuntimeError):
    """The configured key cannot be used: the log is neither written nor verified with some other key."""


class AuditKey:
    """A key and its public name, `key_id` (the first 16 hex digits of its SHA-256), which each event stores."""

    __slots__ = ("_secret", "key_id", "source")

    def __init__(self, secret: bytes, *, source: str):
        if len(secret) < MIN_KEY_BYTES:
            raise AuditKeyError(f"the audit key from {source} is shorter than {MIN_KEY_BYTES} bytes; make one with "
                                f"{MAKE_ONE}")
        self._secret = secret
        self.key_id = hashlib.sha256(secret).hexdigest()[:KEY_ID_LENGTH]
        self.source = source  # where it came from, for messages: never the key itself

    def sign(self, message: bytes) -> str:
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def __repr__(self) -> str:  # a traceback or a log line never shows the secret
        return f"AuditKey(key_id={self.key_id!r}, source={self.source!r})"


def current_key() -> AuditKey:
    """The configured key, read once per application and configuration."""
    config = current_app.config
    key, key_file = config.get("AUDIT_KEY"), config.get("AUDIT_KEY_FILE")
    source = (key, key_file, None if key or key_file else current_app.instance_path)
    loaded = current_app.extensions.setdefault("xintu_audit_keys", {})
    if source not in loaded:
        loaded[source] = _load(*source)
    return loaded[source]


def _load(key: str | bytes | None, key_file: str | None, instance_path: str | None) -> AuditKey:
    if key:
        return AuditKey((key.encode() if isinstance(key, str) else key).strip(), source="XINTU_AUDIT_KEY")
    if key_file:
        return AuditKey(_read(Path(key_file)), source=str(key_file))
    path = Path(instance_path) / KEY_FILE_NAME
    if not path.exists():
        _make_once(path)
    return AuditKey(_read(path), source=str(path))


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes().strip()
    except OSError as exc:
        raise AuditKeyError(f"cannot read the audit key file {path}: {exc.strerror}") from exc


def _make_once(path: Path) -> None:
    """A new random key, written whole to a draft and linked into place: two processes starting together keep
    the same key (the second link fails and its draft is dropped), and no reader ever sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    handle = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(secrets.token_hex(32) + "\n")
            stream.flush()
            os.fsync(stream.fileno())
        try:
            os.link(draft, path)
        except FileExistsError:
            return
        log.warning("made a new audit key in %s: back it up apart from the database, or set XINTU_AUDIT_KEY_FILE",
                    path)
    finally:
        draft.unlink(missing_ok=True)
