"""The command line's conventions (matcher.commands): one unit of work per command, `--as USERNAME`, and by
default the `system` account, which the audit log names and which nobody can log in as."""

from __future__ import annotations

from sqlalchemy import select

from matcher.audit.models import AuditEvent
from matcher.auth.models import SYSTEM_USERNAME, Account
from matcher.bases.models import Company
from matcher.extensions import db


def _bases_csv(tmp_path, kit, name: str):
    path = tmp_path / "bases.csv"
    path.write_text(f"name,credit_code,industry,place\n{name},{kit.make_credit_code('91330782MA9')},制造,义乌市\n",
                    encoding="utf-8")
    return path


def test_a_command_acts_as_the_system_account_by_default(app, world, kit, tmp_path):
    db.session.remove()
    result = app.test_cli_runner().invoke(args=["import", "bases", str(_bases_csv(tmp_path, kit, "命令行基地"))])
    assert result.exit_code == 0, result.output
    with app.app_context():
        system = db.session.scalar(select(Account).where(Account.username == SYSTEM_USERNAME))
        assert system is not None and system.is_system and system.is_admin
        company = db.session.scalar(select(Company).where(Company.name == "命令行基地"))
        created = db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == "create", AuditEvent.object_type == "companies", AuditEvent.object_id == company.id))
        assert created.actor_id == system.id  # the audit log says the command line acted


def test_as_names_the_account_and_a_refused_command_changes_nothing(app, world, kit, tmp_path):
    db.session.remove()
    runner = app.test_cli_runner()
    path = _bases_csv(tmp_path, kit, "不该有的基地")
    refused = runner.invoke(args=["import", "bases", str(path), "--as", "cw_a"])
    assert refused.exit_code == 1 and refused.output.startswith("Error:")
    unknown = runner.invoke(args=["import", "bases", str(path), "--as", "nobody"])
    assert unknown.exit_code == 1 and "nobody" in unknown.output
    with app.app_context():
        assert db.session.scalar(select(Company).where(Company.name == "不该有的基地")) is None


def test_nobody_logs_in_as_the_system_account(app, api, world):
    from matcher.auth.service import system_account

    with app.app_context():
        system_account(db.session)
        db.session.commit()
    for password in ("", "!", "not-a-real-password", "correct-horse-battery"):
        response = api.post("/api/v1/auth/tokens", json={"username": SYSTEM_USERNAME, "password": password})
        assert response.status_code in (401, 422), response.json


def test_the_command_line_speaks_the_shells_language_or_lang(app, world, tmp_path):
    db.session.remove()
    path = tmp_path / "bases.csv"
    path.write_text("name,credit_code,industry,place\n坏基地,123,制造,火星\n", encoding="utf-8")
    runner = app.test_cli_runner()

    def run(env: dict, *extra: str):
        result = runner.invoke(args=["import", "bases", str(path), *extra],
                               env={"LC_ALL": None, "LC_MESSAGES": None, "LANG": None, **env})
        assert result.exit_code == 1
        return result.output

    chinese = run({"LANG": "zh_CN.UTF-8"})
    assert "1 行中有 1 行有错误，未导入任何数据。" in chinese, chinese
    assert "nothing was imported" not in chinese
    # The command's own words too, not only the service's: the prefix and each row's line.
    assert "错误：" in chinese and "第 2 行 credit_code：" in chinese and "Error:" not in chinese, chinese
    for english in (run({"LANG": "C"}), run({"LANG": "zh_CN.UTF-8"}, "--lang", "en"),
                    run({"LANG": "zh_CN.UTF-8", "LC_ALL": "en_US.UTF-8"}), run({})):
        assert "1 of 1 rows have errors; nothing was imported." in english, english
        assert "Error:" in english and "row 2: credit_code:" in english, english
    assert run({"LANG": "C"}, "--lang", "zh") == chinese


def test_one_place_decides_the_locale():
    from matcher.commands import cli_locale

    assert cli_locale(None, {"LANG": "zh_CN.UTF-8"}) == "zh_CN"
    assert cli_locale(None, {"LANG": "zh_TW.UTF-8"}) == "zh_CN"
    assert cli_locale(None, {"LANG": "zh_CN.UTF-8", "LC_ALL": "C"}) == "en"
    assert cli_locale(None, {"LANG": "en_US.UTF-8", "LC_MESSAGES": "zh_CN.GB18030"}) == "zh_CN"
    assert cli_locale(None, {"LANG": "", "LC_ALL": ""}) == "en"
    assert cli_locale("zh", {"LANG": "C"}) == "zh_CN" and cli_locale("en", {"LANG": "zh_CN"}) == "en"
