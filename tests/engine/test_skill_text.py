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


def test_reading_says_how_a_text_was_read():
    from matcher.engine.skill_text import AMBIGUOUS, CONTAINED, EXACT, SIMILAR, UNKNOWN

    texts = SkillTextMap(NAMES, SYNONYMS)
    assert texts.reading("叉车工") == ("forklift_operation", EXACT)
    assert texts.reading("会开叉车") == ("forklift_operation", SIMILAR)
    assert texts.reading("三年叉车驾驶经验") == ("forklift_operation", CONTAINED)
    assert texts.reading("叉车和电焊") == (None, AMBIGUOUS)
    assert texts.reading("挖掘机") == (None, UNKNOWN)


def test_a_confirmed_reading_outranks_the_shipped_synonym_and_teaches_near_texts():
    from matcher.engine.skill_text import EXACT, NOTHING, with_confirmed

    # 会开三轮车 reads as nothing today; confirmed as driving, it and texts containing it read as driving.
    before = SkillTextMap(NAMES, SYNONYMS)
    assert before.code_for("会开三轮车") is None and before.code_for("会开三轮车送货") is None
    after = SkillTextMap(NAMES, with_confirmed(SYNONYMS, {"会开三轮车": "driving_c1", "炒菜": "kitchen_helper"}))
    assert after.reading("会开三轮车") == ("driving_c1", EXACT)
    assert after.code_for("会开三轮车送货") == "driving_c1"  # contains the confirmed text
    assert after.code_for("炒菜") == "kitchen_helper"  # the person's decision replaces the shipped synonym
    # Confirmed as naming nothing: read as no code, though it contains 电焊 (which alone still reads).
    nothing = SkillTextMap(NAMES, with_confirmed(SYNONYMS, {"懂一点电焊": None}))
    assert before.code_for("懂一点电焊") == "arc_welding"
    assert nothing.reading("懂一点电焊") == (None, NOTHING)
    assert nothing.key("懂一点电焊") == TEXT_PREFIX + "懂一点电焊"
    assert nothing.code_for("电焊") == "arc_welding"


def test_suggestions_rank_the_near_codes_and_learn_from_confirmations():
    from matcher.engine.skill_text import with_confirmed

    texts = SkillTextMap(NAMES, SYNONYMS)
    ranked = texts.suggest("叉车和电焊")  # two contained names, equally long: both offered
    assert {s.code for s in ranked[:2]} == {"forklift_operation", "arc_welding"}
    assert all(0 < s.score <= 1 for s in ranked)
    assert texts.suggest("") == [] and texts.suggest("xyz") == []
    # Once 叉车和电焊 is confirmed as welding, the near 叉车与电焊 is read (and suggested) as welding first.
    learned = SkillTextMap(NAMES, with_confirmed(SYNONYMS, {"叉车和电焊": "arc_welding"}))
    assert learned.code_for("叉车与电焊") == "arc_welding"
    assert learned.suggest("叉车与电焊")[0].code == "arc_welding"
    # Equally near codes: the one more texts were confirmed as comes first.
    assert texts.suggest("焊叉")[0].code in ("arc_welding", "forklift_operation")
    weighted = SkillTextMap(NAMES, SYNONYMS + [("电焊师傅", "arc_welding"), ("焊接工", "arc_welding")])
    tie = [s for s in weighted.suggest("焊叉", limit=5) if s.score == weighted.suggest("焊叉")[0].score]
    assert tie[0].code == "arc_welding"
