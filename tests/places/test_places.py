"""The place reference data (Jinhua's nine county-level divisions, Tongliang's 28 townships) and
resolving a place from a code, a name or coordinates."""

from __future__ import annotations

import json

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from matcher.errors import Invalid
from matcher.offices.models import JudicialOffice
from matcher.places.models import Place, PlaceLevel
from matcher.places.service import haversine_km, resolve_place

JINHUA_DIVISIONS = {"330702": "婺城区", "330703": "金东区", "330723": "武义县", "330726": "浦江县",
                    "330727": "磐安县", "330781": "兰溪市", "330782": "义乌市", "330783": "东阳市",
                    "330784": "永康市"}
TONGLIANG = "500151"


def _townships(session, parent: str) -> list[Place]:
    return list(session.scalars(select(Place).where(Place.level == PlaceLevel.TOWNSHIP,
                                                    Place.parent_code == parent)))


def test_jinhua_has_its_nine_county_level_divisions(session):
    divisions = session.scalars(select(Place).where(Place.parent_code == "330700")).all()
    assert {p.code: p.name for p in divisions} == JINHUA_DIVISIONS
    assert {p.level for p in divisions} == {PlaceLevel.DISTRICT}
    for code in JINHUA_DIVISIONS:
        assert _townships(session, code), f"{code} has no townships"
    total = sum(len(_townships(session, code)) for code in JINHUA_DIVISIONS)
    assert total == 146


def test_tongliang_has_28_townships(session):
    tongliang = session.get(Place, TONGLIANG)
    assert (tongliang.name, tongliang.level) == ("铜梁区", PlaceLevel.DISTRICT)
    assert tongliang.full_name == "重庆市铜梁区"  # 重庆市 once, though it is province and city
    townships = _townships(session, TONGLIANG)
    assert len(townships) == 28
    assert all(t.full_name == "重庆市铜梁区" + t.name for t in townships)
    assert len({t.name for t in townships}) == 28


def test_every_township_lies_within_60_km_of_its_district(session):
    far = []
    for township in session.scalars(select(Place).where(Place.level == PlaceLevel.TOWNSHIP)):
        district = session.get(Place, township.parent_code)
        distance = haversine_km(township.lat, township.lng, district.lat, district.lng)
        if distance > 60:
            far.append((township.full_name, round(distance)))
    assert far == []


def test_codes_and_full_names_follow_the_hierarchy(session):
    for place in session.scalars(select(Place).where(Place.level == PlaceLevel.TOWNSHIP)):
        parent = session.get(Place, place.parent_code)
        assert parent.level == PlaceLevel.DISTRICT
        assert len(place.code) == 9 and place.code.startswith(parent.code)
        assert place.full_name == parent.full_name + place.name
    assert session.get(Place, "330782001").full_name == "浙江省金华市义乌市稠城街道"


def test_every_township_has_one_judicial_office(session):
    townships = session.scalar(select(func.count()).where(Place.level == PlaceLevel.TOWNSHIP))
    offices = session.scalars(select(JudicialOffice)).all()
    assert len(offices) == townships == 146 + 28
    assert len({o.township_code for o in offices}) == len(offices)
    assert len({o.name for o in offices}) == len(offices)
    assert session.scalar(select(JudicialOffice.name).where(JudicialOffice.township_code == "330782100")) \
        == "佛堂司法所"


def test_haversine_is_a_great_circle_distance():
    assert haversine_km(0, 0, 0, 1) == pytest.approx(111.19, abs=0.01)
    assert haversine_km(29.3, 120.07, 29.3, 120.07) == 0
    # Jinhua (金华) to Tongliang (铜梁) is roughly 1,350 km.
    assert 1250 < haversine_km(29.0792, 119.6472, 29.8448, 106.0564) < 1450


# ---- resolving --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("given", [{"code": "330782100"}, {"code": " 330782100 "}, {"name": "佛堂镇"},
                                   {"name": "义乌市佛堂镇"}, {"name": "浙江省金华市义乌市佛堂镇"},
                                   {"name": "金华市义乌市佛堂镇"}])
def test_resolve_by_code_or_name(session, given):
    resolved = resolve_place(session=session, field="place", **given)
    assert resolved.code == "330782100"
    assert resolved.exact is False
    assert (resolved.lat, resolved.lng) == (29.2, 120.05)


def test_resolve_by_coordinates_keeps_them_and_snaps_the_code(session):
    resolved = resolve_place(session=session, field="place", lat=29.2049, lng=120.0437)
    assert (resolved.code, resolved.lat, resolved.lng) == ("330782100", 29.2049, 120.0437)
    assert resolved.exact is True


def test_each_townships_own_centre_resolves_to_it(session):
    wrong = []
    for township in session.scalars(select(Place).where(Place.level == PlaceLevel.TOWNSHIP)):
        resolved = resolve_place(session=session, field="place", lat=township.lat, lng=township.lng)
        if resolved.code != township.code:
            wrong.append((township.code, resolved.code))
    assert wrong == []


def test_a_named_place_with_coordinates_keeps_the_coordinates(session):
    resolved = resolve_place(session=session, field="place", code="330782001", lat=29.31, lng=120.08)
    assert (resolved.code, resolved.lat, resolved.lng, resolved.exact) == ("330782001", 29.31, 120.08, True)


@pytest.mark.parametrize(("given", "message_part"), [
    ({"lat": 39.9042, "lng": 116.4074}, "outside"),  # Beijing
    ({"lat": 29.0792, "lng": 121.2}, "outside"),  # east of Jinhua, 50+ km from any township it knows
    ({"lat": 0.0, "lng": 0.0}, "outside"),
    ({"lat": 95.0, "lng": 120.0}, "out of range"),
    ({"code": "330782999"}, "Unknown place code"),
    ({"name": "火星镇"}, "No place is called"),
    ({"name": "城西街道"}, "ambiguous"),
    ({"name": "江南街道"}, "ambiguous"),
    ({"code": "330782"}, "not a township"),
    ({"name": "义乌市"}, "not a township"),
    ({}, "Give a place code"),
])
def test_resolving_refuses_what_it_cannot_place(session, given, message_part):
    with pytest.raises(Invalid) as raised:
        resolve_place(session=session, field="residence", **given)
    with force_locale("en"):
        assert message_part in str(raised.value.message)
    assert list(raised.value.errors) == ["residence"]


def test_ambiguous_names_list_the_options(session):
    with pytest.raises(Invalid) as raised:
        resolve_place(session=session, field="place", name="城西街道")
    with force_locale("en"):
        message = str(raised.value.message)
    assert message.startswith("城西街道 is ambiguous")
    assert "浙江省金华市婺城区城西街道" in message and "浙江省金华市义乌市城西街道" in message


def test_a_district_is_accepted_where_a_township_is_not_required(session):
    resolved = resolve_place(session=session, field="place", code="330782", require_township=False)
    assert resolved.code == "330782"
    resolved = resolve_place(session=session, field="place", name="铜梁区", require_township=False)
    assert resolved.code == TONGLIANG


def test_tongliang_coordinates_resolve_to_tongliang(session):
    tongliang = session.get(Place, TONGLIANG)
    resolved = resolve_place(session=session, field="place", lat=tongliang.lat + 0.01, lng=tongliang.lng)
    assert resolved.code.startswith(TONGLIANG)


# ---- over the API -----------------------------------------------------------------------------------------

def test_places_api_lists_and_reads(api, world):
    headers = world.h("org")
    townships = api.get(f"/api/v1/places?parent={TONGLIANG}&level=township&page_size=200", headers=headers)
    assert townships.status_code == 200
    assert len(townships.json) == 28 and json.loads(townships.headers["X-Pagination"])["total"] == 28
    assert {p["parent_code"] for p in townships.json} == {TONGLIANG}
    jinhua = api.get("/api/v1/places?parent=330700&level=district", headers=headers).json
    assert {p["code"] for p in jinhua} == set(JINHUA_DIVISIONS)
    found = api.get("/api/v1/places?q=佛堂", headers=headers).json
    assert [p["code"] for p in found] == ["330782100"]
    one = api.get("/api/v1/places/330782100", headers=headers).json
    assert (one["name"], one["level"], one["parent_code"]) == ("佛堂镇", "township", "330782")
    assert api.get("/api/v1/places?level=county", headers=headers).status_code == 422


def test_offices_api_lists_by_place(api, world):
    yiwu = api.get("/api/v1/offices?place=330782", headers=world.h("emp_a")).json
    assert len(yiwu) == 14
    assert {o["township_code"][:6] for o in yiwu} == {"330782"}
    one = api.get(f"/api/v1/offices/{world.office_a.id}", headers=world.h("emp_a")).json
    assert (one["name"], one["township_code"], one["township_name"]) == (
        "稠城司法所", "330782001", "浙江省金华市义乌市稠城街道")
