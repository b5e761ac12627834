"""`flask --app matcher onboard DIR`: a bureau's folder loaded in order (bases, slots, candidates, referrals), all
files or none, with one report."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import func, select

from matcher import clock
from matcher.bases.models import CertificationStatus, Company
from matcher.candidates.models import Candidate
from matcher.demo.folder import FolderSpec, write_folder
from matcher.extensions import db
from matcher.slots.models import Slot
from matcher.transfer.onboard import kind_of


def counts(app) -> dict[str, int]:
    with app.app_context():
        return {model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
                for model in (Company, Slot, Candidate)}


@pytest.fixture
def folder(tmp_path):
    """Bases, slots and candidates (the referral history names slots by the bureau's own ids, tested end to end
    in tests/test_onboarding.py)."""
    path = tmp_path / "bureau"
    write_folder(path, FolderSpec(today=clock.today(), bases=3, slots=6, candidates=8, referrals=0,
                                  external_ids=False))
    (path / "referrals.csv").unlink()
    return path


def test_a_folder_loads_in_order_with_one_report(app, runner, people, folder):
    before = counts(app)
    (folder / "bases.csv").rename(folder / "基地.csv")  # the Chinese name of the kind is read too
    result = runner.invoke(args=["onboard", str(folder)])
    assert result.exit_code == 0, result.output
    assert f"Onboarded {folder}: 17 rows of 3 files, 17 created" in result.output
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines[1:]] == ["基地.csv", "slots.csv", "candidates.csv"]
    assert "6 rows, 6 created" in lines[2]
    after = counts(app)
    assert {name: after[name] - before[name] for name in after} == {"companies": 3, "slots": 6, "candidates": 8}
    with app.app_context():  # certified by the file, so its slots opened
        assert db.session.scalar(select(func.count()).select_from(Company).where(
            Company.certification_status == CertificationStatus.CERTIFIED)) == before["companies"] + 3


def test_one_bad_file_leaves_nothing_of_any_file_and_every_files_errors_are_printed(app, runner, people, folder):
    before = counts(app)
    candidates = (folder / "candidates.csv").read_text(encoding="utf-8-sig").splitlines()
    candidates[2] = candidates[2].replace(",data_processing;referral", ",不存在的同意")
    (folder / "candidates.csv").write_text("\n".join(candidates), encoding="utf-8")
    slots = (folder / "slots.csv").read_text(encoding="utf-8-sig").splitlines()
    header = slots[0].split(",")
    row = slots[1].split(",")
    row[header.index("seats")] = "many"
    (folder / "slots.csv").write_text("\n".join([slots[0], ",".join(row), *slots[2:]]), encoding="utf-8")
    result = runner.invoke(args=["onboard", str(folder)])
    assert result.exit_code == 1
    assert "2 of 3 files have errors; nothing was imported." in result.output
    assert "slots.csv: 1 of 6 rows have errors" in result.output and "row 2: seats:" in result.output
    assert "candidates.csv: 1 of 8 rows have errors" in result.output and "row 3: consents:" in result.output
    assert "3 rows, all valid" in result.output  # the bases would have loaded: still nothing stays
    assert counts(app) == before


def test_a_dry_run_checks_later_files_against_earlier_ones_and_changes_nothing(app, runner, people, folder):
    before = counts(app)
    result = runner.invoke(args=["onboard", str(folder), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "all 17 rows of 3 files are valid; nothing was changed" in result.output
    assert counts(app) == before


def test_unknown_or_doubled_files_refuse_the_folder(app, runner, people, folder, tmp_path):
    before = counts(app)
    (folder / "notes.txt").write_text("x", encoding="utf-8")
    (folder / ".DS_Store").write_bytes(b"\0")  # hidden files are passed over
    result = runner.invoke(args=["onboard", str(folder)])
    assert result.exit_code == 1 and "files notes.txt: Not a file onboarding reads" in result.output
    (folder / "notes.txt").unlink()
    shutil.copy(folder / "slots.csv", folder / "岗位.csv")
    result = runner.invoke(args=["onboard", str(folder)])
    assert result.exit_code == 1 and "Two files of the same kind" in result.output and "岗位.csv" in result.output
    empty = tmp_path / "empty"
    empty.mkdir()
    assert runner.invoke(args=["onboard", str(empty)]).exit_code == 1
    assert counts(app) == before


def test_file_names():
    assert [kind_of(name) for name in ("bases.xlsx", "Slots.CSV", "帮教对象.xlsx", "推荐记录.csv", "安置基地.csv",
                                       "bases.xls", "bases.txt", "base.csv", "release_list.csv")] == [
        "bases", "slots", "candidates", "referrals", "bases", None, None, None, None]
