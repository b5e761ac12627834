"""Places picked, not typed (issue 15): the district → township picker on the intake and slot forms, and the
coordinates a picked township gives (seed/places), so travel distance works without typed coordinates."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from matcher.candidates.models import Candidate
from matcher.extensions import db
from matcher.places.models import Place
from matcher.slots.models import Slot

CHOUCHENG, WUNING = "330782001", "330783001"  # 义乌市稠城街道, 东阳市吴宁街道


def body(response) -> str:
    return response.get_data(as_text=True)


def intake_form(kit, **overrides):
    form = {"name": "王五", "id_number": kit.make_id_number(seq=77), "education": "junior_secondary",
            "hukou": WUNING, "hukou_district": "330783", "residence": CHOUCHENG, "residence_district": "330782",
            "release_date": "2025-01-10", "offence_category": "theft", "risk_grade": "green",
            "max_travel_km": "15", "consents": ["referral"]}
    form.update(overrides)
    return form


def test_intake_form_offers_districts_and_their_townships_as_selects(browser, world):
    page = body(browser("cw_a").get("/caseworker/candidates/new"))
    for name in ("hukou", "residence"):
        assert f'<select id="{name}_district" name="{name}_district"' in page
        assert f'<select id="{name}" name="{name}"' in page
        # Without JavaScript the township list holds every district's townships, grouped by district.
        picker = page.split(f'data-testid="place-picker-{name}"')[1].split("</fieldset>")[0]
        assert '<optgroup label="浙江省金华市义乌市">' in picker and '<optgroup label="重庆市铜梁区">' in picker
        assert f'hx-get="/places/townships?field={name}"' in picker
    assert 'name="residence" value=' not in page  # no longer a text box


def test_a_district_narrows_the_townships(browser, world):
    response = browser("cw_a").get("/places/townships?field=residence&residence_district=330783")
    options = body(response)
    assert response.status_code == 200 and "<optgroup" not in options
    assert f'<option value="{WUNING}"' in options and CHOUCHENG not in options
    everything = body(browser("cw_a").get("/places/townships?field=residence&residence_district="))
    assert CHOUCHENG in everything and WUNING in everything


@pytest.mark.parametrize("field", ["", "x-y", "a" * 40])
def test_township_options_refuse_a_strange_field_name(browser, world, field):
    assert browser("cw_a").get(f"/places/townships?field={field}").status_code == 404


def test_township_options_need_a_login(browser, world):
    assert browser().get("/places/townships?field=place").status_code == 302


def test_a_picked_residence_is_geocoded_from_the_shipped_township_centre(browser, world, kit):
    page = browser("cw_a")
    page.get("/caseworker/candidates/new")
    response = page.post("/caseworker/candidates/new", intake_form(kit))
    assert response.status_code == 302, body(response)[:2000]
    candidate = db.session.scalars(select(Candidate).where(Candidate.name == "王五")).one()
    centre = db.session.get(Place, CHOUCHENG)
    assert (candidate.residence_code, candidate.hukou_code) == (CHOUCHENG, WUNING)
    assert (candidate.residence_lat, candidate.residence_lng) == (centre.lat, centre.lng)
    # The edit form shows the picked townships selected, under their districts.
    edit = body(page.get(f"/caseworker/candidates/{candidate.id}/edit"))
    assert re.search(r'<option value="330782" selected>浙江省金华市义乌市', edit)
    assert re.search(rf'<option value="{WUNING}" selected>吴宁街道', edit)


def test_an_unpicked_township_is_an_error_next_to_the_picker(browser, world, kit):
    page = browser("cw_a", lang="en")
    page.get("/caseworker/candidates/new")
    response = page.post("/caseworker/candidates/new", intake_form(kit, residence="", residence_district="330782"))
    assert response.status_code == 422
    picker = body(response).split('data-testid="place-picker-residence"')[1].split("</fieldset>")[0]
    assert 'id="residence-error" class="field-error"' in picker
    assert '<option value="330782" selected>' in picker  # the district chosen is kept


def test_a_slot_place_is_picked_and_geocoded(browser, world):
    from matcher import clock

    page = browser("emp_a")
    form_page = body(page.get("/employer/slots/new"))
    assert '<select id="place_district" name="place_district"' in form_page
    response = page.post("/employer/slots/new", {
        "kind": "job", "title": "东阳面点师", "seats": "1", "place": WUNING, "place_district": "330783",
        "starts_on": clock.today().isoformat()})
    assert response.status_code == 303, body(response)[:2000]
    slot = db.session.scalars(select(Slot).where(Slot.title == "东阳面点师")).one()
    centre = db.session.get(Place, WUNING)
    assert (slot.place_code, slot.lat, slot.lng) == (WUNING, centre.lat, centre.lng)
    edit = body(page.get(f"/employer/slots/{slot.id}/edit"))
    assert f'<option value="{WUNING}" selected>' in edit
