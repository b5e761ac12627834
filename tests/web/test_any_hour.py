"""The date-sensitive journeys at the hours where China's date and UTC's differ, and at the turn of a month and a
year: certification and its warning, a referral to a start and its follow-up checks, the figures of the period,
the audit log of the day, and the times people see. Each runs with the clock frozen at that instant (time-machine),
before the world it needs is built.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from matcher import clock
from matcher.clock import CHINA_TZ

# Wall-clock times in China. At 00:30 China time it is still the previous day in UTC (16:30).
INSTANTS = {
    "23:30": dt.datetime(2026, 12, 6, 23, 30, tzinfo=CHINA_TZ),
    "00:30": dt.datetime(2026, 12, 7, 0, 30, tzinfo=CHINA_TZ),
    "month-end 23:30": dt.datetime(2026, 11, 30, 23, 30, tzinfo=CHINA_TZ),
    "month-start 00:30": dt.datetime(2026, 12, 1, 0, 30, tzinfo=CHINA_TZ),
    "year-end 23:30": dt.datetime(2026, 12, 31, 23, 30, tzinfo=CHINA_TZ),
    "new-year 00:30": dt.datetime(2027, 1, 1, 0, 30, tzinfo=CHINA_TZ),
}


@pytest.fixture(autouse=True, params=list(INSTANTS.values()), ids=list(INSTANTS))
def instant(request, time_machine) -> dt.datetime:
    """Autouse, so the clock stands still at the instant before `world` is built."""
    time_machine.move_to(request.param, tick=False)
    return request.param


def html(response) -> str:
    return response.get_data(as_text=True)


def visible(response) -> str:
    """The page's text without its tags (a <time> element carries the UTC instant for machines)."""
    return re.sub(r"<[^>]+>", " ", html(response))


def test_the_clock_reads_chinas_date_and_an_aware_utc_instant(instant):
    assert clock.today() == instant.date()
    assert clock.now() == instant and clock.now().utcoffset() == dt.timedelta(0)


def test_certification_counts_today_and_warns_the_base(instant, browser, world, session):
    from matcher.bases.service import decide_certification
    from matcher.reports.service import bureau_figures

    today = instant.date()
    decide_certification(session=session, actor=world.accounts["admin"], company_id=world.company_a.id,
                         action="certify", valid_until=today + dt.timedelta(days=20))
    session.commit()
    figures = bureau_figures(session=session, actor=world.accounts["admin"], date_from=today, date_to=today)
    assert figures["certified_bases"] == 2
    assert 'data-value="2"' in html(browser("admin", "en").get(f"/admin?from={today}&to={today}"))
    assert "The certification ends in 20 days" in html(browser("emp_a", "en").get("/employer"))
    # The decision's time, as the administrator reads it in the certification history.
    history = visible(browser("admin", "en").get(f"/admin/bases/{world.company_a.id}"))
    assert f"{instant:%H:%M} (China time)" in history and f"{clock.now():%H:%M}" not in history


def test_a_referral_starts_today_and_its_checks_fall_due_from_chinas_date(instant, browser, world, session):
    from sqlalchemy import select

    from matcher.followup.models import FollowUpTask
    from matcher.referrals.lifecycle import ReferralStatus
    from matcher.referrals.service import create_referral

    today = instant.date()
    referral = create_referral(session=session, actor=world.accounts["cw_a"], candidate_id=world.cand_a.id,
                               slot_id=world.slot_a.id, send=True)
    session.commit()
    page = browser("emp_a", "en")
    for step in ("interview", "offered"):
        page.get(f"/employer/referrals/{referral.id}")
        assert page.post(f"/employer/referrals/{referral.id}/move", {"to": step}).status_code == 303
    page.get(f"/employer/referrals/{referral.id}")
    started = page.post(f"/employer/referrals/{referral.id}/move", {"to": "started", "on_date": today.isoformat()})
    assert started.status_code == 303, html(started)[:1000]
    tomorrow = page.post(f"/employer/referrals/{referral.id}/move",
                         {"to": "stayed_30", "on_date": (today + dt.timedelta(days=1)).isoformat()})
    assert tomorrow.status_code == 422  # China's tomorrow is the future, whatever the hour in UTC
    session.refresh(referral)
    assert referral.status == ReferralStatus.STARTED and referral.started_on == today
    assert clock.china_date(referral.created_at) == today
    due = sorted(session.scalars(select(FollowUpTask.due_on).where(FollowUpTask.referral_id == referral.id)))
    assert due == [today + dt.timedelta(days=days) for days in (30, 90, 180)]


def test_the_periods_figures_count_what_happened_today_in_china(instant, world, session):
    from matcher.referrals.lifecycle import ReferralStatus as S
    from matcher.referrals.service import create_referral, transition
    from matcher.reports.service import bureau_figures, report

    today = instant.date()
    referral = create_referral(session=session, actor=world.accounts["cw_a"], candidate_id=world.cand_a.id,
                               slot_id=world.slot_a.id, send=True)
    for to in (S.INTERVIEW, S.OFFERED, S.STARTED):
        transition(session=session, actor=world.accounts["emp_a"], referral_id=referral.id, to=to, on_date=today)
    session.commit()
    admin = world.accounts["admin"]
    this_month = bureau_figures(session=session, actor=admin, date_from=today.replace(day=1), date_to=today)
    assert this_month["placed_in_period"] == 1
    assert sum(this_month["referrals_by_outcome"].values()) == 1  # made now: in the month of China's today
    yesterday = today - dt.timedelta(days=1)
    before = bureau_figures(session=session, actor=admin, date_from=yesterday.replace(day=1), date_to=yesterday)
    assert before["placed_in_period"] == 0 and sum(before["referrals_by_outcome"].values()) == 0
    yearly = report(session=session, actor=admin, date_from=today.replace(month=1, day=1), date_to=today)
    assert yearly["on"] == today


def test_the_audit_log_of_today_holds_what_was_done_now(instant, api, world, session):
    from matcher.bases.service import decide_certification

    decide_certification(session=session, actor=world.accounts["admin"], company_id=world.company_b.id,
                         action="suspend", reason="检查")
    session.commit()
    today = instant.date()
    events = api.get(f"/api/v1/audit-events?date_from={today}&date_to={today}&page_size=200",
                     headers=world.h("admin")).json
    assert events and all(event["at"].endswith("Z") for event in events)
    assert clock.now().isoformat().replace("+00:00", "Z") in {event["at"] for event in events}
    yesterday = today - dt.timedelta(days=1)
    assert api.get(f"/api/v1/audit-events?date_from={yesterday}&date_to={yesterday}",
                   headers=world.h("admin")).json == []


def test_a_fair_today_is_allowed_and_yesterday_is_refused(instant, api, world):
    body = {"name": "春风行动招聘会", "venue": "义乌市人力资源市场", "starts_at": "09:00", "block_minutes": 30,
            "n_blocks": 4, "max_interviews": 2}
    today = instant.date()
    assert api.post("/api/v1/fairs", json=body | {"held_on": today.isoformat()},
                    headers=world.h("org")).status_code == 201
    refused = api.post("/api/v1/fairs", json=body | {"held_on": (today - dt.timedelta(days=1)).isoformat()},
                       headers=world.h("org"))
    assert refused.status_code == 422 and "held_on" in refused.json["errors"]


def test_pages_show_the_time_in_china_labelled(instant, browser, world, session):
    """The audit log (to the second) and a base's certification history: the time in China with its label, in
    both languages; the UTC hour appears nowhere."""
    from matcher.bases.service import decide_certification

    decide_certification(session=session, actor=world.accounts["admin"], company_id=world.company_b.id,
                         action="suspend", reason="检查")
    session.commit()
    utc_hour = f"{clock.now():%H:%M}"
    for lang, label in (("en", "{} (China time)"), ("zh", "{}（北京时间）")):
        page = browser("admin", lang)
        for url, shown in (("/admin/audit", f"{instant:%H:%M:%S}"), (f"/admin/bases/{world.company_b.id}",
                                                                         f"{instant:%H:%M}")):
            body = visible(page.get(url))
            assert label.format(shown) in body, url
            assert not re.search(rf"\b{utc_hour}\b", body), url
