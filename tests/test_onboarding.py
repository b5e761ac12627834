"""A bureau moves onto Xintu from an EMPTY database through the command line alone, as the README's "Moving a
bureau onto Xintu" says: schema, reference data, an administrator, the example folder (seed/onboarding-example),
a model, and a plan that names the bureau's own ids."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from matcher import create_app
from matcher.extensions import db

EXAMPLE = Path(__file__).resolve().parent.parent / "seed" / "onboarding-example"
ENGLISH = {"LC_ALL": None, "LC_MESSAGES": None, "LANG": "C.UTF-8"}


@pytest.fixture
def empty_database(tmp_path) -> str:
    """A database with nothing in it: a new SQLite file, or (XINTU_TEST_DATABASE_URL) a new PostgreSQL
    database beside the suite's."""
    url = os.environ.get("XINTU_TEST_DATABASE_URL")
    if not url:
        yield f"sqlite:///{tmp_path / 'bureau.db'}"
        return
    given = make_url(url)
    name = f"{given.database}_onboarding_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    admin = create_engine(given.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield given.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_a_bureau_onboards_the_example_from_an_empty_database(empty_database, tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database, "MODELS_DIR": str(tmp_path / "models"),
                      "SECRET_KEY": "test", "ID_NUMBER_PEPPER": "test-pepper",
                      "AUDIT_KEY": "test-audit-key-of-at-least-32-bytes",
                      "AUDIT_ANCHOR_PATH": str(tmp_path / "anchors.jsonl"),
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    runner = app.test_cli_runner(env=ENGLISH)

    def flask(*args: str, input: str | None = None) -> str:
        result = runner.invoke(args=list(args), input=input)
        assert result.exit_code == 0, f"flask {' '.join(args)}:\n{result.output}"
        return result.output

    try:
        flask("db", "upgrade")
        flask("seed", "reference")
        flask("accounts", "create", "--username", "chief", "--role", "administrator", "--display-name", "局长",
              "--bureau", "330700", "--password-stdin", input="a-long-enough-password\n")
        report = flask("onboard", str(EXAMPLE), "--as", "chief")
        assert "4 files" in report
        for name, rows in (("bases.csv", 4), ("slots.csv", 10), ("candidates.csv", 30), ("referrals.csv", 40)):
            assert f"{rows} rows, {rows} created" in next(line for line in report.splitlines() if name in line)
        flask("model", "train", "--activate", "--as", "chief")  # the rule prior when the history is too short
        plan = tmp_path / "plan.csv"
        flask("assign", "-o", str(plan), "--as", "chief")
        with plan.open(encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        assert rows, "the plan assigns someone"
        assert all(row["candidate_external_id"].startswith("JH-C-") for row in rows)
        assert all(row["slot_external_id"].startswith("JH-S-") for row in rows)
        # Onboarding the same folder again is refused whole: its bases, slots and files exist already.
        again = runner.invoke(args=["onboard", str(EXAMPLE), "--as", "chief"])
        assert again.exit_code == 1 and "nothing was imported" in again.output
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
