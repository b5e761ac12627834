"""Maps (issue 15): counts by township through the access policy, bases and slots; the drawing's geometry."""

from __future__ import annotations

import datetime as dt

import pytest

from matcher import clock
from matcher.errors import NotFound
from matcher.fairs import service as fairs
from matcher.maps import service as maps
from matcher.maps.drawing import Point, Projection, convex_hull, outline, radius

CHOUCHENG, FOTANG = "330782001", "330782100"


def test_a_caseworker_sees_its_files_counted_by_township_of_residence(world, session):
    data = maps.caseworker_map(session=session, actor=world.accounts["cw_a"])
    # Office A keeps 测试11 (稠城) and reads 测试13 (registered in 稠城, living in 佛堂): counted where they live.
    assert {(c.code, c.count) for c in data.people} == {(CHOUCHENG, 1), (FOTANG, 1)}
    assert [d.name for d in data.districts] == ["义乌市"]
    assert {b.name for b in data.bases} == {"甲餐饮有限公司", "乙汽车服务有限公司"}  # certified only
    assert {(c.code, c.count, c.seats) for c in data.slots} == {(CHOUCHENG, 2, 6)}  # open slots, not the draft
    other = maps.caseworker_map(session=session, actor=world.accounts["cw_b"])
    assert {(c.code, c.count) for c in other.people} == {(FOTANG, 2)}


def test_an_organiser_sees_a_fairs_invited_people_counted_and_the_areas_bases(world, session):
    org = world.accounts["org"]
    empty = maps.organiser_map(session=session, actor=org, fair_id=None)
    assert empty.fair is None and empty.people == [] and len(empty.districts) == 9  # 金华市's nine
    fair = fairs.create_fair(session=session, actor=org, data=dict(
        name="春风行动招聘会", held_on=clock.today() + dt.timedelta(days=3), venue="义乌市人力资源市场",
        starts_at=dt.time(9, 0), block_minutes=30, n_blocks=4, max_interviews=2))
    fairs.invite(session=session, actor=org, fair_id=fair.id,
                 data={"public_ids": [world.cand_a.public_id, world.cand_b.public_id]})
    session.commit()
    data = maps.organiser_map(session=session, actor=org, fair_id=None)  # the next fair by default
    assert data.fair.id == fair.id
    assert {(c.code, c.count) for c in data.people} == {(CHOUCHENG, 1), (FOTANG, 1)}
    with pytest.raises(NotFound):
        maps.organiser_map(session=session, actor=org, fair_id=fair.id + 1000)


@pytest.mark.parametrize("who", ["emp_a", "org"])
def test_the_caseworker_map_is_for_caseworkers(world, session, who):
    with pytest.raises(NotFound):
        maps.caseworker_map(session=session, actor=world.accounts[who])


def test_projection_keeps_north_up_and_east_right_within_the_frame():
    project = Projection.fit([(29.0, 119.5), (29.5, 120.3)], width=800, height=600, margin=40)
    south_west, north_east = project(29.0, 119.5), project(29.5, 120.3)
    assert south_west.x == pytest.approx(40, abs=0.2) and north_east.x == pytest.approx(760, abs=0.2)
    assert project.width == pytest.approx(800, abs=0.2) and project.height < 600
    assert north_east.y == pytest.approx(40, abs=0.2) and south_west.y == pytest.approx(project.height - 40, abs=0.2)
    # A degree of latitude is longer on the page than a degree of longitude at 29°N.
    assert (south_west.y - north_east.y) / 0.5 > (north_east.x - south_west.x) / 0.8


def test_a_tall_area_gets_a_narrower_drawing_not_a_taller_one():
    project = Projection.fit([(29.0, 120.0), (29.6, 120.1)], width=960, height=600, margin=40)
    assert project.height == pytest.approx(600, abs=0.2) and project.width < 300


def test_hull_outline_and_radius():
    square = [Point(0, 0), Point(10, 0), Point(10, 10), Point(0, 10), Point(5, 5)]
    assert set(convex_hull(square)) == {Point(0, 0), Point(10, 0), Point(10, 10), Point(0, 10)}
    assert len(outline([Point(5, 5)]).split()) == 4  # one township: a small diamond
    assert radius(1, 9) < radius(4, 9) < radius(9, 9) == 22.0
