"""Attendance in the bureau's report: interviews scheduled, attended and missed in the period, and the rate, by the
China day of the interview's time; cancelled ones and those outside the area or the period are not counted."""

from __future__ import annotations

import datetime as dt

from matcher import clock
from matcher.interviews.models import InterviewStatus, ReferralInterview


def _referral(session, world, candidate, slot):
    from matcher.referrals.service import create_referral

    who = world.accounts["cw_a" if candidate.office_id == world.office_a.id else "cw_b"]
    return create_referral(session=session, actor=who, candidate_id=candidate.id, slot_id=slot.id, send=True)


def _interview(session, referral, day: dt.date, hour: int, status: InterviewStatus):
    session.add(ReferralInterview(referral_id=referral.id, status=status,
                                  starts_at=clock.at_china_time(day, dt.time(hour, 0)), place="工人路8号",
                                  contact_name="王经理", contact_phone="85123456"))


def test_attendance_is_counted_in_the_period_report(session, world):
    from matcher.reports.service import report

    this_year = clock.today().year
    last_year = dt.date(this_year - 1, 3, 2)
    ref_a = _referral(session, world, world.cand_a, world.slot_a)
    ref_b = _referral(session, world, world.cand_b, world.slot_b)
    _interview(session, ref_a, last_year, 9, InterviewStatus.ATTENDED)
    _interview(session, ref_a, last_year, 14, InterviewStatus.NO_SHOW)
    _interview(session, ref_b, last_year, 10, InterviewStatus.CONFIRMED)  # not recorded: counts as not attended
    _interview(session, ref_b, last_year, 11, InterviewStatus.ATTENDED)
    _interview(session, ref_b, last_year, 15, InterviewStatus.CANCELLED)  # not scheduled
    _interview(session, ref_b, last_year, 16, InterviewStatus.PROPOSED)  # never confirmed
    # 00:30 on 1 January in China is still 31 December in UTC: it belongs to the new year, outside the period.
    _interview(session, ref_a, dt.date(this_year, 1, 1), 0, InterviewStatus.ATTENDED)
    session.commit()
    figures = report(session=session, actor=world.accounts["admin"], date_from=dt.date(this_year - 1, 1, 1),
                     date_to=dt.date(this_year - 1, 12, 31), by="office")
    assert {key: figures["figures"][key] for key in ("interviews_scheduled", "interviews_attended",
                                                     "interviews_no_show", "interview_attendance_rate")} == {
        "interviews_scheduled": 4, "interviews_attended": 2, "interviews_no_show": 1,
        "interview_attendance_rate": 2 / 4}
    by_office = {row["office_id"]: row["figures"] for row in figures["by_office"]}
    assert by_office[world.office_a.id]["interviews_scheduled"] == 2
    assert by_office[world.office_b.id]["interviews_attended"] == 1
    march = next(row for row in figures["by_month"] if row["month"].endswith("-03"))
    assert march["figures"]["interviews_scheduled"] == 4


def test_the_report_page_names_the_figures_in_chinese(session, world, app):
    from matcher.reports.definitions import BY_KEY

    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        from flask_babel import gettext

        assert gettext(BY_KEY["interviews_scheduled"].label) == "面试安排数"
        assert gettext(BY_KEY["interview_attendance_rate"].label) == "面试到场率"
