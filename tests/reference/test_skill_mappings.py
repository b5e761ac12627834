"""The administrators' readings of free-text skills: the queue and its counts, suggestions and confirmations, the
matcher reading a confirmed text at once, and the audit."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from matcher.audit.models import AuditEvent
from matcher.engine.features import feature_index
from matcher.engine.skill_text import EXACT, NOTHING, UNKNOWN
from matcher.errors import Invalid, NotFound
from matcher.matching import pipeline
from matcher.reference import skill_mappings
from tests.conftest import CHOUCHENG, FOTANG, new_candidate, new_slot


@pytest.fixture
def texts(session, world):
    """会开三轮车 written by two people of office A and one of office B, and required by a slot of base A."""
    cw_a, cw_b = world.accounts["cw_a"], world.accounts["cw_b"]
    people = [new_candidate(session, cw_a, residence=CHOUCHENG, seq=41, skills=[{"free_text": "会开三轮车"}]),
              new_candidate(session, cw_a, residence=CHOUCHENG, seq=42,
                            skills=[{"free_text": "会开三轮车 "}, {"free_text": "懂一点水电", "level": 1}]),
              new_candidate(session, cw_b, residence=FOTANG, seq=43, skills=[{"free_text": "会开三轮车"}])]
    slot = new_slot(session, world.accounts["emp_a"], title="送货员", course_code="logistics",
                    required_skills=[{"free_text": "会开三轮车", "level": 2}])
    return people, slot


def _by_text(items):
    return {item.text_key: item for item in items}


def test_the_queue_counts_whom_each_text_affects_in_scope(session, world, texts):
    admin, cw_a = world.accounts["admin"], world.accounts["cw_a"]
    queued = _by_text(skill_mappings.queue(session=session, actor=admin))
    assert queued["会开三轮车"].how == UNKNOWN and queued["会开三轮车"].code is None
    assert (queued["会开三轮车"].candidates, queued["会开三轮车"].slots) == (3, 1)  # two spellings, one text
    assert (queued["懂一点水电"].candidates, queued["懂一点水电"].slots) == (1, 0)
    assert list(queued)[0] == "会开三轮车"  # most affected first
    assert queued["会开三轮车"].suggestions and queued["懂一点水电"].suggestions[0].code in ("low_voltage", "wiring")
    own = _by_text(skill_mappings.queue(session=session, actor=cw_a))  # office A's files only, no slots
    assert (own["会开三轮车"].candidates, own["会开三轮车"].slots) == (2, 0)
    assert skill_mappings.queue_counts(session=session, actor=admin) == {
        "texts": 2, "candidates": 4, "slots": 1, "suggested": 0}
    with pytest.raises(NotFound):  # a role that never reads them: as for anything outside its scope
        skill_mappings.queue(session=session, actor=world.accounts["emp_a"])


def test_a_confirmed_reading_is_read_by_the_matcher_at_once(session, world, texts):
    people, slot = texts
    admin = world.accounts["admin"]
    before = pipeline.open_slot_side(session, pipeline.open_slots(), key=("t",))
    row = before.rows.row_of[slot.id]
    # Unknown today: the requirement counts, unmet, for someone who drives a C1 car.
    driver = new_candidate(session, world.accounts["cw_a"], residence=CHOUCHENG, seq=44,
                           skills=[{"skill_code": "driving_c1", "level": 3}])
    rows = pipeline.candidate_rows(session, select(type(driver)).where(type(driver).id == driver.id))
    skill = feature_index("skill_match")
    assert before.side.featurizer(rows.table).features(np.array([0]), np.array([row]))[0, skill] == 0

    skill_mappings.confirm_mapping(session=session, actor=admin, text="会开三轮车", skill_code="driving_c1")
    session.commit()
    after = pipeline.open_slot_side(session, pipeline.open_slots(), key=("t",))
    assert after is not before  # the confirmed reading is part of the data version
    assert after.side.featurizer(rows.table).features(np.array([0]), np.array([after.rows.row_of[slot.id]]))[
        0, skill] == 1
    assert skill_mappings.text_map(session).reading("会开三轮车") == ("driving_c1", EXACT)
    assert "会开三轮车" not in _by_text(skill_mappings.queue(session=session, actor=admin))
    confirmed = _by_text(skill_mappings.queue(session=session, actor=admin, show="confirmed"))
    assert confirmed["会开三轮车"].mapping.skill_code == "driving_c1"
    # Names nothing: decided, out of the queue, read as text only.
    skill_mappings.confirm_mapping(session=session, actor=admin, text="懂一点水电", skill_code=None)
    assert skill_mappings.text_map(session).reading("懂一点水电") == (None, NOTHING)
    assert skill_mappings.queue_counts(session=session, actor=admin)["texts"] == 0
    # Withdrawn: back in the queue, read by similarity again.
    mapping = confirmed["会开三轮车"].mapping
    skill_mappings.withdraw_mapping(session=session, actor=admin, mapping_id=mapping.id)
    session.commit()
    assert "会开三轮车" in _by_text(skill_mappings.queue(session=session, actor=admin))
    actions = session.execute(select(AuditEvent.action, AuditEvent.object_type).where(
        AuditEvent.object_type == "skill_text_mapping").order_by(AuditEvent.id)).all()
    assert [a for a, _t in actions] == ["confirm", "confirm", "withdraw"]


def test_caseworkers_suggest_for_their_own_files_and_administrators_confirm(session, world, texts):
    cw_a, cw_b, admin = world.accounts["cw_a"], world.accounts["cw_b"], world.accounts["admin"]
    mapping = skill_mappings.suggest_mapping(session=session, actor=cw_a, text="懂一点水电", skill_code="low_voltage")
    assert mapping.status == "suggested" and mapping.suggested_by_id == cw_a.id
    assert skill_mappings.confirmed_readings(session) == {}  # not read so until an administrator confirms it
    suggested = _by_text(skill_mappings.queue(session=session, actor=admin, show="suggested"))
    assert suggested["懂一点水电"].mapping.suggested_code == "low_voltage"
    with pytest.raises(NotFound):  # office B has no file with this text
        skill_mappings.suggest_mapping(session=session, actor=cw_b, text="懂一点水电", skill_code="wiring")
    with pytest.raises(NotFound):  # caseworkers suggest; administrators decide
        skill_mappings.confirm_mapping(session=session, actor=cw_a, text="懂一点水电", skill_code="low_voltage")
    skill_mappings.confirm_mapping(session=session, actor=admin, text="懂一点水电", skill_code="low_voltage")
    assert skill_mappings.confirmed_readings(session) == {"懂一点水电": "low_voltage"}
    with pytest.raises(Invalid):  # decided: a suggestion does not reopen it
        skill_mappings.suggest_mapping(session=session, actor=cw_a, text="懂一点水电", skill_code="wiring")


def test_the_api_answers_bad_input_with_every_wrong_field(api, world, texts):
    admin = {"Authorization": f"Bearer {world.tokens['admin']}"}
    cw = {"Authorization": f"Bearer {world.tokens['cw_a']}"}
    listed = api.get("/api/v1/skill-texts", headers=cw)
    assert listed.status_code == 200
    row = next(item for item in listed.json if item["text_key"] == "会开三轮车")
    assert row["candidates"] == 2 and row["status"] == "pending" and row["how"] == "unknown"
    bad = api.post("/api/v1/skill-texts/readings", json={"text": "", "skill_code": "no_such"}, headers=admin)
    assert bad.status_code == 422 and "text" in bad.json["errors"]
    bad = api.post("/api/v1/skill-texts/readings", json={"text": "会开三轮车", "skill_code": "no_such"},
                   headers=admin)
    assert bad.status_code == 422 and "skill_code" in bad.json["errors"]
    assert api.post("/api/v1/skill-texts/readings", json={"text": "会开三轮车", "skill_code": "driving_c1"},
                    headers=cw).status_code == 404
    suggested = api.post("/api/v1/skill-texts/suggestions", json={"text": "会开三轮车", "skill_code": "driving_c1"},
                         headers=cw)
    assert suggested.status_code == 201 and suggested.json["status"] == "suggested"
    confirmed = api.post("/api/v1/skill-texts/readings", json={"text": "会开三轮车", "skill_code": None},
                         headers=admin)
    assert confirmed.status_code == 200 and confirmed.json["skill_code"] is None
    assert api.delete(f"/api/v1/skill-texts/readings/{confirmed.json['id']}", headers=admin).status_code == 204
    assert api.delete(f"/api/v1/skill-texts/readings/{confirmed.json['id']}", headers=admin).status_code == 404
