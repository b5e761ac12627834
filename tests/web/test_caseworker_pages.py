"""Caseworker pages: the office home, the file, intake and edit, recommendations and referring, the board."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

import matcher.web.candidates  # noqa: F401 - registers the pages on the blueprint before the app is made
from matcher import clock
from matcher.extensions import db

PASSWORD = "correct-horse-battery"  # conftest.PASSWORD
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def browser(app):
    """A cookie-keeping client for the pages. Tests hold an app context (the `world` fixture), which the
    client's requests share, so `g` must forget the previous request's user, locale and CSRF token, and
    what a request left uncommitted is rolled back as a real request's end would."""
    from flask import g, has_app_context
    from flask.testing import FlaskClient

    class PageClient(FlaskClient):
        def open(self, *args, **kwargs):
            held = has_app_context()
            if held:
                for key in ("_login_user", "_flask_babel", "csrf_token"):
                    g.pop(key, None)
            try:
                return super().open(*args, **kwargs)
            finally:
                if held:
                    db.session.rollback()

        def csrf(self, path: str = "/login") -> str:
            return CSRF.search(self.get(path).get_data(as_text=True)).group(1)

        def login(self, username: str):
            response = self.post("/login", data={"username": username, "password": PASSWORD,
                                                 "csrf_token": self.csrf()})
            assert response.status_code == 302, response.get_data(as_text=True)
            return self

        def form_post(self, path: str, data: dict, page: str | None = None, **kwargs):
            return self.post(path, data={**data, "csrf_token": self.csrf(page or path)}, **kwargs)

    return lambda: PageClient(app, app.response_class, use_cookies=True)


@pytest.fixture
def cw(world, browser):
    db.session.commit()
    return browser().login("cw_a")


def text(response) -> str:
    return response.get_data(as_text=True)


def test_home_sends_a_caseworker_to_the_office_home(cw):
    response = cw.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/caseworker")


@pytest.mark.parametrize("lang,expected", [("zh-CN", "待办推荐"), ("en", "Referrals waiting for action")])
def test_home_renders_in_both_languages(cw, lang, expected):
    response = cw.get("/caseworker", headers={"Accept-Language": lang})
    assert response.status_code == 200
    assert expected in text(response)


def test_every_page_renders_in_chinese_and_english(world, cw, kit):
    from matcher.referrals.service import create_referral

    referral = create_referral(session=db.session, actor=world.accounts["cw_a"], candidate_id=world.cand_a.id,
                               slot_id=world.slot_a.id, send=True)
    db.session.commit()
    cid = world.cand_a.id
    pages = ["/caseworker", "/caseworker/candidates", "/caseworker/candidates?status=active&risk_grade=green",
             "/caseworker/candidates/new", f"/caseworker/candidates/{cid}", f"/caseworker/candidates/{cid}/edit",
             f"/caseworker/candidates/{cid}/recommendations",
             f"/caseworker/candidates/{cid}/eligibility?slot_id={world.slot_b.id}",
             "/caseworker/referrals", f"/caseworker/referrals/{referral.id}"]
    for lang, html_lang in (("zh-CN", 'lang="zh-CN"'), ("en", 'lang="en"')):
        for path in pages:
            response = cw.get(path, headers={"Accept-Language": lang})
            assert response.status_code == 200, (lang, path, text(response)[:500])
            assert html_lang in text(response), (lang, path)
    assert "测试11" in text(cw.get(f"/caseworker/candidates/{cid}"))


def test_language_switch_is_remembered(cw):
    cw.get("/language/en?next=/caseworker")
    assert "Candidates by status" in text(cw.get("/caseworker"))
    cw.get("/language/zh_CN?next=/caseworker")
    assert "按状态统计" in text(cw.get("/caseworker"))


def test_the_list_filters_and_pages(world, cw):
    body = text(cw.get("/caseworker/candidates?q=测试11", headers={"Accept-Language": "en"}))
    assert "测试11" in body and "测试12" not in body
    # Dual registration: office A reads the file of someone registered in its township.
    assert "测试13" in text(cw.get("/caseworker/candidates"))
    body = text(cw.get("/caseworker/candidates?risk_grade=red", headers={"Accept-Language": "en"}))
    assert "No candidate matches these filters." in body


def test_home_lists_releases_waiting_referrals_and_milestones(world, cw, kit):
    from matcher.referrals.lifecycle import ReferralStatus
    from matcher.referrals.models import Referral, ReferralEvent
    from matcher.referrals.service import create_referral

    soon = kit.new_candidate(db.session, world.accounts["cw_a"], residence=kit.CHOUCHENG, seq=21, name="将释放",
                             release_date=clock.today() + dt.timedelta(days=30))
    placed = kit.new_candidate(db.session, world.accounts["cw_a"], residence=kit.CHOUCHENG, seq=22, name="已上岗")
    referral = create_referral(session=db.session, actor=world.accounts["cw_a"], candidate_id=placed.id,
                               slot_id=world.slot_a.id, send=True)
    # A start 35 days ago: staying 30 days is due.
    referral.status, referral.started_on, referral.holds_seat = ReferralStatus.STARTED, \
        clock.today() - dt.timedelta(days=35), True
    db.session.add(ReferralEvent(referral_id=referral.id, from_status=ReferralStatus.SENT,
                                 to_status=ReferralStatus.STARTED, on_date=referral.started_on))
    create_referral(session=db.session, actor=world.accounts["cw_a"], candidate_id=world.cand_a.id,
                    slot_id=world.slot_a.id)
    db.session.commit()
    assert db.session.scalar(select(Referral).where(Referral.id == referral.id)).status == ReferralStatus.STARTED
    body = text(cw.get("/caseworker", headers={"Accept-Language": "en"}))
    assert soon.name in body and placed.name in body
    assert "Stayed 30 days" in body and "Send it to the base" in body


def test_intake_with_a_bad_id_number_shows_the_error_next_to_the_field_and_keeps_the_input(cw, kit):
    form = {"name": "张三", "id_number": "330782199001011230", "education": "junior_secondary",
            "hukou": kit.CHOUCHENG, "residence": "义乌市稠城街道", "release_date": "2025-01-10",
            "offence_category": "theft", "risk_grade": "yellow", "skill_code-0": "chinese_cooking",
            "skill_level-0": "3", "course-0": "cooking", "max_travel_km": "15", "consents": ["referral"]}
    bad = kit.make_id_number(seq=31)[:-1] + ("0" if kit.make_id_number(seq=31)[-1] != "0" else "1")
    response = cw.form_post("/caseworker/candidates/new", {**form, "id_number": bad},
                            headers={"Accept-Language": "en"})
    body = text(response)
    assert response.status_code == 422
    assert 'data-testid="candidate-form"' in body
    field = re.search(r'<input id="id_number"[^>]*>', body).group(0)
    assert 'aria-invalid="true"' in field and f'value="{bad}"' in field
    assert re.search(r'id="id_number-error" class="field-error"[^>]*>Not a valid ID number', body)
    assert 'value="张三"' in body and '<option value="330782001" selected>稠城街道' in body  # picked (issue 15)
    assert re.search(r'<option value="chinese_cooking" selected', body)
    assert re.search(r'value="referral"\s+checked', body)
    # In Chinese too.
    body = text(cw.form_post("/caseworker/candidates/new", {**form, "id_number": bad}))
    assert "身份证" in re.search(r'id="id_number-error"[^>]*>([^<]+)<', body).group(1)


def test_intake_reports_domain_errors_next_to_the_field(cw, kit):
    form = {"name": "李四", "id_number": kit.make_id_number(seq=32), "education": "primary",
            "hukou": "不存在的地方", "residence": kit.CHOUCHENG, "release_date": "2025-01-10",
            "offence_category": "fraud"}
    response = cw.form_post("/caseworker/candidates/new", form, headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert re.search(r'id="hukou-error" class="field-error"[^>]*>No place is called', text(response))


def test_a_successful_intake_opens_the_file(cw, kit):
    from matcher.candidates.models import Candidate

    form = {"name": "王五", "id_number": kit.make_id_number(seq=33), "education": "vocational",
            "hukou": kit.CHOUCHENG, "residence": kit.CHOUCHENG, "release_date": "2025-03-01",
            "offence_category": "theft", "risk_grade": "orange", "key_subject": "y",
            "skill_code-0": "chinese_cooking", "skill_level-0": "3", "skill_text-1": "会开叉车",
            "course-0": "cooking", "course-1": "auto_repair", "max_travel_km": "12", "needs_housing": "y",
            "consents": ["data_processing", "referral"]}
    response = cw.form_post("/caseworker/candidates/new", form, page="/caseworker/candidates/new")
    assert response.status_code == 302
    candidate = db.session.scalar(select(Candidate).where(Candidate.name == "王五"))
    assert response.headers["Location"].endswith(f"/caseworker/candidates/{candidate.id}")
    assert candidate.key_subject and candidate.needs_housing and candidate.max_travel_km == 12
    assert [p.course_code for p in candidate.preferred_courses] == ["cooking", "auto_repair"]
    assert candidate.risk_grade.value == "orange" and len(candidate.skills) == 2
    body = text(cw.get(response.headers["Location"]))
    assert "王五" in body and "会开叉车" in body and "flash-success" in body


def test_edit_validates_and_saves(world, cw):
    cid = world.cand_a.id
    path = f"/caseworker/candidates/{cid}/edit"
    page = text(cw.get(path))
    assert 'data-testid="candidate-form"' in page and '<option value="330782001" selected>稠城街道' in page
    form = {"name": "", "education": "junior_secondary", "hukou": "330782001", "residence": "330782001",
            "release_date": "2025-01-01", "offence_category": "theft", "max_travel_km": "999"}
    response = cw.form_post(path, form, headers={"Accept-Language": "en"})
    body = text(response)
    assert response.status_code == 422
    assert re.search(r'id="name-error"', body) and re.search(r'id="max_travel_km-error"', body)
    response = cw.form_post(path, {**form, "name": "测试改名", "max_travel_km": "30", "course-0": "auto_repair"})
    assert response.status_code == 302
    db.session.expire_all()
    candidate = db.session.get(type(world.cand_a), cid)
    assert candidate.name == "测试改名" and candidate.max_travel_km == 30
    assert [p.course_code for p in candidate.preferred_courses] == ["auto_repair"]
    assert candidate.office_id == world.office_a.id


def test_a_read_only_file_cannot_be_edited(world, cw):
    # 测试13 lives in 佛堂 (office B keeps it) and is registered in 稠城: office A reads it only.
    response = cw.get(f"/caseworker/candidates/{world.cand_dual.id}")
    assert response.status_code == 200 and "测试13" in text(response)
    assert cw.get(f"/caseworker/candidates/{world.cand_dual.id}/edit").status_code == 302


def test_visit_risk_and_consent_forms_record_and_redirect_back(world, cw):
    cid = world.cand_a.id
    file_page = f"/caseworker/candidates/{cid}"
    today = clock.today().isoformat()
    response = cw.form_post(f"{file_page}/visits", {"visited_on": today, "kind": "phone", "note": "电话回访"},
                            page=file_page)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{file_page}#visit")
    response = cw.form_post(f"{file_page}/risk-assessments", {"grade": "yellow", "assessed_on": today,
                                                               "reason": "月度排查"}, page=file_page)
    assert response.status_code == 302
    response = cw.form_post(f"{file_page}/consents", {"kind": "data_processing", "granted": "y",
                                                       "recorded_on": today}, page=file_page)
    assert response.status_code == 302
    body = text(cw.get(file_page))
    assert "电话回访" in body and "月度排查" in body and "grade-yellow" in body
    # A visit in the future: the error sits next to the date and what was typed stays.
    future = (clock.today() + dt.timedelta(days=3)).isoformat()
    response = cw.form_post(f"{file_page}/visits", {"visited_on": future, "kind": "home", "note": "未来"},
                            page=file_page, headers={"Accept-Language": "en"})
    body = text(response)
    assert response.status_code == 422
    assert re.search(r'id="visit-visited_on-error" class="field-error"[^>]*>A visit cannot be dated', body)
    assert ">未来</textarea>" in body
    response = cw.form_post(f"{file_page}/consents", {"kind": "referral", "recorded_on": today},
                            page=file_page)
    assert response.status_code == 422 and 'id="consent-granted-error"' in text(response)


def test_recommendations_show_likelihood_reasons_and_refer_in_one_click(world, cw):
    from matcher.referrals.lifecycle import ReferralStatus
    from matcher.referrals.models import Referral

    cid = world.cand_a.id
    path = f"/caseworker/candidates/{cid}/recommendations"
    body = text(cw.get(path, headers={"Accept-Language": "en"}))
    rows = re.findall(r'<tr data-testid="recommendation" data-slot-id="(\d+)"', body)
    assert str(world.slot_a.id) in rows
    assert "rule-based prior" in body and "%" in body and "<progress" in body
    assert 'data-testid="refer"' in body
    assert "First-choice course" in body  # reasons in words, in English
    assert "首选课程" in text(cw.get(path, headers={"Accept-Language": "zh-CN"}))

    response = cw.form_post(f"/caseworker/candidates/{cid}/refer", {"slot_id": world.slot_a.id}, page=path)
    assert response.status_code == 302 and response.headers["Location"].endswith(path)
    referral = db.session.scalar(select(Referral).where(Referral.candidate_id == cid))
    assert referral.status == ReferralStatus.SENT and referral.score is not None and referral.model_version
    assert "Referred ✓" in text(cw.get(path, headers={"Accept-Language": "en"}))
    # Twice is refused, with the reason in a flash (in the language of the request that refused it).
    response = cw.form_post(f"/caseworker/candidates/{cid}/refer", {"slot_id": world.slot_a.id}, page=path,
                            headers={"Accept-Language": "en"})
    assert response.status_code == 302
    page = text(cw.get(path, headers={"Accept-Language": "en"}))
    assert "already has a live referral" in page, re.findall(r"flash[^>]*>[^<]*", page)


def test_refer_by_htmx_swaps_in_the_result_and_without_consent_only_proposes(world, cw, kit):
    from matcher.referrals.lifecycle import ReferralStatus
    from matcher.referrals.models import Referral

    no_consent = kit.new_candidate(db.session, world.accounts["cw_a"], residence=kit.CHOUCHENG, seq=41,
                                   consents=["data_processing"])
    db.session.commit()
    path = f"/caseworker/candidates/{no_consent.id}/recommendations"
    assert "not consented" in text(cw.get(path, headers={"Accept-Language": "en"}))
    response = cw.form_post(f"/caseworker/candidates/{no_consent.id}/refer", {"slot_id": world.slot_a.id},
                            page=path, headers={"HX-Request": "true", "Accept-Language": "en"})
    assert response.status_code == 200
    body = text(response)
    assert 'data-testid="referred"' in body and "Proposed ✓" in body and "<html" not in body
    referral = db.session.scalar(select(Referral).where(Referral.candidate_id == no_consent.id))
    assert referral.status == ReferralStatus.PROPOSED


def test_eligibility_explains_why_not(world, cw):
    cid = world.cand_a.id
    response = cw.get(f"/caseworker/candidates/{cid}/eligibility?slot_id={world.slot_b.id}",
                      headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert 'data-testid="eligibility"' in text(response)
    response = cw.get(f"/caseworker/candidates/{cid}/eligibility?slot_id={world.draft_a.id}",
                      headers={"Accept-Language": "en"})
    assert response.status_code == 422 and "No such slot." in text(response)
    response = cw.get(f"/caseworker/candidates/{cid}/eligibility?slot_id=abc")
    assert response.status_code == 422


def test_the_board_and_a_move_without_a_required_reason(world, cw):
    from matcher.referrals.lifecycle import ReferralStatus
    from matcher.referrals.service import create_referral

    referral = create_referral(session=db.session, actor=world.accounts["cw_a"], candidate_id=world.cand_a.id,
                               slot_id=world.slot_a.id)
    db.session.commit()
    board = text(cw.get("/caseworker/referrals", headers={"Accept-Language": "en"}))
    assert "测试11" in board and 'data-status="proposed"' in board
    path = f"/caseworker/referrals/{referral.id}"
    page = text(cw.get(path))
    assert 'data-testid="move-sent"' in page and 'data-testid="move-withdrawn"' in page
    assert 'data-testid="move-started"' not in page

    response = cw.form_post(f"{path}/move", {"to": "withdrawn", "reason_code": ""}, page=path,
                            headers={"Accept-Language": "en"})
    body = text(response)
    assert response.status_code == 422
    assert re.search(r'<select id="reason_code"[^>]*aria-invalid="true"', body)
    assert re.search(r'id="reason_code-error" class="field-error"[^>]*>Say why: choose a reason.', body)
    # The form says who reads each note.
    assert "The base and your office read this." in body and "never the base" in body

    response = cw.form_post(f"{path}/move", {"to": "sent"}, page=path)
    assert response.status_code == 302
    db.session.expire_all()
    assert referral.status == ReferralStatus.SENT
    body = text(cw.get(path, headers={"Accept-Language": "en"}))
    assert "Sent to base" in body and 'data-testid="move-withdrawn"' in body
    response = cw.form_post(f"{path}/move", {"to": "withdrawn", "reason_code": "candidate_declined",
                                             "internal_note": "本人改变主意"}, page=path)
    assert response.status_code == 302
    db.session.expire_all()
    assert (referral.status, referral.end_code, referral.events[-1].internal_note) == (
        ReferralStatus.WITHDRAWN, "candidate_declined", "本人改变主意")


def test_another_offices_candidate_and_referral_give_404(world, cw, browser):
    from matcher.referrals.service import create_referral

    other = create_referral(session=db.session, actor=world.accounts["cw_b"], candidate_id=world.cand_b.id,
                            slot_id=world.slot_a.id, send=True)
    db.session.commit()
    cid = world.cand_b.id
    for path in (f"/caseworker/candidates/{cid}", f"/caseworker/candidates/{cid}/edit",
                 f"/caseworker/candidates/{cid}/recommendations", f"/caseworker/candidates/{cid}/eligibility",
                 f"/caseworker/referrals/{other.id}", "/caseworker/candidates/99999999999"):
        response = cw.get(path)
        assert response.status_code == 404, path
        assert "测试12" not in text(response)
    response = cw.form_post(f"/caseworker/candidates/{cid}/visits",
                            {"visited_on": clock.today().isoformat(), "kind": "home"}, page="/caseworker")
    assert response.status_code == 404


def test_an_employer_gets_404_on_caseworker_pages(world, browser):
    db.session.commit()
    emp = browser().login("emp_a")
    for path in ("/caseworker", "/caseworker/candidates", "/caseworker/candidates/new",
                 f"/caseworker/candidates/{world.cand_a.id}", "/caseworker/referrals"):
        assert emp.get(path).status_code == 404, path


def test_anonymous_visitors_are_sent_to_log_in(world, browser):
    db.session.commit()
    response = browser().get("/caseworker/candidates")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_no_post_without_a_csrf_token(world, cw):
    cid = world.cand_a.id
    for path, data in ((f"/caseworker/candidates/{cid}/visits", {"visited_on": "2025-01-01", "kind": "home"}),
                       (f"/caseworker/candidates/{cid}/refer", {"slot_id": world.slot_a.id}),
                       ("/caseworker/candidates/new", {"name": "x"})):
        assert cw.post(path, data=data).status_code == 400, path



def test_the_eligibility_lookup_answers_htmx_with_the_result_it_swaps_in(world, cw):
    path = f"/caseworker/candidates/{world.cand_a.id}/eligibility?slot_id=abc"
    response = cw.get(path, headers={"HX-Request": "true", "Accept-Language": "en"})
    assert response.status_code == 200 and 'id="eligibility-result"' in text(response)
    assert "No such slot." in text(response)


def test_a_referral_that_ended_shows_the_milestone_it_reached(world, cw):
    from matcher.referrals.lifecycle import EndReason, Milestone, ReferralStatus
    from matcher.referrals.models import Referral

    started = clock.today() - dt.timedelta(days=150)
    referral = Referral(candidate_id=world.cand_a.id, slot_id=world.slot_a.id, status=ReferralStatus.LEFT,
                        started_on=started, ended_on=clock.today() - dt.timedelta(days=10),
                        end_code=EndReason.PERSONAL, milestone=Milestone.STAYED_90)
    db.session.add(referral)
    db.session.commit()
    page = text(cw.get(f"/caseworker/referrals/{referral.id}", headers={"Accept-Language": "en"}))
    assert re.search(r'data-testid="milestone">Stayed 90 days<', page)
    history = text(cw.get(f"/caseworker/candidates/{world.cand_a.id}", headers={"Accept-Language": "en"}))
    assert re.search(r'data-testid="referral-milestone">Stayed 90 days<', history)
