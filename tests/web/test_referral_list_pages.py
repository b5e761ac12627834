"""The caseworker's referral list: search by any part of the name, the file number, the base or the slot; filter by
status; sort by a column; withdraw several at once (each on its own: one refused does not stop the others)."""

from __future__ import annotations

import re

from sqlalchemy import select

from matcher.referrals.models import Referral


def html(response) -> str:
    return response.get_data(as_text=True)


def _refer(session, world, who, candidate, slot, send=True):
    from matcher.referrals.service import create_referral

    referral = create_referral(session=session, actor=world.accounts[who], candidate_id=candidate.id,
                               slot_id=slot.id, send=send)
    session.commit()
    return referral.id


def _rows(page: str) -> list[str]:
    return re.findall(r'data-testid="referral-row">.*?<a href="/caseworker/referrals/(\d+)"', page, re.S)


def test_search_filter_and_sort(browser, world, session):
    a_slot_a = _refer(session, world, "cw_a", world.cand_a, world.slot_a)
    a_slot_b = _refer(session, world, "cw_a", world.cand_a, world.slot_b, send=False)
    dual = _refer(session, world, "cw_b", world.cand_dual, world.slot_a)  # office A reads it (dual registration)
    other = _refer(session, world, "cw_b", world.cand_b, world.slot_b)  # office B's only
    page = browser("cw_a")
    # Any part of the name ("试11" is inside 测试11), not only its start.
    assert set(_rows(html(page.get("/caseworker/referrals?q=试11")))) == {str(a_slot_a), str(a_slot_b)}
    # Part of the file number, case aside.
    part = world.cand_dual.public_id[3:7].lower()
    assert str(dual) in _rows(html(page.get(f"/caseworker/referrals?q={part}")))
    # Part of the base's name, and of the slot's title.
    assert set(_rows(html(page.get("/caseworker/referrals?q=甲餐饮")))) == {str(a_slot_a), str(dual)}
    assert set(_rows(html(page.get("/caseworker/referrals?q=汽修")))) == {str(a_slot_b)}
    assert str(other) not in _rows(html(page.get("/caseworker/referrals?view=list")))
    # A status filter.
    assert _rows(html(page.get("/caseworker/referrals?status=proposed"))) == [str(a_slot_b)]
    # Sorting by the slot's title, both ways.
    up = _rows(html(page.get("/caseworker/referrals?view=list&sort=slot")))
    down = _rows(html(page.get("/caseworker/referrals?view=list&sort=-slot")))
    assert up[-1] == str(a_slot_b) and down[0] == str(a_slot_b) and sorted(up) == sorted(down)
    listed = html(page.get("/caseworker/referrals?view=list&sort=name"))
    assert 'aria-sort="ascending"' in listed and "找到 3 条推荐" in listed
    # Nonsense in the query string is dropped, not a 500.
    assert page.get("/caseworker/referrals?view=list&sort=drop&status=nope&q=%25_").status_code == 200


def test_withdraw_several_at_once(browser, world, session):
    first = _refer(session, world, "cw_a", world.cand_a, world.slot_a)
    second = _refer(session, world, "cw_a", world.cand_a, world.slot_b)
    dual = _refer(session, world, "cw_b", world.cand_dual, world.slot_a)  # readable, not office A's to move
    page = browser("cw_a")
    page.get("/caseworker/referrals?view=list")
    missing = page.post("/caseworker/referrals/withdraw", {"referral_id": [str(first)]})
    assert missing.status_code == 303
    done = page.post("/caseworker/referrals/withdraw", {"referral_id": [str(first), str(second), str(dual)],
                                                        "reason_code": "other_job", "internal_note": "已在别处上岗"})
    assert done.status_code == 303
    shown = html(page.get(done.headers["Location"]))
    assert "已撤回 2 条推荐" in shown and "1 条未撤回" in shown
    session.expire_all()
    statuses = {r.id: r.status.value for r in session.scalars(select(Referral))}
    assert statuses[first] == statuses[second] == "withdrawn" and statuses[dual] == "sent"
    assert session.get(Referral, first).end_code.value == "other_job"
