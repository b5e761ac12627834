"""`flask import ...` and `flask export ...`."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import func, select

from matcher.bases.models import Company
from matcher.extensions import db

HEADER = ["name", "credit_code", "industry", "place"]


def bases_in_database(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Company))


def test_import_dry_run_then_for_real(app, runner, people, tx, tmp_path):
    path = tmp_path / "基地.csv"
    path.write_bytes(tx.csv_bytes(HEADER, [["新基地", tx.credit_code(5), "制造", "义乌市"]], encoding="gbk"))
    result = runner.invoke(args=["import", "bases", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Dry run: all 1 rows of bases are valid" in result.output
    assert bases_in_database(app) == 2
    result = runner.invoke(args=["import", "bases", str(path), "--as", "admin"])
    assert result.exit_code == 0, result.output
    assert "Imported 1 bases." in result.output and bases_in_database(app) == 3


def test_import_errors_list_each_row_and_exit_1(app, runner, people, tx, tmp_path):
    path = tmp_path / "bases.xlsx"
    path.write_bytes(tx.xlsx_bytes(HEADER, [["好基地", tx.credit_code(5), "制造", "义乌市"],
                                            ["坏基地", "123", "制造", "火星"]]))
    result = runner.invoke(args=["import", "bases", str(path)])
    assert result.exit_code == 1
    assert "1 of 2 rows have errors; nothing was imported." in result.output
    assert "row 3: credit_code:" in result.output
    assert bases_in_database(app) == 2


def test_acting_account(runner, people, tx, tmp_path):
    path = tmp_path / "bases.csv"
    path.write_bytes(tx.csv_bytes(HEADER, [["新基地", tx.credit_code(5), "制造", "义乌市"]]))
    result = runner.invoke(args=["import", "bases", str(path), "--as", "cw"])
    assert result.exit_code == 1 and "cannot import bases" in result.output
    result = runner.invoke(args=["import", "bases", str(path), "--as", "nobody"])
    assert result.exit_code == 1 and "nobody" in result.output


def test_bad_file(runner, people, tmp_path):
    path = tmp_path / "bases.pdf"
    path.write_bytes(b"%PDF-1.7")
    result = runner.invoke(args=["import", "bases", str(path)])
    assert result.exit_code == 1 and ".pdf" in result.output


def test_export(runner, people, tmp_path):
    path = tmp_path / "slots-and-bases.xlsx"
    result = runner.invoke(args=["export", "bases", "-o", str(path), "--headers", "zh", "--as", "emp"])
    assert result.exit_code == 0, result.output
    assert "Wrote 1 bases" in result.output  # an employer sees their own base
    sheet = load_workbook(io.BytesIO(path.read_bytes())).worksheets[0]
    assert sheet["B1"].value == "名称" and sheet["B2"].value == "甲餐饮有限公司"
    csv_path = tmp_path / "bases.txt"
    result = runner.invoke(args=["export", "bases", "--format", "csv", "--encoding", "gbk",
                                 "-o", str(csv_path)])
    assert result.exit_code == 0, result.output
    assert "乙物流有限公司" in csv_path.read_bytes().decode("gbk")
    result = runner.invoke(args=["export", "candidates", "-o", str(csv_path), "--as", "emp"])
    assert result.exit_code == 1 and "cannot export candidates" in result.output
