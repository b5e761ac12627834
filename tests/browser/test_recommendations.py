"""The recommendations page where the browser is the point: the "why not eligible" picker searches the open slots
as the caseworker types (htmx) and answers in place, and no reason on screen shows a penalty as raising the chance."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

CASEWORKER = "cw330782001"


def _a_candidate_and_an_open_slot(live_server) -> tuple[int, str]:
    from sqlalchemy import select

    from matcher.auth.models import Account
    from matcher.candidates.models import Candidate, CandidateStatus
    from matcher.matching.pipeline import open_slots
    from matcher.policy import candidates as visible_candidates
    from matcher.slots.models import Slot

    with live_server.db() as session:
        caseworker = session.scalar(select(Account).where(Account.username == CASEWORKER))
        candidate_id = session.scalar(visible_candidates(caseworker).where(
            Candidate.status == CandidateStatus.ACTIVE, Candidate.office_id == caseworker.office_id)
            .order_by(Candidate.id).with_only_columns(Candidate.id).limit(1))
        title = session.scalar(open_slots().with_only_columns(Slot.title).order_by(Slot.id).limit(1))
    return candidate_id, title


def test_the_slot_picker_searches_as_one_types_and_answers_in_place(pages, live_server):
    candidate_id, title = _a_candidate_and_an_open_slot(live_server)
    page = pages.login(CASEWORKER)
    path = f"/caseworker/candidates/{candidate_id}/recommendations"
    page.goto(live_server(path))
    expect(page.get_by_test_id("recommendation").first).to_be_visible()
    # Not a 300-option dropdown: a search box.
    expect(page.locator("select#slot_id")).to_have_count(0)
    for line in page.get_by_test_id("for-it").all_inner_texts():
        assert "超出" not in line and "技能匹配" not in line and "距住处" not in line, line
    page.fill("#slot-q", title[:2])
    results = page.get_by_test_id("slot-results")
    expect(results.locator("a").first).to_be_visible()
    results.locator("a").first.click()
    expect(page.get_by_test_id("eligibility")).to_be_visible()
    assert page.url.endswith(path)  # answered in place
