"""`flask --app matcher accounts create|list|set-password|deactivate`: the account page's rules from the command
line, the password never an argument, every change audited as the system account."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from matcher.audit.models import AuditEvent
from matcher.auth.models import SYSTEM_USERNAME, Account
from matcher.auth.service import authenticate
from matcher.errors import Unauthorized
from matcher.extensions import db
from matcher.offices.service import office_for_township

PASSWORD = "a-long-enough-password"
ENGLISH = {"LC_ALL": None, "LC_MESSAGES": None, "LANG": "C.UTF-8"}


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(args=["accounts", *args], input=input, env=ENGLISH)

    return invoke


def _account(app, username: str) -> Account | None:
    with app.app_context():
        account = db.session.scalar(select(Account).where(Account.username == username))
        if account is not None:
            db.session.expunge(account)
        return account


def test_create_an_administrator_from_standard_input_audited_as_the_system_account(app, cli):
    result = cli("create", "--username", "chief", "--role", "administrator", "--display-name", "局长",
                 "--bureau", "330782", "--password-stdin", input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    with app.app_context():
        chief = authenticate(session=db.session, username="chief", password=PASSWORD)
        assert chief.is_admin and chief.bureau_code == "330782"
        system = db.session.scalar(select(Account).where(Account.username == SYSTEM_USERNAME))
        created = db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == "create", AuditEvent.object_type == "account", AuditEvent.object_id == chief.id))
        assert created.actor_id == system.id


def test_the_password_is_asked_twice_and_must_match(app, cli):
    mismatch = cli("create", "--username", "typo", "--role", "organiser", "--display-name", "x", "--bureau",
                   "330782", input=f"{PASSWORD}\n{PASSWORD}x\n")
    assert mismatch.exit_code != 0 and _account(app, "typo") is None
    typed = cli("create", "--username", "typed", "--role", "organiser", "--display-name", "x", "--bureau",
                "330782", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert typed.exit_code == 0, typed.output
    assert PASSWORD not in typed.output and _account(app, "typed") is not None


def test_the_account_pages_rules_apply(app, cli):
    short = cli("create", "--username", "shorty", "--role", "administrator", "--display-name", "x", "--bureau",
                "330782", "--password-stdin", input="short\n")
    assert short.exit_code == 1 and "password:" in short.output
    no_office = cli("create", "--username", "cw1", "--role", "caseworker", "--display-name", "x",
                    "--password-stdin", input=PASSWORD + "\n")
    assert no_office.exit_code == 1 and "judicial office" in no_office.output
    wrong_option = cli("create", "--username", "cw1", "--role", "caseworker", "--display-name", "x", "--bureau",
                       "330782", "--password-stdin", input=PASSWORD + "\n")
    assert wrong_option.exit_code == 1 and "--bureau" in wrong_option.output
    nowhere = cli("create", "--username", "cw1", "--role", "caseworker", "--display-name", "x", "--office",
                  "999999", "--password-stdin", input=PASSWORD + "\n")
    assert nowhere.exit_code == 1 and "999999" in nowhere.output
    assert _account(app, "cw1") is None and _account(app, "shorty") is None


def test_list_holds_no_personal_data(app, cli):
    with app.app_context():
        office_id = office_for_township(db.session, "330782001").id
    created = cli("create", "--username", "cw_wang", "--role", "caseworker", "--display-name", "王小明",
                  "--office", str(office_id), "--email", "wang@example.org", "--password-stdin",
                  input=PASSWORD + "\n")
    assert created.exit_code == 0, created.output
    listed = cli("list")
    assert listed.exit_code == 0, listed.output
    assert "cw_wang" in listed.output and f"office {office_id}" in listed.output
    assert "王小明" not in listed.output and "wang@example.org" not in listed.output


def test_set_password_and_deactivate_but_never_the_system_account(app, cli):
    cli("create", "--username", "clerk", "--role", "organiser", "--display-name", "x", "--bureau", "330782",
        "--password-stdin", input=PASSWORD + "\n")
    changed = cli("set-password", "clerk", "--password-stdin", input="another-long-password\n")
    assert changed.exit_code == 0, changed.output
    with app.app_context():
        assert authenticate(session=db.session, username="clerk", password="another-long-password")
        db.session.rollback()
    deactivated = cli("deactivate", "clerk")
    assert deactivated.exit_code == 0, deactivated.output
    with app.app_context(), pytest.raises(Unauthorized):
        authenticate(session=db.session, username="clerk", password="another-long-password")
    for args in (("deactivate", SYSTEM_USERNAME), ("set-password", SYSTEM_USERNAME, "--password-stdin")):
        refused = cli(*args, input=PASSWORD + "\n")
        assert refused.exit_code == 1 and "system account cannot be changed" in refused.output
    assert _account(app, SYSTEM_USERNAME).is_active_account
    assert cli("deactivate", "nobody").exit_code == 1


def test_an_unknown_acting_account_names_the_commands_to_run(app, tmp_path):
    path = tmp_path / "bases.csv"
    path.write_text("name,credit_code,industry,place\n", encoding="utf-8")
    runner = app.test_cli_runner()
    english = runner.invoke(args=["import", "bases", str(path), "--as", "chief"], env=ENGLISH)
    assert english.exit_code == 1 and "flask --app matcher accounts create" in english.output
    chinese = runner.invoke(args=["import", "bases", str(path), "--as", "chief", "--lang", "zh"])
    assert chinese.exit_code == 1 and "flask --app matcher accounts create" in chinese.output
    assert "没有" in chinese.output
