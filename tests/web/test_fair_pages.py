"""The job-fair setup pages: the organiser's fairs, booths, invitations, plan, print-outs and Excel download, and
the caseworker's invitation answers."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest

from matcher.clock import today
from matcher.extensions import db
from matcher.fairs import service
from matcher.fairs.models import Fair, FairBooth, FairInvitation, InvitationStatus


def fair_day() -> dt.date:
    """Asked when needed, not when the module loads: the suite may run across midnight in China."""
    return today() + dt.timedelta(days=2)


PAGES = ("", "/booths", "/invitations", "/plan", "/print/candidates", "/print/booths")


def html(response) -> str:
    return response.get_data(as_text=True)


def fair_form(**overrides) -> dict:
    form = {"name": "春风行动专场招聘会", "held_on": fair_day().isoformat(), "venue": "义乌市人力资源市场三楼",
            "starts_at": "09:00", "block_minutes": "30", "n_blocks": "4", "max_interviews": "2",
            "key_subject_weight": "1", "waiting_weight_per_year": "0", "preferred_courses_only": "y"}
    form.update(overrides)
    return form


@pytest.fixture
def fair(world, session):
    org = world.accounts["org"]
    fair = service.create_fair(session=session, actor=org, data=dict(
        name="春风行动招聘会", held_on=fair_day(), venue="义乌市人力资源市场", starts_at=dt.time(9, 0),
        block_minutes=30, n_blocks=4, max_interviews=2))
    for company, slot in ((world.company_a, world.slot_a), (world.company_b, world.slot_b)):
        service.add_booth(session=session, actor=org, fair_id=fair.id, data=dict(
            company_id=company.id, slot_ids=[slot.id], interviews_per_block=1))
    return fair


def invite_and_confirm(world, session, fair, extra=()):
    """Invite the world's three candidates (and `extra`) by number; their residence offices confirm."""
    ids = [world.cand_a.public_id, world.cand_b.public_id, world.cand_dual.public_id, *(c.public_id for c in extra)]
    service.invite(session=session, actor=world.accounts["org"], fair_id=fair.id, data={"public_ids": ids})
    for who in ("cw_a", "cw_b"):
        caseworker = world.accounts[who]
        for inv in session.scalars(service.list_invitations(session=session, actor=caseworker,
                                                            filters={"fair_id": fair.id})):
            if inv.candidate.office_id == caseworker.office_id:
                service.answer_invitation(session=session, actor=caseworker, invitation_id=inv.id, attending=True)


def get_bytes(page, url):
    """A download through the page client's session (its own get() reads every answer as text)."""
    from flask import g

    for key in ("_login_user", "_flask_babel", "csrf_token"):
        g.pop(key, None)
    try:
        return page.client.get(url, headers={"Accept-Language": "zh-CN"})
    finally:
        db.session.rollback()


# ---- every page, and who may see it -----------------------------------------------------------------

@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_setup_page_renders_for_the_organiser(browser, world, session, fair, lang):
    invite_and_confirm(world, session, fair)
    service.make_plan(session=session, actor=world.accounts["org"], fair_id=fair.id)
    session.commit()
    page = browser("org", lang)
    for url in ("/organiser/fairs", "/organiser/fairs/new", *(f"/organiser/fairs/{fair.id}{p}" for p in PAGES)):
        response = page.get(url)
        assert response.status_code == 200, (url, html(response)[:2000])
        assert f'lang="{"en" if lang == "en" else "zh-CN"}"' in html(response)
    listing = html(page.get("/organiser/fairs"))
    assert "春风行动招聘会" in listing and ("Preparing" if lang == "en" else "筹备中") in listing


def test_an_administrator_runs_fairs_too(browser, world, session, fair):
    page = browser("admin")
    for p in PAGES:
        assert page.get(f"/organiser/fairs/{fair.id}{p}").status_code == 200, p


@pytest.mark.parametrize("who", ["cw_a", "emp_a"])
def test_other_roles_get_not_found(browser, world, fair, who):
    page = browser(who)
    for url in ("/organiser/fairs", "/organiser/fairs/new", *(f"/organiser/fairs/{fair.id}{p}" for p in PAGES),
                f"/organiser/fairs/{fair.id}/plan.xlsx"):
        assert page.get(url).status_code == 404, url
    assert page.post(f"/organiser/fairs/{fair.id}/plan").status_code == 404


def test_organisers_do_not_answer_invitations_and_unknown_fairs_are_not_found(browser, world, fair):
    page = browser("org")
    assert page.get("/caseworker/fair-invitations").status_code == 404
    assert page.get(f"/organiser/fairs/{fair.id + 99}").status_code == 404


# ---- a new fair, the overview, editing, closing ------------------------------------------------------

def test_new_fair_form_shows_errors_in_chinese_and_keeps_the_input(browser, world, session):
    page = browser("org")
    page.get("/organiser/fairs/new")
    past = page.post("/organiser/fairs/new", fair_form(held_on=(today() - dt.timedelta(days=1)).isoformat()))
    assert past.status_code == 422
    body = html(past)
    assert "招聘会日期不能早于今天。" in body or "招聘会不能安排在过去的日期。" in body
    assert 'id="held_on-error" class="field-error"' in body and 'aria-invalid="true"' in body
    assert 'value="春风行动专场招聘会"' in body
    bad = page.post("/organiser/fairs/new", fair_form(n_blocks="100", block_minutes="x", name=""))
    assert bad.status_code == 422
    body = html(bad)
    assert "必须大于等于 1 且小于等于 48。" in body and "不是有效的整数。" in body and "缺少必填字段。" in body
    late = page.post("/organiser/fairs/new", fair_form(starts_at="22:00", n_blocks="8"))
    assert late.status_code == 422 and "午夜" in html(late)
    assert session.query(Fair).count() == 0

    ok = page.post("/organiser/fairs/new", fair_form())
    assert ok.status_code == 303
    fair = session.query(Fair).one()
    assert ok.headers["Location"].endswith(f"/organiser/fairs/{fair.id}/booths")
    assert (fair.n_blocks, fair.max_interviews, fair.key_subject_weight) == (4, 2, 1.0)
    assert fair.preferred_courses_only is True
    assert fair.bureau_code == "330700"


def test_overview_edits_closes_and_refuses_to_cancel_after_interviews(browser, world, session, fair):
    page = browser("org", "en")
    overview = html(page.get(f"/organiser/fairs/{fair.id}"))
    assert 'data-testid="figure-booths"' in overview and 'aria-current="page"' in overview
    saved = page.post(f"/organiser/fairs/{fair.id}", fair_form(venue="义乌市会展中心", preferred_courses_only=""))
    assert saved.status_code == 303
    session.refresh(fair)
    assert fair.venue == "义乌市会展中心" and fair.preferred_courses_only is False
    bad = page.post(f"/organiser/fairs/{fair.id}", fair_form(key_subject_weight="5"))
    assert bad.status_code == 422 and 'id="key_subject_weight-error"' in html(bad)
    assert page.post(f"/organiser/fairs/{fair.id}/status", {"status": "closed"}).status_code == 303
    session.refresh(fair)
    assert fair.status.value == "closed"
    assert "Over" in html(page.get(f"/organiser/fairs/{fair.id}"))


def test_the_day_cannot_change_once_planned(browser, world, session, fair):
    invite_and_confirm(world, session, fair)
    service.make_plan(session=session, actor=world.accounts["org"], fair_id=fair.id)
    session.commit()
    page = browser("org")
    response = page.post(f"/organiser/fairs/{fair.id}", fair_form(n_blocks="6"))
    assert response.status_code == 409
    assert "已有面试安排" in html(response)


# ---- booths -------------------------------------------------------------------------------------

def test_register_edit_and_remove_a_booth(browser, world, session):
    org = world.accounts["org"]
    fair = service.create_fair(session=session, actor=org, data=dict(
        name="秋季招聘会", held_on=fair_day(), venue="稠城街道", starts_at=dt.time(9, 0), n_blocks=4))
    session.commit()
    page = browser("org")
    listing = html(page.get(f"/organiser/fairs/{fair.id}/booths"))
    assert "甲餐饮有限公司" in listing and "厨师A" in listing and "草稿" not in listing  # open slots only
    assert "丙物流有限公司" not in listing  # not certified

    empty = page.post(f"/organiser/fairs/{fair.id}/booths", {"company_id": world.company_a.id,
                                                             "interviews_per_block": "2"})
    assert empty.status_code == 422
    assert "请至少选择" in html(empty) and f'id="add-{world.company_a.id}-slot_ids-error"' in html(empty)
    too_many = page.post(f"/organiser/fairs/{fair.id}/booths", {
        "company_id": world.company_a.id, "slot_ids": [world.slot_a.id], "interviews_per_block": "50"})
    assert too_many.status_code == 422 and "请输入 1 到 20 之间的整数。" in html(too_many)

    added = page.post(f"/organiser/fairs/{fair.id}/booths", {
        "company_id": world.company_a.id, "slot_ids": [world.slot_a.id], "interviews_per_block": "2", "label": "B7"})
    assert added.status_code == 303
    booth = session.query(FairBooth).one()
    assert (booth.label, booth.interviews_per_block, [s.id for s in booth.slots]) == ("B7", 2, [world.slot_a.id])
    taken = page.post(f"/organiser/fairs/{fair.id}/booths", {
        "company_id": world.company_b.id, "slot_ids": [world.slot_b.id], "interviews_per_block": "1", "label": "B7"})
    assert taken.status_code == 409 and "展位号已被其他展位使用。" in html(taken)

    edited = page.post(f"/organiser/fairs/{fair.id}/booths/{booth.id}", {
        "label": "C1", "interviews_per_block": "3", "slot_ids": [world.slot_a.id]})
    assert edited.status_code == 303
    session.refresh(booth)
    assert (booth.label, booth.interviews_per_block) == ("C1", 3)
    wrong = page.post(f"/organiser/fairs/{fair.id}/booths/{booth.id}", {
        "label": "C1", "interviews_per_block": "3", "slot_ids": [world.slot_b.id]})
    assert wrong.status_code == 422 and "该岗位不属于这个基地。" in html(wrong)

    assert page.post(f"/organiser/fairs/{fair.id}/booths/{booth.id}/remove").status_code == 303
    assert session.query(FairBooth).count() == 0
    assert page.post(f"/organiser/fairs/{fair.id}/booths/{booth.id}/remove").status_code == 404


# ---- invitations --------------------------------------------------------------------------------

def test_count_first_then_invite_by_office(browser, world, session, fair):
    page = browser("org")
    form = {"office_ids": [str(world.office_b.id)]}
    counted = page.post(f"/organiser/fairs/{fair.id}/invitations", {**form, "action": "count"})
    assert counted.status_code == 200
    assert re.search(r"将邀请 2 人", html(counted))
    assert session.query(FairInvitation).count() == 0
    sent = page.post(f"/organiser/fairs/{fair.id}/invitations", {**form, "action": "invite"})
    assert sent.status_code == 303
    invited = {inv.candidate_id for inv in session.query(FairInvitation)}
    assert invited == {world.cand_b.id, world.cand_dual.id}
    listing = html(page.get(f"/organiser/fairs/{fair.id}/invitations"))
    assert world.cand_b.public_id in listing and "测试12" in listing and "待答复" in listing
    again = page.post(f"/organiser/fairs/{fair.id}/invitations", {**form, "action": "count"})
    assert "将邀请 0 人（所选人员中另有 2 人已邀请）" in html(again)

    filtered = html(page.get(f"/organiser/fairs/{fair.id}/invitations?q={world.cand_dual.public_id}"))
    assert world.cand_dual.public_id in filtered and world.cand_b.public_id not in filtered


def test_invite_by_number_names_the_unknown_number(browser, world, session, fair):
    page = browser("org")
    response = page.post(f"/organiser/fairs/{fair.id}/invitations", {
        "public_ids": f"{world.cand_a.public_id}\nXT-NOPE", "action": "invite"})
    assert response.status_code == 422
    assert "XT-NOPE：本招聘会所在区域没有这个编号的求职帮教对象。" in html(response) or \
        "XT-NOPE：本招聘会辖区内没有此编号的求职人员。" in html(response)
    assert session.query(FairInvitation).count() == 0
    nothing = page.post(f"/organiser/fairs/{fair.id}/invitations", {"action": "invite"})
    assert nothing.status_code == 422


def test_organiser_cancels_an_invitation(browser, world, session, fair):
    invite_and_confirm(world, session, fair)
    session.commit()
    inv = session.query(FairInvitation).filter_by(candidate_id=world.cand_a.id).one()
    page = browser("org")
    page.get(f"/organiser/fairs/{fair.id}/invitations")
    assert page.post(f"/organiser/fairs/{fair.id}/invitations/{inv.id}/cancel").status_code == 303
    session.refresh(inv)
    assert inv.status == InvitationStatus.CANCELLED


# ---- the caseworker answers ------------------------------------------------------------------------

def test_caseworker_confirms_with_consent_or_declines(browser, world, session, fair, kit):
    no_consent = kit.new_candidate(session, world.accounts["cw_a"], residence=kit.CHOUCHENG, seq=31,
                                   name="未授权", consents=["data_processing"])
    service.invite(session=session, actor=world.accounts["org"], fair_id=fair.id, data={"public_ids": [
        world.cand_a.public_id, world.cand_dual.public_id, no_consent.public_id]})
    session.commit()
    invs = {inv.candidate_id: inv for inv in session.query(FairInvitation)}
    page = browser("cw_a")
    body = html(page.get("/caseworker/fair-invitations"))
    assert "春风行动招聘会" in body and "测试11" in body and "未授权" in body
    assert "招聘会组织方可见。" in body  # the note given with "will not come" says who reads it
    # The dual-registration file is read here but answered by the residence office (佛堂).
    assert "测试13" in body and "佛堂" in body
    dual = invs[world.cand_dual.id]
    assert f'action="/caseworker/fair-invitations/{dual.id}"' not in body
    assert page.post(f"/caseworker/fair-invitations/{dual.id}", {"answer": "confirm", "consent": "y"}
                     ).status_code == 404

    missing = page.post(f"/caseworker/fair-invitations/{invs[no_consent.id].id}", {"answer": "confirm"})
    assert missing.status_code == 422
    assert "请记录本人同意在招聘会上接受各安置基地面试。" in html(missing) or \
        "请记录本人同意接受招聘会上各基地面试。" in html(missing)
    ok = page.post(f"/caseworker/fair-invitations/{invs[no_consent.id].id}", {"answer": "confirm", "consent": "y"})
    assert ok.status_code == 303
    declined = page.post(f"/caseworker/fair-invitations/{invs[world.cand_a.id].id}",
                         {"answer": "decline", "note": "已在外地务工"})
    assert declined.status_code == 303
    for inv in invs.values():
        session.refresh(inv)
    assert invs[no_consent.id].status == InvitationStatus.CONFIRMED
    assert invs[world.cand_a.id].status == InvitationStatus.DECLINED
    assert invs[world.cand_a.id].answer_note == "已在外地务工"
    assert invs[world.cand_dual.id].status == InvitationStatus.INVITED
    assert "已在外地务工" in html(page.get("/caseworker/fair-invitations"))


# ---- the plan, the print-outs, the download ----------------------------------------------------------

def test_plan_page_shows_the_gap_and_why_someone_is_unplaced(browser, world, session, fair, kit):
    housekeeping = kit.new_candidate(session, world.accounts["cw_a"], residence=kit.CHOUCHENG, seq=32, name="家政意向",
                                     preferred_courses=["housekeeping"])
    invite_and_confirm(world, session, fair, extra=[housekeeping])
    session.commit()
    page = browser("org")
    before = html(page.get(f"/organiser/fairs/{fair.id}/plan"))
    assert "尚未生成面试安排" in before and 'data-testid="make-plan"' in before
    made = page.post(f"/organiser/fairs/{fair.id}/plan")
    assert made.status_code == 303, html(made)[:2000]
    body = html(page.get(f"/organiser/fairs/{fair.id}/plan"))
    # The quality in words, never "与最优解的差距 ≤ 0%" next to "未证明最优".
    assert "与最优解的差距" not in body and "未证明最优" not in body
    assert re.search(r"已找到最佳方案。|方案可能不是最佳", body)
    # Breadth first, and the coverage the organiser sees: people with an interview / people who could have one.
    assert "先广后深" in body and "至少有一场面试的人数" in body
    coverage = re.search(r'data-testid="coverage">(\d+) / (\d+)<', body)
    assert coverage and coverage.group(1) == coverage.group(2) == "3"
    assert "凡能安排面试的人都已安排" in body
    assert re.search(r'data-reason="no_eligible_booth">1 人：没有展位带来此人可以应聘的岗位', body)
    # Counts of people are whole numbers ("43.31 人" never).
    assert not re.search(r"\d+\.\d+\s*人", body)
    assert 'data-testid="unplaced-row" data-reason="no_eligible_booth"' in body
    assert "没有展位带来此人可以应聘的岗位" in body and "家政意向" in body
    assert "prior-builtin" in body or 'data-testid="plan-facts"' in body
    assert 'data-testid="schedule"' in body and "09:00–09:30" in body
    assert 'data-testid="replan"' in body
    replanned = page.post(f"/organiser/fairs/{fair.id}/plan", {"from_block": "2"})
    assert replanned.status_code == 303
    assert "重新安排起始时段" in html(page.get(f"/organiser/fairs/{fair.id}/plan"))
    bad = page.post(f"/organiser/fairs/{fair.id}/plan", {"from_block": "99"})
    assert bad.status_code == 422 and 'id="from_block-error"' in html(bad)

    english = browser("org", "en")
    body = html(english.get(f"/organiser/fairs/{fair.id}/plan"))
    assert "Gap to the optimum" not in body and "No booth brings a slot" in body
    assert re.search(r"The best plan was found\.|The plan may not be the (very )?best one", body)
    assert "People with at least one interview" in body


def test_the_unplaced_get_a_printed_sheet_saying_what_to_do_on_the_day(browser, world, session, fair, kit):
    housekeeping = kit.new_candidate(session, world.accounts["cw_a"], residence=kit.CHOUCHENG, seq=34, name="家政意向",
                                     preferred_courses=["housekeeping"])
    invite_and_confirm(world, session, fair, extra=[housekeeping])
    service.make_plan(session=session, actor=world.accounts["org"], fair_id=fair.id)
    session.commit()
    body = html(browser("org").get(f"/organiser/fairs/{fair.id}/print/candidates"))
    sheets = re.findall(r'data-testid="candidate-sheet" data-public-id="([^"]+)" data-interviews="(\d+)"', body)
    assert (housekeeping.public_id, "0") in sheets
    assert len(sheets) == 4  # the three with interviews, and the one without
    unplaced = body.split(f'data-public-id="{housekeeping.public_id}"')[1].split("</section>")[0]
    assert "家政意向" in unplaced and "招聘会当天怎么做" in unplaced
    assert "未能为您安排面试：本次招聘会没有基地带来符合您意向的岗位。" in unplaced
    assert "请照常于 09:00 到招聘会现场" in unplaced
    assert "其中 1 页给没有安排到面试的人" in body


def test_invitations_are_found_by_any_part_of_a_name_or_number_and_sorted_by_column(browser, world, session, fair):
    invite_and_confirm(world, session, fair)
    session.commit()
    page = browser("org")
    url = f"/organiser/fairs/{fair.id}/invitations"

    def numbers(query: str) -> list[str]:
        return re.findall(r'data-testid="invitation" data-invitation-id="\d+"[^>]*>\s*<td[^>]*>([^<]+)</td>',
                          html(page.get(url + query)))

    everyone = sorted([world.cand_a.public_id, world.cand_b.public_id, world.cand_dual.public_id])
    assert sorted(numbers("")) == everyone
    # Any part of a name (not only its start), any part of a number.
    middle = world.cand_b.name[1:]
    assert world.cand_b.public_id in numbers(f"?q={middle}")
    assert numbers(f"?q={world.cand_a.public_id[-4:].lower()}") == [world.cand_a.public_id]
    # Sorted by a column, both ways, with the header saying so.
    assert numbers("?sort=number") == everyone
    assert numbers("?sort=number&order=desc") == everyone[::-1]
    body = html(page.get(url + "?sort=number&order=desc"))
    assert 'aria-sort="descending"' in body and 'data-testid="sort-name"' in body
    # One office's candidates.
    office_only = numbers(f"?office_id={world.cand_b.office_id}")
    assert world.cand_b.public_id in office_only and world.cand_a.public_id not in office_only


def test_people_on_the_plan_are_searched_and_sorted(browser, world, session, fair, kit):
    housekeeping = kit.new_candidate(session, world.accounts["cw_a"], residence=kit.CHOUCHENG, seq=35, name="家政意向",
                                     preferred_courses=["housekeeping"])
    invite_and_confirm(world, session, fair, extra=[housekeeping])
    service.make_plan(session=session, actor=world.accounts["org"], fair_id=fair.id)
    session.commit()
    page = browser("org")
    url = f"/organiser/fairs/{fair.id}/plan"
    body = html(page.get(url))
    assert "面试安排中的人员" in body
    rows = re.findall(r'data-testid="person-row" data-public-id="([^"]+)" data-interviews="(\d+)"', body)
    assert len(rows) == 4 and (housekeeping.public_id, "0") in rows
    assert "无面试：打印“当天怎么做”告知单" in body
    by_interviews = re.findall(r'data-testid="person-row" data-public-id="[^"]+" data-interviews="(\d+)"',
                               html(page.get(url + "?sort=interviews&order=desc")))
    assert by_interviews == sorted(by_interviews, key=int, reverse=True)
    found = html(page.get(url + "?q=政意"))
    assert re.findall(r'data-testid="person-row" data-public-id="([^"]+)"', found) == [housekeeping.public_id]


def test_print_pages_hold_names_times_and_booths(browser, world, session, fair):
    invite_and_confirm(world, session, fair)
    service.make_plan(session=session, actor=world.accounts["org"], fair_id=fair.id)
    session.commit()
    interviews = service.schedule(session=session, actor=world.accounts["org"], fair_id=fair.id)
    assert interviews
    page = browser("org")
    people = html(page.get(f"/organiser/fairs/{fair.id}/print/candidates"))
    assert "fairs-print.css" in people and "fairs.js" in people and "<script>" not in people
    assert 'data-print' in people
    for iv in interviews:
        candidate = iv.invitation.candidate
        assert candidate.name in people and candidate.public_id in people
        assert fair.block_label(iv.block) in people
    assert "春风行动招聘会" in people and "义乌市人力资源市场" in people and "甲餐饮有限公司" in people
    assert people.count('data-testid="candidate-sheet"') == len({iv.invitation_id for iv in interviews})

    booths = html(page.get(f"/organiser/fairs/{fair.id}/print/booths"))
    assert booths.count('data-testid="booth-sheet"') == 2
    for iv in interviews:
        assert iv.invitation.candidate.public_id in booths and fair.block_label(iv.block) in booths
        # The base gets the name only with the candidate's consent to show it.
        assert iv.invitation.candidate.name not in booths


def test_plan_download_is_a_workbook(browser, world, session, fair):
    pytest.importorskip("matcher.fairs.export")
    openpyxl = pytest.importorskip("openpyxl")
    invite_and_confirm(world, session, fair)
    service.make_plan(session=session, actor=world.accounts["org"], fair_id=fair.id)
    session.commit()
    page = browser("org")
    response = get_bytes(page, f"/organiser/fairs/{fair.id}/plan.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response.headers["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames
