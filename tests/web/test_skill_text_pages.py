"""The free-text skills page (administrators confirm, caseworkers suggest) and the slot form's occupation
suggestion."""

from __future__ import annotations

from sqlalchemy import select

from matcher import clock
from matcher.reference.models import SkillTextMapping
from matcher.slots.models import Slot
from tests.conftest import CHOUCHENG, new_candidate, new_slot


def _html(response) -> str:
    return response.get_data(as_text=True)


def test_an_administrator_confirms_a_text_and_a_caseworker_suggests(browser, world, session):
    new_candidate(session, world.accounts["cw_a"], residence=CHOUCHENG, seq=51, skills=[{"free_text": "会开三轮车"}])
    new_slot(session, world.accounts["emp_a"], title="送货", required_skills=[{"free_text": "会开三轮车"}])
    admin = browser("admin", "zh")
    page = _html(admin.get("/skill-texts"))
    assert "自由填写的技能" in page and "会开三轮车" in page and 'data-testid="confirm"' in page
    assert "1 条文本待确认：涉及 1 名求职人员和 1 个在用岗位" in page
    refused = admin.post("/skill-texts/confirm", {"text": "会开三轮车", "skill_code": ""})
    assert refused.status_code == 422 and "会开三轮车" in _html(refused)
    caseworker = browser("cw_a", "zh")
    assert 'data-testid="suggest"' in _html(caseworker.get("/skill-texts"))
    reading = {"text": "会开三轮车", "skill_code": "driving_c1"}
    assert caseworker.post("/skill-texts/suggest", reading).status_code == 303
    assert caseworker.post("/skill-texts/confirm", reading).status_code == 404
    assert "会开三轮车" in _html(admin.get("/skill-texts?show=suggested"))
    done = admin.post("/skill-texts/confirm", {"text": "会开三轮车", "skill_code": "driving_c1"})
    assert done.status_code == 303
    mapping = session.scalar(select(SkillTextMapping))
    assert (mapping.status, mapping.skill_code) == ("confirmed", "driving_c1")
    assert 'data-testid="no-skill-texts"' in _html(admin.get("/skill-texts"))
    assert "会开三轮车" in _html(admin.get("/skill-texts?show=confirmed"))
    assert browser("emp_a", "zh").get("/skill-texts").status_code == 404
    assert "Free-text skills" in _html(browser("admin", "en").get("/skill-texts"))


def test_the_slot_form_suggests_an_occupation_from_the_title_and_saves_nothing(browser, world, session):
    page = browser("emp_a", "zh")
    page.get("/employer/slots/new")
    form = {"kind": "job", "title": "中餐厨师", "seats": "2", "place": CHOUCHENG,
            "starts_on": clock.today().isoformat(), "suggest_occupation": "1"}
    answer = page.post("/employer/slots/new", form)
    text = _html(answer)
    assert answer.status_code == 200 and 'data-testid="occupation-suggestion"' in text
    assert "中式烹调师" in text and "4-03-02-01" in text and 'value="中餐厨师"' in text
    assert session.scalar(select(Slot).where(Slot.title == "中餐厨师")) is None  # nothing saved
    form.pop("suggest_occupation")
    assert page.post("/employer/slots/new", dict(form, occupation_code="4-03-02-01")).status_code == 303
    assert session.scalar(select(Slot.occupation_code).where(Slot.title == "中餐厨师")) == "4-03-02-01"
