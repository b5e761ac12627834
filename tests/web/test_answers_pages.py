"""The bureau's pages for bases that answer: the records page (response rate against the target, paused and
ranked-lower bases, the month), the base's pause and size, and the size bands and rules."""

from __future__ import annotations

import pytest

from matcher.bases import answers
from matcher.extensions import db
from tests.bases.test_answers import unanswered


def test_records_page_and_size_bands_page(browser, world, kit, session):
    answers.set_rules(session=session, actor=world.accounts["admin"], data={"pause_after": 2})
    session.commit()
    unanswered(world, kit, "emp_b", 2)
    answers.check_pauses(session)
    session.commit()

    page = browser("admin", "zh")
    body = page.get("/admin/base-records").get_data(as_text=True)
    assert "回复率（目标 30%）" in body
    assert f'data-testid="record-{world.company_b.id}"' in body and 'data-state="paused"' in body
    base = page.get(f"/admin/bases/{world.company_b.id}").get_data(as_text=True)
    assert 'data-testid="lift-pause"' in base

    rules = page.get("/admin/referral-rules")
    assert rules.status_code == 200 and "每月转介" in rules.get_data(as_text=True)
    wrong = page.post("/admin/referral-rules", {"band-0-min": "5", "band-0-cap": "x", "pause_after": "0",
                                                "target_percent": "30"})
    assert wrong.status_code == 422
    text = wrong.get_data(as_text=True)
    assert 'id="band-0-cap-error"' in text and 'id="pause_after-error"' in text
    saved = page.post("/admin/referral-rules", {"band-0-min": "1", "band-0-cap": "2", "band-1-min": "30",
                                                "band-1-cap": "6", "pause_after": "4", "target_percent": "40"})
    assert saved.status_code == 303
    assert [(b.min_employees, b.monthly_referrals) for b in answers.size_bands(db.session)] == [(1, 2), (30, 6)]
    assert answers.rules(db.session).target_share == pytest.approx(0.4)
