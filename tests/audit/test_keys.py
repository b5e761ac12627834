"""The chain is keyed with a secret that is not in the database: where the key comes from, and what it signs."""

from __future__ import annotations

import datetime as dt
import hashlib
import stat
import types

import pytest
from sqlalchemy import select

from matcher.audit.keys import AuditKey, AuditKeyError, current_key
from matcher.audit.models import AuditEvent
from matcher.audit.service import event_hash, verify
from tests.audit.tampering import append_events, run_cli

SECRET = "a-key-file-secret-of-at-least-32-bytes"


@pytest.fixture
def key_config(app, monkeypatch, tmp_path):
    """Neither XINTU_AUDIT_KEY nor XINTU_AUDIT_KEY_FILE, and an instance folder of the test's own."""
    monkeypatch.setitem(app.config, "AUDIT_KEY", None)
    monkeypatch.setitem(app.config, "AUDIT_KEY_FILE", None)
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    return app.config


def test_every_event_is_signed_with_the_key_and_names_it(app, session):
    key = current_key()
    append_events(session, 3)
    events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    assert key.key_id == hashlib.sha256(b"test-audit-key-of-at-least-32-bytes").hexdigest()[:16]
    assert [event.key_id for event in events] == [key.key_id] * 3
    for event in events:
        assert event.hash == event_hash(event.prev_hash, event, key=key)
        assert event.hash != event_hash(event.prev_hash, event, key=None)  # not the plain SHA-256
    assert verify(session) == (True, None, 3)


def test_the_key_file_is_read(app, session, key_config, tmp_path):
    path = tmp_path / "xintu-audit.key"
    path.write_text(SECRET + "\n")
    key_config["AUDIT_KEY_FILE"] = str(path)
    key = current_key()
    assert key.key_id == hashlib.sha256(SECRET.encode()).hexdigest()[:16] and key.source == str(path)
    assert SECRET not in repr(key)


def test_a_named_key_file_that_is_missing_is_an_error_not_a_new_key(app, session, key_config, tmp_path):
    key_config["AUDIT_KEY_FILE"] = str(tmp_path / "missing.key")
    with pytest.raises(AuditKeyError, match="missing.key"):
        current_key()
    assert not (tmp_path / "missing.key").exists()


def test_a_short_key_is_refused(app, session, key_config):
    key_config["AUDIT_KEY"] = "short"
    with pytest.raises(AuditKeyError, match="32 bytes"):
        current_key()


def test_without_a_key_one_is_made_once_in_the_instance_folder(app, session, key_config, tmp_path):
    key = current_key()
    path = tmp_path / "instance" / "audit.key"
    assert key.source == str(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(path.read_text().strip()) == 64
    assert [p.name for p in path.parent.iterdir()] == ["audit.key"]  # no draft left behind
    append_events(session, 2)
    app.extensions.pop("xintu_audit_keys")  # as a new process would: read the file, not make another key
    assert current_key().key_id == key.key_id
    assert verify(session) == (True, None, 2)


def test_an_event_signed_with_another_key_does_not_verify(app, session, monkeypatch):
    ids = append_events(session, 3)
    monkeypatch.setitem(app.config, "AUDIT_KEY", "another-audit-key-of-at-least-32-bytes")
    assert verify(session) == (False, ids[0], 1)


def test_repr_never_shows_the_secret():
    assert "hidden" not in repr(AuditKey(b"hidden" * 8, source="a test"))


def test_the_commands_name_a_key_they_cannot_read(app, session, key_config, tmp_path):
    append_events(session, 1)
    key_config["AUDIT_KEY_FILE"] = str(tmp_path / "missing.key")
    for command in ("verify", "checkpoint"):
        result = run_cli(app, command)
        assert result.exit_code == 1 and "cannot read the audit key file" in result.output and "missing.key" in \
            result.output


# Hashes computed by the unkeyed code this version replaces: events written before the key still verify.
LEGACY_EXAMPLES = [
    ("0" * 64, dict(at=dt.datetime(2026, 12, 6, 17, 12, 1, 123456, tzinfo=dt.UTC), actor_id=7,
                    actor_role="caseworker", action="read", object_type="candidate", object_id=123,
                    fields="risk_grade", remote_addr="10.0.0.1"),
     "21e2eb2eafcd50c78119391f6c20ea1738bb9c7e7535906d6a93fd74a86ef5d6"),
    ("ab" * 32, dict(at=dt.datetime(2026, 12, 6, 17, 12, 1, tzinfo=dt.UTC), actor_id=None, actor_role=None,
                     action="export", object_type="export", object_id=None, fields="id_number,姓名", remote_addr=None),
     "e423340b0fc21db030b5aac0b7233764071632e62ca75ef525031abae69d767c"),
]


@pytest.mark.parametrize("prev_hash, content, expected", LEGACY_EXAMPLES)
def test_events_from_before_the_key_hash_as_they_always_did(prev_hash, content, expected):
    event = types.SimpleNamespace(**content)
    assert event_hash(prev_hash, event, key=None) == expected
    naive = types.SimpleNamespace(**{**content, "at": content["at"].replace(tzinfo=None)})  # as SQLite returns it
    assert event_hash(prev_hash, naive, key=None) == expected
