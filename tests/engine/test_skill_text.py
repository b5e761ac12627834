"""Free-text skills read onto the taxonomy: synonyms, character similarity, and text left as text."""

from __future__ import annotations

from matcher.engine.skill_text import TEXT_PREFIX, SkillTextMap, grams, normalise

NAMES = {"forklift_operation": "叉车操作", "chinese_cooking": "中式烹调", "arc_welding": "电焊",
         "gas_welding": "气焊", "kitchen_helper": "厨房帮工", "driving_c1": "C1驾驶"}
SYNONYMS = [("叉车", "forklift_operation"), ("叉车工", "forklift_operation"), ("开叉车", "forklift_operation"),
            ("厨师", "chinese_cooking"), ("炒菜", "chinese_cooking"), ("焊工", "arc_welding"),
            ("C1驾照", "driving_c1")]


def test_normalise_folds_width_case_spaces_and_punctuation():
    assert normalise(" Ｃ１ 驾照。") == "c1驾照"
    assert normalise("叉车, 工") == "叉车工"
    assert normalise("") == ""
    assert grams("叉车") == {"叉", "车", "叉车"}


def test_names_and_synonyms_read_as_their_code():
    texts = SkillTextMap(NAMES, SYNONYMS)
    assert texts.code_for("叉车") == texts.code_for("叉车工") == texts.code_for("开叉车") == "forklift_operation"
    assert texts.code_for("叉车操作") == "forklift_operation"  # the taxonomy's own name
    assert texts.code_for("厨师") == texts.code_for("炒菜") == "chinese_cooking"
    assert texts.code_for("电焊") == texts.code_for("焊工") == "arc_welding"
    assert texts.code_for("c1 驾照") == "driving_c1"


def test_near_texts_read_by_character_similarity_and_containment():
    texts = SkillTextMap(NAMES, SYNONYMS)
    assert texts.code_for("会开叉车") == "forklift_operation"  # similar to 开叉车
    assert texts.code_for("电焊工") == "arc_welding"  # similar to 电焊 / 焊工
    assert texts.code_for("在厨房帮过工") == "kitchen_helper"  # similar to 厨房帮工
    assert texts.code_for("三年叉车驾驶经验") == "forklift_operation"  # too long to be similar; contains 叉车


def test_unrelated_or_ambiguous_text_stays_text():
    texts = SkillTextMap(NAMES, SYNONYMS)
    assert texts.code_for("挖掘机") is None
    assert texts.key("挖掘机") == TEXT_PREFIX + "挖掘机"
    assert texts.key(" 挖掘机。") == texts.key("挖掘机")  # the same text, however written
    assert texts.code_for("叉车和电焊") is None  # names two skills: a guess between them would be a guess
    assert texts.code_for("焊") is None  # one character says too little
    assert texts.key("  ") is None


def test_without_names_or_synonyms_nothing_is_read_as_a_code():
    texts = SkillTextMap()
    assert texts.code_for("叉车") is None
    assert texts.key("叉车") == TEXT_PREFIX + "叉车"
