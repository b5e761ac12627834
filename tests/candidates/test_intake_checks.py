"""Intake tells every wrong field at once, the related ones (household registration, skills, courses) included,
and refuses dates that make no sense: a release in 2099, a start in 1900, an 11-year-old released at 5."""

from __future__ import annotations

import datetime as dt
import re

import pytest

import matcher.web.candidates  # noqa: F401 - registers the pages on the blueprint before the app is made
from matcher.candidates.rules import MIN_AGE_AT_RELEASE, RELEASE_HORIZON_YEARS, age_on, date_problems
from matcher.clock import add_years, today
from matcher.extensions import db
from tests.web import test_caseworker_pages as page_tests

browser, cw, text = page_tests.browser, page_tests.cw, page_tests.text  # the page tests' logged-in client

# ---- the rules ----------------------------------------------------------------------------------------------


def test_the_release_date_may_be_at_most_two_years_ahead():
    day = dt.date(2026, 12, 6)
    assert date_problems(today=day, release_date=add_years(day, RELEASE_HORIZON_YEARS)) == {}
    assert "release_date" in date_problems(today=day, release_date=add_years(day, 2) + dt.timedelta(days=1))
    assert "release_date" in date_problems(today=day, release_date=dt.date(2099, 1, 1))


def test_nobody_is_released_before_the_age_of_criminal_responsibility():
    day = dt.date(2026, 12, 6)
    born = dt.date(2000, 5, 20)
    assert MIN_AGE_AT_RELEASE == 12
    assert date_problems(today=day, release_date=dt.date(2012, 5, 20), birth_date=born) == {}  # 12 that day
    assert "release_date" in date_problems(today=day, release_date=dt.date(2012, 5, 19), birth_date=born)
    assert age_on(born, dt.date(2012, 5, 19)) == 11


def test_the_start_falls_between_release_and_the_end_of_assistance():
    day, release = dt.date(2026, 12, 6), dt.date(2026, 1, 1)
    assert date_problems(today=day, release_date=release, earliest_start=release) == {}
    assert "earliest_start" in date_problems(today=day, release_date=release, earliest_start=dt.date(1900, 1, 1))
    assert "earliest_start" in date_problems(today=day, release_date=release, earliest_start=dt.date(2031, 1, 2))


def test_nobody_is_born_in_the_future():
    assert "id_number" in date_problems(today=dt.date(2026, 12, 6), birth_date=dt.date(2030, 1, 1))


# ---- the API: one 422 with every wrong field ----------------------------------------------------------------

def _intake(kit, **fields) -> dict:
    body = {"name": "李四", "id_number": kit.make_id_number(born="19850615", seq=321), "education": "primary",
            "hukou": {"code": kit.CHOUCHENG}, "residence": {"code": kit.CHOUCHENG},
            "release_date": (today() - dt.timedelta(days=30)).isoformat(), "offence_category": "fraud"}
    body.update(fields)
    return body


def test_one_answer_names_every_wrong_field_with_the_related_ones(api, world, kit):
    body = _intake(kit, phone="x", release_date="2099-01-01", earliest_start="1900-01-01",
                   hukou={"name": "不存在的地方"}, skills=[{"skill_code": "no_such_skill"}],
                   preferred_courses=["no_such_course"], certificates=[{"name": "证", "skill_code": "nope"}])
    response = api.post("/api/v1/candidates", json=body, headers={**world.h("cw_a"), "Accept-Language": "en"})
    assert response.status_code == 422, response.json
    errors = response.json["errors"]
    assert {"phone", "release_date", "earliest_start", "hukou", "skills", "preferred_courses.0",
            "certificates.0.skill_code"} <= set(errors), errors
    assert "at most 2 years ahead" in errors["release_date"][0]
    assert "only after release" in errors["earliest_start"][0]


def test_an_eleven_year_old_released_at_five_is_refused(api, world, kit):
    child = kit.make_id_number(born=f"{today().year - 11}0301", seq=322)
    response = api.post("/api/v1/candidates", json=_intake(kit, id_number=child,
                                                           release_date=f"{today().year - 6}-06-01"),
                        headers=world.h("cw_a", lang="zh-CN"))
    assert response.status_code == 422
    assert "刑法" in response.json["errors"]["release_date"][0]


def test_a_birth_date_in_the_future_is_refused(api, world, kit):
    unborn = kit.make_id_number(born=f"{today().year + 3}0101", seq=323)
    response = api.post("/api/v1/candidates", json=_intake(kit, id_number=unborn), headers=world.h("cw_a"))
    assert response.status_code == 422 and "id_number" in response.json["errors"]


def test_a_change_is_checked_against_the_stored_dates(api, world):
    cid = world.cand_a.id
    release = world.cand_a.release_date
    db.session.commit()
    response = api.patch(f"/api/v1/candidates/{cid}", json={"earliest_start": "1900-01-01"},
                         headers=world.h("cw_a"))
    assert response.status_code == 422 and list(response.json["errors"]) == ["earliest_start"]
    response = api.patch(f"/api/v1/candidates/{cid}", json={"earliest_start": release.isoformat(),
                                                            "hukou": {"name": "不存在的地方"}, "phone": "x"},
                         headers=world.h("cw_a"))
    assert response.status_code == 422 and set(response.json["errors"]) == {"hukou", "phone"}
    response = api.patch(f"/api/v1/candidates/{cid}", json={"earliest_start": release.isoformat()},
                         headers=world.h("cw_a"))
    assert response.status_code == 200, response.json


# ---- the page: every error next to its field in one submission -----------------------------------------------

def test_the_intake_page_shows_every_error_at_once(cw, kit):
    form = {"name": "张三", "id_number": kit.make_id_number(born=f"{today().year - 11}0301", seq=324),
            "education": "junior_secondary", "hukou": "不存在的地方", "residence": kit.CHOUCHENG,
            "release_date": "2099-01-10", "earliest_start": "1900-01-01", "offence_category": "theft",
            "skill_code-0": "no_such_skill", "course-0": "no_such_course", "phone": "x"}
    response = cw.form_post("/caseworker/candidates/new", form)
    body = text(response)
    assert response.status_code == 422
    for field in ("hukou", "release_date", "earliest_start", "phone", "skills-0", "preferred_courses-0"):
        assert re.search(rf'id="{field}-error" class="field-error"', body), field
    # 释放日期最多只能在今后 2 年内 …; 释放后才能开始 …
    message = re.search(r'id="release_date-error"[^>]*>([^<]+)<', body).group(1)
    assert "2" in message and "年" in message
    assert "释放" in re.search(r'id="earliest_start-error"[^>]*>([^<]+)<', body).group(1)
    assert 'value="2099-01-10"' in body  # what was typed stays (places are picked from the township list)


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_the_edit_page_checks_the_dates_too(world, cw, lang):
    path = f"/caseworker/candidates/{world.cand_a.id}/edit"
    form = {"name": "测试11", "education": "junior_secondary", "hukou": "330782001", "residence": "330782001",
            "release_date": "2025-01-01", "earliest_start": "2024-12-31", "offence_category": "theft",
            "max_travel_km": "20"}
    response = cw.form_post(path, form, headers={"Accept-Language": lang})
    assert response.status_code == 422 and 'id="earliest_start-error"' in text(response)
