"""Occupation codes suggested from a slot's title: character n-gram TF-IDF over names and aliases."""

from __future__ import annotations

from matcher.engine.occupation_text import OccupationRow, OccupationSuggester

ROWS = [
    OccupationRow("4-03-02-01", "中式烹调师", ("中餐厨师", "厨师", "凉菜厨师", "配菜打荷", "后厨")),
    OccupationRow("4-03-02-02", "中式面点师", ("面点师",)),
    OccupationRow("4-12-01-01", "汽车维修工", ("洗车工", "汽车钣金", "汽车美容", "汽车维修")),
    OccupationRow("6-30-05-01", "起重装卸机械操作工", ("叉车工", "叉车司机")),
    OccupationRow("4-01-06-01", "电子商务师", ()),
]


def test_a_title_finds_its_occupation_by_name_or_alias():
    suggester = OccupationSuggester().fit(ROWS)
    assert suggester.suggest("中餐厨师")[0].code == "4-03-02-01"
    assert suggester.suggest("招聘中餐厨师")[0].code == "4-03-02-01"
    assert suggester.suggest("叉车司机（夜班）")[0].code == "6-30-05-01"
    assert suggester.suggest("汽车维修学徒")[0].code == "4-12-01-01"
    assert suggester.suggest("电商运营专员")[0].code == "4-01-06-01"
    best = suggester.suggest("面点师")[0]
    assert best.code == "4-03-02-02" and best.matched == "面点师" and best.score > 0.9


def test_each_occupation_once_best_first_and_nothing_for_noise():
    suggester = OccupationSuggester().fit(ROWS)
    found = suggester.suggest("厨师", limit=5)
    assert len({s.code for s in found}) == len(found)
    assert [s.score for s in found] == sorted((s.score for s in found), reverse=True)
    assert suggester.suggest("") == [] and suggester.suggest("zzz") == []
    assert suggester.suggest_many(["中餐厨师", "", "叉车工"]) == [suggester.suggest("中餐厨师"), [],
                                                               suggester.suggest("叉车工")]
    assert OccupationSuggester().fit([]).suggest("厨师") == []
