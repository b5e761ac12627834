"""The audit log's anchor file: signed checkpoints of the chain's head, kept outside the database.

One JSON object per line: the last event's id and hash, how many events the log held up to it, when, the key's
id and an HMAC of those with the audit key. Whoever can rewrite the database cannot rewrite this file (keep it
where the database's administrators cannot write, or copy each line elsewhere), so a cut tail or a recomputed
chain no longer matches it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hmac
import json
import os
from collections.abc import Iterator
from pathlib import Path

from flask import current_app

from matcher.audit.keys import AuditKey

ANCHOR_FILE_NAME = "audit-anchors.jsonl"
# Signed apart from the events' hashes, whose input starts with a hex prev_hash: one never passes for the other.
SIGNED_PREFIX = b"xintu-audit-anchor\n"


@dataclasses.dataclass(frozen=True)
class Anchor:
    event_id: int
    hash: str
    events: int  # events in the log up to and including event_id
    at: str  # RFC 3339 in UTC, signed as written
    key_id: str

    @property
    def instant(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.at)

    def signature(self, key: AuditKey) -> str:
        content = json.dumps(dataclasses.asdict(self), sort_keys=True, separators=(",", ":"))
        return key.sign(SIGNED_PREFIX + content.encode())

    def line(self, key: AuditKey) -> str:
        return json.dumps({**dataclasses.asdict(self), "signature": self.signature(key)}, separators=(",", ":"))


@dataclasses.dataclass(frozen=True)
class AnchorLine:
    """A line of the file as read: the anchor when it is one, and its signature as written."""

    number: int
    anchor: Anchor | None
    signature: str | None

    def signed_by(self, key: AuditKey) -> bool:
        return (self.anchor is not None and self.signature is not None
                and hmac.compare_digest(self.signature.encode(), self.anchor.signature(key).encode()))


def anchor_path() -> Path:
    """`XINTU_AUDIT_ANCHOR_PATH`, by default beside the key in the instance folder."""
    configured = current_app.config.get("AUDIT_ANCHOR_PATH")
    return Path(configured) if configured else Path(current_app.instance_path) / ANCHOR_FILE_NAME


def append(path: Path, line: str) -> None:
    """One write of one whole line, appended and flushed to disk: concurrent checkpoints never interleave."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(handle, (line + "\n").encode())
        os.fsync(handle)
    finally:
        os.close(handle)


def read(path: Path) -> Iterator[AnchorLine]:
    """Every non-blank line; a missing file has none. An OSError other than "missing" is the caller's."""
    try:
        stream = path.open(encoding="utf-8", errors="replace")  # a mangled byte makes its line unreadable
    except FileNotFoundError:
        return
    with stream:
        for number, text in enumerate(stream, start=1):
            if text.strip():
                yield _parse(number, text)


def _parse(number: int, text: str) -> AnchorLine:
    try:
        data = json.loads(text)
    except ValueError:
        return AnchorLine(number, None, None)
    names = {field.name for field in dataclasses.fields(Anchor)}
    if not isinstance(data, dict) or set(data) != names | {"signature"}:
        return AnchorLine(number, None, None)
    try:
        anchor = Anchor(event_id=_whole(data["event_id"]), hash=str(data["hash"]), events=_whole(data["events"]),
                        at=_instant(data["at"]), key_id=str(data["key_id"]))
    except (TypeError, ValueError):
        return AnchorLine(number, None, None)
    return AnchorLine(number, anchor, str(data["signature"]))


def _instant(value) -> str:
    dt.datetime.fromisoformat(value)  # raises on anything but an instant
    return value


def _whole(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(value)
    return value
