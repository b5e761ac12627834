"""The fair's print-outs in a real browser: "one page per booth" is one A4 page per booth, measured as the pages
of the PDF Chromium prints (the booth sheets of a full day used to run over two pages each); the candidates' print
has a page for each person, those without an interview included."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from matcher import clock

pytestmark = pytest.mark.browser

DISTRICT = "330782"


def _pdf_pages(page) -> int:
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4", prefer_css_page_size=True)
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


def _full_day_fair(live_server) -> tuple[int, int, int]:
    """A fair of 8 blocks with every certified base with open slots at a booth of 3 interviews a block, and the
    district's seeking candidates invited and confirmed, planned: (fair id, booths, interviews of the fullest)."""
    from sqlalchemy import select

    from matcher.auth.models import Account
    from matcher.bases.models import Company, certified_in_date
    from matcher.candidates.models import Candidate, CandidateStatus
    from matcher.fairs import service
    from matcher.slots.models import Slot, SlotStatus

    with live_server.db() as session:
        organiser = session.scalar(select(Account).where(Account.username == "organiser"))
        admin = session.scalar(select(Account).where(Account.username == "admin"))
        fair = service.create_fair(session=session, actor=organiser, data=dict(
            name="打印测试招聘会", held_on=clock.today() + dt.timedelta(days=5), venue="义乌市人力资源市场",
            starts_at=dt.time(9, 0), block_minutes=30, n_blocks=8, max_interviews=3, preferred_courses_only=False))
        slots: dict[int, list[int]] = {}
        for slot in session.scalars(select(Slot).join(Company, Company.id == Slot.company_id).where(
                Slot.status == SlotStatus.OPEN, Slot.seats_taken < Slot.seats, certified_in_date())
                .order_by(Slot.id)):
            slots.setdefault(slot.company_id, []).append(slot.id)
        assert len(slots) >= 3, "the browser demo should have open slots at three certified bases or more"
        for company_id, slot_ids in slots.items():
            service.add_booth(session=session, actor=organiser, fair_id=fair.id, data=dict(
                company_id=company_id, slot_ids=slot_ids[:3], interviews_per_block=3))
        people = list(session.scalars(select(Candidate.public_id).where(
            Candidate.status == CandidateStatus.ACTIVE, Candidate.residence_code.startswith(DISTRICT))
            .order_by(Candidate.id).limit(120)))
        service.invite(session=session, actor=organiser, fair_id=fair.id, data={"public_ids": people})
        for inv in session.scalars(service.list_invitations(session=session, actor=organiser,
                                                            filters={"fair_id": fair.id})):
            service.answer_invitation(session=session, actor=admin, invitation_id=inv.id, attending=True,
                                      consent=True)
        service.make_plan(session=session, actor=organiser, fair_id=fair.id, time_limit_s=3)
        rows = service.schedule(session=session, actor=organiser, fair_id=fair.id)
        fullest = max(sum(1 for iv in rows if iv.booth_id == b.id) for b in fair.booths)
        return fair.id, len(fair.booths), fullest


def test_one_a4_page_per_booth_and_per_candidate(pages, live_server):
    fair_id, booths, fullest = _full_day_fair(live_server)
    assert fullest >= 20, f"a booth should be near full (8 blocks x 3) to test the page length, got {fullest}"
    page = pages.login("organiser", lang="zh")
    page.goto(live_server(f"/organiser/fairs/{fair_id}/print/booths"))
    assert page.get_by_test_id("booth-sheet").count() == booths
    assert page.get_by_test_id("print").is_visible()
    assert _pdf_pages(page) == booths

    page.emulate_media(media="screen")
    page.goto(live_server(f"/organiser/fairs/{fair_id}/print/candidates"))
    sheets = page.get_by_test_id("candidate-sheet").count()
    assert sheets > 0
    assert _pdf_pages(page) == sheets
