"""The national occupational classification (职业分类大典 2022) loaded into occupations, and codes suggested from a
slot's title: the service, the API and the slots import (a suggestion, never filled in)."""

from __future__ import annotations

from sqlalchemy import func, select, update

from matcher.reference.models import Occupation
from matcher.reference.service import (
    classification_rows,
    load_occupations,
    load_reference_vocabularies,
    occupation_suggestions,
)
from matcher.slots.models import Slot
from matcher.transfer.service import import_file
from tests.conftest import CHOUCHENG, new_slot


def test_the_classification_is_loaded_with_its_levels_marks_and_english_names(session):
    rows = {row["code"]: row for row in classification_rows()}
    assert len(rows) > 2000 and sum(1 for r in rows.values() if r["level"] == 4) > 1600
    cook = session.get(Occupation, "4-03-02-01")
    assert (cook.name_zh, cook.name_en, cook.level) == ("中式烹调师", "Chinese cook", 4)
    assert "中餐厨师" in cook.aliases.split(",") and "厨师" in cook.aliases.split(",")  # the shipped titles too
    ecommerce = session.get(Occupation, "4-01-06-01")
    assert (ecommerce.name_zh, ecommerce.marks) == ("电子商务师", "S")  # the digital mark, off the name
    assert session.get(Occupation, "1-00-00-00").level == 1
    assert session.get(Occupation, "6-25-04-99").name_zh == "装配工"  # kept from the shipped list
    # A second load changes nothing (and neither did the session's first load of the suite).
    count = session.scalar(select(func.count(Occupation.code)))
    assert load_occupations(session) == len(rows) == count
    assert session.scalar(select(func.count(Occupation.code))) == count


def test_a_slot_on_a_code_the_shipped_list_used_before_2022_moves_to_the_2022_code(session, world):
    # As a database loaded before: 4-07-02-01 stood for 保洁员 (in 2022 it is 风险管理师).
    session.execute(update(Occupation).where(Occupation.code == "4-07-02-01").values(name_zh="保洁员"))
    slot = new_slot(session, world.accounts["emp_a"], title="保洁员", occupation_code="4-07-02-01")
    load_reference_vocabularies(session)
    session.commit()
    assert session.get(Slot, slot.id).occupation_code == "4-09-08-01"
    assert session.get(Occupation, "4-07-02-01").name_zh == "风险管理师"
    load_reference_vocabularies(session)  # once: a slot now on 4-07-02-01 means 风险管理师, and stays
    assert session.get(Slot, slot.id).occupation_code == "4-09-08-01"


def test_titles_suggest_their_occupation(session, api, world):
    assert occupation_suggestions(session=session, title="中餐厨师")[0]["code"] == "4-03-02-01"
    assert occupation_suggestions(session=session, title="汽修学徒")[0]["code"] == "4-12-01-01"
    assert occupation_suggestions(session=session, title="叉车司机")[0]["code"] == "6-30-05-01"
    assert occupation_suggestions(session=session, title="  ") == []
    headers = {"Authorization": f"Bearer {world.tokens['emp_a']}"}
    answer = api.get("/api/v1/reference/occupation-suggestions?title=电商运营&limit=2", headers=headers)
    assert answer.status_code == 200 and len(answer.json) <= 2
    assert answer.json[0]["code"] == "4-01-06-01" and answer.json[0]["name_zh"] == "电子商务师"
    bad = api.get(f"/api/v1/reference/occupation-suggestions?limit=0&title={'长' * 101}", headers=headers)
    assert bad.status_code == 422 and {"title", "limit"} <= set(bad.json["errors"])  # every wrong field at once
    listed = api.get("/api/v1/reference/occupations?q=烹调", headers=headers).json
    assert "4-03-02-01" in {o["code"] for o in listed} and all(o["level"] == 4 for o in listed)


def test_the_slots_import_suggests_a_code_for_rows_without_one_and_fills_in_none(session, world):
    content = ("company_id,kind,title,occupation_code,seats,place,starts_on,status\n"
               f"{world.company_a.id},job,中餐厨师,,2,{CHOUCHENG},2027-03-01,draft\n"
               f"{world.company_a.id},job,面点师,4-03-02-01,2,{CHOUCHENG},2027-03-01,draft\n").encode()
    admin = world.accounts["admin"]
    report = import_file(session=session, actor=admin, kind="slots", data=content, filename="s.csv", dry_run=True)
    assert [(s["row"], s["title"], s["code"]) for s in report.occupation_suggestions] == [(2, "中餐厨师", "4-03-02-01")]
    report = import_file(session=session, actor=admin, kind="slots", data=content, filename="s.csv")
    assert report.created == 2 and len(report.occupation_suggestions) == 1
    codes = dict(session.execute(select(Slot.title, Slot.occupation_code)
                                 .where(Slot.title.in_(["中餐厨师", "面点师"]))).all())
    assert codes == {"中餐厨师": None, "面点师": "4-03-02-01"}  # the given code kept, the empty one left empty
