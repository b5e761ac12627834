"""Pre-release lists (预释放人员名单): CSV (UTF-8, GBK) and .xlsx, opening and updating files by the ID number's
hash, routing to the residence's office with dual registration, errors by row and column, dry runs, the API,
the command line, and matching that starts before release."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from sqlalchemy import func, select

from matcher.candidates.models import Candidate, CandidateStatus, Consent, ConsentKind, RiskAssessment
from matcher.clock import today
from matcher.errors import Forbidden, Invalid
from matcher.extensions import db
from matcher.identifiers import hash_id_number
from matcher.transfer.service import import_file

HEADER = ["name", "id_number", "education", "release_date", "release_institution", "offence_category",
          "sentence_note", "hukou", "residence", "residence_address", "key_subject", "phone", "preferred_courses",
          "skills", "needs_housing"]
ZH_HEADER = ["姓名", "身份证号", "文化程度", "释放日期", "释放单位", "罪名类别", "原判刑期", "户籍地", "居住地",
             "居住地址", "重点帮教对象", "联系电话", "培训意向", "技能", "需要住宿"]


def day(offset: int) -> dt.date:
    return today() + dt.timedelta(days=offset)


def row(tx, seq: int, **changes) -> list:
    values = {"name": f"李{seq}", "id_number": tx.id_number(seq), "education": "junior_secondary",
              "release_date": day(30).isoformat(), "release_institution": "浙江省第一监狱",
              "offence_category": "theft", "sentence_note": "有期徒刑二年", "hukou": tx.CHOUCHENG,
              "residence": tx.CHOUCHENG, "residence_address": "稠城街道某路1号", "key_subject": "否",
              "phone": "13800000000", "preferred_courses": "烹饪;电商运营", "skills": "chinese_cooking:2",
              "needs_housing": "是"}
    values.update(changes)
    return [values[name] for name in HEADER]


def run(session, people, content, filename="名单.csv", who="admin", dry_run=False):
    return import_file(session=session, actor=people.actor(who), kind="release_list", data=content,
                       filename=filename, dry_run=dry_run)


def by_id_number(session, tx, seq) -> Candidate | None:
    from flask import current_app

    digest = hash_id_number(tx.id_number(seq), current_app.config["ID_NUMBER_PEPPER"])
    return session.scalar(select(Candidate).where(Candidate.id_number_hash == digest))


def count(session) -> int:
    return session.scalar(select(func.count()).select_from(Candidate))


def test_a_list_opens_files_at_the_residence_office(session, people, tx):
    content = tx.csv_bytes(HEADER, [
        row(tx, 1),  # lives and is registered in 稠城: office A, pre-release
        row(tx, 2, residence=tx.FOTANG, key_subject="是"),  # lives in 佛堂, registered in 稠城: dual registration
        row(tx, 3, release_date=day(-10).isoformat(), sentence_note="", skills="", preferred_courses=""),
    ])
    report = run(session, people, content)
    assert (report.rows, report.created, report.updated) == (3, 3, 0)
    offices = {o["office_id"]: o for o in report.offices}
    assert offices[people.office] | {"office": None} == {
        "office_id": people.office, "office": None, "created": 2, "updated": 0, "dual_registration": 0,
        "key_subjects": 0, "pre_release": 1}
    assert offices[people.other_office]["created"] == 1 and offices[people.other_office]["dual_registration"] == 1

    first = by_id_number(session, tx, 1)
    assert first.status == CandidateStatus.PRE_RELEASE and first.office_id == people.office
    assert first.release_institution == "浙江省第一监狱" and first.residence_address == "稠城街道某路1号"
    assert first.sex.value == "male" and first.birth_year == 1990 and first.needs_housing is True
    assert first.education.value == "junior_secondary" and first.offence_category.value == "theft"
    assert [p.course_code for p in first.preferred_courses] == ["cooking", "ecommerce"]
    assert first.assistance_ends_on == day(30).replace(year=day(30).year + 5)
    assert first.id_number_masked != tx.id_number(1) and "*" in first.id_number_masked
    consent = session.scalar(select(Consent).where(Consent.candidate_id == first.id))
    assert (consent.kind, consent.granted, consent.note) == (ConsentKind.DATA_PROCESSING, True, "legal duty")
    intake = session.scalar(select(RiskAssessment).where(RiskAssessment.candidate_id == first.id))
    assert "有期徒刑二年" in intake.reason

    dual = by_id_number(session, tx, 2)
    assert dual.office_id == people.other_office and dual.dual_registration and dual.key_subject
    assert by_id_number(session, tx, 3).status == CandidateStatus.ACTIVE


def test_a_second_list_updates_the_file_kept_for_the_id_number(session, people, tx):
    run(session, people, tx.csv_bytes(HEADER, [row(tx, 1), row(tx, 2)]))
    first = by_id_number(session, tx, 1)
    first_id, public_id = first.id, first.public_id
    # The release moves earlier, the person will live in 佛堂; skills and wishes are left out this time.
    content = tx.csv_bytes(HEADER, [
        row(tx, 1, release_date=day(-1).isoformat(), residence=tx.FOTANG, education="", skills="",
            preferred_courses="", sentence_note="减刑后有期徒刑一年十个月", name="李一"),
        row(tx, 4),
    ])
    report = run(session, people, content)
    assert (report.created, report.updated) == (1, 1)
    assert count(session) == 3
    session.expire_all()
    updated = by_id_number(session, tx, 1)
    assert (updated.id, updated.public_id, updated.name) == (first_id, public_id, "李一")
    assert updated.status == CandidateStatus.ACTIVE and updated.release_date == day(-1)
    assert updated.office_id == people.other_office and updated.dual_registration
    assert updated.education.value == "junior_secondary"  # kept
    assert [p.course_code for p in updated.preferred_courses] == ["cooking", "ecommerce"]  # kept
    consents = session.scalars(select(Consent).where(Consent.candidate_id == first_id)).all()
    assert len(consents) == 1  # the legal-duty record is not repeated
    intake = session.scalar(select(RiskAssessment).where(RiskAssessment.candidate_id == first_id))
    assert "一年十个月" in intake.reason
    by_office = {o["office_id"]: (o["created"], o["updated"]) for o in report.offices}
    assert by_office == {people.other_office: (0, 1), people.office: (1, 0)}


def test_a_placed_file_stays_placed(session, people, tx):
    run(session, people, tx.csv_bytes(HEADER, [row(tx, 1)]))
    candidate = by_id_number(session, tx, 1)
    candidate.status = CandidateStatus.PLACED
    session.commit()
    run(session, people, tx.csv_bytes(HEADER, [row(tx, 1, release_date=day(40).isoformat())]))
    session.expire_all()
    assert by_id_number(session, tx, 1).status == CandidateStatus.PLACED


def test_xlsx_with_chinese_headers_and_a_title_row(session, people, tx):
    rows = [[cell if not isinstance(cell, str) or cell not in ("junior_secondary", "theft") else
             {"junior_secondary": "初中", "theft": "盗窃"}[cell] for cell in row(tx, seq)] for seq in (1, 2)]
    rows[1][3] = day(45)  # an Excel date cell
    content = tx.xlsx_bytes(ZH_HEADER, rows, title_rows=[["浙江省第一监狱 预释放人员名单"]])
    report = run(session, people, content, filename="名单.xlsx")
    assert report.created == 2
    second = by_id_number(session, tx, 2)
    assert second.release_date == day(45) and second.education.value == "junior_secondary"
    assert second.birth_year == 1990  # read from the ID number


def test_gbk_csv_with_chinese_headers(session, people, tx):
    content = tx.csv_bytes(ZH_HEADER, [row(tx, 1, offence_category="诈骗", education="高中", key_subject="是")],
                           encoding="gbk")
    report = run(session, people, content)
    assert report.created == 1
    candidate = by_id_number(session, tx, 1)
    assert candidate.offence_category.value == "fraud" and candidate.education.value == "senior_secondary"
    assert candidate.key_subject is True and candidate.name == "李1"


def test_errors_by_row_and_column_and_nothing_is_imported(session, people, tx):
    run(session, people, tx.csv_bytes(HEADER, [row(tx, 9)]))
    rows = [
        row(tx, 1),  # row 2: fine
        row(tx, 2, id_number="330782199001010000"),  # row 3: check character wrong
        row(tx, 3, release_date=""),  # row 4: required
        row(tx, 4, offence_category="偷窃"),  # row 5: not a category
        row(tx, 1, name="重复"),  # row 6: same ID number as row 2
        row(tx, 5, education=""),  # row 7: a new file needs the education
        row(tx, 6, release_institution=""),  # row 8: required
        row(tx, 7, residence="火星"),  # row 9: no such place
        row(tx, 8, release_date="2025-02-30"),  # row 10: no such date
    ]
    header_with_sex = [*HEADER, "sex"]
    content = tx.csv_bytes(header_with_sex, [[*r, ""] for r in rows] + [[*row(tx, 9), "女"]])  # row 11: sex wrong
    with pytest.raises(Invalid) as caught:
        run(session, people, content)
    errors = caught.value.errors["rows"]
    assert set(errors) == {"3", "4", "5", "6", "7", "8", "9", "10", "11"}
    assert list(errors["3"]) == ["id_number"]
    assert list(errors["4"]) == ["release_date"]
    assert list(errors["5"]) == ["offence_category"]
    assert list(errors["6"]) == ["id_number"] and "row 2" in str(errors["6"]["id_number"][0])
    assert list(errors["7"]) == ["education"]
    assert list(errors["8"]) == ["release_institution"]
    assert list(errors["9"]) == ["residence"]
    assert list(errors["10"]) == ["release_date"]
    assert list(errors["11"]) == ["sex"]  # an update too must match the ID number
    assert count(session) == 1  # only the file from before


def test_missing_required_columns_refuse_the_file(session, people, tx):
    header = [name for name in HEADER if name != "release_institution"]
    content = tx.csv_bytes(header, [[v for n, v in zip(HEADER, row(tx, 1), strict=True) if n != "release_institution"]])
    with pytest.raises(Invalid) as caught:
        run(session, people, content)
    assert "release_institution" in caught.value.errors["columns"]


def test_a_dry_run_shows_creates_and_updates_per_office_and_writes_nothing(session, people, tx):
    run(session, people, tx.csv_bytes(HEADER, [row(tx, 1)]))
    before = count(session)
    content = tx.csv_bytes(HEADER, [row(tx, 1, residence=tx.FOTANG), row(tx, 2), row(tx, 3, residence=tx.FOTANG)])
    report = run(session, people, content, dry_run=True)
    assert report.dry_run and (report.created, report.updated) == (0, 0)
    assert {o["office_id"]: (o["created"], o["updated"]) for o in report.offices} == {
        people.office: (1, 0), people.other_office: (1, 1)}
    session.expire_all()
    assert count(session) == before
    assert by_id_number(session, tx, 1).office_id == people.office  # not moved
    assert by_id_number(session, tx, 2) is None
    assert session.scalar(select(func.count()).select_from(Consent)) == 1


def test_only_administrators_import_lists(session, people, tx):
    with pytest.raises(Forbidden):
        run(session, people, tx.csv_bytes(HEADER, [row(tx, 1)]), who="cw")
    with pytest.raises(Forbidden):
        run(session, people, tx.csv_bytes(HEADER, [row(tx, 1)]), who="emp")
    assert count(session) == 0


# ---- the API and the command line ------------------------------------------------------------------

def test_api_import_with_dry_run(app, client, people, tx):
    content = tx.csv_bytes(HEADER, [row(tx, 1), row(tx, 2, residence=tx.FOTANG)])

    def upload(dry_run, who="admin"):
        return client.post(f"/api/v1/imports/release_list?dry_run={dry_run}", headers=people.headers(who),
                           data={"file": (io.BytesIO(content), "名单.csv")},
                           content_type="multipart/form-data")

    answer = upload("true")
    assert answer.status_code == 200, answer.json
    assert (answer.json["created"], answer.json["updated"], answer.json["rows"]) == (0, 0, 2)
    assert sorted((o["office_id"], o["created"]) for o in answer.json["offices"]) == sorted(
        [(people.office, 1), (people.other_office, 1)])
    with app.app_context():
        assert count(db.session) == 0
    answer = upload("false")
    assert answer.status_code == 200 and answer.json["created"] == 2
    assert upload("false", who="cw").status_code == 403
    again = upload("false")
    assert again.json["created"] == 0 and again.json["updated"] == 2
    assert client.get("/api/v1/exports/release_list", headers=people.headers("admin")).status_code == 404


def test_api_errors_name_row_and_column(client, people, tx):
    content = tx.csv_bytes(HEADER, [row(tx, 1), row(tx, 2, hukou="")])
    answer = client.post("/api/v1/imports/release_list", headers=people.headers("admin", "zh"),
                         data={"file": (io.BytesIO(content), "名单.csv")}, content_type="multipart/form-data")
    assert answer.status_code == 422
    assert list(answer.json["errors"]["rows"]) == ["3"] and "hukou" in answer.json["errors"]["rows"]["3"]


def test_command_line(app, runner, people, tx, tmp_path):
    path = tmp_path / "名单.csv"
    path.write_bytes(tx.csv_bytes(ZH_HEADER, [row(tx, 1), row(tx, 2, residence=tx.FOTANG)], encoding="gbk"))
    result = runner.invoke(args=["import", "release_list", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Dry run: all 2 rows of release_list are valid" in result.output
    assert "would open 1" in result.output and "dual registration 1" in result.output
    result = runner.invoke(args=["import", "release_list", str(path)])
    assert result.exit_code == 0, result.output
    assert "2 files opened, 0 updated" in result.output
    result = runner.invoke(args=["import", "release_list", str(path)])
    assert "0 files opened, 2 updated" in result.output
    assert runner.invoke(args=["export", "release_list", "-o", str(tmp_path / "x.csv")]).exit_code != 0


# ---- matching before release ----------------------------------------------------------------------

def test_a_pre_release_candidate_gets_slots_that_start_after_release(session, people, tx):
    from matcher.matching.service import recommend_slots
    from matcher.slots.service import create_slot, set_slot_status

    run(session, people, tx.csv_bytes(HEADER, [row(tx, 1, release_date=day(60).isoformat())]))
    candidate = by_id_number(session, tx, 1)
    assert candidate.status == CandidateStatus.PRE_RELEASE
    employer = people.actor("emp")
    slots = {}
    for name, starts in (("now", day(0)), ("on release", day(60)), ("after release", day(67))):
        slot = create_slot(session=session, actor=employer, data={
            "kind": "job", "title": f"厨师（{name}）", "course_code": "cooking", "seats": 2,
            "place": {"code": tx.CHOUCHENG}, "starts_on": starts, "pay_min": 4000, "pay_max": 5000,
            "required_skills": [{"skill_code": "chinese_cooking", "level": 2}]})
        slots[name] = set_slot_status(session=session, actor=employer, slot_id=slot.id, status="open").id
    page = recommend_slots(session=session, actor=people.actor("cw"), candidate_id=candidate.id)
    ranked = [item.slot.id for item in page.items]
    assert set(ranked) == {slots["on release"], slots["after release"]}
    assert all(item.slot.starts_on >= candidate.release_date for item in page.items)
    assert all(0 < item.score < 1 for item in page.items)


def test_the_office_keeping_the_file_is_told_once(session, people, tx):
    from matcher.notify.models import Notification, NotificationKind

    def notices(who):
        return session.scalars(select(Notification).where(Notification.account_id == people.ids[who],
                                                          Notification.kind == NotificationKind.PRE_RELEASE)).all()

    content = tx.csv_bytes(HEADER, [row(tx, 1), row(tx, 2, residence=tx.FOTANG),
                                    row(tx, 3, release_date=day(-3).isoformat())])
    run(session, people, content, dry_run=True)
    assert notices("cw") == [] and notices("cw_other") == []
    run(session, people, content)
    assert [n.subject_id for n in notices("cw")] == [by_id_number(session, tx, 1).id]  # not the one released
    assert [n.subject_id for n in notices("cw_other")] == [by_id_number(session, tx, 2).id]
    run(session, people, content)
    assert len(notices("cw")) == 1  # the same list again tells nobody twice
    run(session, people, tx.csv_bytes(HEADER, [row(tx, 1, release_date=day(35).isoformat())]))
    assert len(notices("cw")) == 2  # a new release date does
