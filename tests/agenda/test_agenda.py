"""The calendar (issue 15): each account's events from the list of sources, through the access policy, with people
named by file number (and, for their caseworkers, the surname's character) only; the feed link."""

from __future__ import annotations

import datetime as dt

import pytest

from matcher import clock
from matcher.agenda import service as agenda
from matcher.fairs import service as fairs
from matcher.fairs.models import FairBooth, FairInterview, FairInvitation
from matcher.followup.models import FollowUpTask


def fair_day() -> dt.date:
    return clock.today() + dt.timedelta(days=3)


@pytest.fixture
def fair_with_interview(world, session):
    """A fair with 甲's booth, 测试11 (cand_a) invited and confirmed, and one interview in the third block."""
    org = world.accounts["org"]
    fair = fairs.create_fair(session=session, actor=org, data=dict(
        name="春风行动招聘会", held_on=fair_day(), venue="义乌市人力资源市场", starts_at=dt.time(9, 0),
        block_minutes=30, n_blocks=4, max_interviews=2))
    fairs.add_booth(session=session, actor=org, fair_id=fair.id, data=dict(
        company_id=world.company_a.id, slot_ids=[world.slot_a.id], interviews_per_block=1))
    fairs.invite(session=session, actor=org, fair_id=fair.id, data={"public_ids": [world.cand_a.public_id]})
    invitation = session.query(FairInvitation).filter_by(fair_id=fair.id).one()
    fairs.answer_invitation(session=session, actor=world.accounts["cw_a"], invitation_id=invitation.id,
                            attending=True)
    booth = session.query(FairBooth).filter_by(fair_id=fair.id).one()
    session.add(FairInterview(fair_id=fair.id, invitation_id=invitation.id, booth_id=booth.id,
                              slot_id=world.slot_a.id, block=2, score=0.5, value=0.5))
    session.commit()
    return fair


def window():
    return agenda.feed_window()


def events(session, account, kind=None):
    found = agenda.events_between(session=session, actor=account, first=window()[0], last=window()[1])
    return [e for e in found if kind is None or e.kind == kind]


def test_release_days_are_the_caseworkers_own_files_named_by_number_and_surname(world, session):
    world.cand_a.release_date = clock.today() + dt.timedelta(days=5)
    session.commit()
    mine = events(session, world.accounts["cw_a"], agenda.Kind.RELEASE)
    assert [(e.day, e.subject) for e in mine] == [(world.cand_a.release_date, f"{world.cand_a.public_id} 测*")]
    assert all(world.cand_a.name not in e.subject for e in mine)
    assert world.cand_a.public_id not in {e.subject.split()[0] for e in events(session, world.accounts["cw_b"])}
    for other in ("emp_a", "org", "admin"):  # release days are the caseworkers' work
        assert events(session, world.accounts[other], agenda.Kind.RELEASE) == []


def test_fair_interviews_and_days_for_each_role(world, session, fair_with_interview):
    cw = events(session, world.accounts["cw_a"], agenda.Kind.INTERVIEW)
    assert len(cw) == 1
    nine_in_china = clock.at_china_time(fair_day(), dt.time(9, 0))
    assert cw[0].starts_at == nine_in_china + dt.timedelta(minutes=60)  # block 2 of 30 minutes
    assert cw[0].subject == f"{world.cand_a.public_id} 测*" and "厨师A" in cw[0].detail
    employer = events(session, world.accounts["emp_a"], agenda.Kind.INTERVIEW)
    assert [e.subject for e in employer] == [world.cand_a.public_id]  # the pseudonymous card: no name at all
    assert events(session, world.accounts["emp_b"], agenda.Kind.INTERVIEW) == []
    assert events(session, world.accounts["org"], agenda.Kind.INTERVIEW) == []  # organisers: the day, not people
    for who in ("org", "admin", "emp_a", "cw_a"):
        days = events(session, world.accounts[who], agenda.Kind.FAIR)
        assert [(e.subject, e.starts_at) for e in days] == [("春风行动招聘会", nine_in_china)], who
    assert events(session, world.accounts["emp_b"], agenda.Kind.FAIR) == []  # not invited: no booth
    assert events(session, world.accounts["cw_b"], agenda.Kind.FAIR) == []  # none of its people invited


def test_checks_due_for_the_office_and_the_base(world, session):
    from matcher.referrals.service import create_referral

    referral = create_referral(session=session, actor=world.accounts["cw_a"], candidate_id=world.cand_a.id,
                               slot_id=world.slot_a.id, send=True)
    due = clock.today() + dt.timedelta(days=10)
    session.add(FollowUpTask(referral_id=referral.id, days=30, due_on=due))
    session.commit()
    [check] = events(session, world.accounts["cw_a"], agenda.Kind.CHECK)
    assert (check.day, check.detail, check.subject) == (due, "30", f"{world.cand_a.public_id} 测*")
    assert [e.subject for e in events(session, world.accounts["emp_a"], agenda.Kind.CHECK)] == [
        world.cand_a.public_id]
    assert events(session, world.accounts["cw_b"], agenda.Kind.CHECK) == []
    assert events(session, world.accounts["emp_b"], agenda.Kind.CHECK) == []


def test_one_more_source_is_one_more_function(world, session):
    def referral_interviews(session, actor, first, last):
        return [agenda.Event(uid="referral-interview-1", kind="referral_interview", day=first, subject="X")]

    found = agenda.events_between(session=session, actor=world.accounts["cw_a"], first=clock.today(),
                                  last=clock.today(), sources=[*agenda.SOURCES, referral_interviews])
    assert [e.uid for e in found] == ["referral-interview-1"]


def test_a_feed_link_is_replaced_and_revoked(world, session):
    cw = world.accounts["cw_a"]
    first, _feed = agenda.issue_feed(session=session, actor=cw)
    assert agenda.account_for_feed(session=session, token=first).id == cw.id
    second, _feed = agenda.issue_feed(session=session, actor=cw)
    assert agenda.account_for_feed(session=session, token=first) is None  # the old link stops working
    assert agenda.account_for_feed(session=session, token=second).id == cw.id
    assert agenda.revoke_feed(session=session, actor=cw) == 1
    assert agenda.account_for_feed(session=session, token=second) is None
    assert agenda.current_feed(session=session, actor=cw) is None
    assert agenda.account_for_feed(session=session, token="") is None


def test_referral_interviews_are_on_both_sides_calendars_in_china_time(world, session):
    from matcher.interviews import service as interviews
    from matcher.referrals.service import create_referral

    referral = create_referral(session=session, actor=world.accounts["cw_a"], candidate_id=world.cand_a.id,
                               slot_id=world.slot_a.id, send=True)
    day = clock.today() + dt.timedelta(days=3)
    starts = clock.at_china_time(day, dt.time(9, 30))
    interviews.propose(session=session, actor=world.accounts["emp_a"], referral_id=referral.id, starts_at=starts,
                       place="义乌市稠城街道工人路 8 号", contact_name="王经理", contact_phone="0579-85123456")
    session.commit()
    [office] = events(session, world.accounts["cw_a"], agenda.Kind.REFERRAL_INTERVIEW)
    assert (office.day, office.subject, office.starts_at) == (day, f"{world.cand_a.public_id} 测*", starts)
    assert office.link == f"/caseworker/referrals/{referral.id}" and office.where.startswith("义乌市")
    [base] = events(session, world.accounts["emp_a"], agenda.Kind.REFERRAL_INTERVIEW)
    assert base.subject == world.cand_a.public_id  # the base sees the file number only
    assert events(session, world.accounts["cw_b"], agenda.Kind.REFERRAL_INTERVIEW) == []
    assert events(session, world.accounts["emp_b"], agenda.Kind.REFERRAL_INTERVIEW) == []
