"""`flask audit verify` finds every way of rewriting the log that needs no key: an edited or deleted row, a chain
recomputed without the key or with another, a tail cut after a checkpoint, an altered anchor. It passes an
untouched log, and one whose first events are from before the chain was keyed."""

from __future__ import annotations

import json
import stat

import pytest
from sqlalchemy import delete, select, update

from matcher.audit.anchors import Anchor
from matcher.audit.keys import current_key
from matcher.audit.models import AuditEvent
from tests.audit.tampering import OTHER_KEY, append_events, rehash, run_cli


def _broken_at(result, event_id: int) -> bool:
    return result.exit_code == 1 and f"BROKEN at event {event_id} " in result.output


def _anchor_failed_at(result, line: int) -> bool:
    return result.exit_code == 1 and f"ANCHOR FAILED at line {line}:" in result.output


def test_an_untouched_log_with_checkpoints_passes(app, session, anchor_file):
    append_events(session, 5)
    assert run_cli(app, "checkpoint").exit_code == 0
    ids = append_events(session, 4)
    assert run_cli(app, "checkpoint").exit_code == 0
    append_events(session, 2)  # after the last checkpoint
    result = run_cli(app, "verify")
    assert result.exit_code == 0, result.output
    assert "ok: 11 events, the chain is intact" in result.output
    assert f"anchors: {anchor_file} (2 read)" in result.output
    assert f"latest anchor: event {ids[-1]} " in result.output and "9 events" in result.output


def test_an_untouched_log_without_a_checkpoint_passes_and_says_so(app, session, anchor_file):
    append_events(session, 3)
    result = run_cli(app, "verify")
    assert result.exit_code == 0 and f"anchors: {anchor_file} (0 read)" in result.output
    assert "no anchor yet" in result.output


def test_a_legacy_prefix_then_keyed_events_passes(app, session):
    """Events from before the key keep their plain SHA-256; the first keyed event's prev_hash binds their head."""
    legacy = append_events(session, 4)
    rehash(session, start_id=legacy[0], key=None)  # as written before this version
    keyed = append_events(session, 3)
    session.expire_all()
    first_keyed = session.get(AuditEvent, keyed[0])
    assert first_keyed.prev_hash == session.get(AuditEvent, legacy[-1]).hash
    assert first_keyed.key_id == current_key().key_id
    assert run_cli(app, "checkpoint").exit_code == 0
    result = run_cli(app, "verify")
    assert result.exit_code == 0, result.output
    assert "ok: 7 events, the chain is intact, the first 4 from before the key" in result.output


def test_a_legacy_event_after_a_keyed_one_is_refused(app, session):
    ids = append_events(session, 3)
    rehash(session, start_id=ids[2], key=None)  # a correct plain SHA-256, chained to its keyed predecessor
    assert _broken_at(run_cli(app, "verify"), ids[2])


@pytest.mark.parametrize("column, value", [("fields", "name"), ("object_id", 999), ("actor_role", "caseworker")])
def test_a_an_edited_event_is_found(app, session, column, value):
    ids = append_events(session, 6)
    session.execute(update(AuditEvent).where(AuditEvent.id == ids[3]).values({column: value}))
    session.commit()
    assert _broken_at(run_cli(app, "verify"), ids[3])


def test_b_a_deleted_event_is_found(app, session):
    ids = append_events(session, 6)
    session.execute(delete(AuditEvent).where(AuditEvent.id == ids[2]))
    session.commit()
    assert _broken_at(run_cli(app, "verify"), ids[3])


ATTACKERS = {
    "plain sha256, as events from before the key": dict(key=None),
    "plain sha256, still naming the key": dict(key=None, key_id="keep"),
    "another key": dict(key=OTHER_KEY),
    "another key, naming the audit key": dict(key=OTHER_KEY, key_id="keep"),
}


@pytest.mark.parametrize("attacker", ATTACKERS.values(), ids=ATTACKERS.keys())
def test_c_an_edit_with_a_recomputed_chain_is_found(app, session, attacker):
    """What an outside test did to the plain SHA-256 chain, which then verified: edit, then rehash from there."""
    ids = append_events(session, 8)
    session.execute(update(AuditEvent).where(AuditEvent.id == ids[4]).values(fields="name"))
    session.commit()
    key_id = current_key().key_id if attacker.get("key_id") == "keep" else None
    rehash(session, start_id=ids[4], key=attacker["key"], key_id=key_id)
    assert _broken_at(run_cli(app, "verify"), ids[4])


def test_c_a_deletion_with_a_recomputed_chain_is_found(app, session):
    ids = append_events(session, 8)
    session.execute(delete(AuditEvent).where(AuditEvent.id == ids[4]))
    session.commit()
    rehash(session, start_id=ids[5], key=None)
    assert _broken_at(run_cli(app, "verify"), ids[5])


def test_c_a_whole_chain_recomputed_as_from_before_the_key_is_found_by_the_anchor(app, session):
    """Rehashed from the first event, the log looks as if written before the key: only an anchor tells."""
    ids = append_events(session, 5)
    assert run_cli(app, "checkpoint").exit_code == 0
    session.execute(update(AuditEvent).where(AuditEvent.id == ids[1]).values(fields="name"))
    session.commit()
    rehash(session, start_id=ids[0], key=None)
    result = run_cli(app, "verify")
    assert _anchor_failed_at(result, 1) and f"Event {ids[-1]}, anchored on line 1, is missing" in result.output


def test_d_a_tail_deleted_after_a_checkpoint_is_found(app, session):
    ids = append_events(session, 6)
    assert run_cli(app, "checkpoint").exit_code == 0
    later = append_events(session, 3)
    session.execute(delete(AuditEvent).where(AuditEvent.id >= ids[4]))
    session.commit()
    result = run_cli(app, "verify")
    assert "ok: 4 events, the chain is intact" in result.output  # what a shorter chain alone would say
    assert _anchor_failed_at(result, 1) and f"Event {ids[-1]}, anchored on line 1, is missing" in result.output
    # New events in place of the cut ones do not hide it: the anchored event's hash is gone.
    append_events(session, len(later) + 2)
    assert _anchor_failed_at(run_cli(app, "verify"), 1)


def _edit_line(path, number: int, **changes) -> None:
    lines = path.read_text().splitlines()
    line = json.loads(lines[number - 1])
    line.update(changes)
    lines[number - 1] = json.dumps(line)
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("changes", [{"events": 2}, {"event_id": 1}, {"hash": "0" * 64},
                                     {"at": "2020-01-01T00:00:00Z"}, {"key_id": "0" * 16}],
                         ids=["events", "event_id", "hash", "at", "key_id"])
def test_e_an_altered_anchor_is_found(app, session, anchor_file, changes):
    first = append_events(session, 3)
    assert run_cli(app, "checkpoint").exit_code == 0
    append_events(session, 3)
    assert run_cli(app, "checkpoint").exit_code == 0
    _edit_line(anchor_file, 2, **changes)
    result = run_cli(app, "verify")
    assert "the chain is intact" in result.output
    assert _anchor_failed_at(result, 2)
    assert f"latest anchor: event {first[-1]} " in result.output  # the newest one that still holds


def test_e_an_anchor_forged_without_the_key_is_found(app, session, anchor_file):
    ids = append_events(session, 4)
    assert run_cli(app, "checkpoint").exit_code == 0
    session.execute(delete(AuditEvent).where(AuditEvent.id == ids[-1]))
    session.commit()
    forged = json.loads(anchor_file.read_text())
    forged.update(event_id=ids[-2], events=3, hash=session.get(AuditEvent, ids[-2]).hash)
    anchor = Anchor(**{name: forged[name] for name in ("event_id", "hash", "events", "at", "key_id")})
    forged["signature"] = anchor.signature(OTHER_KEY)
    anchor_file.write_text(json.dumps(forged) + "\n")
    result = run_cli(app, "verify")
    assert _anchor_failed_at(result, 1) and "signature does not match" in result.output


def test_e_an_unreadable_anchor_line_is_found(app, session, anchor_file):
    append_events(session, 2)
    assert run_cli(app, "checkpoint").exit_code == 0
    with anchor_file.open("a") as stream:
        stream.write("not a checkpoint\n")
    result = run_cli(app, "verify")
    assert _anchor_failed_at(result, 2) and "latest anchor: event" in result.output


def test_a_checkpoint_after_an_edited_head_is_refused(app, session, anchor_file):
    ids = append_events(session, 3)
    session.execute(update(AuditEvent).where(AuditEvent.id == ids[-1]).values(fields="name"))
    session.commit()
    result = run_cli(app, "checkpoint")
    assert result.exit_code == 1 and f"the newest event, {ids[-1]}, does not match its hash" in result.output
    assert not anchor_file.exists()


def test_a_checkpoint_with_another_key_is_refused(app, session, anchor_file, monkeypatch):
    """What cron would do without the web's XINTU_AUDIT_KEY: it must not sign anchors with some other key."""
    append_events(session, 2)
    monkeypatch.setitem(app.config, "AUDIT_KEY", "another-audit-key-of-at-least-32-bytes")
    result = run_cli(app, "checkpoint")
    assert result.exit_code == 1 and "give this command the web's audit key" in result.output
    assert not anchor_file.exists()


def test_an_anchor_signed_by_another_key_is_found(app, session, anchor_file, monkeypatch):
    append_events(session, 2)
    assert run_cli(app, "checkpoint").exit_code == 0
    monkeypatch.setitem(app.config, "AUDIT_KEY", "another-audit-key-of-at-least-32-bytes")
    result = run_cli(app, "verify")
    assert _anchor_failed_at(result, 1) and "signed with another key" in result.output


def test_a_checkpoint_of_an_empty_log_writes_nothing(app, session, anchor_file):
    result = run_cli(app, "checkpoint")
    assert result.exit_code == 0 and "empty" in result.output and not anchor_file.exists()


def test_a_checkpoint_is_one_signed_json_line(app, session, anchor_file):
    append_events(session, 4)
    result = run_cli(app, "checkpoint")
    assert result.exit_code == 0 and str(anchor_file) in result.output
    assert stat.S_IMODE(anchor_file.stat().st_mode) == 0o600
    [line] = anchor_file.read_text().splitlines()
    written = json.loads(line)
    assert list(written) == ["event_id", "hash", "events", "at", "key_id", "signature"]
    head = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
    assert (written["event_id"], written["hash"], written["events"]) == (head.id, head.hash, 4)
    assert written["key_id"] == current_key().key_id and written["at"].endswith("Z")
    anchor = Anchor(**{name: written[name] for name in ("event_id", "hash", "events", "at", "key_id")})
    assert written["signature"] == anchor.signature(current_key())


def test_e_a_mangled_anchor_file_is_found(app, session, anchor_file):
    append_events(session, 2)
    assert run_cli(app, "checkpoint").exit_code == 0
    with anchor_file.open("ab") as stream:
        stream.write(b"\xff\xfe{not utf-8}\n")
    assert _anchor_failed_at(run_cli(app, "verify"), 2)
