"""The job fair's day pages: check-in, walk-ins, withdrawals and re-planning (organisers), outcomes at a booth
(organisers and the booth's employer), the employer's fairs, and the report; each role only its own."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from matcher import clock
from matcher.extensions import db
from matcher.fairs import service
from matcher.fairs.models import InterviewStatus, InvitationSource, InvitationStatus
from tests.fair_support import to_the_fair_day


def tomorrow() -> dt.date:
    """Asked when needed, not when the module loads: the suite may run across midnight in China."""
    return clock.today() + dt.timedelta(days=1)




def html(response) -> str:
    return response.get_data(as_text=True)


def zh(msgid: str, **variables) -> str:
    """A message as the Chinese catalogue has it (the test follows the catalogue, not a copy of it)."""
    from flask import current_app
    from flask_babel import force_locale, gettext

    with current_app.test_request_context(), force_locale("zh_CN"):
        return gettext(msgid, **variables)


def htmx_post(page, url: str, data: dict):
    """What htmx sends: the form, plus the HX-Request header (the page client sets its own headers)."""
    from flask import g

    for key in ("_login_user", "_flask_babel", "csrf_token"):
        g.pop(key, None)
    data = {"csrf_token": page.token, **data}
    try:
        return page.client.open(url, method="POST", data=data, headers={
            "Accept-Language": "zh-CN", "Accept": "text/html", "HX-Request": "true"})
    finally:
        db.session.rollback()


@pytest.fixture
def fair(world, session, time_machine):
    """Tomorrow's fair: two booths (cooking at A, auto repair at B), three confirmed candidates, planned; the
    clock then at 08:00 on the fair's day."""
    org = world.accounts["org"]
    fair = service.create_fair(session=session, actor=org, data=dict(
        name="春风行动招聘会", held_on=tomorrow(), venue="义乌市人力资源市场", starts_at=dt.time(9, 0),
        block_minutes=30, n_blocks=4, max_interviews=2))
    for company, slot in ((world.company_a, world.slot_a), (world.company_b, world.slot_b)):
        service.add_booth(session=session, actor=org, fair_id=fair.id, data=dict(
            company_id=company.id, slot_ids=[slot.id], interviews_per_block=1))
    service.invite(session=session, actor=org, fair_id=fair.id, data={"public_ids": [
        world.cand_a.public_id, world.cand_b.public_id, world.cand_dual.public_id]})
    for inv in session.scalars(service.list_invitations(session=session, actor=org, filters={"fair_id": fair.id})):
        service.answer_invitation(session=session, actor=world.accounts["admin"], invitation_id=inv.id,
                                  attending=True)
    service.make_plan(session=session, actor=org, fair_id=fair.id)
    session.commit()
    to_the_fair_day(time_machine, fair.held_on)
    return fair


def booth_of(fair, company):
    return next(b for b in fair.booths if b.company_id == company.id)


def invitation_of(session, world, fair, candidate):
    rows = session.scalars(service.list_invitations(session=session, actor=world.accounts["org"],
                                                    filters={"fair_id": fair.id}))
    return next(inv for inv in rows if inv.candidate_id == candidate.id)


def interviews(session, world, fair):
    return service.schedule(session=session, actor=world.accounts["org"], fair_id=fair.id)


# ---- every page renders, for the roles it is for ----------------------------------------------------------

@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_renders(browser, world, session, fair, lang):
    booth_a = booth_of(fair, world.company_a)
    for username in ("org", "admin"):
        page = browser(username, lang)
        for url in (f"/organiser/fairs/{fair.id}/day", f"/organiser/fairs/{fair.id}/report",
                    f"/fairs/{fair.id}/booths/{booth_a.id}/outcomes",
                    f"/fairs/{fair.id}/booths/{booth_a.id}/outcomes?block=3"):
            response = page.get(url)
            assert response.status_code == 200, (username, url, html(response)[:3000])
            assert f'lang="{"en" if lang == "en" else "zh-CN"}"' in html(response)
    employer = browser("emp_a", lang)
    for url in ("/employer/fairs", f"/fairs/{fair.id}/booths/{booth_a.id}/outcomes"):
        response = employer.get(url)
        assert response.status_code == 200, (url, html(response)[:3000])
    day = html(browser("org", lang).get(f"/organiser/fairs/{fair.id}/day"))
    assert world.cand_a.public_id in day and world.cand_a.name in day  # organisers check people in by name
    assert 'data-testid="check-in"' in day and 'data-testid="plan-result"' in day
    assert ("On the day" if lang == "en" else zh("On the day")) in day
    assert "<script>" not in day  # the CSP allows no inline scripts


def test_role_scope(browser, world, session, fair):
    booth_a, booth_b = booth_of(fair, world.company_a), booth_of(fair, world.company_b)
    caseworker = browser("cw_a")
    for url in (f"/organiser/fairs/{fair.id}/day", f"/organiser/fairs/{fair.id}/report",
                f"/fairs/{fair.id}/booths/{booth_a.id}/outcomes", "/employer/fairs"):
        assert caseworker.get(url).status_code == 404, url
    emp_b = browser("emp_b")
    for url in (f"/organiser/fairs/{fair.id}/day", f"/organiser/fairs/{fair.id}/report",
                f"/fairs/{fair.id}/booths/{booth_a.id}/outcomes",
                f"/fairs/{fair.id + 99}/booths/{booth_b.id}/outcomes"):
        assert emp_b.get(url).status_code == 404, url
    assert emp_b.get(f"/fairs/{fair.id}/booths/{booth_b.id}/outcomes").status_code == 200
    # Booth A's interview cannot be recorded by B's employer, nor through B's booth page.
    iv = interviews(session, world, fair)[0]
    assert iv.booth_id == booth_a.id
    for url in (f"/fairs/{fair.id}/booths/{booth_a.id}/interviews/{iv.id}/outcome",
                f"/fairs/{fair.id}/booths/{booth_b.id}/interviews/{iv.id}/outcome"):
        assert emp_b.post(url, {"outcome": "offer"}).status_code == 404, url
    assert browser("org").post(f"/fairs/{fair.id}/booths/{booth_b.id}/interviews/{iv.id}/outcome",
                               {"outcome": "offer"}).status_code == 404
    session.expire_all()
    assert session.get(type(iv), iv.id).status == InterviewStatus.PLANNED
    # The employer's list shows their own booth only.
    mine = html(emp_b.get("/employer/fairs"))
    assert booth_b.label in mine and f"/booths/{booth_b.id}/outcomes" in mine
    assert f"/booths/{booth_a.id}/outcomes" not in mine
    assert world.cand_a.name not in mine  # pseudonymous: no disclose consent


# ---- check-in, walk-in, late cancellation -------------------------------------------------------------------

def test_check_in_and_undo(browser, world, session, fair):
    inv = invitation_of(session, world, fair, world.cand_a)
    page = browser("org")
    page.get(f"/organiser/fairs/{fair.id}/day?q={world.cand_a.public_id}")
    response = page.post(f"/organiser/fairs/{fair.id}/day/check-in", {"invitation_id": inv.id, "q": "测试"})
    assert response.status_code == 303 and f"#inv-{inv.id}" in response.headers["Location"]
    assert "q=" in response.headers["Location"]
    session.expire_all()
    assert invitation_of(session, world, fair, world.cand_a).checked_in_at is not None
    # The search finds by name prefix and by number.
    found = html(page.get(f"/organiser/fairs/{fair.id}/day?q={world.cand_a.public_id.lower()}"))
    assert found.count('data-testid="person"') == 1 and 'data-testid="checked-in"' in found
    assert html(page.get(f"/organiser/fairs/{fair.id}/day?q=测试")).count('data-testid="person"') == 3
    # htmx: the card comes back alone, checked out again.
    card = htmx_post(page, f"/organiser/fairs/{fair.id}/day/check-in", {"invitation_id": inv.id, "undo": "1"})
    assert card.status_code == 200 and html(card).lstrip().startswith("<article")
    assert 'data-testid="check-in"' in html(card)
    session.expire_all()
    assert invitation_of(session, world, fair, world.cand_a).checked_in_at is None


def test_the_checked_in_counter_follows_each_htmx_check_in(browser, world, session, fair):
    """已签到 is swapped in beside the card after every tap (htmx out of band), not left at the page's count."""
    page = browser("org")
    day = html(page.get(f"/organiser/fairs/{fair.id}/day"))
    assert re.search(r'id="checked-in-count" data-testid="checked-in-count">0<', day)
    counts = []
    for who in (world.cand_a, world.cand_b):
        card = htmx_post(page, f"/organiser/fairs/{fair.id}/day/check-in",
                         {"invitation_id": invitation_of(session, world, fair, who).id})
        found = re.search(r'<div class="figure" id="checked-in-count" data-testid="checked-in-count" '
                          r'hx-swap-oob="true">(\d+)</div>', html(card))
        counts.append(int(found.group(1)) if found else None)
    assert counts == [1, 2]
    card = htmx_post(page, f"/organiser/fairs/{fair.id}/day/check-in",
                     {"invitation_id": invitation_of(session, world, fair, world.cand_a).id, "undo": "1"})
    assert 'hx-swap-oob="true">1</div>' in html(card)
    assert re.search(r'data-testid="checked-in-count">1<', html(page.get(f"/organiser/fairs/{fair.id}/day")))


def test_before_the_fairs_day_check_ins_and_outcomes_are_refused(browser, world, session, fair, time_machine):
    to_the_fair_day(time_machine, fair.held_on - dt.timedelta(days=7))  # a week before
    page = browser("org")
    notice = "签到、现场报名和面试结果从招聘会当天起才能记录。"
    day = html(page.get(f"/organiser/fairs/{fair.id}/day"))
    assert notice in day
    assert re.search(r'data-testid="check-in" disabled', day) and re.search(r'data-testid="add-walk-in" disabled', day)
    inv = invitation_of(session, world, fair, world.cand_a)
    card = htmx_post(page, f"/organiser/fairs/{fair.id}/day/check-in", {"invitation_id": inv.id})
    assert "招聘会当天" in html(card) and 'role="alert"' in html(card)
    assert 'hx-swap-oob="true">0</div>' in html(card)
    plain = page.post(f"/organiser/fairs/{fair.id}/day/check-in", {"invitation_id": inv.id})
    assert plain.status_code == 303
    assert "招聘会当天" in html(page.get(plain.headers["Location"]))
    session.expire_all()
    assert invitation_of(session, world, fair, world.cand_a).checked_in_at is None
    iv = interviews(session, world, fair)[0]
    booth = iv.booth
    booth_page = html(page.get(f"/fairs/{fair.id}/booths/{booth.id}/outcomes?block={iv.block}"))
    assert notice in booth_page and 'data-testid="outcome-no_show" disabled' in booth_page
    tapped = htmx_post(page, f"/fairs/{fair.id}/booths/{booth.id}/interviews/{iv.id}/outcome", {"outcome": "no_show"})
    assert 'data-testid="outcome-error"' in html(tapped) and "招聘会当天" in html(tapped)
    session.expire_all()
    assert session.get(type(iv), iv.id).status == InterviewStatus.PLANNED


def test_walk_in_with_a_bad_number_shows_the_error_in_chinese(browser, world, session, fair):
    page = browser("org")
    page.get(f"/organiser/fairs/{fair.id}/day")
    response = page.post(f"/organiser/fairs/{fair.id}/day/walk-in", {"public_id": "NOPE000", "consent": "1",
                                                                       "arrives_block": "1"})
    assert response.status_code == 422
    message = zh("No candidate seeking work in this fair's area has this number.")
    assert re.search(r"[\u4e00-\u9fff]", message), "the message has no Chinese translation"
    assert message in html(response) and 'aria-invalid="true"' in html(response)
    assert 'value="NOPE000"' in html(response)  # what was typed stays


def test_walk_in_is_checked_in_and_a_replan_places_them(browser, world, session, fair, kit):
    walker = kit.new_candidate(session, world.accounts["cw_a"], residence=kit.CHOUCHENG, seq=31,
                               consents=["data_processing"])
    session.commit()
    page = browser("org")
    page.get(f"/organiser/fairs/{fair.id}/day")
    without = page.post(f"/organiser/fairs/{fair.id}/day/walk-in", {"public_id": walker.public_id,
                                                                     "arrives_block": "2"})
    assert without.status_code == 422  # no referral consent on file, none given in person
    assert zh("Record the candidate's consent to be interviewed by the bases at the fair.") in html(without)
    response = page.post(f"/organiser/fairs/{fair.id}/day/walk-in", {"public_id": walker.public_id.lower(),
                                                                      "consent": "1", "arrives_block": "2"})
    assert response.status_code == 303, html(response)[:2000]
    inv = invitation_of(session, world, fair, walker)
    assert inv.source == InvitationSource.WALK_IN and inv.checked_in_at is not None and inv.arrives_block == 2
    page.post(f"/organiser/fairs/{fair.id}/day/replan", {"from_block": "2"})
    session.expire_all()
    placed = [iv for iv in interviews(session, world, fair) if iv.invitation_id == inv.id]
    assert placed and all(iv.block >= 2 for iv in placed)


def test_late_cancellation(browser, world, session, fair):
    inv = invitation_of(session, world, fair, world.cand_b)
    page = browser("org")
    page.get(f"/organiser/fairs/{fair.id}/day")
    response = page.post(f"/organiser/fairs/{fair.id}/day/invitations/{inv.id}/cancel", {"reason": "生病"})
    assert response.status_code == 303
    session.expire_all()
    assert invitation_of(session, world, fair, world.cand_b).status == InvitationStatus.CANCELLED
    assert not [iv for iv in interviews(session, world, fair) if iv.invitation_id == inv.id]
    assert f'data-number="{world.cand_b.public_id}"' not in html(page.get(f"/organiser/fairs/{fair.id}/day"))


# ---- withdrawals and re-planning --------------------------------------------------------------------------------

def test_replan_keeps_earlier_blocks(browser, world, session, fair):
    planned = {(iv.invitation_id, iv.booth_id, iv.block) for iv in interviews(session, world, fair)}
    before = {key for key in planned if key[2] < 2}
    assert before and planned - before
    page = browser("org")
    day = html(page.get(f"/organiser/fairs/{fair.id}/day"))
    assert re.search(r'<option value="0" selected>', day)  # before the day: re-plan from the first block
    assert re.search(r'value="fill"\s+checked', day)  # by default nobody's printed schedule changes
    # Afresh from the third block: the first two stay as they were.
    response = page.post(f"/organiser/fairs/{fair.id}/day/replan", {"from_block": "2", "mode": "afresh"})
    assert response.status_code == 303 and response.headers["Location"].endswith("#replan")
    session.expire_all()
    after = {(iv.invitation_id, iv.booth_id, iv.block) for iv in interviews(session, world, fair)}
    assert before <= after
    run = service.latest_run(session, fair.id)
    assert run.from_block == 2
    result = html(page.get(f"/organiser/fairs/{fair.id}/day"))
    kept = re.search(r'data-testid="plan-kept"><small>[^<]*</small><div class="figure">(\d+)</div>', result)
    assert kept and int(kept.group(1)) == len(before)
    assert "已找到最佳方案。" in result and "%" not in result.split('data-testid="plan-result"')[1].split("</p>")[0]
    assert zh("planned afresh") in result
    # Filling free places keeps every interview still planned.
    page.post(f"/organiser/fairs/{fair.id}/day/replan", {"from_block": "2", "mode": "fill"})
    session.expire_all()
    assert {(iv.invitation_id, iv.booth_id, iv.block) for iv in interviews(session, world, fair)} >= after
    assert zh("free places filled") in html(page.get(f"/organiser/fairs/{fair.id}/day"))


def test_withdraw_a_booth_and_replan_explains_who_is_left_out(browser, world, session, fair):
    booth_a = booth_of(fair, world.company_a)
    page = browser("org", "en")
    page.get(f"/organiser/fairs/{fair.id}/day")
    missing = page.post(f"/organiser/fairs/{fair.id}/day/withdraw", {"booth_id": booth_a.id, "from_block": "0"})
    assert missing.status_code == 422 and "Say why the booth withdraws." in html(missing)
    response = page.post(f"/organiser/fairs/{fair.id}/day/withdraw", {"booth_id": booth_a.id, "from_block": "0",
                                                                       "reason": "老板生病"})
    assert response.status_code == 303
    page.post(f"/organiser/fairs/{fair.id}/day/replan", {"from_block": "0"})
    day = html(page.get(f"/organiser/fairs/{fair.id}/day"))
    assert "老板生病" in day
    assert 'data-testid="unplaced"' in day
    # The only booth they suit has left: the reason in words, not its code.
    assert day.count("Every booth this candidate could go to has withdrawn for the rest of the day") == 3
    assert "withdrawn</td>" not in day


# ---- outcomes at the booth ----------------------------------------------------------------------------------------

def test_outcome_tap_creates_an_offered_referral(browser, world, session, fair):
    from matcher.referrals.lifecycle import ReferralStatus
    from matcher.referrals.models import Referral

    iv = interviews(session, world, fair)[0]
    booth_a = booth_of(fair, world.company_a)
    page = browser("emp_a")
    listing = html(page.get(f"/fairs/{fair.id}/booths/{booth_a.id}/outcomes?block={iv.block}"))
    assert f'id="iv-{iv.id}"' in listing and 'data-testid="outcome-offer"' in listing
    assert zh("Offer") in listing and zh("No-show") in listing
    assert iv.invitation.candidate.name not in listing  # an employer sees the pseudonymous card
    response = page.post(f"/fairs/{fair.id}/booths/{booth_a.id}/interviews/{iv.id}/outcome",
                         {"outcome": "offer", "note": "会做面点"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"block={iv.block}#iv-{iv.id}")
    session.expire_all()
    done = session.get(type(iv), iv.id)
    assert done.status == InterviewStatus.HELD and done.outcome_note == "会做面点"
    assert session.get(Referral, done.referral_id).status == ReferralStatus.OFFERED
    shown = html(page.get(f"/fairs/{fair.id}/booths/{booth_a.id}/outcomes?block={iv.block}"))
    assert 'data-outcome="offer"' in shown and "会做面点" in shown
    # Tapping again is refused, as a message on the page.
    again = page.post(f"/fairs/{fair.id}/booths/{booth_a.id}/interviews/{iv.id}/outcome", {"outcome": "no"})
    assert again.status_code == 303
    assert zh("An outcome is already recorded for this interview.") in html(page.get(again.headers["Location"]))
    # The report counts it, with its charts.
    report = html(browser("org").get(f"/organiser/fairs/{fair.id}/report"))
    assert 'data-testid="figure-offers"><small>' in report
    assert re.search(r'data-testid="figure-offers"><small>[^<]*</small><div class="figure" data-value="1"', report)
    assert report.count("data-fair-chart=") == 2 and "chart.umd.min.js" in report and "fairday.js" in report


def test_report_measures_interview_attendance_in_whole_numbers_and_percentages(browser, world, session, fair):
    org = world.accounts["org"]
    rows = interviews(session, world, fair)
    assert len(rows) >= 3
    service.record_outcome(session=session, actor=org, interview_id=rows[0].id, outcome="offer")
    service.record_outcome(session=session, actor=org, interview_id=rows[1].id, outcome="no_show")
    session.commit()
    scheduled = len(rows)
    figures = service.report(session=session, actor=org, fair_id=fair.id)
    assert (figures["interviews_planned"], figures["interviews_held"], figures["no_shows"]) == (scheduled, 1, 1)
    assert figures["interviews_not_recorded"] == scheduled - 2
    assert figures["interview_attendance_rate"] == pytest.approx(1 / scheduled, abs=1e-4)
    assert figures["no_show_rate"] == pytest.approx(1 / scheduled, abs=1e-4)
    report = html(browser("org").get(f"/organiser/fairs/{fair.id}/report"))
    assert "面试到场情况" in report
    rate = f"{round(100 / scheduled)}%"
    came = report.split('data-testid="figure-interview-attendance"')[1].split("</article>")[0]
    assert "面试到场" in came and f">{rate}<" in came and f"已安排 {scheduled} 场面试，其中 1 场到场" in came
    missed = report.split('data-testid="figure-no-show-rate"')[1].split("</article>")[0]
    assert "未到场" in missed and f">{rate}<" in missed and "1 场面试" in missed
    assert re.search(rf'data-testid="figure-not-recorded">.*?data-value="{scheduled - 2}"', report, re.S)
    assert "面试到场率" in report  # and per booth
    assert not re.search(r"\d+\.\d+\s*(人|场)", report)


def test_no_show_by_htmx_and_undo(browser, world, session, fair):
    iv = interviews(session, world, fair)[0]
    booth_a = booth_of(fair, world.company_a)
    page = browser("org")
    page.get(f"/fairs/{fair.id}/booths/{booth_a.id}/outcomes?block={iv.block}")
    card = htmx_post(page, f"/fairs/{fair.id}/booths/{booth_a.id}/interviews/{iv.id}/outcome",
                     {"outcome": "no_show"})
    assert card.status_code == 200 and html(card).lstrip().startswith("<article")
    assert 'data-outcome="no_show"' in html(card) and 'data-testid="undo-no-show"' in html(card)
    assert iv.invitation.candidate.name in html(card)  # organisers see the name
    undone = htmx_post(page, f"/fairs/{fair.id}/booths/{booth_a.id}/interviews/{iv.id}/undo", {})
    assert 'data-testid="outcome-offer"' in html(undone)
    session.expire_all()
    assert session.get(type(iv), iv.id).status == InterviewStatus.PLANNED
    bad = htmx_post(page, f"/fairs/{fair.id}/booths/{booth_a.id}/interviews/{iv.id}/outcome", {"outcome": "maybe"})
    assert bad.status_code == 200 and 'data-testid="outcome-error"' in html(bad)
