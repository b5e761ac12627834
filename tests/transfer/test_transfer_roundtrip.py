"""Export, import the export, export again: the same records, in each file format."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, select, update

from matcher import clock
from matcher.bases.models import Company
from matcher.candidates.models import Candidate
from matcher.referrals import service as referrals
from matcher.referrals.lifecycle import ReferralStatus
from matcher.referrals.models import Referral, ReferralEvent
from matcher.slots.models import Slot
from matcher.transfer.columns import KIND_COLUMNS
from matcher.transfer.service import export_file, import_file

FORMATS = [
    pytest.param("csv", "utf-8", "en", id="csv-utf8-bom"),
    pytest.param("csv", "gbk", "zh", id="csv-gbk-zh-headers"),
    pytest.param("xlsx", "utf-8", "en", id="xlsx"),
    pytest.param("xlsx", "utf-8", "zh", id="xlsx-zh-headers"),
]
EXTENSION = {"csv": "export.csv", "xlsx": "export.xlsx"}


def headers_of(kind: str, names: set[str], language: str) -> set[str]:
    return {c.header(language) for c in KIND_COLUMNS[kind] if c.name in names}


def export(session, people, kind, fmt, encoding, headers, who="admin", identified=True):
    # The round trip holds for identified exports (the default, pseudonymous one lacks the name and the rest).
    result = export_file(session=session, actor=people.actor(who), kind=kind, format=fmt, headers=headers,
                         encoding=encoding, identified=identified)
    return result.content


def load(session, people, kind, content, fmt, who="admin"):
    return import_file(session=session, actor=people.actor(who), kind=kind, data=content,
                       filename=EXTENSION[fmt])


def seed_candidates(session, people, tx):
    header = ["name", "id_number", "education", "hukou", "residence", "residence_address", "phone",
              "release_date", "offence_category", "skills", "preferred_courses", "certificates",
              "key_subject", "risk_grade", "needs_housing", "earliest_start", "max_travel_km", "consents",
              "ethnicity"]
    rows = [
        ["王一", tx.id_number(1), "junior_secondary", tx.CHOUCHENG, tx.CHOUCHENG, "=SUM(A1)",
         "+86 138 0000 0001", "2025-01-15", "theft", "chinese_cooking:3;开铲车:2", "cooking;ecommerce",
         "中式烹调师;叉车证", "true", "yellow", "false", "2025-03-01", "15", "data_processing;referral",
         "汉族"],
        ["赵二", tx.id_number(2, born="19850505"), "vocational", tx.FOTANG, tx.CHOUCHENG, "", "",
         "2024-06-30", "fraud", "", "", "", "false", "green", "true", "", "", "", ""],
        ["钱三", tx.id_number(3, born="19790101"), "primary", tx.CHOUCHENG, tx.JIANGDONG, "江东路 1 号", "",
         (clock.today() + dt.timedelta(days=365)).isoformat(),  # a pre-release hand-over, within two years
         "drugs", "sorting:1", "logistics", "", "", "", "", "", "", "data_processing", ""],
    ]
    load(session, people, "candidates", tx.csv_bytes(header, rows), "csv")
    return {"王一": tx.id_number(1), "赵二": tx.id_number(2, born="19850505"),
            "钱三": tx.id_number(3, born="19790101")}


@pytest.mark.parametrize(("fmt", "encoding", "headers"), FORMATS)
def test_candidates_round_trip(session, people, tx, fmt, encoding, headers):
    numbers = seed_candidates(session, people, tx)
    before = export(session, people, "candidates", fmt, encoding, headers)
    name, id_header = ("name", "id_number") if headers == "en" else ("姓名", "身份证号")

    def add_id_numbers(header, rows):  # the export never holds them: the office fills them in again
        for row in rows:
            row[id_header] = numbers[row[name]]
        return [*header, id_header], rows

    session.execute(delete(Candidate))
    session.commit()
    report = load(session, people, "candidates", tx.rewrite(before, fmt, encoding, add_id_numbers), fmt)
    assert report.created == 3
    after = export(session, people, "candidates", fmt, encoding, headers)
    drop = headers_of("candidates", {"public_id"}, headers)
    rows_before, rows_after = tx.parse_file(before, fmt, encoding)[1], tx.parse_file(after, fmt, encoding)[1]
    assert len(rows_after) == 3
    assert tx.comparable(rows_after, drop) == tx.comparable(rows_before, drop)


@pytest.mark.parametrize(("fmt", "encoding", "headers"), FORMATS[:3])
def test_bases_round_trip(session, people, tx, fmt, encoding, headers):
    header = ["name", "credit_code", "industry", "place", "lat", "lng", "address", "contact_name",
              "contact_phone", "description"]
    rows = [["丁家政服务社", tx.credit_code(7), "家政", "义乌市", "29.31", "120.08", "北苑路 8 号", "丁女士",
             "0579-8888888", "-专业保洁\n-养老护理"],
            ["戊建筑公司", tx.credit_code(8), "建筑", tx.FOTANG, "", "", "", "", "", ""]]
    load(session, people, "bases", tx.csv_bytes(header, rows), "csv")
    before = export(session, people, "bases", fmt, encoding, headers)
    name = "name" if headers == "en" else "名称"

    def only_new(header, rows):  # the two certified bases of the fixture stay: employers belong to them
        return header, [row for row in rows if row[name] in ("丁家政服务社", "戊建筑公司")]

    session.execute(delete(Company).where(Company.credit_code.in_([tx.credit_code(7), tx.credit_code(8)])))
    session.commit()
    assert load(session, people, "bases", tx.rewrite(before, fmt, encoding, only_new), fmt).created == 2
    after = export(session, people, "bases", fmt, encoding, headers)
    drop = headers_of("bases", {"id"}, headers)
    assert tx.comparable(tx.parse_file(after, fmt, encoding)[1], drop) == \
        tx.comparable(tx.parse_file(before, fmt, encoding)[1], drop)


@pytest.mark.parametrize(("fmt", "encoding", "headers"), FORMATS[:3])
def test_slots_round_trip(session, people, tx, fmt, encoding, headers):
    header = ["company_id", "kind", "title", "description", "occupation_code", "course_code",
              "required_skills", "seats", "place", "address", "pay_min", "pay_max", "hours_per_week",
              "housing_provided", "starts_on", "ends_on", "certificate_awarded", "min_age", "status"]
    rows = [[people.company, "job", "中餐厨师", "@后厨", "4-03-02-01", "", "chinese_cooking:3;food_hygiene:2",
             "3", tx.CHOUCHENG, "稠州北路", "4500", "6500", "48", "true", "2025-09-01", "", "", "18", "open"],
            [people.other_company, "training", "叉车培训", "", "", "forklift", "", "12", "义乌市", "", "", "",
             "", "false", "2025-10-01", "2025-10-21", "true", "", "draft"]]
    load(session, people, "slots", tx.csv_bytes(header, rows), "csv")
    before = export(session, people, "slots", fmt, encoding, headers)
    # Slots have no natural key: loading the export again makes a twin of every slot.
    assert load(session, people, "slots", before, fmt).created == 2
    after = export(session, people, "slots", fmt, encoding, headers)
    drop = headers_of("slots", {"id"}, headers)
    rows_before = tx.parse_file(before, fmt, encoding)[1]
    assert tx.comparable(tx.parse_file(after, fmt, encoding)[1], drop) == \
        sorted(tx.comparable(rows_before, drop) * 2)


@pytest.mark.parametrize(("fmt", "encoding", "headers"), FORMATS[:3])
def test_referrals_round_trip(session, people, tx, fmt, encoding, headers):
    seed_candidates(session, people, tx)
    load(session, people, "slots", tx.csv_bytes(
        ["company_id", "kind", "title", "seats", "place", "starts_on", "status"],
        [[people.company, "job", "帮厨", "2", tx.CHOUCHENG, "2025-01-01", "open"]]), "csv")
    slot_id = session.scalar(select(Slot.id))
    ids = {c.name: c.id for c in session.scalars(select(Candidate))}
    caseworker, employer = people.actor("cw"), people.actor("emp")
    # History made through the referrals service itself.
    started = referrals.create_referral(session=session, actor=caseworker, candidate_id=ids["王一"],
                                        slot_id=slot_id, send=True)
    referrals.transition(session=session, actor=employer, referral_id=started.id, to=ReferralStatus.OFFERED)
    referrals.transition(session=session, actor=employer, referral_id=started.id, to=ReferralStatus.STARTED)
    admin = people.actor("admin")
    withdrawn = referrals.create_referral(session=session, actor=admin, candidate_id=ids["赵二"],
                                          slot_id=slot_id)
    referrals.transition(session=session, actor=admin, referral_id=withdrawn.id, to=ReferralStatus.WITHDRAWN,
                         reason_code="candidate_declined", internal_note="本人放弃")
    # After an ended referral, a new live one to the same slot is allowed.
    referrals.create_referral(session=session, actor=admin, candidate_id=ids["赵二"], slot_id=slot_id)
    before = export(session, people, "referrals", fmt, encoding, headers)

    session.execute(delete(ReferralEvent))
    session.execute(delete(Referral))
    session.execute(update(Slot).values(seats_taken=0))
    session.commit()
    assert load(session, people, "referrals", before, fmt).created == 3
    assert session.get(Slot, slot_id).seats_taken == 1
    after = export(session, people, "referrals", fmt, encoding, headers)
    drop = headers_of("referrals", {"id"}, headers)
    assert len(tx.parse_file(after, fmt, encoding)[1]) == 3
    assert tx.comparable(tx.parse_file(after, fmt, encoding)[1], drop) == \
        tx.comparable(tx.parse_file(before, fmt, encoding)[1], drop)
