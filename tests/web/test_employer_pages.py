"""The employer's pages: home, profile, slots (post, edit, open, close), referrals and suggested candidates."""

from __future__ import annotations

import datetime as dt

import pytest

from matcher import clock

PASSWORD = "correct-horse-battery"  # tests/conftest.py PASSWORD


def html(response) -> str:
    return response.get_data(as_text=True)


def slot_form(**overrides):
    form = {"kind": "job", "title": "面点师", "course_code": "cooking", "skill_0": "chinese_cooking", "level_0": "2",
            "seats": "2", "place": "330782001", "pay_min": "4000", "pay_max": "5500", "hours_per_week": "44",
            "starts_on": clock.today().isoformat()}
    form.update(overrides)
    return form


def refer(world, session, candidate=None, slot=None):
    """A caseworker refers a candidate and sends the referral to the base."""
    from matcher.referrals.service import create_referral

    referral = create_referral(session=session, actor=world.accounts["cw_a"],
                               candidate_id=(candidate or world.cand_a).id, slot_id=(slot or world.slot_a).id,
                               send=True)
    session.commit()
    return referral


# ---- every page renders, in both languages ---------------------------------------------------------

@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_employer_page_renders(browser, world, session, lang):
    referral = refer(world, session)
    page = browser("emp_a", lang)
    for url in ("/employer", "/employer/profile", "/employer/slots/new", f"/employer/slots/{world.slot_a.id}",
                f"/employer/slots/{world.slot_a.id}/edit", f"/employer/slots/{world.slot_a.id}/candidates",
                "/employer/referrals", "/employer/referrals?show=all", f"/employer/referrals/{referral.id}"):
        response = page.get(url)
        assert response.status_code == 200, (url, html(response)[:2000])
        assert f'lang="{"en" if lang == "en" else "zh-CN"}"' in html(response)
    home = html(page.get("/employer"))
    assert "甲餐饮有限公司" in home and "厨师A" in home and 'class="responsive"' in home
    assert ("Referrals waiting for your answer" if lang == "en" else "待您答复的推荐") in home


def test_home_warns_when_certification_ends_soon(browser, world, session):
    from matcher.bases.service import decide_certification

    decide_certification(session=session, actor=world.accounts["admin"], company_id=world.company_a.id,
                         action="certify", valid_until=clock.today() + dt.timedelta(days=20))
    page = browser("emp_a", "en")
    assert "The certification ends in 20 days" in html(page.get("/employer"))


def test_employer_sees_only_own_slots(browser, world):
    page = browser("emp_a", "en")
    assert page.get(f"/employer/slots/{world.slot_b.id}").status_code == 404
    assert "汽修B" not in html(page.get("/employer"))


# ---- profile ----------------------------------------------------------------------------------

def test_profile_saves_and_shows_errors(browser, world, session):
    page = browser("emp_a", "en")
    page.get("/employer/profile")
    bad = page.post("/employer/profile", {"contact_name": "王经理", "contact_phone": "call me", "address": "义乌"})
    assert bad.status_code == 422
    body = html(bad)
    assert 'id="contact_phone-error" class="field-error"' in body and 'aria-invalid="true"' in body
    assert 'value="王经理"' in body and 'value="call me"' in body
    ok = page.post("/employer/profile", {"contact_name": "王经理", "contact_phone": "0579-85551234",
                                         "address": "义乌市稠城街道1号", "description": "中餐"})
    assert ok.status_code == 303
    session.refresh(world.company_a)
    assert world.company_a.contact_phone == "0579-85551234" and world.company_a.contact_name == "王经理"


# ---- slots ------------------------------------------------------------------------------------

def test_post_a_slot_creates_a_draft(browser, world, session):
    from matcher.slots.models import Slot, SlotStatus

    page = browser("emp_a", "zh")
    form_page = html(page.get("/employer/slots/new"))
    assert 'data-testid="slot-form"' in form_page and 'data-testid="save-slot"' in form_page
    response = page.post("/employer/slots/new", slot_form(housing_provided="on"))
    assert response.status_code == 303, html(response)[:2000]
    slot = session.query(Slot).filter_by(title="面点师").one()
    assert slot.status == SlotStatus.DRAFT and slot.housing_provided and slot.seats == 2
    assert [(s.skill_code, s.level) for s in slot.required_skills] == [("chinese_cooking", 2)]
    assert "面点师" in html(page.get(response.headers["Location"]))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_bad_slot_input_shows_field_errors_and_keeps_input(browser, world, lang):
    page = browser("emp_a", lang)
    page.get("/employer/slots/new")
    response = page.post("/employer/slots/new", slot_form(title="厨房帮工", seats="lots", pay_min="6000",
                                                          pay_max="5000", place=""))
    assert response.status_code == 422
    body = html(response)
    for field in ("seats", "place"):
        assert f'id="{field}-error" class="field-error"' in body, field
    assert 'aria-invalid="true"' in body
    assert 'value="厨房帮工"' in body and 'value="lots"' in body and 'value="6000"' in body
    expected = {"en": ("Not a valid integer.", "Missing data for required field."),
                "zh": ("不是有效的整数。", "缺少必填字段。")}[lang]
    for message in expected:
        assert message in body, message


def test_domain_error_on_slot_shows_next_to_the_field(browser, world):
    page = browser("emp_a", "en")
    page.get("/employer/slots/new")
    response = page.post("/employer/slots/new", slot_form(place="nowhere-at-all"))
    assert response.status_code == 422
    assert 'id="place-error" class="field-error"' in html(response)
    assert '<select id="place" name="place"' in html(response)  # a place is picked (issue 15), not typed


def test_edit_open_and_close_a_slot(browser, world, session):
    from matcher.slots.models import SlotStatus

    page = browser("emp_a", "en")
    draft = world.draft_a
    detail = html(page.get(f"/employer/slots/{draft.id}"))
    assert 'data-testid="open-slot"' in detail
    edit = page.post(f"/employer/slots/{draft.id}/edit", slot_form(title="草稿改", seats="4"))
    assert edit.status_code == 303
    assert page.post(f"/employer/slots/{draft.id}/status", {"status": "open"}).status_code == 303
    session.refresh(draft)
    assert draft.status == SlotStatus.OPEN and draft.title == "草稿改" and draft.seats == 4
    assert 'data-testid="close-slot"' in html(page.get(f"/employer/slots/{draft.id}"))
    assert page.post(f"/employer/slots/{draft.id}/status", {"status": "closed"}).status_code == 303
    session.refresh(draft)
    assert draft.status == SlotStatus.CLOSED


def test_opening_a_slot_of_a_non_certified_base_is_refused(app, browser, world, session):
    from matcher.auth.service import create_account
    from matcher.slots.models import SlotStatus
    from matcher.slots.service import create_slot

    applicant = create_account(session=session, actor=None, data=dict(
        username="emp_c", display_name="emp_c", password=PASSWORD, role="employer",
        company_id=world.company_applied.id))
    slot = create_slot(session=session, actor=applicant, data={
        "kind": "job", "title": "仓管", "seats": 1, "place": {"code": "330782001"}, "starts_on": clock.today()})
    session.commit()
    page = browser("emp_c", "en")
    assert "not in force" in html(page.get("/employer"))
    page.get(f"/employer/slots/{slot.id}")
    response = page.post(f"/employer/slots/{slot.id}/status", {"status": "open"})
    assert response.status_code == 409
    assert "Only a certified base whose certification is in date can open slots." in html(response)
    session.refresh(slot)
    assert slot.status == SlotStatus.DRAFT


def test_suggested_candidates_are_pseudonymous(browser, world):
    page = browser("emp_a", "en")
    body = html(page.get(f"/employer/slots/{world.slot_a.id}/candidates"))
    assert world.cand_a.public_id in body
    for secret in (world.cand_a.name, world.cand_a.id_number_masked, "Theft", "theft"):
        assert secret not in body


# ---- referrals --------------------------------------------------------------------------------

def test_employer_answers_a_referral(browser, world, session):
    from matcher.referrals.lifecycle import ReferralStatus

    referral = refer(world, session)
    page = browser("emp_a", "en")
    assert world.cand_a.public_id in html(page.get("/employer"))
    body = html(page.get(f"/employer/referrals/{referral.id}"))
    for move in ("interview", "offered", "declined"):
        assert f'data-testid="move-{move}"' in body
    assert page.post(f"/employer/referrals/{referral.id}/move", {"to": "interview"}).status_code == 303
    page.get(f"/employer/referrals/{referral.id}")
    assert page.post(f"/employer/referrals/{referral.id}/move", {"to": "offered"}).status_code == 303
    session.refresh(referral)
    assert referral.status == ReferralStatus.OFFERED
    body = html(page.get(f"/employer/referrals/{referral.id}"))
    assert 'data-testid="move-started"' in body and "Interview" in body
    assert page.post(f"/employer/referrals/{referral.id}/move",
                     {"to": "started", "on_date": clock.today().isoformat()}).status_code == 303
    session.refresh(referral)
    assert referral.status == ReferralStatus.STARTED and referral.started_on == clock.today()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_decline_without_a_reason_shows_the_error(browser, world, session, lang):
    from matcher.referrals.lifecycle import ReferralStatus

    referral = refer(world, session)
    page = browser("emp_a", lang)
    page.get(f"/employer/referrals/{referral.id}")
    response = page.post(f"/employer/referrals/{referral.id}/move", {"to": "declined", "reason_code": ""})
    assert response.status_code == 422
    body = html(response)
    assert 'id="reason_code-error" class="field-error"' in body
    assert ("Say why: choose a reason." if lang == "en" else "请说明原因：请选择一个原因。") in body
    assert ("The judicial office that keeps the person's file reads this." if lang == "en"
            else "掌管此人档案的司法所会看到这段文字。") in body
    session.refresh(referral)
    assert referral.status == ReferralStatus.SENT
    ok = page.post(f"/employer/referrals/{referral.id}/move", {"to": "declined", "reason_code": "position_filled",
                                                                "shared_note": "岗位已满"})
    assert ok.status_code == 303
    session.refresh(referral)
    assert referral.status == ReferralStatus.DECLINED


def test_referral_pages_hide_sensitive_facts(browser, world, session):
    from matcher.candidates.service import update_candidate

    update_candidate(session=session, actor=world.accounts["cw_a"], candidate_id=world.cand_a.id,
                     data={"offence_category": "fraud", "key_subject": True})
    referral = refer(world, session)
    page = browser("emp_a", "en")
    cand = world.cand_a
    pages = [html(page.get(url)) for url in ("/employer", "/employer/referrals", "/employer/referrals?show=all",
                                             f"/employer/referrals/{referral.id}",
                                             f"/employer/slots/{world.slot_a.id}")]
    for body in pages:
        for secret in (cand.name, cand.id_number_masked, "Fraud", "fraud", "Green", "risk", "Risk",
                       cand.hukou_code, "Key subject", "household"):
            assert secret not in body, secret
    assert cand.public_id in pages[3]


def test_name_and_phone_shown_only_with_consent_for_this_base_and_purpose(browser, world, session):
    from matcher.candidates.service import record_consent

    world.cand_a.phone = "13800009999"
    session.commit()
    referral = refer(world, session)
    page = browser("emp_a", "en")
    url = f"/employer/referrals/{referral.id}"

    def consent(base, purpose, granted=True):
        record_consent(session=session, actor=world.accounts["cw_a"], candidate_id=world.cand_a.id,
                       data={"kind": "disclose_identity", "granted": granted, "recorded_on": clock.today(),
                             "base_id": base.id, "purpose": purpose})

    body = html(page.get(url))
    assert world.cand_a.name not in body and "13800009999" not in body and 'data-testid="identity-withheld"' in body
    consent(world.company_b, "interview")  # another base
    consent(world.company_a, "job_fair")  # this base, another purpose
    assert world.cand_a.name not in html(page.get(url))
    consent(world.company_a, "interview")
    body = html(page.get(url))
    assert world.cand_a.name in body and "13800009999" in body
    consent(world.company_a, "interview", granted=False)  # withdrawn: hidden at once
    body = html(page.get(url))
    assert world.cand_a.name not in body and "13800009999" not in body


def test_other_base_cannot_see_the_referral(browser, world, session):
    referral = refer(world, session)
    page = browser("emp_b", "en")
    assert page.get(f"/employer/referrals/{referral.id}").status_code == 404
    page.get("/employer")
    assert page.post(f"/employer/referrals/{referral.id}/move", {"to": "interview"}).status_code == 404


# ---- access and CSRF --------------------------------------------------------------------------

def test_other_roles_get_404_on_employer_pages(browser, world):
    for who in ("admin", "cw_a", "org"):
        page = browser(who, "en")
        assert page.get("/employer").status_code == 404
        assert page.get(f"/employer/slots/{world.slot_a.id}").status_code == 404


def test_anonymous_is_sent_to_login(browser):
    client = browser()
    response = client.get("/employer/slots/new")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_post_without_csrf_is_refused(browser, world, session):
    from matcher.slots.models import Slot

    page = browser("emp_a", "en")
    response = page.post("/employer/slots/new", slot_form(title="无令牌"), csrf=False)
    assert response.status_code == 400
    assert session.query(Slot).filter_by(title="无令牌").count() == 0
    response = page.post(f"/employer/slots/{world.draft_a.id}/status", {"status": "open", "csrf_token": "forged"})
    assert response.status_code == 400


# ---- issue 15: the employer's pages on a phone ----------------------------------------------------

def test_new_slot_form_shows_every_error_in_one_answer(browser, world):
    """Four submissions, one error each, before: now every wrong field, nested and related ones included."""
    page = browser("emp_a", "zh")
    page.get("/employer/slots/new")
    past = (clock.today() - dt.timedelta(days=3)).isoformat()
    response = page.post("/employer/slots/new", slot_form(
        seats="0", starts_on=past, ends_on=(clock.today() - dt.timedelta(days=10)).isoformat(), pay_min="6000",
        pay_max="5000", course_code="no_such_course", skill_0="no_such_skill", place="nowhere-at-all",
        hours_per_week="200"))
    assert response.status_code == 422
    body = html(response)
    for field in ("seats", "starts_on", "ends_on", "pay_min", "course_code", "required_skills", "place",
                  "hours_per_week"):
        assert f'id="{field}-error" class="field-error"' in body, field
    assert "新岗位的开始日期不能早于今天" in body and "结束日期必须晚于开始日期。" in body
    assert 'value="6000"' in body  # what was typed stays; the place is picked from the township list


def test_a_start_years_ahead_is_a_slip(browser, world):
    page = browser("emp_a", "zh")
    page.get("/employer/slots/new")
    far = clock.today().replace(year=clock.today().year + 5).isoformat()
    response = page.post("/employer/slots/new", slot_form(starts_on=far))
    assert response.status_code == 422 and "开始日期在两年以后，请检查年份。" in html(response)


def test_save_draft_and_publish_are_two_buttons(browser, world, session):
    from matcher.slots.models import Slot, SlotStatus

    page = browser("emp_a", "zh")
    form_page = html(page.get("/employer/slots/new"))
    assert "保存草稿" in form_page and ">发布</button>" in form_page and "发布岗位" not in form_page
    assert page.post("/employer/slots/new", slot_form(title="草稿岗位", publish="0")).status_code == 303
    assert page.post("/employer/slots/new", slot_form(title="发布的岗位", publish="1")).status_code == 303
    assert session.query(Slot).filter_by(title="草稿岗位").one().status == SlotStatus.DRAFT
    published = session.query(Slot).filter_by(title="发布的岗位").one()
    assert published.status == SlotStatus.OPEN
    assert "岗位已发布" in html(page.get(f"/employer/slots/{published.id}"))
    nav = html(page.get("/employer"))
    assert "新建岗位" in nav and "发布岗位" not in nav


def test_publishing_at_a_base_not_in_force_saves_nothing(browser, world, session):
    from matcher.auth.service import create_account
    from matcher.slots.models import Slot

    create_account(session=session, actor=None, data=dict(
        username="emp_c", display_name="emp_c", password=PASSWORD, role="employer",
        company_id=world.company_applied.id))
    session.commit()
    page = browser("emp_c", "zh")
    page.get("/employer/slots/new")
    response = page.post("/employer/slots/new", slot_form(title="未认定发布", publish="1"))
    assert response.status_code == 409
    assert 'value="未认定发布"' in html(response)
    assert session.query(Slot).filter_by(title="未认定发布").count() == 0


def test_home_shows_open_slots_and_drafts_and_links_the_closed_ones(browser, world, session, kit):
    from matcher.slots.service import set_slot_status

    old = kit.new_slot(session, world.accounts["emp_a"], title="二〇二四年旧岗位")
    set_slot_status(session=session, actor=world.accounts["emp_a"], slot_id=old.id, status="closed")
    session.commit()
    page = browser("emp_a", "zh")
    home = html(page.get("/employer"))
    assert "厨师A" in home and "草稿" in home and "二〇二四年旧岗位" not in home
    assert "已关闭的岗位（1 个）" in home
    closed = html(page.get("/employer/slots?show=closed"))
    assert "二〇二四年旧岗位" in closed and "厨师A" not in closed
    assert "二〇二四年旧岗位" not in html(page.get("/employer/slots"))


def test_slot_list_searches_and_sorts(browser, world, session, kit):
    kit.new_slot(session, world.accounts["emp_a"], title="面点师傅")
    page = browser("emp_a", "zh")
    found = html(page.get("/employer/slots?q=面点"))
    assert "面点师傅" in found and "厨师A" not in found
    by_title = html(page.get("/employer/slots?sort=title"))
    table = by_title[by_title.index('data-testid="slot-table"'):]
    titles = sorted(["厨师A", "草稿", "面点师傅"])
    assert [table.index(f">{t}</a>") for t in titles] == sorted(table.index(f">{t}</a>") for t in titles)
    assert 'aria-sort="ascending"' in by_title


def _age(session, referral, days):
    """The referral entered its present status `days` ago."""
    from matcher.referrals.models import ReferralEvent

    for event in session.query(ReferralEvent).filter_by(referral_id=referral.id):
        event.on_date = clock.today() - dt.timedelta(days=days)
    session.commit()


def test_waiting_referrals_come_first_with_days_waited(browser, world, session, kit):
    from matcher.referrals.service import transition

    answered = refer(world, session)
    transition(session=session, actor=world.accounts["emp_a"], referral_id=answered.id, to="interview")
    session.commit()
    other = kit.new_slot(session, world.accounts["emp_a"], title="帮厨")
    first = refer(world, session, slot=other)
    _age(session, first, 9)
    page = browser("emp_a", "zh")
    home = html(page.get("/employer"))
    waiting = home[home.index('data-testid="waiting"'):home.index('data-testid="slots"')]
    assert "已等待 9 天" in waiting and "待首次答复" in waiting
    assert waiting.index("帮厨") < waiting.index("厨师A")  # still without a first answer: first
    listed = html(page.get("/employer/referrals"))
    assert listed.index("帮厨") < listed.index("厨师A") and "已等待 9 天" in listed
    assert "已等待 9 天" in html(page.get(f"/employer/referrals/{first.id}"))


def test_answer_buttons_say_what_they_do(browser, world, session):
    referral = refer(world, session)
    body = html(browser("emp_a", "zh").get(f"/employer/referrals/{referral.id}"))
    buttons = body[body.index("您的答复") if "您的答复" in body else 0:]
    assert ">安排面试</button>" in buttons and ">不合适</button>" in buttons
    assert ">已拒绝</button>" not in buttons and ">面试</button>" not in buttons
    assert "之后状态：已拒绝" in buttons  # the result, said after the verb


def test_referral_list_searches_by_file_number_or_slot(browser, world, session, kit):
    refer(world, session)
    other = kit.new_slot(session, world.accounts["emp_a"], title="洗碗工")
    refer(world, session, slot=other)
    page = browser("emp_a", "zh")
    by_slot = html(page.get("/employer/referrals?q=洗碗"))
    assert "洗碗工" in by_slot and "厨师A" not in by_slot
    number = world.cand_a.public_id[3:8]
    assert world.cand_a.public_id in html(page.get(f"/employer/referrals?show=all&q={number}"))
    assert "共 0 条推荐" in html(page.get("/employer/referrals?q=没有这个"))


def test_employer_answers_many_referrals_at_once(browser, world, session, kit):
    from matcher.referrals.lifecycle import ReferralStatus

    first = refer(world, session)
    second = refer(world, session, slot=kit.new_slot(session, world.accounts["emp_a"], title="配菜员"))
    page = browser("emp_a", "zh")
    listing = html(page.get("/employer/referrals"))
    assert 'data-testid="bulk-form"' in listing and f'value="{first.id}"' in listing
    refused = page.post("/employer/referrals/answer", {"referral_id": [str(first.id), str(second.id)],
                                                        "to": "declined"})
    assert refused.status_code == 303
    assert "2 条推荐未能答复" in html(page.get(refused.headers["Location"]))
    done = page.post("/employer/referrals/answer", {"referral_id": [str(first.id), str(second.id)],
                                                     "to": "interview"})
    assert done.status_code == 303
    assert "已答复 2 条推荐：安排面试。" in html(page.get(done.headers["Location"]))
    for referral in (first, second):
        session.refresh(referral)
        assert referral.status == ReferralStatus.INTERVIEW


def test_a_slot_form_takes_further_intakes_and_the_page_lists_them(browser, world, session):
    from matcher.slots.models import Slot

    page = browser("emp_a", "zh")
    start = clock.today()
    later = [start + dt.timedelta(days=90), start + dt.timedelta(days=180)]
    response = page.post("/employer/slots/new", slot_form(
        title="面点班", ends_on=(start + dt.timedelta(days=30)).isoformat(),
        intakes="；".join(day.isoformat() for day in later)))
    assert response.status_code == 303, html(response)[:2000]
    slot = session.query(Slot).filter_by(title="面点班").one()
    assert [i.starts_on for i in slot.intakes] == [start, *later]
    shown = html(page.get(response.headers["Location"]))
    assert 'data-testid="intakes"' in shown
    edit_form = html(page.get(f"/employer/slots/{slot.id}/edit"))
    assert "; ".join(day.isoformat() for day in later) in edit_form
