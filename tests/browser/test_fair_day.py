"""The job fair's day on a phone, in a real browser: the organiser checks someone in, adds a walk-in, re-plans
the rest of the day, records an outcome with the big buttons at a booth, and opens the report with its charts.

The fair is set up through the service inside the live server's app context (booths, invitations confirmed,
the first plan), so the test does not depend on the setup pages.
"""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from matcher import clock

pytestmark = pytest.mark.browser

DISTRICT = "330782"  # 义乌市, where the demo caseworker works
COURSE = "cooking"
PHONE_WIDTH = 390


def _arrange_fair(live_server) -> dict:
    """Tomorrow's fair with up to three cooking booths (the district's first), up to nine confirmed candidates
    and the first plan; plus a candidate of the area who was not invited (the walk-in)."""
    from sqlalchemy import select

    from matcher.auth.models import Account, Role
    from matcher.bases.models import Company, certified_in_date
    from matcher.candidates.models import Candidate, CandidateStatus, PreferredCourse
    from matcher.fairs import service
    from matcher.slots.models import Slot, SlotStatus

    with live_server.db() as session:
        organiser = session.scalar(select(Account).where(Account.username == "organiser"))
        admin = session.scalar(select(Account).where(Account.username == "admin"))
        assert organiser is not None and organiser.role == Role.ORGANISER
        fair = service.create_fair(session=session, actor=organiser, data=dict(
            name="浏览器测试招聘会", held_on=clock.today() + dt.timedelta(days=1), venue="义乌市人力资源市场",
            starts_at=dt.time(9, 0), block_minutes=30, n_blocks=4, max_interviews=2))
        slots = list(session.scalars(
            select(Slot).join(Company, Company.id == Slot.company_id)
            .where(Slot.status == SlotStatus.OPEN, Slot.course_code == COURSE, Slot.seats_taken < Slot.seats,
                   certified_in_date())
            .order_by(Company.place_code.startswith(DISTRICT).desc(), Slot.id)))
        companies: dict[int, list[int]] = {}
        for slot in slots:
            companies.setdefault(slot.company_id, []).append(slot.id)
        assert companies, "the demo city should have open cooking slots at certified bases"
        for company_id, slot_ids in list(companies.items())[:3]:
            service.add_booth(session=session, actor=organiser, fair_id=fair.id, data=dict(
                company_id=company_id, slot_ids=slot_ids[:2], interviews_per_block=3))
        wanting = select(PreferredCourse.candidate_id).where(PreferredCourse.course_code == COURSE)
        pool = list(session.scalars(
            select(Candidate.public_id).where(Candidate.status == CandidateStatus.ACTIVE,
                                              Candidate.residence_code.startswith(DISTRICT),
                                              Candidate.id.in_(wanting)).order_by(Candidate.id).limit(10)))
        assert len(pool) >= 4, "the demo city should have candidates in the district who want to cook"
        invited, walk_in = pool[:-1], pool[-1]
        service.invite(session=session, actor=organiser, fair_id=fair.id, data={"public_ids": invited})
        for inv in session.scalars(service.list_invitations(session=session, actor=organiser,
                                                            filters={"fair_id": fair.id})):
            service.answer_invitation(session=session, actor=admin, invitation_id=inv.id, attending=True,
                                      consent=True)
        service.make_plan(session=session, actor=organiser, fair_id=fair.id, time_limit_s=3)
        planned = service.schedule(session=session, actor=organiser, fair_id=fair.id)
        assert planned, "the first plan should hold interviews"
        return {"fair_id": fair.id, "invited": invited, "walk_in": walk_in}


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH + 1, f"{page.url} scrolls sideways on a phone: {width}px wide"


def test_organiser_runs_the_day_on_a_phone(pages, live_server, time_machine):
    from sqlalchemy import select

    from matcher.auth.models import Account
    from matcher.fairs import service
    from matcher.fairs.models import FairInvitation, InterviewStatus, InvitationSource
    from matcher.referrals.lifecycle import ReferralStatus
    from matcher.referrals.models import Referral

    arranged = _arrange_fair(live_server)
    fair_id = arranged["fair_id"]
    # Check-ins and outcomes are taken on the fair's day (China date): 08:00 that morning, before block 0.
    time_machine.move_to(dt.datetime.combine(clock.today() + dt.timedelta(days=1), dt.time(8, 0),
                                             tzinfo=clock.CHINA_TZ), tick=True)
    page = pages.login("organiser", device="phone", lang="zh")

    # Check someone in: search by number, tap the big button; the card turns checked in where it is.
    number = arranged["invited"][0]
    page.goto(live_server(f"/organiser/fairs/{fair_id}/day"))
    expect(page.get_by_test_id("clock")).to_be_visible()
    _no_sideways_scroll(page)
    page.get_by_test_id("check-in-search").fill(number)
    page.get_by_test_id("check-in-search").press("Enter")
    page.wait_for_load_state()
    person = page.locator(f"[data-testid=person][data-number='{number}']")
    expect(page.get_by_test_id("person")).to_have_count(1)
    counter = page.get_by_test_id("checked-in-count")
    expect(counter).to_have_text("0")
    person.get_by_test_id("check-in").click()
    expect(person.get_by_test_id("checked-in")).to_be_visible()
    expect(person.get_by_test_id("undo-check-in")).to_be_visible()
    expect(counter).to_have_text("1")  # 已签到 follows the tap, without reloading the page

    # A walk-in: the number on their file, consent given in person, from the second block.
    form = page.get_by_test_id("walk-in-form")
    form.locator("[name=public_id]").fill(arranged["walk_in"].lower())
    form.locator("[name=consent]").check()
    form.locator("select[name=arrives_block]").select_option("1")
    with page.expect_navigation():
        page.get_by_test_id("add-walk-in").click()
    expect(page.locator(".flash-success")).to_contain_text(arranged["walk_in"])

    # Re-plan the rest of the day from the second block, filling free places (the default): the walk-in gets
    # interviews, and the result says what was kept, new and moved.
    page.get_by_test_id("replan-form").locator("select[name=from_block]").select_option("1")
    with page.expect_navigation():
        page.get_by_test_id("replan").click()
    result = page.get_by_test_id("plan-result")
    expect(result).to_be_visible()
    expect(result.get_by_test_id("plan-kept")).to_be_visible()
    _no_sideways_scroll(page)

    with live_server.db() as session:
        organiser = session.scalar(select(Account).where(Account.username == "organiser"))
        invitations = {inv.candidate.public_id: inv for inv in session.scalars(
            select(FairInvitation).where(FairInvitation.fair_id == fair_id))}
        assert invitations[number].checked_in_at is not None
        walker = invitations[arranged["walk_in"]]
        assert walker.source == InvitationSource.WALK_IN and walker.checked_in_at is not None
        assert service.latest_run(session, fair_id).from_block == 1
        walker_interviews = service.schedule(session=session, actor=organiser, fair_id=fair_id,
                                             invitation_id=walker.id)
        assert walker_interviews and all(iv.block >= 1 for iv in walker_interviews)
        interview = service.schedule(session=session, actor=organiser, fair_id=fair_id)[0]
        interview_id, booth_id, block = interview.id, interview.booth_id, interview.block

    # At a booth: open its outcome page from the day page, go to the block, tap 录用意向 (offer).
    page.locator(f"[data-testid=booth][data-booth='{booth_id}'] [data-testid=booth-outcomes]").click()
    page.wait_for_load_state()
    page.get_by_test_id(f"block-{block}").click()
    page.wait_for_load_state()
    _no_sideways_scroll(page)
    card = page.locator(f"#iv-{interview_id}")
    offer = card.get_by_test_id("outcome-offer")
    expect(offer).to_have_text(live_server.gettext("Offer", "zh"))
    box = offer.bounding_box()
    assert box and box["height"] >= 44 and box["width"] >= 120, f"the outcome buttons are too small: {box}"
    card.locator("[name=note]").fill("刀工好")
    offer.click()
    expect(page.locator(f"#iv-{interview_id} [data-testid=outcome]")).to_have_attribute("data-outcome", "offer")
    with live_server.db() as session:
        from matcher.fairs.models import FairInterview

        done = session.get(FairInterview, interview_id)
        assert done.status == InterviewStatus.HELD and done.outcome_note == "刀工好"
        assert session.get(Referral, done.referral_id).status == ReferralStatus.OFFERED

    # The report: the figures, and both charts drawn.
    page.goto(live_server(f"/organiser/fairs/{fair_id}/report"))
    expect(page.get_by_test_id("figure-offers").locator(".figure")).to_have_attribute("data-value", "1")
    for chart in ("chart-funnel", "chart-booths"):
        expect(page.get_by_test_id(chart)).to_have_attribute("data-drawn", "true")
    _no_sideways_scroll(page)
