"""The administrator's pages (dashboard, bases and certification, accounts, models) and the organiser's home."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from matcher import clock
from matcher.clock import CHINA_TZ

PASSWORD = "correct-horse-battery"  # tests/conftest.py PASSWORD


def html(response) -> str:
    return response.get_data(as_text=True)


ADMIN_PAGES = ("/admin", "/admin?district=330782", "/admin/bases", "/admin/bases?status=applied", "/admin/bases/new",
               "/admin/accounts", "/admin/accounts?role=employer", "/admin/models")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_admin_page_renders(browser, world, lang):
    page = browser("admin", lang)
    urls = ADMIN_PAGES + (f"/admin/bases/{world.company_a.id}", f"/admin/accounts/{world.accounts['emp_a'].id}")
    for url in urls:
        response = page.get(url)
        assert response.status_code == 200, (url, html(response)[:2000])
        assert f'lang="{"en" if lang == "en" else "zh-CN"}"' in html(response)
    dashboard = html(page.get("/admin"))
    assert "vendor/chartjs/chart.umd.min.js" in dashboard and "cdn" not in dashboard.lower()
    assert ("Registered candidates" if lang == "en" else "在册安置帮教对象") in dashboard
    assert "chart.umd.min.js" not in html(page.get("/admin/bases"))  # only the dashboard loads Chart.js


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_organiser_home_renders(browser, world, lang):
    page = browser("org", lang)
    response = page.get("/organiser")
    assert response.status_code == 200
    body = html(response)
    assert "甲餐饮有限公司" in body and "丙物流有限公司" not in body  # only certified bases
    assert ("Open slots by course" if lang == "en" else "按工种统计的开放岗位") in body
    assert page.get("/admin").status_code == 404


def test_organiser_overview_counts(session, world):
    from matcher.reports.service import organiser_overview

    overview = organiser_overview(session=session, actor=world.accounts["org"])
    assert overview["open_slots"] == 2  # slot_a and slot_b; the draft is not counted
    assert overview["seats_free"] == world.slot_a.seats_free + world.slot_b.seats_free
    assert {row["course_code"]: row["slots"] for row in overview["by_course"]} == {"cooking": 1, "auto_repair": 1}
    assert {row["company"].name for row in overview["bases"]} == {"甲餐饮有限公司", "乙汽车服务有限公司"}


# ---- certification workflow -----------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["zh", "en"])
def test_certify_needs_a_future_date(browser, world, session, lang):
    from matcher.bases.models import CertificationStatus

    page = browser("admin", lang)
    company = world.company_applied
    body = html(page.get(f"/admin/bases/{company.id}"))
    assert 'data-testid="certify"' in body and 'name="valid_until"' in body
    past = (clock.today() - dt.timedelta(days=1)).isoformat()
    response = page.post(f"/admin/bases/{company.id}/certification", {"action": "certify", "valid_until": past})
    assert response.status_code == 422
    body = html(response)
    assert 'id="valid_until-error" class="field-error"' in body and f'value="{past}"' in body
    assert ("The valid-until date must be in the future." if lang == "en" else "有效期截止日期必须晚于今天。") in body
    session.refresh(company)
    assert company.certification_status == CertificationStatus.APPLIED

    future = clock.today() + dt.timedelta(days=365)
    response = page.post(f"/admin/bases/{company.id}/certification",
                         {"action": "certify", "valid_until": future.isoformat()})
    assert response.status_code == 303
    session.refresh(company)
    assert company.certification_status == CertificationStatus.CERTIFIED and company.certified_until == future
    assert ("Certified" if lang == "en" else "已认定") in html(page.get(f"/admin/bases/{company.id}"))


def test_suspend_and_revoke_need_a_reason(browser, world, session):
    from matcher.bases.models import CertificationStatus
    from matcher.slots.models import SlotStatus

    page = browser("admin", "en")
    company = world.company_a
    page.get(f"/admin/bases/{company.id}")
    response = page.post(f"/admin/bases/{company.id}/certification", {"action": "suspend", "reason": ""})
    assert response.status_code == 422 and 'id="reason-error"' in html(response)
    assert page.post(f"/admin/bases/{company.id}/certification",
                     {"action": "suspend", "reason": "整改期间"}).status_code == 303
    session.refresh(company)
    assert company.certification_status == CertificationStatus.SUSPENDED
    # Suspending twice is a conflict: shown on the page, not a crash.
    response = page.post(f"/admin/bases/{company.id}/certification", {"action": "suspend", "reason": "again"})
    assert response.status_code == 409
    assert page.post(f"/admin/bases/{company.id}/certification",
                     {"action": "revoke", "reason": "不再符合条件"}).status_code == 303
    session.refresh(company)
    session.refresh(world.slot_a)
    assert company.certification_status == CertificationStatus.REVOKED and world.slot_a.status == SlotStatus.CLOSED
    history = html(page.get(f"/admin/bases/{company.id}"))
    assert "整改期间" in history and "不再符合条件" in history


def test_add_agreement(browser, world, session):
    from matcher.bases.models import Agreement

    page = browser("admin", "en")
    page.get(f"/admin/bases/{world.company_a.id}")
    bad = page.post(f"/admin/bases/{world.company_a.id}/agreements", {"signed_on": "", "term_months": "0"})
    assert bad.status_code == 422
    assert 'id="signed_on-error"' in html(bad) and 'id="term_months-error"' in html(bad)
    ok = page.post(f"/admin/bases/{world.company_a.id}/agreements",
                   {"reference_no": "YW-2026-01", "signed_on": clock.today().isoformat(), "term_months": "24"})
    assert ok.status_code == 303
    assert session.query(Agreement).filter_by(company_id=world.company_a.id, reference_no="YW-2026-01").count() == 1
    assert "YW-2026-01" in html(page.get(f"/admin/bases/{world.company_a.id}"))


def test_register_a_company(browser, world, session, kit):
    from matcher.bases.models import CertificationStatus, Company

    page = browser("admin", "en")
    page.get("/admin/bases/new")
    bad = page.post("/admin/bases/new", {"name": "丁家政服务社", "credit_code": "123", "industry": "家政",
                                         "place": "330782001"})
    assert bad.status_code == 422
    assert 'id="credit_code-error" class="field-error"' in html(bad) and 'value="丁家政服务社"' in html(bad)
    code = kit.make_credit_code("91330782DDD")
    ok = page.post("/admin/bases/new", {"name": "丁家政服务社", "credit_code": code, "industry": "家政",
                                        "place": "稠城街道", "contact_phone": "0579-1234567"})
    assert ok.status_code == 303, html(ok)[:2000]
    company = session.query(Company).filter_by(credit_code=code).one()
    assert company.certification_status == CertificationStatus.APPLIED and company.place_code == kit.CHOUCHENG
    listed = html(page.get("/admin/bases?status=applied"))
    assert "丁家政服务社" in listed and "甲餐饮有限公司" not in listed


# ---- accounts ---------------------------------------------------------------------------------

def test_create_and_edit_accounts(browser, world, session):
    from matcher.auth.models import Account

    page = browser("admin", "en")
    page.get("/admin/accounts")
    bad = page.post("/admin/accounts", {"username": "cw_new", "display_name": "新人", "password": "short",
                                        "role": "caseworker", "office_id": str(world.office_a.id)})
    assert bad.status_code == 422 and 'id="password-error"' in html(bad) and 'value="cw_new"' in html(bad)
    no_scope = page.post("/admin/accounts", {"username": "cw_new", "display_name": "新人", "password": PASSWORD,
                                             "role": "caseworker"})
    assert no_scope.status_code == 422 and 'id="office_id-error"' in html(no_scope)
    bad_email = page.post("/admin/accounts", {"username": "cw_new", "display_name": "新人", "password": PASSWORD,
                                              "role": "caseworker", "office_id": str(world.office_a.id),
                                              "email": "not-an-address"})
    assert bad_email.status_code == 422 and 'id="email-error"' in html(bad_email)
    ok = page.post("/admin/accounts", {"username": "cw_new", "display_name": "新人", "password": PASSWORD,
                                       "role": "caseworker", "office_id": str(world.office_a.id),
                                       "email": "xinren@example.org"})
    assert ok.status_code == 303
    account = session.query(Account).filter_by(username="cw_new").one()
    assert account.office_id == world.office_a.id and account.email == "xinren@example.org"

    assert 'value="xinren@example.org"' in html(page.get(f"/admin/accounts/{account.id}"))
    edit = page.post(f"/admin/accounts/{account.id}", {"display_name": "新人甲", "office_id": str(world.office_b.id),
                                                       "email": ""})
    assert edit.status_code == 303  # the "active" box left unticked: deactivated
    session.refresh(account)
    assert account.display_name == "新人甲" and account.office_id == world.office_b.id and not account.is_active
    assert account.email is None  # emptied: no more emails
    # A deactivated account cannot log in.
    client = type(page)(page.client.application, "en")
    client.get("/login")
    assert client.post("/login", {"username": "cw_new", "password": PASSWORD}).status_code == 401

    own = page.post(f"/admin/accounts/{world.accounts['admin'].id}", {"display_name": "Admin", "bureau_code": "330700"})
    assert own.status_code == 422  # an administrator cannot lock themselves out


# ---- models -------------------------------------------------------------------------------------

def test_models_page_and_evaluate_without_history(browser, world):
    page = browser("admin", "en")
    body = html(page.get("/admin/models"))
    assert 'data-testid="evaluate"' in body
    response = page.post("/admin/models/evaluate", {"horizon_days": "90"})
    assert response.status_code == 409
    assert "no referral history" in html(response)
    assert page.post("/admin/models/no-such-model/activate", {}).status_code == 404


# ---- the dashboard ----------------------------------------------------------------------------

def _independent_counts(session, date_from, date_to, district_prefix=""):
    """The dashboard's figures counted in Python from the rows themselves."""
    from matcher.bases.models import Agreement, Company
    from matcher.candidates.models import Candidate, CandidateStatus, Visit
    from matcher.referrals.models import Referral

    candidates = [c for c in session.query(Candidate).all() if c.residence_code.startswith(district_prefix)]
    ids = {c.id for c in candidates}
    registered = [c for c in candidates if c.status != CandidateStatus.CLOSED]
    companies = [c for c in session.query(Company).all() if c.place_code.startswith(district_prefix)]
    on = min(date_to, clock.today())
    referrals = [r for r in session.query(Referral).all() if r.candidate_id in ids]
    outcomes: dict[str, int] = {}
    for r in referrals:
        if date_from <= r.created_at.astimezone(CHINA_TZ).date() <= date_to:  # the day in China
            outcomes[r.status.value] = outcomes.get(r.status.value, 0) + 1
    return {
        "registered": len(registered),
        "key_subjects": sum(1 for c in registered if c.key_subject),
        "new_in_period": sum(1 for c in candidates if date_from <= c.release_date <= date_to),
        "placed_in_period": sum(1 for r in referrals if r.started_on and date_from <= r.started_on <= date_to),
        "certified_bases": sum(1 for c in companies if c.can_post_and_fill(on)),
        "agreements_in_force": sum(1 for a in session.query(Agreement).all()
                                   if a.company_id in {c.id for c in companies} and a.signed_on <= on <= a.ends_on),
        "visits_in_period": sum(1 for v in session.query(Visit).all()
                                if v.candidate_id in ids and date_from <= v.visited_on <= date_to),
        "referrals_by_outcome": outcomes,
    }


@pytest.fixture
def busy_world(world, session, kit):
    """More to count: key subjects, an old release, visits, agreements, referrals that started or ended."""
    from matcher.bases.service import add_agreement
    from matcher.candidates.service import update_candidate
    from matcher.followup.service import add_visit
    from matcher.referrals.service import create_referral, transition

    cw_a, cw_b, admin = world.accounts["cw_a"], world.accounts["cw_b"], world.accounts["admin"]
    update_candidate(session=session, actor=cw_a, candidate_id=world.cand_a.id, data={"key_subject": True})
    old = kit.new_candidate(session, cw_a, residence=kit.CHOUCHENG, seq=21,
                            release_date=clock.today() - dt.timedelta(days=800))
    elsewhere = kit.new_candidate(session, cw_a, residence=kit.CHOUCHENG, seq=22)
    for candidate, actor, days in ((world.cand_a, cw_a, 3), (world.cand_a, cw_a, 40), (world.cand_b, cw_b, 5),
                                   (old, cw_a, 500)):
        add_visit(session=session, actor=actor, candidate_id=candidate.id,
                  data={"visited_on": clock.today() - dt.timedelta(days=days), "kind": "home", "note": "走访"})
    add_agreement(session=session, actor=admin, company_id=world.company_a.id,
                  data={"signed_on": clock.today() - dt.timedelta(days=30), "term_months": 12})
    add_agreement(session=session, actor=admin, company_id=world.company_b.id,
                  data={"signed_on": clock.today() - dt.timedelta(days=900), "term_months": 12})  # ended
    started = create_referral(session=session, actor=cw_a, candidate_id=world.cand_a.id, slot_id=world.slot_a.id,
                              send=True)
    for to in ("offered", "started"):
        transition(session=session, actor=world.accounts["emp_a"], referral_id=started.id, to=to)
    declined = create_referral(session=session, actor=cw_a, candidate_id=elsewhere.id, slot_id=world.slot_b.id,
                               send=True)
    transition(session=session, actor=world.accounts["emp_b"], referral_id=declined.id, to="declined",
               reason_code="position_filled")
    create_referral(session=session, actor=cw_b, candidate_id=world.cand_b.id, slot_id=world.slot_a.id)
    session.commit()
    return world


def test_dashboard_figures_match_independent_counts(browser, busy_world, session):
    from matcher.reports.service import bureau_figures

    date_from, date_to = clock.today() - dt.timedelta(days=365), clock.today()
    expected = _independent_counts(session, date_from, date_to)
    figures = bureau_figures(session=session, actor=busy_world.accounts["admin"], date_from=date_from,
                             date_to=date_to)
    for key, value in expected.items():
        assert figures[key] == value, key
    assert expected["registered"] == 5 and expected["key_subjects"] == 1 and expected["new_in_period"] == 4
    assert expected["placed_in_period"] == 1 and expected["visits_in_period"] == 3
    assert expected["certified_bases"] == 2 and expected["agreements_in_force"] == 1
    assert expected["referrals_by_outcome"] == {"started": 1, "declined": 1, "proposed": 1}
    assert sum(row["count"] for row in figures["by_district"]) == 5
    months = figures["placements_by_month"]
    assert months[0]["month"] == f"{date_from:%Y-%m}" and months[-1] == {"month": f"{clock.today():%Y-%m}", "count": 1}
    assert sum(row["count"] for row in months) == 1 and len(months) in (12, 13)

    page = browser("admin", "en")
    body = html(page.get(f"/admin?from={date_from.isoformat()}&to={date_to.isoformat()}"))
    for key in ("registered", "key_subjects", "new_in_period", "placed_in_period", "certified_bases",
                "agreements_in_force", "visits_in_period"):
        assert re.search(rf'data-testid="figure-{key}">\s*<small>[^<]*</small>\s*'
                         rf'<div class="figure" data-value="{expected[key]}">', body), key
    assert 'data-status="declined"' in body and "义乌市" in body


def test_dashboard_filters_by_district_and_period(browser, busy_world, session):
    from matcher.reports.service import bureau_figures

    admin, today = busy_world.accounts["admin"], clock.today()
    yiwu = bureau_figures(session=session, actor=admin, district="330782", date_from=today - dt.timedelta(days=365),
                          date_to=today)
    assert yiwu["registered"] == _independent_counts(session, today, today, "330782")["registered"] == 5
    other = bureau_figures(session=session, actor=admin, district="330702", date_from=today - dt.timedelta(days=365),
                           date_to=today)
    assert other["registered"] == other["certified_bases"] == other["visits_in_period"] == 0
    recent = bureau_figures(session=session, actor=admin, date_from=today - dt.timedelta(days=10), date_to=today)
    expected = _independent_counts(session, today - dt.timedelta(days=10), today)
    assert recent["visits_in_period"] == expected["visits_in_period"] == 2
    assert recent["new_in_period"] == expected["new_in_period"] == 0

    page = browser("admin", "zh")
    assert page.get("/admin?district=330702").status_code == 200
    bad = page.get("/admin?district=110101")  # not a district of the bureau: the error, and the whole area
    assert bad.status_code == 200 and 'id="district-error"' in html(bad)


def test_figures_are_for_bureau_roles_only(session, world):
    from matcher.errors import NotFound
    from matcher.reports.service import bureau_figures

    today = clock.today()
    with pytest.raises(NotFound):
        bureau_figures(session=session, actor=world.accounts["emp_a"], date_from=today, date_to=today)
    figures = bureau_figures(session=session, actor=world.accounts["org"], date_from=today, date_to=today)
    assert figures["registered"] == 3


# ---- access and CSRF --------------------------------------------------------------------------

def test_other_roles_get_404_on_admin_pages(browser, world):
    for who in ("emp_a", "cw_a", "org"):
        page = browser(who, "en")
        for url in ADMIN_PAGES + (f"/admin/bases/{world.company_a.id}",):
            assert page.get(url).status_code == 404, (who, url)
    page = browser("emp_a", "en")
    page.get("/employer")
    response = page.post(f"/admin/bases/{world.company_applied.id}/certification",
                         {"action": "certify", "valid_until": (clock.today() + dt.timedelta(days=30)).isoformat()})
    assert response.status_code == 404


def test_post_without_csrf_is_refused(browser, world, session):
    from matcher.bases.models import CertificationStatus

    page = browser("admin", "en")
    response = page.post(f"/admin/bases/{world.company_applied.id}/certification",
                         {"action": "certify", "valid_until": (clock.today() + dt.timedelta(days=30)).isoformat()},
                         csrf=False)
    assert response.status_code == 400
    session.refresh(world.company_applied)
    assert world.company_applied.certification_status == CertificationStatus.APPLIED


# ---- issue 15: refusing a certification, labelled reason boxes, the register's list tools ---------------

def test_each_reason_box_is_labelled_for_its_decision_and_says_who_reads_it(browser, world):
    page = browser("admin", "zh")
    certified = html(page.get(f"/admin/bases/{world.company_a.id}"))
    assert '<label for="reason-suspend">暂停认定的原因</label>' in certified
    assert '<label for="reason-revoke">撤销认定的原因</label>' in certified
    assert 'aria-describedby="reason-suspend-audience"' in certified
    assert "基地的用人单位账号和司法局管理员会看到这段文字" in certified
    assert ">原因</label>" not in certified
    assert 'data-testid="refuse"' not in certified  # a certified base is not an application to refuse
    applied = html(page.get(f"/admin/bases/{world.company_applied.id}"))
    assert '<label for="reason-refuse">不予认定的原因</label>' in applied and ">不予认定</button>" in applied


def test_refusing_a_certification_needs_a_reason_and_is_recorded_audited_and_told(browser, world, session):
    from matcher.audit.models import AuditEvent
    from matcher.auth.service import create_account
    from matcher.bases.models import CertificationStatus
    from matcher.notify.models import Notification, NotificationKind

    company = world.company_applied
    employer = create_account(session=session, actor=None, data=dict(
        username="emp_c", display_name="emp_c", password=PASSWORD, role="employer", company_id=company.id))
    session.commit()
    page = browser("admin", "zh")
    page.get(f"/admin/bases/{company.id}")
    empty = page.post(f"/admin/bases/{company.id}/certification", {"action": "refuse", "reason": ""})
    assert empty.status_code == 422 and 'id="reason-error"' in html(empty)
    session.refresh(company)
    assert company.certification_status == CertificationStatus.APPLIED
    done = page.post(f"/admin/bases/{company.id}/certification",
                     {"action": "refuse", "reason": "场地不符合安全生产条件"})
    assert done.status_code == 303
    session.refresh(company)
    assert company.certification_status == CertificationStatus.REFUSED
    history = html(page.get(f"/admin/bases/{company.id}"))
    assert "场地不符合安全生产条件" in history and "不予认定" in history
    assert session.query(AuditEvent).filter_by(object_type="certification_events", action="create").count() >= 1
    notice = session.query(Notification).filter_by(account_id=employer.id,
                                                   kind=NotificationKind.CERTIFICATION_REFUSED).one()
    assert notice.subject_type == "company" and "场地" not in notice.params_json  # the reason stays on the page
    home = html(browser("emp_c", "zh").get("/employer"))
    assert "不予认定" in home and "场地不符合安全生产条件" in home
    # A refused base may be certified later (after it applies again and is reviewed).
    again = page.post(f"/admin/bases/{company.id}/certification",
                      {"action": "certify", "valid_until": (clock.today() + dt.timedelta(days=365)).isoformat()})
    assert again.status_code == 303


def test_refuse_over_the_api(api, world):
    response = api.post(f"/api/v1/bases/{world.company_applied.id}/certification",
                        json={"action": "refuse"}, headers=world.h("admin"))
    assert response.status_code == 422 and "reason" in response.json["errors"]
    refused = api.post(f"/api/v1/bases/{world.company_applied.id}/certification",
                       json={"action": "refuse", "reason": "材料不全"}, headers=world.h("admin"))
    assert refused.status_code == 200 and refused.json["certification_status"] == "refused"
    twice = api.post(f"/api/v1/bases/{world.company_a.id}/certification",
                     json={"action": "refuse", "reason": "已认定的基地"}, headers=world.h("admin"))
    assert twice.status_code == 409


def test_bases_register_searches_and_sorts(browser, world):
    page = browser("admin", "zh")
    found = html(page.get("/admin/bases?q=物流"))
    assert "丙物流有限公司" in found and "甲餐饮有限公司" not in found
    by_name = html(page.get("/admin/bases?sort=-name"))
    table = by_name[by_name.index('data-testid="bases-table"'):]
    names = [name for name in ("甲餐饮有限公司", "丙物流有限公司") if name in table]
    assert [table.index(n) for n in sorted(names, reverse=True)] == sorted(table.index(n) for n in names)
    assert 'aria-sort="descending"' in by_name and 'data-sort="certified_until"' in by_name
