"""Notifications: the new-referral notice on sending, the daily sweep (idempotent, each kind to the right people and
no one else), messages in Chinese and English without personal data, and the API (nobody reads another's)."""

from __future__ import annotations

import datetime as dt
import json
import sys
import types

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select, update

from matcher.clock import today
from matcher.notify.models import Notification, NotificationKind

K = NotificationKind


# ---- helpers ---------------------------------------------------------------------------------------

def _refer(session, world, *, candidate=None, slot=None, who="cw_a", send=True):
    from matcher.referrals.service import create_referral

    return create_referral(session=session, actor=world.accounts[who], candidate_id=(candidate or world.cand_a).id,
                           slot_id=(slot or world.slot_a).id, send=send)


def _start(session, world, *, started_days_ago: int):
    """cand_a referred to slot_a, offered and started `started_days_ago` days ago (follow-up tasks scheduled)."""
    from matcher.referrals.models import ReferralEvent
    from matcher.referrals.service import transition

    referral = _refer(session, world)
    on = today() - dt.timedelta(days=started_days_ago)
    session.execute(update(ReferralEvent).where(ReferralEvent.referral_id == referral.id).values(on_date=on))
    session.commit()
    transition(session=session, actor=world.accounts["emp_a"], referral_id=referral.id, to="offered", on_date=on)
    transition(session=session, actor=world.accounts["emp_a"], referral_id=referral.id, to="started", on_date=on)
    return referral


def _sweep(session, on: dt.date):
    from matcher.notify.scheduler import run_sweep

    return run_sweep(session, as_of=on)


def _notices(session, kind=None) -> list[tuple[str, str, str]]:
    """(username, kind, key) of every notification, sorted."""
    from matcher.auth.models import Account

    stmt = select(Account.username, Notification.kind, Notification.key).join(
        Account, Account.id == Notification.account_id)
    if kind is not None:
        stmt = stmt.where(Notification.kind == kind)
    return sorted((username, k.value, key) for username, k, key in session.execute(stmt))


def _recipients(session, kind) -> set[str]:
    return {username for username, _kind, _key in _notices(session, kind)}


def _other_district(session) -> str:
    from matcher.places.models import Place

    return session.scalar(select(Place.code).where(Place.code.like("3307__"), Place.code.not_in(["330700", "330782"]))
                          .order_by(Place.code))


@pytest.fixture
def far_admin(session, world, kit):
    """An administrator of another district of the city: none of the world's bases are theirs."""
    from matcher.auth.service import create_account

    return create_account(session=session, actor=None, data=dict(
        username="admin_far", display_name="far", password=kit.PASSWORD, role="administrator",
        bureau_code=_other_district(session)))


@pytest.fixture
def county_admin(session, world, kit):
    """An administrator of the county (义乌市, 330782) where the world's bases are."""
    from matcher.auth.service import create_account

    return create_account(session=session, actor=None, data=dict(
        username="admin_yw", display_name="yw", password=kit.PASSWORD, role="administrator", bureau_code="330782"))


# ---- the new-referral notice ----------------------------------------------------------------------------

def test_sending_a_referral_tells_the_base_employers_only(session, world, kit):
    from matcher.auth.service import create_account

    create_account(session=session, actor=None, data=dict(username="emp_a2", display_name="a2", password=kit.PASSWORD,
                                                           role="employer", company_id=world.company_a.id))
    create_account(session=session, actor=None, data=dict(username="emp_a_gone", display_name="gone",
                                                           password=kit.PASSWORD, role="employer",
                                                           company_id=world.company_a.id, is_active_account=False))
    referral = _refer(session, world)
    assert _notices(session) == [("emp_a", "new_referral", f"referral:{referral.id}"),
                                 ("emp_a2", "new_referral", f"referral:{referral.id}")]
    notice = session.scalar(select(Notification).limit(1))
    assert (notice.subject_type, notice.subject_id) == ("referral", referral.id)
    assert json.loads(notice.params_json) == {"public_id": world.cand_a.public_id, "slot": "厨师A"}


def test_a_proposed_referral_tells_nobody_until_it_is_sent(session, world):
    from matcher.referrals.service import transition

    referral = _refer(session, world, send=False)
    assert _notices(session) == []
    transition(session=session, actor=world.accounts["cw_a"], referral_id=referral.id, to="sent")
    assert _notices(session) == [("emp_a", "new_referral", f"referral:{referral.id}")]


def test_a_failed_move_leaves_no_notice(session, world):
    from matcher.candidates.models import Consent, ConsentKind
    from matcher.errors import Conflict
    from matcher.referrals.service import transition

    referral = _refer(session, world, send=False)
    session.execute(update(Consent).where(Consent.candidate_id == world.cand_a.id,
                                          Consent.kind == ConsentKind.REFERRAL).values(granted=False))
    session.commit()
    with pytest.raises(Conflict):
        transition(session=session, actor=world.accounts["cw_a"], referral_id=referral.id, to="sent")
    assert _notices(session) == []


# ---- the sweep: each kind, its recipients, idempotency ---------------------------------------------------

def test_answer_due_after_seven_days_in_sent_then_again_at_interview(session, world):
    from matcher.referrals.service import transition

    referral = _refer(session, world)
    assert _sweep(session, today() + dt.timedelta(days=6)).created["answer_due"] == 0
    report = _sweep(session, today() + dt.timedelta(days=7))
    assert report.created["answer_due"] == 1
    assert _notices(session, K.ANSWER_DUE) == [("emp_a", "answer_due", f"referral:{referral.id}:sent")]
    assert _sweep(session, today() + dt.timedelta(days=9)).created["answer_due"] == 0  # once per status
    transition(session=session, actor=world.accounts["emp_a"], referral_id=referral.id, to="interview")
    assert _sweep(session, today() + dt.timedelta(days=3)).created["answer_due"] == 0
    _sweep(session, today() + dt.timedelta(days=7))
    assert [key for _u, _k, key in _notices(session, K.ANSWER_DUE)] == [
        f"referral:{referral.id}:interview", f"referral:{referral.id}:sent"]
    transition(session=session, actor=world.accounts["emp_a"], referral_id=referral.id, to="offered")
    assert _sweep(session, today() + dt.timedelta(days=30)).created["answer_due"] == 0  # answered


def test_check_due_goes_to_the_office_and_the_base_and_overdue_to_the_office(session, world, far_admin):
    referral = _start(session, world, started_days_ago=0)
    assert _sweep(session, today() + dt.timedelta(days=22)).created["check_due"] == 0
    _sweep(session, today() + dt.timedelta(days=23))  # the 30-day check is 7 days away
    assert _recipients(session, K.CHECK_DUE) == {"cw_a", "emp_a"}
    notice = session.scalar(select(Notification).where(Notification.kind == K.CHECK_DUE).limit(1))
    assert (notice.subject_type, notice.subject_id) == ("referral", referral.id)
    assert json.loads(notice.params_json)["days"] == 30

    _sweep(session, today() + dt.timedelta(days=31))  # a day late
    overdue = _notices(session, K.CHECK_OVERDUE)
    task_keys = [(u, key) for u, _k, key in overdue if key.startswith("task:")]
    assert [u for u, _key in task_keys] == ["cw_a"]
    # The city's administrator gets the day's count; the far district's does not (nothing overdue there).
    counts = [(u, key) for u, _k, key in overdue if key.startswith("overdue:")]
    assert counts == [("admin", f"overdue:{(today() + dt.timedelta(days=31)).isoformat()}")]
    count_notice = session.scalar(select(Notification).where(Notification.key.like("overdue:%")))
    assert json.loads(count_notice.params_json)["count"] == 1
    assert count_notice.subject_type == "follow_up"
    # A new day, a new count; the per-check notice is not repeated.
    before = len(overdue)
    _sweep(session, today() + dt.timedelta(days=32))
    assert len(_notices(session, K.CHECK_OVERDUE)) == before + 1


def test_a_confirmed_stay_raises_no_overdue_check(session, world):
    from matcher.referrals.service import transition

    referral = _start(session, world, started_days_ago=31)
    transition(session=session, actor=world.accounts["emp_a"], referral_id=referral.id, to="stayed_30")
    _sweep(session, today())
    assert _notices(session, K.CHECK_OVERDUE) == []


def test_certification_expiring_goes_to_the_area_administrators_and_the_base(session, world, far_admin,
                                                                            county_admin):
    from matcher.bases.service import decide_certification

    until = today() + dt.timedelta(days=30)
    decide_certification(session=session, actor=world.accounts["admin"], company_id=world.company_a.id,
                         action="certify", valid_until=until)
    _sweep(session, today() - dt.timedelta(days=1))  # 31 days ahead: not yet
    assert _notices(session, K.CERTIFICATION_EXPIRING) == []
    _sweep(session, today())
    key = f"company:{world.company_a.id}:{until.isoformat()}"
    assert _notices(session, K.CERTIFICATION_EXPIRING) == [
        ("admin", "certification_expiring", key), ("admin_yw", "certification_expiring", key),
        ("emp_a", "certification_expiring", key)]
    # Renewed: a new date, warned about again a month before it.
    new_until = today() + dt.timedelta(days=400)
    decide_certification(session=session, actor=world.accounts["admin"], company_id=world.company_a.id,
                         action="certify", valid_until=new_until)
    _sweep(session, new_until - dt.timedelta(days=10))
    assert len(_notices(session, K.CERTIFICATION_EXPIRING)) == 6


def test_agreement_expiring_goes_to_the_area_administrators_unless_renewed(session, world, far_admin):
    from matcher.bases.models import Agreement
    from matcher.bases.service import add_agreement

    old = add_agreement(session=session, actor=world.accounts["admin"], company_id=world.company_a.id,
                        data={"reference_no": "YW-2024-01", "signed_on": today() - dt.timedelta(days=700),
                              "term_months": 24})
    add_agreement(session=session, actor=world.accounts["admin"], company_id=world.company_b.id,
                  data={"signed_on": today() - dt.timedelta(days=700), "term_months": 24})
    session.execute(update(Agreement).values(ends_on=today() + dt.timedelta(days=20)))
    session.commit()
    _sweep(session, today())
    assert _recipients(session, K.AGREEMENT_EXPIRING) == {"admin"}
    assert len(_notices(session, K.AGREEMENT_EXPIRING)) == 2
    notice = session.scalar(select(Notification).where(Notification.key.like(f"agreement:{old.id}:%")))
    assert (notice.subject_type, notice.subject_id) == ("company", world.company_a.id)
    assert json.loads(notice.params_json)["reference"] == "YW-2024-01"

    session.execute(Notification.__table__.delete())
    session.commit()
    add_agreement(session=session, actor=world.accounts["admin"], company_id=world.company_a.id,
                  data={"signed_on": today(), "term_months": 24})  # a renewal for company_a
    _sweep(session, today())
    assert [key.split(":")[1] for _u, _k, key in _notices(session, K.AGREEMENT_EXPIRING)] != [str(old.id)]
    assert len(_notices(session, K.AGREEMENT_EXPIRING)) == 1


def test_flagged_bases_go_to_the_administrators_of_their_area(session, world, far_admin, monkeypatch):
    calls = []

    def base_records(session, *, area_prefix="", as_of=None):
        calls.append((area_prefix, as_of))
        if not "330782001".startswith(area_prefix):
            return []
        return [types.SimpleNamespace(company_id=world.company_a.id, company_name="甲餐饮有限公司",
                                      flags=["never_answers", "certification_expiring", "loses_most"]),
                types.SimpleNamespace(company_id=world.company_applied.id, company_name="丙物流有限公司",
                                      flags=["agreement_expiring"]),  # has its own notice
                types.SimpleNamespace(company_id=world.company_b.id, company_name="乙汽车服务有限公司", flags=[])]

    monkeypatch.setitem(sys.modules, "matcher.bases.records", types.SimpleNamespace(base_records=base_records))
    on = today()
    _sweep(session, on)
    assert sorted(calls) == sorted([("3307", on), (_other_district(session), on)])
    key = f"company:{world.company_a.id}:{on:%Y-%m}:loses_most,never_answers"
    assert _notices(session, K.BASE_FLAGGED) == [("admin", "base_flagged", key)]
    assert _sweep(session, on).created["base_flagged"] == 0


def test_a_base_that_never_answers_is_flagged_by_the_real_base_records(session, world, kit, far_admin):
    pytest.importorskip("matcher.bases.records")
    from matcher.referrals.models import ReferralEvent

    for seq in range(5):
        candidate = kit.new_candidate(session, world.accounts["cw_a"], residence=kit.CHOUCHENG, seq=40 + seq)
        _refer(session, world, candidate=candidate)
    session.execute(update(ReferralEvent).values(on_date=today() - dt.timedelta(days=30)))
    session.commit()
    _sweep(session, today())
    flagged = _notices(session, K.BASE_FLAGGED)
    assert [(u, key.split(":")[1]) for u, _k, key in flagged] == [("admin", str(world.company_a.id))]
    assert "never_answers" in flagged[0][2]


def test_running_the_sweep_twice_creates_nothing_new(session, world):
    from matcher.bases.service import decide_certification

    _start(session, world, started_days_ago=40)
    _refer(session, world, candidate=world.cand_b, slot=world.slot_b, who="cw_b")
    decide_certification(session=session, actor=world.accounts["admin"], company_id=world.company_b.id,
                         action="certify", valid_until=today() + dt.timedelta(days=5))
    on = today() + dt.timedelta(days=60)  # checks overdue, the answer long due
    first = _sweep(session, on)
    assert sum(first.created.values()) > 0
    total = session.scalar(select(func.count(Notification.id)))
    second = _sweep(session, on)
    assert sum(second.created.values()) == 0
    assert session.scalar(select(func.count(Notification.id))) == total


def test_the_cli_runs_the_sweep(app, session, world):
    _refer(session, world)
    runner = app.test_cli_runner()
    day = (today() + dt.timedelta(days=8)).isoformat()
    result = runner.invoke(args=["notify", "run", "--on", day])
    assert result.exit_code == 0, result.output
    assert "1 answer_due" in result.output and "in-app only" in result.output
    again = runner.invoke(args=["notify", "run", "--on", day])
    assert "nothing new" in again.output
    assert "in-app only" in runner.invoke(args=["notify", "send"]).output


# ---- the text: both languages, no personal data -----------------------------------------------------------

def _every_kind(session, world, monkeypatch):
    """One notice of every kind the app creates."""
    from matcher.bases.service import add_agreement, decide_certification

    monkeypatch.setitem(sys.modules, "matcher.bases.records", types.SimpleNamespace(
        base_records=lambda session, area_prefix="", as_of=None: [types.SimpleNamespace(
            company_id=world.company_a.id, company_name="甲餐饮有限公司", flags=["never_answers", "odd_new_flag"])]))
    _start(session, world, started_days_ago=25)
    _refer(session, world, candidate=world.cand_b, slot=world.slot_b, who="cw_b")
    decide_certification(session=session, actor=world.accounts["admin"], company_id=world.company_a.id,
                         action="certify", valid_until=today() + dt.timedelta(days=10))
    add_agreement(session=session, actor=world.accounts["admin"], company_id=world.company_a.id,
                  data={"reference_no": "YW-2025-07", "signed_on": today() - dt.timedelta(days=350),
                        "term_months": 12})
    _sweep(session, today())  # the 30-day check is 5 days away; certification and agreement end within a month
    _sweep(session, today() + dt.timedelta(days=7))  # the check is overdue; cand_b's referral waits for an answer


def test_every_message_renders_in_both_languages_without_personal_data(app, session, world, monkeypatch):
    from matcher.auth.models import Account
    from matcher.candidates.models import Candidate
    from matcher.notify.service import email_text, render

    _every_kind(session, world, monkeypatch)
    kinds = {n.kind for n in session.scalars(select(Notification))}
    assert kinds == {K.NEW_REFERRAL, K.ANSWER_DUE, K.CHECK_DUE, K.CHECK_OVERDUE, K.CERTIFICATION_EXPIRING,
                     K.AGREEMENT_EXPIRING, K.BASE_FLAGGED}
    secrets = []
    for candidate in session.scalars(select(Candidate)):
        secrets += [candidate.name, candidate.id_number_masked, candidate.hukou_code, candidate.residence_code,
                    candidate.offence_category.value, candidate.risk_grade.value, "盗窃", "Theft", "绿", "Green"]
        if candidate.residence_address:
            secrets.append(candidate.residence_address)
    seen = {"zh": set(), "en": set()}
    for notice, role in session.execute(select(Notification, Account.role).join(Account)):
        for lang, locale in (("zh", "zh_CN"), ("en", "en")):
            with app.test_request_context(headers={"Accept-Language": lang}), force_locale(locale):
                text = render(notice, role)
                mail = email_text(notice, role)
            whole = text.subject + text.body + mail.body
            assert "—" not in text.subject + text.body, (notice.kind, role, whole)  # every placeholder filled
            for secret in secrets:
                assert secret not in whole, (secret, whole)
            seen[lang].add(text.subject)
    assert any("新推荐" in s for s in seen["zh"]) and any("New referral" in s for s in seen["en"])
    assert any(world.cand_a.public_id in s for s in seen["en"])
    flagged = session.scalar(select(Notification).where(Notification.kind == K.BASE_FLAGGED).limit(1))
    with app.test_request_context(), force_locale("zh_CN"):
        assert "从不答复推荐、odd_new_flag" in render(flagged).body
    with app.test_request_context(), force_locale("en"):
        assert "never answers referrals, odd_new_flag" in render(flagged).body


def test_only_allowed_values_are_stored(session, world):
    from matcher.notify.service import notify

    notify(session, account_ids=[world.accounts["emp_a"].id], kind=K.NEW_REFERRAL, key="x",
           params={"public_id": "XT-1", "slot": "s", "name": "张三", "offence": "theft"})
    session.commit()
    assert json.loads(session.scalar(select(Notification.params_json))) == {"public_id": "XT-1", "slot": "s"}


def test_odd_params_never_break_rendering(app, session, world):
    from matcher.notify.service import render

    notice = Notification(account_id=world.accounts["admin"].id, kind=K.AGREEMENT_EXPIRING, key="k",
                          params_json="not json")
    with app.test_request_context(), force_locale("en"):
        assert "—" in render(notice).body  # missing values show as a dash


# ---- the API: one's own only -------------------------------------------------------------------------------

def test_the_api_lists_counts_and_marks_ones_own(api, session, world):
    referral = _refer(session, world)
    _sweep(session, today() + dt.timedelta(days=8))
    session.commit()
    listed = api.get("/api/v1/notifications", headers=world.h("emp_a"))
    assert listed.status_code == 200
    assert [n["kind"] for n in listed.json] == ["answer_due", "new_referral"]  # newest first
    first = listed.json[1]
    assert first["subject_type"] == "referral" and first["subject_id"] == referral.id
    assert first["subject"] == f"New referral: {world.cand_a.public_id} for 厨师A"
    assert first["read_at"] is None and first["params"]["public_id"] == world.cand_a.public_id
    assert json.loads(listed.headers["X-Pagination"])["total"] == 2
    zh = api.get("/api/v1/notifications", headers=world.h("emp_a", "zh-CN"))
    assert zh.json[1]["subject"].startswith("新推荐")

    assert api.get("/api/v1/notifications/unread-count", headers=world.h("emp_a")).json == {"unread": 2}
    read = api.post(f"/api/v1/notifications/{first['id']}/read", headers=world.h("emp_a"))
    assert read.status_code == 200 and read.json["read_at"] is not None
    assert api.get("/api/v1/notifications/unread-count", headers=world.h("emp_a")).json == {"unread": 1}
    # Unread first, whatever the age.
    assert [n["kind"] for n in api.get("/api/v1/notifications", headers=world.h("emp_a")).json] == [
        "answer_due", "new_referral"]
    unread = api.get("/api/v1/notifications?unread=true", headers=world.h("emp_a")).json
    assert [n["kind"] for n in unread] == ["answer_due"]
    assert [n["kind"] for n in api.get("/api/v1/notifications?unread=false", headers=world.h("emp_a")).json] == [
        "new_referral"]
    assert api.post("/api/v1/notifications/read-all", headers=world.h("emp_a")).json == {"marked": 1}
    assert api.get("/api/v1/notifications/unread-count", headers=world.h("emp_a")).json == {"unread": 0}
    assert api.post("/api/v1/notifications/read-all", headers=world.h("emp_a")).json == {"marked": 0}


@pytest.mark.parametrize("who", ["admin", "cw_a", "emp_b", "org"])
def test_nobody_reads_or_marks_anothers_notification(api, session, world, who):
    _refer(session, world)
    notice_id = session.scalar(select(Notification.id))
    assert api.get("/api/v1/notifications", headers=world.h(who)).json == []
    answer = api.post(f"/api/v1/notifications/{notice_id}/read", headers=world.h(who))
    assert answer.status_code == 404 and answer.json["code"] == 404
    assert api.post("/api/v1/notifications/read-all", headers=world.h(who)).json == {"marked": 0}
    assert session.scalar(select(Notification.read_at).where(Notification.id == notice_id)) is None
    assert api.get("/api/v1/notifications/unread-count", headers=world.h(who)).json == {"unread": 0}


def test_the_api_needs_a_login(api, world):
    for method, path in (("get", "/api/v1/notifications"), ("get", "/api/v1/notifications/unread-count"),
                         ("post", "/api/v1/notifications/1/read"), ("post", "/api/v1/notifications/read-all")):
        assert getattr(api, method)(path).status_code == 401


def test_administrators_set_an_email_and_everyone_reads_their_own(api, session, world):
    emp_a = world.accounts["emp_a"]
    changed = api.patch(f"/api/v1/accounts/{emp_a.id}", json={"email": "hr@jia.example.cn"}, headers=world.h("admin"))
    assert changed.status_code == 200 and changed.json["email"] == "hr@jia.example.cn"
    assert api.get("/api/v1/me", headers=world.h("emp_a")).json["email"] == "hr@jia.example.cn"
    bad = api.patch(f"/api/v1/accounts/{emp_a.id}", json={"email": "not an address"}, headers=world.h("admin"))
    assert bad.status_code == 422 and "email" in bad.json["errors"]
    assert api.patch(f"/api/v1/accounts/{emp_a.id}", json={"email": None}, headers=world.h("admin")).json[
        "email"] is None
    created = api.post("/api/v1/accounts", headers=world.h("admin"), json={
        "username": "cw_mail", "display_name": "cw", "password": "long-enough-password", "role": "caseworker",
        "office_id": world.office_a.id, "email": "cw@sfs.example.cn"})
    assert created.status_code == 201 and created.json["email"] == "cw@sfs.example.cn"
    assert api.patch(f"/api/v1/accounts/{emp_a.id}", json={"email": "x@y.cn"}, headers=world.h("emp_a")).status_code \
        == 404
