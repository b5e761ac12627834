"""Helpers for the operations tests: a stamped Alembic revision, an active model, log capture."""

from __future__ import annotations

import io
import logging

import pytest
from sqlalchemy import text

from matcher.extensions import db


@pytest.fixture
def at_head(session):
    """The test schema is built by create_all: record the migrations' head as an upgrade would."""
    from matcher.ops.health import migration_heads

    session.execute(text("CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) NOT NULL)"))
    session.execute(text("DELETE FROM alembic_version"))
    for head in migration_heads():
        session.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": head})
    session.commit()
    yield
    db.session.rollback()
    db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
    db.session.commit()


@pytest.fixture
def active_model(session, world):
    from matcher.matching import service

    model = service.train_model(session=session, actor=None, activate=True)
    session.commit()  # the readiness probe is a request of its own
    return model


class Captured:
    """Every record any logger writes while installed, formatted as JSON and as text, plus the raw records."""

    def __init__(self):
        from matcher.ops.logs import make_handler

        self.json_stream, self.text_stream = io.StringIO(), io.StringIO()
        self.records: list[logging.LogRecord] = []
        self.raw: list[str] = []  # each record as it arrived, before the redacting safety net saw it
        self.handlers = [_Keep(self.records, self.raw), make_handler("json"), make_handler("text")]
        self.handlers[1].setStream(self.json_stream)
        self.handlers[2].setStream(self.text_stream)

    def install(self):
        root = logging.getLogger()
        self._levels = {name: logging.getLogger(name).level for name in ("", "matcher")}
        root.setLevel(logging.DEBUG)
        logging.getLogger("matcher").setLevel(logging.DEBUG)
        for handler in self.handlers:
            root.addHandler(handler)

    def remove(self):
        root = logging.getLogger()
        for handler in self.handlers:
            root.removeHandler(handler)
        for name, level in self._levels.items():
            logging.getLogger(name).setLevel(level)

    def everything(self) -> str:
        return "\n".join((self.json_stream.getvalue(), self.text_stream.getvalue(), *self.raw))

    def json_lines(self) -> list[dict]:
        import json

        return [json.loads(line) for line in self.json_stream.getvalue().splitlines() if line.strip()]


class _Keep(logging.Handler):
    def __init__(self, records, raw):
        super().__init__(logging.DEBUG)
        self.kept, self.raw = records, raw

    def emit(self, record):
        self.kept.append(record)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001
            message = str(record.msg)
        text = logging.Formatter().formatException(record.exc_info) if record.exc_info else ""
        self.raw.append(f"{message}\n{sorted(vars(record).items(), key=lambda kv: kv[0])!r}\n{text}")


@pytest.fixture
def logs():
    captured = Captured()
    captured.install()
    yield captured
    captured.remove()
