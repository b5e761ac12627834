"""The administrator's pages for bases' records, complaints on the base page, pre-release lists and retraining."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import re

import pytest

from matcher.clock import today
from matcher.extensions import db
from matcher.referrals.lifecycle import ReferralStatus as S
from matcher.referrals.models import Referral, ReferralEvent


def html(response) -> str:
    return response.get_data(as_text=True)


def day(offset: int) -> dt.date:
    return today() + dt.timedelta(days=offset)


def unanswered(world, kit, company, employer, n: int) -> None:
    """n referrals sent to the base weeks ago and never answered."""
    session = db.session
    for i in range(n):
        slot = kit.new_slot(session, world.accounts[employer], open_it=False, title=f"岗位{i}")
        referral = Referral(candidate_id=world.cand_a.id, slot_id=slot.id, status=S.SENT)
        referral.events = [ReferralEvent(to_status=S.PROPOSED, on_date=day(-60 + i)),
                           ReferralEvent(from_status=S.PROPOSED, to_status=S.SENT, on_date=day(-60 + i),
                                         actor_id=world.accounts["cw_a"].id)]
        session.add(referral)
    session.commit()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_base_records_page_flags_and_filters(browser, world, kit, lang):
    unanswered(world, kit, world.company_b, "emp_b", 5)
    page = browser("admin", lang)
    response = page.get("/admin/base-records")
    assert response.status_code == 200, html(response)[:2000]
    body = html(response)
    row_b = re.search(rf'<tr class="flagged" data-testid="record-{world.company_b.id}">(.*?)</tr>', body, re.S)
    assert row_b and 'data-flag="never_answers"' in row_b.group(1)
    assert f'data-testid="record-{world.company_a.id}"' in body
    assert body.index(f"record-{world.company_b.id}") < body.index(f"record-{world.company_a.id}")  # flagged first
    assert ("Rarely answers referrals" if lang == "en" else "很少答复推荐") in body

    flagged = html(page.get("/admin/base-records?flagged=1"))
    assert f"record-{world.company_b.id}" in flagged and f"record-{world.company_a.id}" not in flagged
    by_name = html(page.get("/admin/base-records?sort=name"))
    assert 'aria-sort="ascending"' in by_name
    assert page.get("/admin/base-records?district=330782").status_code == 200
    bad = page.get("/admin/base-records?district=999999")
    assert bad.status_code == 422 and f"record-{world.company_a.id}" in html(bad)
    assert page.get("/admin/base-records?sort=nonsense").status_code == 200


@pytest.mark.parametrize("who", ["cw_a", "emp_a", "org"])
def test_other_roles_do_not_find_the_pages(browser, world, who):
    page = browser(who)
    for url in ("/admin/base-records", "/admin/release-lists"):
        assert page.get(url).status_code == 404
    assert page.post(f"/admin/bases/{world.company_a.id}/complaints",
                     {"received_on": day(-1).isoformat(), "summary": "投诉"}).status_code == 404


def test_complaints_on_the_base_page(browser, world):
    page = browser("admin", "en")
    url = f"/admin/bases/{world.company_a.id}"
    body = html(page.get(url))
    assert 'data-testid="base-record"' in body and "No complaint recorded." in body
    response = page.post(f"{url}/complaints", {"received_on": day(-2).isoformat(), "summary": "宿舍漏水无人处理"})
    assert response.status_code == 303
    body = html(page.get(url))
    assert "宿舍漏水无人处理" in body and "The complaint is recorded." in body
    complaint_id = re.search(r'data-testid="resolve-(\d+)"', body).group(1)
    response = page.post(f"{url}/complaints/{complaint_id}/resolve", {})
    assert response.status_code == 303
    body = html(page.get(url))
    assert f'data-testid="resolve-{complaint_id}"' not in body and "marked resolved" in body

    response = page.post(f"{url}/complaints", {"received_on": day(3).isoformat(), "summary": "未来的投诉"})
    assert response.status_code == 303
    assert 'class="flash flash-error"' in html(page.get(url))
    assert page.post("/admin/bases/999999/complaints", {"received_on": day(-1).isoformat(),
                                                         "summary": "投诉"}).status_code == 404


def test_an_applicant_base_page_says_it_has_no_record(browser, world):
    body = html(browser("admin", "en").get(f"/admin/bases/{world.company_applied.id}"))
    assert "have a record" in body


def release_list(kit, rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["姓名", "身份证号", "文化程度", "释放日期", "释放单位", "罪名类别", "户籍地", "居住地",
                     "重点帮教对象"])
    writer.writerows(rows)
    return buffer.getvalue().encode("gbk")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_release_list_preview_then_import(browser, world, kit, lang):
    page = browser("admin", lang)
    assert page.get("/admin/release-lists").status_code == 200
    content = release_list(kit, [
        ["王一", kit.make_id_number(seq=501), "初中", day(20).isoformat(), "浙江省第一监狱", "盗窃", kit.CHOUCHENG,
         kit.CHOUCHENG, "否"],
        ["王二", kit.make_id_number(seq=502), "高中", day(40).isoformat(), "浙江省第一监狱", "诈骗", kit.CHOUCHENG,
         kit.FOTANG, "是"],
    ])
    response = page.post("/admin/release-lists/preview", {"file": (io.BytesIO(content), "名单.csv")},
                         content_type="multipart/form-data")
    assert response.status_code == 200, html(response)[:3000]
    body = html(response)
    assert 'data-testid="preview"' in body
    assert f'data-testid="office-{world.office_a.id}"' in body and f'data-testid="office-{world.office_b.id}"' in body
    from matcher.candidates.models import Candidate

    assert db.session.query(Candidate).filter(Candidate.name.in_(["王一", "王二"])).count() == 0
    encoded = re.search(r'name="content" value="([^"]+)"', body).group(1)
    assert base64.b64decode(encoded) == content
    response = page.post("/admin/release-lists/import", {"content": encoded, "filename": "名单.csv"})
    assert response.status_code == 200
    assert 'data-testid="import-result"' in html(response)
    dual = db.session.query(Candidate).filter(Candidate.name == "王二").one()
    assert dual.office_id == world.office_b.id and dual.dual_registration and dual.status.value == "pre_release"

    # The office that keeps the file sees the hand-over on its home page.
    assert "王二" in html(browser("cw_b").get("/caseworker"))


def test_release_list_errors_are_shown_by_row(browser, world, kit):
    page = browser("admin", "en")
    content = release_list(kit, [
        ["王一", "330782199001010000", "初中", day(20).isoformat(), "监狱", "盗窃", kit.CHOUCHENG, kit.CHOUCHENG, "否"],
    ])
    response = page.post("/admin/release-lists/preview", {"file": (io.BytesIO(content), "名单.csv")},
                         content_type="multipart/form-data")
    assert response.status_code == 422
    body = html(response)
    assert 'data-testid="row-errors"' in body and "id_number" in body and 'name="content"' not in body
    assert page.post("/admin/release-lists/preview", {}).status_code == 422
    assert page.post("/admin/release-lists/import", {"content": "not base64!"}).status_code == 422


def test_models_page_says_how_many_outcomes_and_retrains(browser, world):
    page = browser("admin", "en")
    response = page.post("/admin/models/retrain", {"activate_if_better": "1"})
    assert response.status_code == 303
    body = html(page.get("/admin/models"))
    assert 'data-testid="outcomes-learned"' in body and "Learned from 0 recorded outcomes" in body
    assert "0 outcomes recorded since." in body
    response = page.post("/admin/models/retrain", {"activate_if_better": "1"})
    assert response.status_code == 303
    assert "nothing new to learn from" in html(page.get("/admin/models"))
