"""Imports through the service: parsing, all-or-nothing, duplicates, dry runs, scoping, referral history."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from matcher import clock
from matcher.bases.models import Company
from matcher.candidates.models import Candidate, CandidateStatus
from matcher.errors import Forbidden, Invalid
from matcher.referrals.lifecycle import ReferralStatus
from matcher.referrals.models import Referral
from matcher.slots.models import Slot, SlotStatus
from matcher.transfer.service import import_file

CANDIDATE_HEADER = ["name", "id_number", "education", "hukou", "residence", "release_date",
                    "offence_category", "skills", "preferred_courses", "certificates", "key_subject",
                    "consents"]


def candidate_row(tx, seq, **changes):
    row = {"name": f"张{seq}", "id_number": tx.id_number(seq), "education": "junior_secondary",
           "hukou": tx.CHOUCHENG, "residence": "稠城街道", "release_date": "2025-01-15",
           "offence_category": "theft", "skills": "chinese_cooking:3;叉车:2",
           "preferred_courses": "cooking;电商运营",
           "certificates": "中式烹调师;叉车证", "key_subject": "否", "consents": "data_processing;referral"}
    row.update(changes)
    return [row[name] for name in CANDIDATE_HEADER]


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def run_import(session, people, kind, content, filename="file.csv", who="admin", dry_run=False):
    return import_file(session=session, actor=people.actor(who), kind=kind, data=content, filename=filename,
                       dry_run=dry_run)


def test_candidates_are_created_through_the_service(session, people, tx):
    content = tx.csv_bytes(CANDIDATE_HEADER, [candidate_row(tx, 1),
                                              candidate_row(tx, 2, residence=tx.JIANGDONG)])
    report = run_import(session, people, "candidates", content)
    assert report.as_dict() == {"kind": "candidates", "dry_run": False, "rows": 2, "created": 2}
    first = session.scalar(select(Candidate).where(Candidate.name == "张1"))
    assert first.residence_code == tx.CHOUCHENG and first.office_id == people.office
    # A taxonomy code stays a code; words that name no taxonomy entry are kept as free text.
    assert [(s.skill_code, s.free_text, s.level) for s in first.skills] == [("chinese_cooking", None, 3),
                                                                           (None, "叉车", 2)]
    assert [p.course_code for p in first.preferred_courses] == ["cooking", "ecommerce"]
    assert [c.name for c in first.certificates] == ["中式烹调师", "叉车证"]
    assert first.id_number_masked.startswith("3307") and "*" in first.id_number_masked
    assert first.sex.value == "male" and first.birth_year == 1990 and first.key_subject is False


def test_one_bad_row_loads_nothing_and_every_bad_row_is_reported(session, people, tx):
    rows = [
        candidate_row(tx, 1),
        candidate_row(tx, 2, id_number="330782199001010000"),  # row 3: check character wrong
        candidate_row(tx, 3, residence="火星街道", release_date="2025-13-40"),  # row 4: two bad cells
        candidate_row(tx, 4, skills="chinese_cooking:9", education="博士"),  # row 5: level and education
        candidate_row(tx, 5),
    ]
    with pytest.raises(Invalid) as caught:
        run_import(session, people, "candidates", tx.csv_bytes(CANDIDATE_HEADER, rows))
    errors = caught.value.errors["rows"]
    assert set(errors) == {"3", "4", "5"}
    assert set(errors["3"]) == {"id_number"}
    assert set(errors["4"]) == {"release_date"}  # the service (which would refuse the place) is not reached
    assert set(errors["5"]) == {"skills", "education"}
    assert "3 of 5 rows" in str(caught.value.message)
    assert count(session, Candidate) == 0


def test_service_rules_are_row_errors_too(session, people, tx):
    rows = [candidate_row(tx, 1), candidate_row(tx, 2, residence="火星街道"),
            candidate_row(tx, 3, preferred_courses="cooking;underwater_welding")]
    with pytest.raises(Invalid) as caught:
        run_import(session, people, "candidates", tx.csv_bytes(CANDIDATE_HEADER, rows))
    errors = caught.value.errors["rows"]
    assert list(errors) == ["3", "4"]
    assert "火星街道" in str(errors["3"]["residence"][0])
    assert "underwater_welding" in str(errors["4"]["preferred_courses"][0])
    assert count(session, Candidate) == 0


def test_duplicate_id_numbers_in_the_file_and_on_file(session, people, tx):
    run_import(session, people, "candidates", tx.csv_bytes(CANDIDATE_HEADER, [candidate_row(tx, 1)]))
    rows = [candidate_row(tx, 2), candidate_row(tx, 1), candidate_row(tx, 2)]
    with pytest.raises(Invalid) as caught:
        run_import(session, people, "candidates", tx.csv_bytes(CANDIDATE_HEADER, rows))
    errors = caught.value.errors["rows"]
    assert list(errors) == ["3", "4"]
    assert "already exists" in str(errors["3"]["id_number"][0])
    assert "row 2" in str(errors["4"]["id_number"][0])
    assert count(session, Candidate) == 1


def test_dry_run_checks_everything_and_changes_nothing(session, people, tx):
    content = tx.csv_bytes(CANDIDATE_HEADER, [candidate_row(tx, 1), candidate_row(tx, 2)])
    report = run_import(session, people, "candidates", content, dry_run=True)
    assert report.as_dict() == {"kind": "candidates", "dry_run": True, "rows": 2, "created": 0}
    assert count(session, Candidate) == 0
    bad = tx.csv_bytes(CANDIDATE_HEADER, [candidate_row(tx, 1), candidate_row(tx, 1)])
    with pytest.raises(Invalid) as caught:
        run_import(session, people, "candidates", bad, dry_run=True)
    assert list(caught.value.errors["rows"]) == ["3"]


def test_chinese_headers_and_labels_in_a_gbk_file(session, people, tx):
    header = ["序号", "姓名", "身份证号", "性别", "文化程度", "户籍地", "居住地", "释放日期", "罪名类别",
              "技能", "培训意向", "需要住宿", "风险等级"]
    rows = [[1, "李四", tx.id_number(7), "男", "初中", "义乌市稠城街道", "稠城街道", "2025年1月5日", "盗窃",
             "中式烹调:2", "烹饪", "是", "黄"]]
    report = run_import(session, people, "candidates", tx.csv_bytes(header, rows, encoding="gbk"))
    assert report.created == 1
    person = session.scalar(select(Candidate))
    assert person.education.value == "junior_secondary" and person.offence_category.value == "theft"
    assert person.release_date == dt.date(2025, 1, 5) and person.needs_housing is True
    assert person.risk_grade.value == "yellow"
    assert [(s.skill_code, s.level) for s in person.skills] == [("chinese_cooking", 2)]


def test_id_numbers_that_excel_turned_into_numbers(session, people, tx):
    row = candidate_row(tx, 1)
    row[CANDIDATE_HEADER.index("id_number")] = float(tx.id_number(1))  # 18 digits do not fit a double
    with pytest.raises(Invalid) as caught:
        run_import(session, people, "candidates", tx.xlsx_bytes(CANDIDATE_HEADER, [row]), "名册.xlsx")
    assert "format the column as text" in str(caught.value.errors["rows"]["2"]["id_number"][0])


def test_residence_by_coordinates(session, people, tx):
    header = [h for h in CANDIDATE_HEADER if h != "residence"] + ["residence_lat", "residence_lng"]
    row = candidate_row(tx, 1)
    del row[CANDIDATE_HEADER.index("residence")]
    content = tx.csv_bytes(header, [row + ["29.3051", "120.0751"]])
    run_import(session, people, "candidates", content)
    person = session.scalar(select(Candidate))
    assert person.residence_code == tx.CHOUCHENG and person.residence_lat == pytest.approx(29.3051)


def test_caseworker_imports_only_people_of_their_township(session, people, tx):
    rows = [candidate_row(tx, 1), candidate_row(tx, 2, residence=tx.FOTANG, hukou=tx.FOTANG)]
    with pytest.raises(Invalid) as caught:
        run_import(session, people, "candidates", tx.csv_bytes(CANDIDATE_HEADER, rows), who="cw")
    assert list(caught.value.errors["rows"]) == ["3"]
    assert "township" in str(caught.value.errors["rows"]["3"]["residence"][0])
    report = run_import(session, people, "candidates", tx.csv_bytes(CANDIDATE_HEADER, rows[:1]), who="cw")
    assert report.created == 1
    assert session.scalar(select(Candidate.office_id)) == people.office


@pytest.mark.parametrize(("who", "kind"), [("emp", "candidates"), ("cw", "bases"), ("cw", "slots"),
                                           ("emp", "referrals"), ("cw", "referrals")])
def test_roles_that_may_not_import(session, people, tx, who, kind):
    with pytest.raises(Forbidden):
        run_import(session, people, kind, tx.csv_bytes(["x"], [["1"]]), who=who)


BASE_HEADER = ["name", "credit_code", "industry", "place", "address", "contact_phone"]


def test_bases_with_duplicate_credit_codes(session, people, tx):
    rows = [["新基地", tx.credit_code(5), "制造", "义乌市", "工业园1号", "0579-1234567"],
            ["已有基地", tx.credit_code(1), "餐饮", tx.CHOUCHENG, "", ""],
            ["重复基地", tx.credit_code(5).lower(), "制造", "义乌市", "", ""],
            ["坏代码", "91330782000000000X", "制造", "义乌市", "", ""]]
    with pytest.raises(Invalid) as caught:
        run_import(session, people, "bases", tx.csv_bytes(BASE_HEADER, rows))
    errors = caught.value.errors["rows"]
    assert list(errors) == ["3", "4", "5"]
    assert all(list(errors[n]) == ["credit_code"] for n in errors)
    report = run_import(session, people, "bases", tx.csv_bytes(BASE_HEADER, rows[:1]))
    assert report.created == 1
    base = session.scalar(select(Company).where(Company.name == "新基地"))
    assert base.place_code == "330782" and base.certification_status.value == "applied"


SLOT_HEADER = ["company_credit_code", "kind", "title", "course_code", "required_skills", "seats", "place",
               "starts_on", "pay_min", "pay_max", "status"]


def test_slots_by_credit_code_and_status(session, people, tx):
    rows = [[tx.credit_code(1), "job", "厨师", "", "chinese_cooking:2", "3", tx.CHOUCHENG, "2025-09-01",
             "4000", "5000", "open"],
            [tx.credit_code(2), "培训", "叉车培训班", "叉车驾驶", "", "10", "义乌市", "2025/9/1", "", "", ""]]
    report = run_import(session, people, "slots", tx.csv_bytes(SLOT_HEADER, rows))
    assert report.created == 2
    slots = session.scalars(select(Slot).order_by(Slot.id)).all()
    assert [(s.company_id, s.status, s.course_code) for s in slots] == [
        (people.company, SlotStatus.OPEN, None), (people.other_company, SlotStatus.DRAFT, "forklift")]


def test_slot_rows_checked_by_the_schema_and_the_service(session, people, tx):
    rows = [[tx.credit_code(1), "training", "无课程", "", "", "3", tx.CHOUCHENG, "2025-09-01", "", "", ""],
            [tx.credit_code(9), "job", "无基地", "", "", "3", tx.CHOUCHENG, "2025-09-01", "", "", ""],
            [tx.credit_code(1), "job", "工资倒挂", "", "", "3", tx.CHOUCHENG, "2025-09-01", "6000", "5000",
             ""],
            ["", "job", "没写基地", "", "", "3", tx.CHOUCHENG, "2025-09-01", "", "", ""]]
    with pytest.raises(Invalid) as caught:
        run_import(session, people, "slots", tx.csv_bytes(SLOT_HEADER, rows))
    errors = caught.value.errors["rows"]
    assert {n: set(e) for n, e in errors.items()} == {
        "2": {"course_code"}, "3": {"company_credit_code"}, "4": {"pay_min"}, "5": {"company_id"}}
    assert count(session, Slot) == 0


def test_employer_imports_slots_for_their_own_base_only(session, people, tx):
    rows = [["", "job", "服务员", "", "", "2", tx.CHOUCHENG, "2025-09-01", "", "", ""],
            [tx.credit_code(2), "job", "别人的岗位", "", "", "2", tx.CHOUCHENG, "2025-09-01", "", "", ""]]
    with pytest.raises(Invalid) as caught:
        run_import(session, people, "slots", tx.csv_bytes(SLOT_HEADER, rows), who="emp")
    assert list(caught.value.errors["rows"]) == ["3"]
    run_import(session, people, "slots", tx.csv_bytes(SLOT_HEADER, rows[:1]), who="emp")
    assert session.scalar(select(Slot.company_id)) == people.company


# --- referral history ---------------------------------------------------------------------------

REFERRAL_HEADER = ["candidate", "slot_id", "status", "created_on", "started_on", "ended_on", "end_code", "end_note"]


@pytest.fixture
def history_setup(session, people, tx):
    """Two candidates and a one-seat open slot."""
    run_import(session, people, "candidates", tx.csv_bytes(CANDIDATE_HEADER, [candidate_row(tx, 1),
                                                                            candidate_row(tx, 2)]))
    run_import(session, people, "slots", tx.csv_bytes(SLOT_HEADER, [
        [tx.credit_code(1), "job", "厨师", "", "", "1", tx.CHOUCHENG, "2024-01-01", "", "", "open"]]))
    slot_id = session.scalar(select(Slot.id))
    pairs = session.execute(select(Candidate.name, Candidate.public_id))
    public_ids = {name: public_id for name, public_id in pairs}
    return slot_id, public_ids


def test_referral_history_is_written_with_its_events(session, people, tx, history_setup):
    slot_id, public_ids = history_setup
    rows = [[public_ids["张1"], slot_id, "left", "2024-02-01", "2024-02-10", "2024-06-30", "另有工作",
             "找到更好的工作"],
            [tx.id_number(1), slot_id, "stayed_90", "2024-08-01", "2024-08-05", "", "", ""],
            [public_ids["张2"], slot_id, "未录用", "2024-08-01", "", "2024-08-09", "", "面试未通过"]]
    report = run_import(session, people, "referrals", tx.csv_bytes(REFERRAL_HEADER, rows))
    assert report.created == 3
    referrals = session.scalars(select(Referral).order_by(Referral.id)).all()
    left, stayed, declined = referrals
    # 141 days between the start and the end: the stays of 30 and 90 days are on its history (its milestone).
    assert [e.to_status for e in left.events] == [ReferralStatus.PROPOSED, ReferralStatus.STARTED,
                                                  ReferralStatus.STAYED_30, ReferralStatus.STAYED_90,
                                                  ReferralStatus.LEFT]
    assert left.milestone == "stayed_90" and left.events[3].on_date == dt.date(2024, 5, 10)
    assert left.events[-1].on_date == dt.date(2024, 6, 30) and left.holds_seat is False
    assert stayed.holds_seat is True and stayed.started_on == dt.date(2024, 8, 5)
    assert (left.end_code, left.events[-1].internal_note) == ("other_job", "找到更好的工作")
    # No code given: other; the words are the office's internal note, never the base's to read.
    assert (declined.status, declined.end_code, declined.events[-1].internal_note) == (
        ReferralStatus.DECLINED, "other", "面试未通过")
    assert declined.events[-1].shared_note is None
    assert session.get(Slot, slot_id).seats_taken == 1
    assert stayed.candidate.status == CandidateStatus.PLACED


def test_referral_history_respects_seats_and_dates(session, people, tx, history_setup):
    slot_id, public_ids = history_setup
    future = (clock.today() + dt.timedelta(days=3)).isoformat()
    rows = [[public_ids["张1"], slot_id, "started", "2024-02-01", "2024-02-10", "", "", ""],
            # row 3: the only seat is taken; row 4: no end date, and a reason that does not fit a withdrawal
            [public_ids["张2"], slot_id, "accepted", "2024-02-01", "", "", "", ""],
            [public_ids["张2"], slot_id, "withdrawn", "2024-02-01", "", "", "dismissed", ""],
            [public_ids["张2"], 999999, "sent", future, "", "", "", ""],  # row 5: no slot, future date
            ["XT-NOBODY", slot_id, "left", "2024-02-01", "2024-01-01", "2024-03-01", "", "x"],  # row 6
            [public_ids["张1"], slot_id, "stayed_90", "2024-02-01", "2024-02-10", "", "", ""]]  # row 7: live pair
    with pytest.raises(Invalid) as caught:
        run_import(session, people, "referrals", tx.csv_bytes(REFERRAL_HEADER, rows))
    errors = {n: set(e) for n, e in caught.value.errors["rows"].items()}
    assert errors == {"3": {"status"}, "4": {"ended_on", "end_code"}, "5": {"created_on"},
                      "6": {"started_on"}, "7": {"slot_id"}}
    assert count(session, Referral) == 0
    assert session.get(Slot, slot_id).seats_taken == 0


HISTORY_HEADER = [*REFERRAL_HEADER, "milestone"]


def test_history_writes_the_milestone_reached_before_leaving(session, people, tx, history_setup):
    slot_id, public_ids = history_setup
    rows = [  # stayed 90 days, left in month 5 (written), and one whose milestone the dates give
        [public_ids["张1"], slot_id, "left", "2024-01-05", "2024-01-10", "2024-06-01", "personal", "", "稳岗90天"],
        [public_ids["张2"], slot_id, "left", "2024-01-05", "2024-01-10", "2024-02-20", "", "", ""]]
    run_import(session, people, "referrals", tx.csv_bytes(HISTORY_HEADER, rows))
    ninety, thirty = session.scalars(select(Referral).order_by(Referral.id)).all()
    assert (ninety.status, ninety.milestone, ninety.started_on, ninety.ended_on) == (
        ReferralStatus.LEFT, "stayed_90", dt.date(2024, 1, 10), dt.date(2024, 6, 1))
    assert [e.to_status for e in ninety.events][-2:] == [ReferralStatus.STAYED_90, ReferralStatus.LEFT]
    assert thirty.milestone == "stayed_30"


def test_history_milestone_must_fit_the_status_and_the_dates(session, people, tx, history_setup):
    slot_id, public_ids = history_setup
    rows = [[public_ids["张1"], slot_id, "left", "2024-01-05", "2024-01-10", "2024-03-01", "", "", "stayed_90"],
            [public_ids["张2"], slot_id, "started", "2024-01-05", "2024-01-10", "", "", "", "stayed_30"],
            [public_ids["张2"], slot_id, "declined", "2024-01-05", "", "2024-01-20", "", "", "started"]]
    with pytest.raises(Invalid) as caught:
        run_import(session, people, "referrals", tx.csv_bytes(HISTORY_HEADER, rows))
    assert {n: set(e) for n, e in caught.value.errors["rows"].items()} == {
        "2": {"milestone"}, "3": {"milestone"}, "4": {"milestone"}}


def test_past_placements_hold_no_seat_so_a_slot_takes_all_its_history(session, people, tx):
    """A one-seat course that ran three intakes, two long finished: their placements (still `stayed_90` in the
    file) are history and hold no seat; only the current intake's placement does."""
    run_import(session, people, "candidates", tx.csv_bytes(CANDIDATE_HEADER, [candidate_row(tx, n)
                                                                            for n in (1, 2, 3, 4)]))
    this_year = clock.today() - dt.timedelta(days=100)
    header = [*SLOT_HEADER, "ends_on", "intakes"]
    run_import(session, people, "slots", tx.csv_bytes(header, [
        [tx.credit_code(1), "training", "烹饪班", "cooking", "", "1", tx.CHOUCHENG, "", "", "", "open",
         "2022-12-31", f"2022-03-01;2023-03-01;{this_year.isoformat()}"]]))
    slot = session.scalar(select(Slot))
    assert slot.starts_on == dt.date(2022, 3, 1)
    assert [(i.starts_on, i.ends_on) for i in slot.intakes][:2] == [
        (dt.date(2022, 3, 1), dt.date(2022, 12, 31)), (dt.date(2023, 3, 1), dt.date(2023, 12, 31))]
    ids = dict(session.execute(select(Candidate.name, Candidate.public_id)).all())
    current_start = this_year.isoformat()
    rows = [[ids["张1"], slot.id, "stayed_90", "2022-02-01", "2022-03-01", "", "", ""],
            [ids["张2"], slot.id, "stayed_180", "2023-02-01", "2023-03-01", "", "", ""],
            [ids["张3"], slot.id, "started", current_start, current_start, "", "", ""]]
    run_import(session, people, "referrals", tx.csv_bytes(REFERRAL_HEADER, rows))
    referrals = session.scalars(select(Referral).order_by(Referral.id)).all()
    assert [r.holds_seat for r in referrals] == [False, False, True]
    session.refresh(slot)
    assert slot.seats_taken == 1
    # The current intake's seat is taken: one more placement in it is refused, with what to do.
    late = [[ids["张4"], slot.id, "started", current_start, current_start, "", "", ""]]
    with pytest.raises(Invalid) as caught:
        run_import(session, people, "referrals", tx.csv_bytes(REFERRAL_HEADER, late))
    assert "ended_on" in str(caught.value.errors["rows"]["2"]["status"])


def test_a_slot_without_an_end_keeps_its_placements_current(session, people, tx, history_setup):
    """The rule for a job that runs on: a placement with no end is current; ended ones are any number."""
    slot_id, public_ids = history_setup  # one seat, from 2024-01-01, no end
    rows = [[public_ids["张1"], slot_id, "left", "2024-01-05", "2024-01-10", "2024-06-01", "", ""],
            [public_ids["张2"], slot_id, "left", "2024-02-05", "2024-02-10", "2024-07-01", "", ""],
            [public_ids["张1"], slot_id, "stayed_90", "2024-08-01", "2024-08-05", "", "", ""]]
    run_import(session, people, "referrals", tx.csv_bytes(REFERRAL_HEADER, rows))
    assert session.get(Slot, slot_id).seats_taken == 1
