"""The bureau's figures on a small world whose every record is known: each figure exactly, for the whole area,
by district, by office and by month, with the edges of the period (first and last day, China's midnight, an
assistance period ending inside it, a closed file, a person counted twice) and the checks on the request."""

from __future__ import annotations

import datetime as dt

import pytest

from matcher import clock
from matcher.clock import CHINA_TZ, add_years, today

Y = today().year - 1
D = dt.date


def T(*wall_clock: int) -> dt.datetime:  # noqa: N802 - reads like D
    """A moment given on China's wall clock."""
    return dt.datetime(*wall_clock, tzinfo=CHINA_TZ)


FROM, TO = D(Y, 1, 1), D(Y, 12, 31)
WUCHENG_TOWN = "330702001"  # 婺城区城东街道


def _candidate(session, kit, admin, seq, residence, release, *, hukou=None, status=None, key=False):
    from matcher.candidates.models import CandidateStatus

    candidate = kit.new_candidate(session, admin, residence=residence, hukou=hukou, seq=seq)
    candidate.release_date, candidate.assistance_ends_on = release, add_years(release, 5)
    candidate.status = status or CandidateStatus.ACTIVE
    candidate.key_subject = key
    return candidate


def _referral(session, candidate, slot, status, started_on=None, ended_on=None, steps=()):
    from matcher.referrals.models import Referral, ReferralEvent

    referral = Referral(candidate_id=candidate.id, slot_id=slot.id, status=status, started_on=started_on,
                        ended_on=ended_on, end_code="other" if ended_on else None,
                        created_at=clock.at_china_time(started_on or FROM, dt.time(9)))
    session.add(referral)
    session.flush()
    for to, day in steps:
        session.add(ReferralEvent(referral_id=referral.id, to_status=to, on_date=day))
    return referral


def _company(session, kit, admin, body, place, decisions=(), agreements=()):
    """A base with its certification history: (to_status, decided_at in China time, valid_until)."""
    from matcher.bases.models import CertificationEvent
    from matcher.bases.service import add_agreement, create_company

    company = create_company(session=session, actor=admin, data={
        "name": f"测试基地{body}", "credit_code": kit.make_credit_code(f"91330782{body}"), "industry": "餐饮",
        "place": {"code": place}})
    for to, at_china, valid_until in decisions:
        session.add(CertificationEvent(company_id=company.id, to_status=to, valid_until=valid_until,
                                       decided_at=at_china))
    for signed_on, months in agreements:
        add_agreement(session=session, actor=None, company_id=company.id,
                      data={"signed_on": signed_on, "term_months": months})
    session.commit()
    return company


@pytest.fixture
def known(world, session, kit):
    """Year Y's records (see the figures asserted below for what each one is there to test)."""
    from matcher.bases.models import CertificationStatus as C
    from matcher.candidates.models import CandidateStatus, Certificate, Reoffence, Visit, VisitKind
    from matcher.referrals.lifecycle import ReferralStatus as S

    admin = world.accounts["admin"]
    A, B = kit.CHOUCHENG, kit.FOTANG  # offices A and B, both in 义乌市 (330782)
    c1 = world.cand_a
    c1.release_date, c1.assistance_ends_on, c1.key_subject = D(Y - 1, 6, 1), add_years(D(Y - 1, 6, 1), 5), True
    c2 = _candidate(session, kit, admin, 31, A, D(Y, 3, 10), hukou=B)  # new, dual registration
    c3 = _candidate(session, kit, admin, 32, A, D(Y - 1, 4, 1), status=CandidateStatus.CLOSED)
    c3.closed_on = D(Y, 11, 30)  # closed before the period's last day: not registered on it
    _candidate(session, kit, admin, 33, A, D(Y - 6, 5, 1))  # assistance over before the period
    c5 = _candidate(session, kit, admin, 34, A, D(Y - 5, 6, 30))  # assistance ends 30 June of Y
    _candidate(session, kit, admin, 35, A, D(Y + 1, 1, 1))  # released the day after the period
    c7 = _candidate(session, kit, admin, 36, A, D(Y - 2, 1, 1))  # under assistance, no job until March
    cb, cd = world.cand_b, world.cand_dual
    cb.release_date, cb.assistance_ends_on = D(Y, 11, 20), add_years(D(Y, 11, 20), 5)
    cd.release_date, cd.assistance_ends_on = D(Y - 1, 2, 1), add_years(D(Y - 1, 2, 1), 5)
    w1 = _candidate(session, kit, admin, 37, WUCHENG_TOWN, D(Y, 7, 1), key=True)
    c8 = _candidate(session, kit, admin, 38, B, D(Y - 5, 12, 31))  # assistance ends on the period's last day
    _candidate(session, kit, admin, 39, B, D(Y - 1, 1, 1))  # under assistance, nothing happens
    session.commit()

    def training(title, starts_on, ends_on, certificate=True):
        slot = kit.new_slot(session, world.accounts["emp_a"], title=title, kind="training", open_it=False,
                            certificate_awarded=certificate)
        slot.starts_on, slot.ends_on = starts_on, ends_on
        return slot

    t1 = training("烹饪培训一", D(Y, 3, 1), D(Y, 4, 30))
    t2 = training("烹饪培训二", D(Y, 12, 1), D(Y + 1, 1, 31))
    t3 = training("烹饪培训三", D(Y, 4, 1), D(Y, 5, 1), certificate=False)
    t4 = training("烹饪培训四", D(Y, 9, 1), None)  # no last day: its first day counts
    job_a, job_b = world.slot_a, world.slot_b
    _referral(session, c1, job_a, S.STAYED_90, D(Y, 2, 10), steps=[(S.STAYED_90, D(Y, 5, 11))])
    _referral(session, c1, t1, S.STARTED, D(Y, 3, 1))
    _referral(session, c2, job_b, S.STARTED, D(Y, 10, 20))  # 90th day next year
    _referral(session, cb, t2, S.STARTED, D(Y, 12, 1))  # course ends next year
    _referral(session, cd, job_a, S.LEFT, D(Y - 1, 11, 15), D(Y, 3, 1), steps=[(S.STAYED_90, D(Y, 2, 13))])
    _referral(session, w1, t1, S.LEFT, D(Y, 3, 1), D(Y, 3, 20))  # left before the course's end
    _referral(session, c3, job_b, S.STAYED_180, D(Y, 6, 1), steps=[(S.STAYED_180, D(Y, 11, 28))])
    _referral(session, c2, job_a, S.DECLINED, None, D(Y, 5, 1))
    _referral(session, c5, t3, S.STARTED, D(Y, 4, 1))
    _referral(session, cd, t4, S.STARTED, D(Y, 9, 1))
    # The edges: day 90 on the period's first day, and the day after its last; leaving on the course's last day.
    _referral(session, c8, job_a, S.STAYED_90, FROM - dt.timedelta(days=90), steps=[(S.STAYED_90, FROM)])
    _referral(session, c8, job_b, S.STARTED, TO - dt.timedelta(days=89))
    _referral(session, c7, t1, S.LEFT, D(Y, 3, 1), D(Y, 4, 30))
    for candidate, issued_on in ((c1, D(Y, 5, 2)), (c2, D(Y - 1, 12, 31)), (w1, D(Y, 12, 31)), (cb, None)):
        session.add(Certificate(candidate_id=candidate.id, name="中式烹调师", issued_on=issued_on))
    for candidate, day in ((c1, D(Y, 1, 1)), (c2, D(Y, 12, 31)), (cb, D(Y + 1, 1, 1)), (c3, D(Y, 6, 15))):
        session.add(Visit(candidate_id=candidate.id, visited_on=day, kind=VisitKind.HOME))
    for candidate, day in ((c1, D(Y, 4, 1)), (c1, D(Y, 8, 1)), (w1, D(Y - 1, 12, 31)), (cb, D(Y, 12, 31))):
        session.add(Reoffence(candidate_id=candidate.id, recorded_on=day))
    session.commit()

    _company(session, kit, admin, "CCC1", WUCHENG_TOWN,
             [(C.CERTIFIED, T(Y - 1, 6, 1, 10), D(Y + 1, 6, 1))], [(D(Y, 3, 1), 12)])
    _company(session, kit, admin, "DDD1", A, [(C.CERTIFIED, T(Y - 1, 3, 1, 10), D(Y, 6, 30))],
             [(D(Y - 2, 1, 1), 24)])  # certification and agreement lapsed inside the period
    _company(session, kit, admin, "EEE1", A, [(C.CERTIFIED, T(Y - 1, 1, 10, 10), D(Y + 2, 1, 1)),
                                              (C.SUSPENDED, T(Y, 10, 1, 10), None)])
    _company(session, kit, admin, "FFF1", B, [(C.CERTIFIED, T(Y, 12, 31, 23, 0), D(Y + 1, 12, 31))],
             [(D(Y, 12, 31), 36)])  # certified at 23:00 China time on the last day: counts
    _company(session, kit, admin, "GGG1", B, [(C.CERTIFIED, T(Y + 1, 1, 1, 0, 30), D(Y + 2, 1, 1))])
    _company(session, kit, admin, "HHH1", "330782",  # a base of the whole district: no office's
             [(C.CERTIFIED, T(Y - 1, 1, 1, 10), D(Y + 1, 1, 1))], [(D(Y - 1, 6, 1), 36)])
    return world


def _report(session, world, **kwargs):
    from matcher.reports.service import report

    kwargs.setdefault("date_from", FROM)
    kwargs.setdefault("date_to", TO)
    return report(session=session, actor=world.accounts["admin"], **kwargs)


def test_every_figure_of_the_whole_area(known, session):
    result = _report(session, known)
    assert result["on"] == TO and result["area"]["level"] == "bureau" and result["area"]["name"] == "金华市"
    assert result["figures"] == {
        "registered": 8,  # c1, c2, c7 (office A); cand_b, cand_dual, c8, c9 (B); w1 (婺城)
        "key_subjects": 2,  # c1, w1
        "dual_registration": 2,  # c2, cand_dual
        "under_assistance": 10,  # the registered, the closed c3, and c5 whose assistance ended in June
        "new_in_period": 3,  # c2, cand_b, w1
        "placed_in_period": 9,  # c1 (twice), c2, cand_b, w1, c3 (closed since), c5, cand_dual, c8, c7
        "helped_into_work": 4,  # c1, c2, c3, c8
        "placed_in_training": 6,  # c1, cand_b, w1, c5, cand_dual, c7
        "placement_rate": 9 / 10,
        "reached_90_days": 9,  # not c2's nor c8's job (day 90 next year) nor cand_b's course
        "stayed_90": 4,  # c1 (stayed_90), cand_dual (left after 90 days), c3 (stayed_180), c8 (day 90 on 1 Jan)
        "stay_rate_90": 4 / 9,
        "training_certificates": 2,  # c1's and w1's (last day); not last year's nor one without a date
        "training_subsidies": 3,  # c1 in t1, c7 (left on its last day), cand_dual in t4 (no last day)
        "visits_in_period": 3,  # first and last day, and the closed file's
        "reoffended": 2,  # c1 (twice), cand_b; not w1's of last year
        "reoffence_rate": 2 / 10,
        "interviews_scheduled": 0,  # none arranged in this world (tests/interviews/test_attendance_report.py)
        "interviews_attended": 0,
        "interviews_no_show": 0,
        "interview_attendance_rate": None,
        "certified_bases": 3,  # 婺城's, 佛堂's of 23:00 on the last day, the district-wide one
        "agreements_signed": 2,
        "agreements_in_force": 3,
    }


def test_rows_by_district_and_office_add_up(known, session, kit):
    result = _report(session, known, by="both")
    districts = {row["code"]: row["figures"] for row in result["by_district"]}
    assert list(districts) == sorted(districts) and len(districts) == 9
    yiwu, wucheng = districts["330782"], districts["330702"]
    assert (yiwu["registered"], wucheng["registered"]) == (7, 1)
    assert (yiwu["new_in_period"], wucheng["new_in_period"]) == (2, 1)
    assert (yiwu["placed_in_period"], wucheng["placed_in_period"]) == (8, 1)
    assert (yiwu["certified_bases"], wucheng["certified_bases"]) == (2, 1)
    assert (yiwu["agreements_in_force"], wucheng["agreements_in_force"]) == (2, 1)
    assert wucheng["reoffended"] == 0 and wucheng["training_certificates"] == 1
    others = [f for code, f in districts.items() if code not in ("330782", "330702")]
    assert all(f["registered"] == f["certified_bases"] == 0 and f["placement_rate"] is None for f in others)
    from matcher.reports.definitions import COUNTS

    for key in COUNTS:
        assert sum(f[key] for f in districts.values()) == result["figures"][key], key

    offices = {row["code"]: row for row in result["by_office"]}
    a, b, w = offices[kit.CHOUCHENG], offices[kit.FOTANG], offices[WUCHENG_TOWN]
    assert a["office_id"] == known.office_a.id and a["district"] == "330782" and a["district_name"] == "义乌市"
    assert {k: a["figures"][k] for k in ("registered", "under_assistance", "placed_in_period", "helped_into_work",
                                         "placed_in_training", "reached_90_days", "stayed_90", "visits_in_period",
                                         "reoffended", "certified_bases", "training_subsidies")} == {
        "registered": 3, "under_assistance": 5, "placed_in_period": 5, "helped_into_work": 3,
        "placed_in_training": 3, "reached_90_days": 5, "stayed_90": 2, "visits_in_period": 3, "reoffended": 1,
        "certified_bases": 0, "training_subsidies": 2}
    assert a["figures"]["placement_rate"] == 1.0 and b["figures"]["placement_rate"] == 3 / 4
    assert (b["figures"]["placed_in_period"], b["figures"]["stayed_90"], b["figures"]["certified_bases"]) == (3, 2, 1)
    assert (w["figures"]["registered"], w["figures"]["certified_bases"]) == (1, 1)
    # Offices add up to their district for people; the district-wide base counts in the district only.
    for key in COUNTS:
        in_yiwu = sum(row["figures"][key] for row in result["by_office"] if row["district"] == "330782")
        assert in_yiwu == yiwu[key] - (1 if key in ("certified_bases", "agreements_in_force") else 0), key


def test_one_district_and_one_office_equal_their_rows(known, session):
    whole = _report(session, known, by="both")
    district = _report(session, known, district="330782", by="office")
    assert district["area"] == {"level": "district", "code": "330782", "name": "义乌市", "district": "330782",
                                "office_id": None}
    assert district["figures"] == next(r["figures"] for r in whole["by_district"] if r["code"] == "330782")
    assert [r["code"] for r in district["by_office"]] == [r["code"] for r in whole["by_office"]
                                                          if r["district"] == "330782"]
    office = _report(session, known, office_id=known.office_b.id)
    assert office["area"]["level"] == "office" and office["area"]["district"] == "330782"
    assert office["figures"] == next(r["figures"] for r in whole["by_office"] if r["office_id"] == known.office_b.id)
    assert office["by_district"] is None and office["by_office"] is None


def test_month_by_month(known, session):
    months = {row["month"]: row["figures"] for row in _report(session, known)["by_month"]}
    assert list(months) == [f"{Y}-{m:02d}" for m in range(1, 13)]

    def series(key):
        return [months[f"{Y}-{m:02d}"][key] for m in range(1, 13)]

    assert series("new_in_period") == [0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0]
    assert series("visits_in_period") == [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1]
    assert series("reoffended") == [0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]  # c1 in two months, once in the year
    assert series("placed_in_period") == [0, 1, 3, 1, 0, 1, 0, 0, 1, 2, 0, 1]
    assert series("reached_90_days") == [1, 1, 0, 0, 4, 1, 0, 1, 0, 0, 1, 0]
    assert series("stayed_90") == [1, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0]
    assert series("training_subsidies") == [0, 0, 0, 2, 0, 0, 0, 0, 1, 0, 0, 0]
    assert series("agreements_signed") == [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    assert series("under_assistance") == [7, 7, 8, 8, 8, 8, 8, 8, 8, 8, 9, 9]
    assert months[f"{Y}-05"]["stay_rate_90"] == 1 / 4 and months[f"{Y}-07"]["stay_rate_90"] is None
    assert "registered" not in months[f"{Y}-01"]  # a state on a day, not a month's count


def test_a_period_reaching_past_today_is_counted_up_to_today(known, session):
    from matcher.referrals.lifecycle import ReferralStatus
    from matcher.referrals.models import Referral

    result = _report(session, known, date_from=D(Y + 1, 1, 1), date_to=D(Y + 1, 12, 31))
    assert result["on"] == today()
    assert result["by_month"][-1]["month"] == f"{today():%Y-%m}"
    # Today's state: the world's own bases, certified today, are in force.
    assert result["figures"]["certified_bases"] >= 2
    future = Referral(candidate_id=known.cand_a.id, slot_id=known.slot_b.id, status=ReferralStatus.STARTED,
                      started_on=today() + dt.timedelta(days=1))
    session.add(future)
    session.commit()
    assert _report(session, known, date_from=D(Y + 1, 1, 1), date_to=D(Y + 1, 12, 31))["figures"] == \
        result["figures"]


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"date_from": D(Y, 5, 1), "date_to": D(Y, 4, 30)}, "date_to"),
    ({"date_from": today() + dt.timedelta(days=1), "date_to": today() + dt.timedelta(days=30)}, "date_from"),
    ({"date_from": D(Y - 11, 1, 1), "date_to": TO}, "date_from"),
    ({"district": "110101"}, "district"),  # Beijing: not in the bureau's area
    ({"district": "330782001"}, "district"),  # a township, not a district
    ({"district": "330702", "office_id": "office_a"}, "office_id"),  # 稠城 is not in 婺城区
    ({"office_id": 999999}, "office_id"),
])
def test_a_request_outside_the_rules_names_the_field(known, session, kwargs, field):
    from matcher.errors import Invalid

    if kwargs.get("office_id") == "office_a":
        kwargs = {**kwargs, "office_id": known.office_a.id}
    with pytest.raises(Invalid) as error:
        _report(session, known, **kwargs)
    assert list(error.value.errors) == [field]


def test_only_administrators_get_the_report(world, session):
    from matcher.errors import NotFound
    from matcher.reports.service import report

    for who in ("cw_a", "emp_a", "org"):
        with pytest.raises(NotFound):
            report(session=session, actor=world.accounts[who], date_from=FROM, date_to=TO)


def test_a_district_bureau_sees_its_district_only(known, session):
    from matcher.auth.service import create_account
    from matcher.errors import Invalid
    from matcher.reports.service import report

    yiwu_admin = create_account(session=session, actor=None, data=dict(
        username="yiwu", display_name="义乌", password="correct-horse-battery", role="administrator",
        bureau_code="330782"))
    result = report(session=session, actor=yiwu_admin, date_from=FROM, date_to=TO, by="both")
    assert result["area"]["name"] == "义乌市" and [r["code"] for r in result["by_district"]] == ["330782"]
    assert result["figures"]["registered"] == 7 and result["figures"]["certified_bases"] == 2
    with pytest.raises(Invalid):
        report(session=session, actor=yiwu_admin, date_from=FROM, date_to=TO, district="330702")
