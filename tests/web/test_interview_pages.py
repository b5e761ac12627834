"""Interview pages: the base proposes on its phone page (errors next to fields, all at once, what was typed kept),
the office confirms on its referral page, prints the slip (Chinese, China time), sees the person's interviews on the
file (referral and job fair), and the page says when no text-message service is configured."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from matcher import clock
from matcher.candidates.models import Candidate
from matcher.interviews.models import ReferralInterview


def html(response) -> str:
    return response.get_data(as_text=True)


def _referral(world, session):
    from matcher.referrals.service import create_referral

    referral = create_referral(session=session, actor=world.accounts["cw_a"], candidate_id=world.cand_a.id,
                               slot_id=world.slot_a.id, send=True)
    session.commit()
    return referral.id


def _slot_time(days=2) -> str:
    return f"{(clock.today() + dt.timedelta(days=days)).isoformat()}T09:30"


def test_the_base_proposes_on_its_page_and_the_office_confirms(browser, world, session):
    referral_id = _referral(world, session)
    employer = browser("emp_a")
    page = employer.get(f"/employer/referrals/{referral_id}")
    assert page.status_code == 200
    assert 'data-testid="propose-interview"' in html(page) and "北京时间" in html(page)

    # Every wrong field at once, next to its field, with what was typed kept.
    refused = employer.post(f"/employer/referrals/{referral_id}/interviews",
                            {"starts_at": "2001-01-01T09:00", "place": "", "contact_name": "王经理",
                             "contact_phone": "打电话"})
    assert refused.status_code == 422
    text = html(refused)
    for field in ("starts_at", "place", "contact_phone"):
        assert f'id="{field}-error"' in text, field
    assert 'value="王经理"' in text and "必须在将来" in text

    done = employer.post(f"/employer/referrals/{referral_id}/interviews",
                         {"starts_at": _slot_time(), "place": "工人路8号二楼", "contact_name": "王经理",
                          "contact_phone": "0579-85123456", "bring": "身份证、健康证"})
    assert done.status_code == 303
    interview = session.scalar(select(ReferralInterview).where(ReferralInterview.referral_id == referral_id))
    assert clock.in_china(interview.starts_at).strftime("%H:%M") == "09:30"  # entered in China time

    caseworker = browser("cw_a")
    page = html(caseworker.get(f"/caseworker/referrals/{referral_id}"))
    assert "等待司法所确认" in page and 'data-testid="interview-confirm"' in page
    assert 'data-testid="sms-not-configured"' in page  # no provider in the tests' configuration
    confirmed = caseworker.post(f"/caseworker/interviews/{interview.id}/act", {"action": "confirm"})
    assert confirmed.status_code == 303
    page = html(caseworker.get(f"/caseworker/referrals/{referral_id}"))
    assert "未配置短信服务" in page and 'data-testid="interview-slip"' in page
    session.expire_all()
    assert session.get(ReferralInterview, interview.id).status.value == "confirmed"

    # The employer's page now shows the confirmed time and lets it cancel, not confirm.
    page = html(employer.get(f"/employer/referrals/{referral_id}"))
    assert "已确认" in page and 'data-testid="interview-cancel"' in page
    assert 'data-testid="interview-confirm"' not in page


def test_the_slip_is_chinese_in_china_time_and_free_of_offence_data(browser, world, session):
    from matcher.interviews.service import act, propose

    session.execute(update(Candidate).where(Candidate.id == world.cand_a.id).values(phone="13912345678"))
    referral_id = _referral(world, session)
    day = clock.today() + dt.timedelta(days=3)
    interview = propose(session=session, actor=world.accounts["emp_a"], referral_id=referral_id,
                        starts_at=clock.at_china_time(day, dt.time(14, 0)), place="义乌市工人路8号",
                        contact_name="王经理", contact_phone="0579-85123456")
    act(session=session, actor=world.accounts["cw_a"], interview_id=interview.id, action="confirm")
    session.commit()
    caseworker = browser("cw_a", lang="en")  # the slip is Chinese whatever the page's language
    slip = caseworker.get(f"/caseworker/interviews/{interview.id}/slip")
    assert slip.status_code == 200
    text = html(slip)
    assert "面试通知单" in text and "14:00（北京时间）" in text and f"{day.month}月{day.day}日" in text
    assert "义乌市工人路8号" in text and "王经理" in text and "身份证" in text
    assert "interview-slip-a5.css" in text
    assert "theft" not in text.lower() and "盗窃" not in text and "13912345678" not in text
    assert "interview-slip-a4.css" in html(caseworker.get(f"/caseworker/interviews/{interview.id}/slip?size=a4"))
    # Another office, the base: not found.
    assert browser("cw_b").get(f"/caseworker/interviews/{interview.id}/slip").status_code == 404
    assert browser("emp_a").get(f"/caseworker/interviews/{interview.id}/slip").status_code == 404


def test_the_file_lists_referral_and_fair_interviews(browser, world, session):
    from matcher.interviews.service import propose

    referral_id = _referral(world, session)
    propose(session=session, actor=world.accounts["emp_a"], referral_id=referral_id,
            starts_at=clock.now() + dt.timedelta(days=2), place="工人路8号", contact_name="王经理",
            contact_phone="0579-85123456")
    session.commit()
    page = html(browser("cw_a").get(f"/caseworker/candidates/{world.cand_a.id}"))
    assert 'data-testid="candidate-interviews"' in page
    assert page.count('data-testid="candidate-interview"') == 1
    assert 'data-source="referral"' in page and "工人路8号" in page


def test_the_file_shows_a_job_fair_interview(browser, world, session, api):
    from matcher.fairs.models import Fair, FairBooth, FairInterview, FairInvitation

    fair = Fair(name="冬季专场招聘会", held_on=clock.today() + dt.timedelta(days=5), venue="义乌市人力资源市场",
                starts_at=dt.time(9, 0), block_minutes=30, n_blocks=4, bureau_code="330700",
                created_by_id=world.accounts["org"].id)
    session.add(fair)
    session.flush()
    booth = FairBooth(fair_id=fair.id, company_id=world.company_a.id, label="A1", interviews_per_block=1)
    invitation = FairInvitation(fair_id=fair.id, candidate_id=world.cand_a.id, status="confirmed", source="office")
    session.add_all([booth, invitation])
    session.flush()
    session.add(FairInterview(fair_id=fair.id, invitation_id=invitation.id, booth_id=booth.id,
                              slot_id=world.slot_a.id, block=2, score=0.5, value=0.5))
    session.commit()
    page = html(browser("cw_a").get(f"/caseworker/candidates/{world.cand_a.id}"))
    assert 'data-source="fair"' in page and "冬季专场招聘会" in page and "10:00" in page


def test_the_office_home_lists_the_coming_interviews_with_their_slips(browser, world, session):
    from matcher.interviews.service import act, propose

    referral_id = _referral(world, session)
    day = clock.today() + dt.timedelta(days=2)
    interview = propose(session=session, actor=world.accounts["emp_a"], referral_id=referral_id,
                        starts_at=clock.at_china_time(day, dt.time(9, 30)), place="义乌市工人路8号",
                        contact_name="王经理", contact_phone="0579-85123456")
    session.commit()
    home = html(browser("cw_a").get("/caseworker"))
    assert "今后 7 天内的面试" in home and "确认或请求改期" in home and world.cand_a.name in home
    act(session=session, actor=world.accounts["cw_a"], interview_id=interview.id, action="confirm")
    session.commit()
    home = html(browser("cw_a").get("/caseworker"))
    assert f"/caseworker/interviews/{interview.id}/slip" in home and "打印面试通知单" in home.replace(" ", "")
    other = html(browser("cw_b").get("/caseworker"))  # another office: not its people
    assert "今后 7 天内没有与基地约定的面试。" in other and world.cand_a.name not in other
