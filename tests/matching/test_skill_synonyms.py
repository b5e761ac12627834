"""The shipped synonyms read free-text skills onto the taxonomy, in the features built from the database."""

from __future__ import annotations

import csv
from collections import Counter

import numpy as np
from sqlalchemy import select

from matcher.candidates.models import Candidate
from matcher.engine.features import feature_index
from matcher.engine.skill_text import SkillTextMap
from matcher.matching.adapters import candidate_rows, skill_synonyms, slot_rows
from matcher.matching.pipeline import featurizer_for
from matcher.reference.service import SEED_REFERENCE
from matcher.slots.models import Slot
from tests.conftest import CHOUCHENG, new_candidate, new_slot


def _taxonomy() -> dict[str, str]:
    with (SEED_REFERENCE / "skills.csv").open(encoding="utf-8") as handle:
        return {row["code"]: row["name_zh"] for row in csv.DictReader(handle)}


def test_every_taxonomy_skill_has_synonyms_and_each_reads_as_its_own_code():
    names = _taxonomy()
    synonyms = skill_synonyms()
    assert {code for _, code in synonyms} == set(names)  # every skill, and no code outside the taxonomy
    per_code = Counter(code for text, code in synonyms if text != names[code])
    assert min(per_code.values()) >= 2  # more than the taxonomy's own name
    assert len({text for text, _ in synonyms}) == len(synonyms)  # a text names one skill
    texts = SkillTextMap(names, synonyms)
    assert [(t, c) for t, c in synonyms if texts.code_for(t) != c] == []
    for text, code in (("叉车", "forklift_operation"), ("叉车工", "forklift_operation"),
                       ("开叉车", "forklift_operation"),
                       ("厨师", "chinese_cooking"), ("炒菜", "chinese_cooking"), ("中式烹调", "chinese_cooking"),
                       ("电焊", "arc_welding"), ("焊工", "arc_welding"), ("会开叉车", "forklift_operation")):
        assert texts.code_for(text) == code, text
    assert texts.code_for("挖掘机") is None


def test_features_from_the_database_read_free_text_at_its_level(session, world):
    slot = new_slot(session, world.accounts["emp_a"], title="仓库岗位", course_code="forklift",
                    required_skills=[{"free_text": "叉车工", "level": 3}, {"free_text": "挖掘机", "level": 2}])
    sure = new_candidate(session, world.accounts["cw_a"], residence=CHOUCHENG, seq=31,
                         skills=[{"free_text": "开叉车", "level": 4}, {"free_text": "挖掘机", "level": 1}])
    beginner = new_candidate(session, world.accounts["cw_a"], residence=CHOUCHENG, seq=32,
                             skills=[{"free_text": "开叉车", "level": 1}])
    candidates = candidate_rows(session, select(Candidate).where(Candidate.id.in_([sure.id, beginner.id])))
    slots = slot_rows(session, select(Slot).where(Slot.id == slot.id))
    # Stored as typed: the reading happens when features are built.
    assert slots.table.required_skills == ({},)
    assert sorted(zip(slots.table.free_text_required[0], slots.table.free_text_required_levels[0],
                      strict=True)) == [("叉车工", 3), ("挖掘机", 2)]
    f = featurizer_for(session, candidates.table, slots.table)
    seq31, seq32 = candidates.row_of[sure.id], candidates.row_of[beginner.id]
    assert sorted(zip(candidates.table.free_text_skills[seq31], candidates.table.free_text_levels[seq31],
                      strict=True)) == [("开叉车", 4), ("挖掘机", 1)]
    skill = f.features(np.array([seq31, seq32]), np.array([0, 0]))[:, feature_index("skill_match")]
    # 叉车工 3: held at 4 (1), or at 1 (1/3); 挖掘机 2: the same text at 1 (1/2), or unknown (0).
    assert abs(skill[0] - (1 + 1 / 2) / 2) < 1e-9
    assert abs(skill[1] - (1 / 3) / 2) < 1e-9
    facts = f.describe(seq32, 0)
    assert facts["required_skills"] == ["forklift_operation"] and facts["skills_unknown"] == 1
    assert f.describe(seq31, 0)["skills_unknown"] == 0
