"""The recommendations page's open slots, built once per version of the data: never stale, same scores."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from matcher import clock
from matcher.bases.models import CertificationStatus
from matcher.candidates.models import Candidate
from matcher.engine.ranking import rank_slots
from matcher.matching import pipeline
from matcher.matching.service import recommend_slots
from matcher.matching.service.registry import active_scorer
from matcher.slots.models import SlotStatus
from matcher.slots.service import take_seats


def _slot_ids(session, world) -> set[int]:
    page = recommend_slots(session=session, actor=world.accounts["cw_a"], candidate_id=world.cand_a.id, limit=50)
    return {item.slot.id for item in page.items}


def test_nothing_changed_the_open_slots_are_not_built_again(session, world):
    first = pipeline.open_slot_side(session, pipeline.open_slots(), key=("t",))
    assert pipeline.open_slot_side(session, pipeline.open_slots(), key=("t",)) is first
    assert pipeline.open_slot_side(session, pipeline.open_slots(), key=("t",), horizon_days=30) is not first


@pytest.mark.parametrize("change", ["closed", "filled", "base suspended", "seats freed", "slot edited"])
def test_a_change_shows_at_once(session, world, kit, change):
    assert _slot_ids(session, world) == {world.slot_a.id, world.slot_b.id}
    slot = world.slot_a
    if change == "closed":
        slot.status = SlotStatus.CLOSED
    elif change == "filled":
        assert take_seats(session, slot.id, slot.seats)
    elif change == "base suspended":
        slot.company.certification_status = CertificationStatus.SUSPENDED
    elif change == "seats freed":
        assert take_seats(session, slot.id, slot.seats)
        session.commit()
        assert _slot_ids(session, world) == {world.slot_b.id}
        slot.seats_taken = slot.seats - 1
    else:
        slot.title = "面点师"
    session.commit()
    if change == "slot edited":
        page = recommend_slots(session=session, actor=world.accounts["cw_a"], candidate_id=world.cand_a.id)
        assert "面点师" in {item.slot.title for item in page.items}
        assert pipeline.open_slot_side(session, pipeline.open_slots(), key=("recommend_slots",)).rows.table.title \
            == ("面点师", world.slot_b.title)
    elif change == "seats freed":
        assert _slot_ids(session, world) == {world.slot_a.id, world.slot_b.id}
    else:
        assert _slot_ids(session, world) == {world.slot_b.id}


def test_a_new_slot_shows_at_once(session, world, kit):
    before = _slot_ids(session, world)
    new = kit.new_slot(session, world.accounts["emp_a"], title="面点")
    assert _slot_ids(session, world) == before | {new.id}


def test_cached_scores_are_the_scores_built_afresh(session, world, kit):
    """Several candidates (one with free-text skills new to the slots): the page's scores are those of tables and
    a featurizer built from scratch for that candidate."""
    texted = kit.new_candidate(session, world.accounts["cw_a"], residence=kit.CHOUCHENG, seq=71,
                               skills=[{"free_text": "会做面点和川菜"}])
    plain = kit.new_candidate(session, world.accounts["cw_a"], residence=kit.CHOUCHENG, seq=72, skills=[],
                              preferred_courses=["auto_repair"])
    kit.new_slot(session, world.accounts["emp_b"], title="川菜厨师")
    scorer, _version = active_scorer(session)
    for candidate in (world.cand_a, texted, plain):
        page = recommend_slots(session=session, actor=world.accounts["cw_a"], candidate_id=candidate.id, limit=50,
                               order="score")
        fresh = pipeline.load(session, select(Candidate).where(Candidate.id == candidate.id), pipeline.open_slots(),
                              horizon_days=scorer.horizon_days)
        assert fresh.slot_side is None
        ranked = rank_slots(scorer, fresh.featurizer, fresh.candidates.table, fresh.slots.table, 0,
                            clock.today().toordinal(), limit=50, order="score")
        assert len(page.items) == 3
        assert [item.slot.id for item in page.items] == [int(fresh.slots.table.ids[i]) for i in ranked.index]
        np.testing.assert_allclose([item.score for item in page.items], ranked.score, rtol=1e-9)


def test_the_cache_keeps_the_latest_few_filter_sets(session, world):
    for n in range(pipeline.OPEN_SLOTS_KEPT + 3):
        pipeline.open_slot_side(session, pipeline.open_slots(), key=("filters", n))
    assert len(pipeline._open_slots) == pipeline.OPEN_SLOTS_KEPT
    assert [key[1] for key in pipeline._open_slots] == [("filters", n) for n in range(3, pipeline.OPEN_SLOTS_KEPT + 3)]


def test_threads_asking_at_once_share_one_entry(app, session, world):
    """Gunicorn's threads: each asks with its own session; all get the same slots, and one entry is kept."""
    import threading

    from matcher.extensions import db

    got, failed = [], []

    def ask():
        try:
            with app.app_context():
                got.append(pipeline.open_slot_side(db.session, pipeline.open_slots(), key=("threads",)))
                db.session.remove()
        except Exception as exc:  # noqa: BLE001 - reported below, a thread's exception would be lost
            failed.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failed
    assert len(got) == 6 and all(list(g.rows.table.ids) == [world.slot_a.id, world.slot_b.id] for g in got)
    assert [key[1] for key in pipeline._open_slots] == [("threads",)]
    kept = pipeline.open_slot_side(session, pipeline.open_slots(), key=("threads",))
    assert any(kept is g for g in got)  # one of the threads' builds, not a new one
