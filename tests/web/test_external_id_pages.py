"""The bureau's own reference (本单位编号) on the pages: typed on the candidate and base forms, shown on the
candidate's file, the base's page and the slot line of a referral, for bureau staff only."""

from __future__ import annotations

from matcher.bases.models import Company
from matcher.candidates.models import Candidate
from matcher.slots.models import Slot


def html(response) -> str:
    return response.get_data(as_text=True)


def test_the_candidate_form_and_file_carry_the_reference(browser, world, session, kit):
    page = browser("cw_a", "zh")
    page.get("/caseworker/candidates/new")
    created = page.post("/caseworker/candidates/new", {
        "name": "王五", "id_number": kit.make_id_number(seq=77), "education": "primary", "hukou": kit.CHOUCHENG,
        "residence": kit.CHOUCHENG, "release_date": "2025-01-10", "offence_category": "fraud",
        "external_id": " YW-77 "})
    assert created.status_code == 302, html(created)[:2000]
    candidate = session.query(Candidate).filter_by(external_id="YW-77").one()
    assert "本单位编号 YW-77" in html(page.get(f"/caseworker/candidates/{candidate.id}"))
    form = html(page.get(f"/caseworker/candidates/{candidate.id}/edit"))
    assert 'name="external_id"' in form and 'value="YW-77"' in form


def test_the_base_form_and_page_carry_the_reference(browser, world, session, kit):
    page = browser("admin", "en")
    page.get("/admin/bases/new")
    ok = page.post("/admin/bases/new", {"name": "丁家政服务社", "credit_code": kit.make_credit_code("91330782DDD"),
                                        "industry": "家政", "place": "稠城街道", "external_id": "JD-4"})
    assert ok.status_code == 303, html(ok)[:2000]
    company = session.query(Company).filter_by(external_id="JD-4").one()
    shown = html(page.get(f"/admin/bases/{company.id}"))
    assert "own reference</dt><dd>JD-4</dd>" in shown


def test_the_slot_reference_shows_to_the_office_and_never_to_the_base(browser, world, session, api):
    slot = session.get(Slot, world.slot_a.id)
    slot.external_id, slot.external_scope = "GW-77", "330782"
    session.commit()
    referral = api.post("/api/v1/referrals", json={"candidate_id": world.cand_a.id, "slot_id": world.slot_a.id},
                        headers=world.h("cw_a"))
    assert referral.status_code == 201, referral.json
    office = html(browser("cw_a", "zh").get(f"/caseworker/referrals/{referral.json['id']}"))
    assert "本单位编号 GW-77" in office
    base = browser("emp_a", "zh")
    for path in ("/employer/slots", f"/employer/slots/{world.slot_a.id}", f"/employer/slots/{world.slot_a.id}/edit"):
        assert "GW-77" not in html(base.get(path)), path
