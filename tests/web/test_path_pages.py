"""Course, then job, and the person's own wishes, as the caseworker uses them: the path of a training seat on the
recommendations (API and page), the two orders, a referral to the course noting its path, and the second step
re-planned on the follow-up page when the course ends. The employer learns none of it."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest

from matcher.clock import today
from matcher.extensions import db


def _days(n: int) -> dt.date:
    return today() + dt.timedelta(days=n)


@pytest.fixture
def path_world(world, kit):
    """A cooking course (days 5 to 40) and, at another base, a pastry job starting on day 50 that needs what it
    teaches; a person who cooks but has no pastry skill, first wish cooking."""
    course = kit.new_slot(db.session, world.accounts["emp_a"], title="烹饪培训班T", kind="training",
                          starts_on=_days(5), ends_on=_days(40), pay_min=None, pay_max=None,
                          certificate_awarded=True, required_skills=[{"skill_code": "pastry", "level": 2}])
    job = kit.new_slot(db.session, world.accounts["emp_b"], title="面点师J", starts_on=_days(50),
                       required_skills=[{"skill_code": "pastry", "level": 2}], pay_min=6000, pay_max=7000)
    db.session.commit()
    return course, job


def test_the_api_gives_a_training_seat_its_path_and_both_orders(api, world, path_world):
    course, job = path_world
    url = f"/api/v1/candidates/{world.cand_a.id}/recommendations"
    items = {i["slot"]["id"]: i for i in api.get(url, headers=world.h("cw_a")).json["items"]}
    path = items[course.id]["path"]
    assert path["course_end"] == _days(40).isoformat()
    assert [j["slot"]["id"] for j in path["jobs"]][:1] == [job.id] and path["opened"] >= 1
    assert path["value"] == pytest.approx(path["p_course"] * path["jobs"][0]["score"])
    assert path["p_course"] == pytest.approx(items[course.id]["score"])
    assert items[job.id]["path"] is None and items[job.id]["utility"] is None  # a job has no path; fit: no utility
    wished = api.get(url + "?order=wish", headers=world.h("cw_a")).json["items"]
    keys = [i["utility"] * i["score"] for i in wished]
    assert keys == sorted(keys, reverse=True)
    assert set(wished[0]["utility_parts"]) == {"wish", "pay", "near"}
    # Nothing new reaches the base: its view of the course's candidates is unchanged (no path, no utility).
    suggested = api.get(f"/api/v1/slots/{course.id}/candidates", headers=world.h("emp_a")).json
    assert all("path" not in item and "utility" not in item for item in suggested["items"])


def test_the_page_shows_both_orders_and_the_path_and_a_referral_notes_it(browser, world, path_world):
    course, job = path_world
    cw = browser("cw_a")
    body = cw.get(f"/caseworker/candidates/{world.cand_a.id}/recommendations").get_data(as_text=True)
    assert "按稳定就业可能性" in body and "按本人意愿×稳定可能性" in body
    row = re.search(rf'<tr data-testid="recommendation" data-slot-id="{course.id}".*?</tr>', body, re.S).group(0)
    # The path comes after the page: the row holds its place, the page the one request that fills every seat's.
    assert f'id="path-{course.id}"' in row and "面点师J" not in row and 'name="with_path"' in row
    url = html.unescape(re.search(r'data-testid="paths-loader"><a href="([^"]+)"', body).group(1))
    fragment = cw.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
    block = re.search(rf'<div id="path-{course.id}" hx-swap-oob="true".*?</ol>', fragment, re.S).group(0)
    assert "结业后可衔接的岗位" in block and "面点师J" in block
    # Without JavaScript the page's link opens the paths as a page of their own; a wrong seat is 422.
    whole = cw.get(url)
    assert whole.status_code == 200 and "面点师J" in whole.get_data(as_text=True) and "<html" in whole.get_data(
        as_text=True)
    bad = cw.get(f"/caseworker/candidates/{world.cand_a.id}/recommendations/paths?seat=x",
                 headers={"HX-Request": "true"})
    assert bad.status_code == 422
    # No seats named: those of the recommendations' first page.
    first = cw.get(f"/caseworker/candidates/{world.cand_a.id}/recommendations/paths")
    assert first.status_code == 200 and f'data-slot-id="{course.id}"' in first.get_data(as_text=True)
    wished = cw.get(f"/caseworker/candidates/{world.cand_a.id}/recommendations?order=wish")
    assert wished.status_code == 200
    text = wished.get_data(as_text=True)
    assert 'data-testid="utility-explained"' in text and 'data-testid="utility"' in text
    referred = cw.post(f"/caseworker/candidates/{world.cand_a.id}/refer", {"slot_id": course.id, "with_path": "1"})
    assert referred.status_code in (302, 303)
    from matcher.referrals.models import Referral

    referral = db.session.query(Referral).filter_by(candidate_id=world.cand_a.id, slot_id=course.id).one()
    assert "面点师J" in referral.internal_note and referral.shared_note is None


def test_the_follow_up_plans_the_second_step_when_the_course_ends(browser, world, kit, path_world):
    from sqlalchemy import update

    from matcher.referrals.lifecycle import ReferralStatus
    from matcher.referrals.models import ReferralEvent
    from matcher.referrals.service import create_referral, transition
    from matcher.slots.service import update_slot

    course, job = path_world
    # The course started 30 days ago and ends in ten days (inside the fortnight the follow-up looks ahead).
    update_slot(session=db.session, actor=world.accounts["emp_a"], slot_id=course.id,
                data={"starts_on": _days(-30), "ends_on": _days(10)})
    referral = create_referral(session=db.session, actor=world.accounts["cw_a"], candidate_id=world.cand_a.id,
                               slot_id=course.id, send=True)
    db.session.execute(update(ReferralEvent).where(ReferralEvent.referral_id == referral.id)
                       .values(on_date=_days(-32)))
    db.session.commit()
    for to, day in ((ReferralStatus.OFFERED, -31), (ReferralStatus.STARTED, -30)):
        transition(session=db.session, actor=world.accounts["emp_a"], referral_id=referral.id, to=to,
                   on_date=_days(day))
    db.session.commit()
    cw = browser("cw_a")
    body = cw.get("/caseworker/follow-up").get_data(as_text=True)
    step = re.search(rf'data-testid="second-step" data-referral-id="{referral.id}".*?</article>', body, re.S)
    assert step is not None, body[-3000:]
    assert "面点师J" in step.group(0) and "课程将于" in step.group(0)
    # Once a job referral follows, the second step is under way: no longer listed.
    from matcher.referrals.service import create_referral as refer

    refer(session=db.session, actor=world.accounts["cw_a"], candidate_id=world.cand_a.id, slot_id=job.id,
          send=False)
    db.session.commit()
    again = cw.get("/caseworker/follow-up").get_data(as_text=True)
    assert f'data-referral-id="{referral.id}"' not in again


def test_the_paths_after_the_page_are_the_paths_inline(world, path_world):
    """The seats' paths the page asks for afterwards (matching.seat_paths) are the ones computed inline with the
    ranking (as the API gives them): the same jobs, scores, values and course ends, with and without a filter."""
    from matcher.matching import service as matching

    course, _job = path_world
    cw = world.accounts["cw_a"]
    for filters in ({}, {"kind": "training"}):
        page = matching.recommend_slots(session=db.session, actor=cw, candidate_id=world.cand_a.id, limit=20,
                                        filters=filters)
        inline = {item.slot.id: _plain(item.path) for item in page.items if item.path is not None}
        assert course.id in inline and inline[course.id]["jobs"]
        after = matching.seat_paths(session=db.session, actor=cw, candidate_id=world.cand_a.id,
                                    slot_ids=[*inline, 10**8], filters=filters)  # a seat not on offer: left out
        assert {slot.id: _plain(path) for slot, path in after} == inline


def _plain(path) -> dict:
    return {"course_end": path.course_end.isoformat(), "p_course": path.p_course, "value": path.value,
            "opened": path.opened, "jobs": [(j.slot.id, j.slot.title, j.slot.company.name, j.score) for j in path.jobs]}
