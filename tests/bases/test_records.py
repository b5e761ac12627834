"""A base's record (referrals answered, time to answer, starts, stays, complaints, expiry) and each flag, on
referral histories built with explicit dates."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event, select

from matcher import clock
from matcher.bases import records, records_read
from matcher.bases.models import Agreement, CertificationStatus, Company, Complaint
from matcher.clock import today
from matcher.errors import Invalid, NotFound
from matcher.extensions import db
from matcher.places.models import Place, PlaceLevel
from matcher.referrals.lifecycle import ReferralStatus as S
from matcher.referrals.models import Referral, ReferralEvent


def day(offset: int) -> dt.date:
    return today() + dt.timedelta(days=offset)


class History:
    """Writes referrals with their steps dated as given (the services only take today's dates)."""

    def __init__(self, session, world, kit):
        self.session, self.world, self.kit = session, world, kit
        self.employer = {world.company_a.id: world.accounts["emp_a"], world.company_b.id: world.accounts["emp_b"]}

    def slot(self, company_id: int):
        return self.kit.new_slot(self.session, self.employer[company_id], open_it=False)

    def referral(self, company_id: int, *steps: tuple, started_on: dt.date | None = None,
                 ended_on: dt.date | None = None) -> Referral:
        """`steps`: (status, day, who) after the proposal, who in "emp", "cw", "admin"."""
        slot = self.slot(company_id)
        accounts = {"emp": self.employer[company_id], "cw": self.world.accounts["cw_a"],
                    "admin": self.world.accounts["admin"]}
        first = steps[0][1] if steps else today()
        referral = Referral(candidate_id=self.world.cand_a.id, slot_id=slot.id, status=steps[-1][0] if steps else
                            S.PROPOSED, started_on=started_on, ended_on=ended_on,
                            created_at=clock.china_midnight(first))
        previous = S.PROPOSED
        referral.events = [ReferralEvent(from_status=None, to_status=S.PROPOSED, on_date=first)]
        for status, on, who in steps:
            referral.events.append(ReferralEvent(from_status=previous, to_status=status, on_date=on,
                                                 actor_id=accounts[who].id))
            previous = status
        self.session.add(referral)
        self.session.commit()
        return referral

    def sent(self, company_id: int, sent_on: dt.date, *answer: tuple, **kwargs) -> Referral:
        return self.referral(company_id, (S.SENT, sent_on, "cw"), *answer, **kwargs)

    def start(self, company_id: int, started_on: dt.date, *later: tuple, ended_on: dt.date | None = None):
        return self.referral(company_id, (S.SENT, started_on, "cw"), (S.OFFERED, started_on, "emp"),
                             (S.STARTED, started_on, "emp"), *later, started_on=started_on, ended_on=ended_on)


@pytest.fixture
def history(session, world, kit):
    return History(session, world, kit)


def record_of(world, company=None, **kwargs) -> records.BaseRecord:
    company_id = (company or world.company_a).id
    found = [r for r in records.base_records(db.session, as_of=today(), **kwargs) if r.company_id == company_id]
    assert len(found) == 1
    return found[0]


# ---- the figures --------------------------------------------------------------------------------

def test_answers_are_counted_timed_and_judged_fairly(world, history):
    a = world.company_a.id
    history.sent(a, day(-100), (S.INTERVIEW, day(-97), "emp"))  # answered in 3 days
    history.sent(a, day(-90), (S.OFFERED, day(-80), "emp"))  # in 10 days
    history.sent(a, day(-60), (S.DECLINED, day(-40), "emp"))  # the base declined, in 20 days
    history.sent(a, day(-50))  # never answered: held against the base
    history.sent(a, day(-5))  # sent five days ago: still waiting, not held against it
    history.sent(a, day(-40), (S.WITHDRAWN, day(-35), "cw"), ended_on=day(-35))  # withdrawn before 14 days
    history.sent(a, day(-30), (S.DECLINED, day(-20), "cw"), ended_on=day(-20))  # the candidate said no
    history.sent(a, day(-60), (S.WITHDRAWN, day(-30), "cw"), ended_on=day(-30))  # unanswered for 30 days
    history.sent(a, day(-400), (S.INTERVIEW, day(-399), "emp"))  # before the window

    record = record_of(world)
    assert record.sent == 8
    assert record.answered == 3
    assert record.answered_within == 2
    assert record.answer_due == 5  # three answered, the one never answered, the one withdrawn after 30 days
    assert record.waiting == 1
    assert record.share_answered == pytest.approx(3 / 5)
    assert record.median_days_to_answer == 10.0
    assert records.NEVER_ANSWERS not in record.flags


def test_starts_and_stays_at_ninety_days(world, history):
    a = world.company_a.id
    history.start(a, day(-200), (S.STAYED_30, day(-170), "cw"), (S.STAYED_90, day(-110), "cw"))  # stayed
    history.start(a, day(-150), (S.LEFT, day(-100), "emp"), ended_on=day(-100))  # left after 50 days
    history.start(a, day(-120), (S.STAYED_30, day(-90), "emp"))  # 120 days in, the stay not confirmed
    history.start(a, day(-30))  # too recent to tell
    history.start(a, day(-500), (S.STAYED_30, day(-470), "cw"), (S.STAYED_90, day(-410), "cw"))  # before the window

    record = record_of(world)
    assert record.starts == 4
    assert record.starts_old_enough == 3
    assert record.stayed == 1
    assert record.unconfirmed == 1
    assert record.stay_rate == pytest.approx(1 / 3)


def test_a_stay_confirmed_after_as_of_does_not_count_yet(world, history):
    history.start(world.company_a.id, day(-200), (S.STAYED_90, day(-100), "cw"))
    assert record_of(world).stayed == 1
    earlier = [r for r in records.base_records(db.session, as_of=day(-105)) if r.company_id == world.company_a.id][0]
    assert (earlier.starts_old_enough, earlier.stayed) == (1, 0)


def test_complaints_open_and_in_the_window(session, world):
    a = world.company_a.id
    session.add_all([
        Complaint(company_id=a, received_on=day(-10), summary="工资拖欠"),
        Complaint(company_id=a, received_on=day(-800), summary="旧投诉，未处理"),
        Complaint(company_id=a, received_on=day(-60), summary="已处理", resolved_on=day(-50)),
        Complaint(company_id=a, received_on=day(-700), summary="很久以前", resolved_on=day(-690)),
    ])
    session.commit()
    record = record_of(world)
    assert (record.complaints_open, record.complaints_total) == (2, 2)
    assert records.MANY_COMPLAINTS not in record.flags


def test_certification_and_latest_agreement(session, world):
    company = session.get(Company, world.company_a.id)
    company.certified_until = day(45)
    session.add_all([Agreement(company_id=company.id, signed_on=day(-1000), term_months=36, ends_on=day(10)),
                     Agreement(company_id=company.id, signed_on=day(-20), term_months=36, ends_on=day(400))])
    session.commit()
    record = record_of(world)
    assert record.certified_until == day(45) and record.agreement_ends_on == day(400)
    assert record.flags == []


def test_a_quiet_base_has_an_empty_record(world):
    record = record_of(world)
    assert (record.sent, record.answered, record.starts, record.complaints_open) == (0, 0, 0, 0)
    assert record.share_answered is None and record.stay_rate is None and record.median_days_to_answer is None
    assert record.flags == []


# ---- each flag ---------------------------------------------------------------------------------------

def test_never_answers_when_five_wait_in_vain(world, history):
    a = world.company_a.id
    for offset in (-90, -80, -70, -60):
        history.sent(a, day(offset))
    assert records.NEVER_ANSWERS not in record_of(world).flags  # four are not enough to judge
    history.sent(a, day(-50))
    assert records.NEVER_ANSWERS in record_of(world).flags


def test_never_answers_when_less_than_a_fifth_is_answered(world, history):
    a = world.company_a.id
    for offset in (-90, -80, -70, -60, -50, -40, -30, -20, -15):
        history.sent(a, day(offset))
    history.sent(a, day(-100), (S.INTERVIEW, day(-99), "emp"))  # 1 of 10: 10 %
    assert record_of(world).share_answered == pytest.approx(0.1)
    assert records.NEVER_ANSWERS in record_of(world).flags


def test_a_fifth_answered_in_time_is_enough(world, history):
    a = world.company_a.id
    for offset in (-90, -80, -70, -60):
        history.sent(a, day(offset))
    history.sent(a, day(-100), (S.INTERVIEW, day(-99), "emp"))  # 1 of 5: exactly 20 %
    assert records.NEVER_ANSWERS not in record_of(world).flags


def test_never_answers_when_nothing_is_answered_within_two_weeks(world, history):
    a = world.company_a.id
    for offset in (-200, -180, -160, -140, -120):
        history.sent(a, day(offset), (S.INTERVIEW, day(offset + 20), "emp"))  # all answered, all late
    record = record_of(world)
    assert record.share_answered == 1.0 and record.answered_within == 0
    assert record.flags == [records.NEVER_ANSWERS]


def _stays(history, company_id, offsets):
    for offset in offsets:
        history.start(company_id, day(offset), (S.STAYED_30, day(offset + 30), "cw"),
                      (S.STAYED_90, day(offset + 90), "cw"))


def _losses(history, company_id, offsets):
    for offset in offsets:
        history.start(company_id, day(offset), (S.LEFT, day(offset + 20), "emp"), ended_on=day(offset + 20))


def test_loses_most_against_the_area(world, history):
    a, b = world.company_a.id, world.company_b.id
    _stays(history, b, range(-330, -230, 10))  # the area's other base keeps all ten
    _stays(history, a, [-300])
    _losses(history, a, (-280, -260, -240))
    assert records.LOSES_MOST not in record_of(world).flags  # four starts old enough: too few to judge
    _losses(history, a, [-220])
    assert record_of(world).stay_rate == pytest.approx(0.2)
    assert record_of(world).flags == [records.LOSES_MOST]  # 1 of 5 against 11 of 15 in the area
    _stays(history, a, (-200, -190, -180))
    assert record_of(world).stay_rate == pytest.approx(0.5)
    assert records.LOSES_MOST not in record_of(world).flags  # half stayed: it does not lose most


def test_no_base_is_singled_out_where_everyone_loses_most(world, history):
    a, b = world.company_a.id, world.company_b.id
    for company in (a, b):
        _stays(history, company, [-300])
        _losses(history, company, (-280, -260, -240, -220))
    assert all(records.LOSES_MOST not in r.flags for r in records.base_records(db.session, as_of=today()))


@pytest.mark.parametrize(("offset", "flagged"), [(0, True), (30, True), (31, False)])
def test_certification_expiring_a_month_ahead(session, world, offset, flagged):
    session.get(Company, world.company_a.id).certified_until = day(offset)
    session.commit()
    assert (records.CERTIFICATION_EXPIRING in record_of(world).flags) is flagged


def test_an_expired_certification_is_not_expiring(session, world):
    session.get(Company, world.company_a.id).certified_until = day(-1)
    session.commit()
    record = record_of(world)
    assert record.status == CertificationStatus.EXPIRED and record.flags == []


@pytest.mark.parametrize(("offset", "flagged"), [(-1, False), (0, True), (30, True), (31, False)])
def test_agreement_expiring_a_month_ahead(session, world, offset, flagged):
    session.add(Agreement(company_id=world.company_a.id, signed_on=day(-700), term_months=24, ends_on=day(offset)))
    session.commit()
    assert (records.AGREEMENT_EXPIRING in record_of(world).flags) is flagged


def test_many_open_complaints(session, world):
    a = world.company_a.id
    session.add_all([Complaint(company_id=a, received_on=day(-5 * i), summary=f"投诉{i}") for i in range(2)])
    session.add(Complaint(company_id=a, received_on=day(-30), summary="已解决", resolved_on=day(-1)))
    session.commit()
    assert records.MANY_COMPLAINTS not in record_of(world).flags
    session.add(Complaint(company_id=a, received_on=day(-400), summary="一年多前，仍未解决"))
    session.commit()
    assert record_of(world).flags == [records.MANY_COMPLAINTS]


# ---- which bases, scope, efficiency ---------------------------------------------------------------

def test_applicants_and_revoked_bases_have_no_record_and_the_area_limits(session, world):
    from matcher.bases.service import decide_certification

    listed = {r.company_id for r in records.base_records(session, as_of=today())}
    assert listed == {world.company_a.id, world.company_b.id}  # not company_applied
    decide_certification(session=session, actor=world.accounts["admin"], company_id=world.company_b.id,
                         action="revoke", reason="撤销认定")
    assert {r.company_id for r in records.base_records(session, as_of=today())} == {world.company_a.id}
    assert records.base_records(session, area_prefix="330702", as_of=today()) == []
    assert [r.company_id for r in records.base_records(session, area_prefix="330782", as_of=today())] \
        == [world.company_a.id]


def test_a_few_grouped_queries_whatever_the_number_of_bases(session, world, history, kit):
    from matcher.bases.service import create_company, decide_certification

    history.sent(world.company_a.id, day(-30), (S.INTERVIEW, day(-29), "emp"))
    history.start(world.company_b.id, day(-120))

    def statements() -> int:
        session.commit()  # each count starts a unit of work of its own (the BEGIN counts too)
        seen = []
        listener = lambda *args: seen.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            records.base_records(session, as_of=today())
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    few = statements()
    admin = world.accounts["admin"]
    for n in range(6):
        company = create_company(session=session, actor=admin, data={
            "name": f"新基地{n}", "credit_code": kit.make_credit_code(f"91330782X{n}"), "industry": "制造",
            "place": {"code": kit.CHOUCHENG}})
        decide_certification(session=session, actor=admin, company_id=company.id, action="certify",
                             valid_until=day(200))
    assert statements() == few <= 6


def test_the_bureau_list_filters_sorts_and_refuses_others(session, world, history):
    admin = world.accounts["admin"]
    for offset in (-90, -80, -70, -60, -50):
        history.sent(world.company_b.id, day(offset))
    listed = records_read.list_base_records(session=session, actor=admin)
    assert [r.company_id for r in listed] == [world.company_b.id, world.company_a.id]  # flagged first
    assert [r.company_id for r in records_read.list_base_records(session=session, actor=admin, flagged_only=True)] \
        == [world.company_b.id]
    by_name = records_read.list_base_records(session=session, actor=admin, sort="name")
    assert [r.company_name for r in by_name] == sorted(r.company_name for r in by_name)
    assert records_read.list_base_records(session=session, actor=admin, district="330782")
    district = session.scalar(select(Place.code).where(Place.level == PlaceLevel.DISTRICT,
                                                       Place.code.startswith("3307"), Place.code != "330782"))
    assert records_read.list_base_records(session=session, actor=admin, district=district) == []
    with pytest.raises(Invalid):
        records_read.list_base_records(session=session, actor=admin, district="500151")  # Tongliang: not this bureau
    with pytest.raises(Invalid):
        records_read.list_base_records(session=session, actor=admin, sort="nonsense")
    for who in ("cw_a", "emp_a", "org"):
        with pytest.raises(NotFound):
            records_read.list_base_records(session=session, actor=world.accounts[who])


def test_as_dict_is_what_the_api_sends(world, history):
    history.sent(world.company_a.id, day(-30), (S.INTERVIEW, day(-29), "emp"))
    answer = record_of(world).as_dict()
    assert answer["company_id"] == world.company_a.id and answer["district_code"] == "330782"
    assert answer["share_answered"] == 1.0 and answer["flags"] == []
