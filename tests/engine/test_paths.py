"""Course, then job (engine.paths) and the person's own utility (engine.ranking, order "wish"), on hand-made tables."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from matcher.engine.eligibility import AVAILABILITY_GRACE_DAYS, eligible_mask
from matcher.engine.features import PAY_REFERENCE_CNY, PairFeaturizer
from matcher.engine.model import FEATURE_NAMES, TrainedScorer, rule_prior, score
from matcher.engine.paths import INTRODUCED_LEVEL, after_course, course_end, follow_ons, opened_jobs, taught_skills
from matcher.engine.ranking import UTILITY_WEIGHTS, rank_slots, utility, utility_parts
from matcher.engine.types import CandidateTable, SlotTable

TODAY = 739_000
TAXONOMY = {"chinese_cooking": "cooking", "pastry": "cooking", "food_hygiene": "cooking", "arc_welding": "welding"}
NAMES = {"chinese_cooking": "中式烹调", "pastry": "面点制作", "food_hygiene": "食品卫生", "arc_welding": "电焊"}
COURSE_END = TODAY + 64  # the training slot's last day (row 0)


def _tables() -> tuple[CandidateTable, SlotTable]:
    """One person (wishes cooking; holds food hygiene only) and seven slots: row 0 the cooking course, then jobs."""
    candidates = CandidateTable(
        ids=np.array([5]), lat=np.array([29.0]), lng=np.array([119.6]), max_travel_km=np.array([20.0]),
        needs_housing=np.array([False]), education=np.array([3], np.int8), birth_year=np.array([1990], np.int16),
        available_from=np.array([TODAY - 30]), active=np.array([True]), skills=({"food_hygiene": 3},),
        free_text_skills=((),), certified_skills=(frozenset(),), preferred_courses=(("cooking",),), bans=((),))
    n = 7
    near = 29.0 + 5 / 111.195  # 5 km north
    slots = SlotTable(
        ids=np.array([1, 2, 3, 4, 5, 6, 7]), company_ids=np.array([1, 2, 2, 3, 3, 4, 4]),
        lat=np.array([29.0, near, near, near, 29.0, near, 29.3]), lng=np.full(n, 119.6),
        is_training=np.array([True, False, False, False, False, False, False]),
        course=("cooking", "cooking", None, "cooking", "welding", "cooking", None), occupation=(None,) * n,
        # 0 teaches Chinese cooking at level 2; 1 needs it; 2 needs pastry (the course's family); 3 is a cooking job
        # that starts 20 days before the course ends; 4 welding; 5 a cooking job that is closed; 6 needs pastry too.
        required_skills=({"chinese_cooking": 2}, {"chinese_cooking": 2}, {"pastry": 1}, {"chinese_cooking": 1},
                         {"arc_welding": 2}, {"chinese_cooking": 1}, {"pastry": 2}),
        free_text_required=((),) * n, title=("烹饪培训班", "中式烹调师", "面点师", "厨师", "焊工", "帮厨", "面点"),
        seats_free=np.full(n, 2, np.int32), housing_provided=np.zeros(n, bool),
        pay_mid=np.array([np.nan, 6000.0, 4800.0, 5000.0, 7000.0, 5000.0, np.nan]),
        certificate_awarded=np.array([True, False, False, False, False, False, False]),
        min_age=np.full(n, 16, np.int16),
        starts_on=np.array([TODAY + 5, COURSE_END + 10, COURSE_END - 5, COURSE_END - 20, COURSE_END + 20,
                            COURSE_END + 5, COURSE_END + 30]),
        open=np.array([True, True, True, True, True, False, True]), base_in_force=np.ones(n, bool),
        base_placements=np.zeros(n), base_stayed=np.zeros(n))
    return candidates, slots


@pytest.fixture(scope="module")
def tables():
    return _tables()


@pytest.fixture(scope="module")
def prior():
    return TrainedScorer(kind="prior", estimator=rule_prior(), feature_names=FEATURE_NAMES, metrics={},
                         training_data_hash="", horizon_days=90, propensity="", created_at="")


def _featurize(slots):
    return lambda candidates: PairFeaturizer(candidates, slots, taxonomy=TAXONOMY, skill_names=NAMES)


def test_the_course_end_is_the_run_the_person_joins():
    runs = [(TODAY - 60, TODAY - 1), (TODAY + 20, TODAY + 79), (TODAY + 100, None)]
    # Available now: the intake that ended yesterday began too long ago; the next one it is.
    assert course_end(runs, TODAY - 200, TODAY, 60) == TODAY + 79
    # Available later than every intake but the last, which has no end: it lasts the course's length.
    assert course_end(runs, TODAY + 90, TODAY, 60) == TODAY + 100 + 59
    # A run that began within the grace is still joined (as eligibility lets a person join it).
    assert course_end([(TODAY - AVAILABILITY_GRACE_DAYS, TODAY + 10)], TODAY, TODAY, 60) == TODAY + 10
    with pytest.raises(ValueError):
        course_end([], TODAY, TODAY, 60)


def test_after_the_course_the_person_holds_and_is_certified_in_what_it_teaches(tables):
    candidates, slots = tables
    taught = taught_skills(slots, 0, TAXONOMY)
    assert taught == {"chinese_cooking": 2, "pastry": INTRODUCED_LEVEL, "food_hygiene": INTRODUCED_LEVEL}
    after = after_course(candidates, np.array([0, 0]), slots, np.array([0, 0]), np.array([COURSE_END, TODAY]),
                         TAXONOMY)
    assert len(after) == 2
    # A skill already held keeps its higher level; the certificate covers what the slot lists.
    assert after.skills[0] == {"food_hygiene": 3, "chinese_cooking": 2, "pastry": INTRODUCED_LEVEL}
    assert after.certified_skills[0] == frozenset({"chinese_cooking"})
    assert after.available_from.tolist() == [COURSE_END + 1, TODAY + 1]
    assert after.preferred_courses == candidates.preferred_courses * 2
    assert after.lat.tolist() == [29.0, 29.0] and after.max_travel_km.tolist() == [20.0, 20.0]
    # No certificate awarded: the skills are taught, none certified.
    no_certificate = dataclasses.replace(slots, certificate_awarded=np.zeros(len(slots), bool))
    assert after_course(candidates, np.array([0]), no_certificate, np.array([0]), np.array([COURSE_END]),
                        TAXONOMY).certified_skills[0] == frozenset()


def test_the_course_opens_the_eligible_jobs_of_its_trade_that_start_after_it(tables, prior):
    candidates, slots = tables
    assert set(opened_jobs(slots, slots, 0, TAXONOMY).tolist()) == {1, 2, 3, 5, 6}  # welding (4) is not its trade
    [path] = follow_ons(prior, _featurize(slots), candidates, slots, np.array([0]), np.array([0]),
                        np.array([COURSE_END]), TODAY, taxonomy=TAXONOMY, p_course=np.array([0.6]), top=5)
    # 3 starts 20 days before the course ends (eligibility's grace would let the person join it late; a job after
    # the course starts in its last week or later), 5 is closed: left out. 2 starts in the last week: kept.
    after = after_course(candidates, np.array([0]), slots, np.array([0]), np.array([COURSE_END]), TAXONOMY)
    assert eligible_mask(after, slots, np.array([0]), np.array([3]), TODAY).all()
    assert set(path.jobs.tolist()) == {1, 2, 6} and path.opened == 3
    expected = score(prior, _featurize(slots)(after), np.zeros(len(path.jobs), np.int64), path.jobs)
    np.testing.assert_allclose(path.p_jobs, expected)
    assert (np.diff(path.p_jobs) <= 0).all()
    assert path.value == pytest.approx(0.6 * path.p_jobs[0]) and path.best_job == path.p_jobs[0]
    # What the course teaches raises the chance in the job that needs it (monotone in skill match).
    before = score(prior, _featurize(slots)(candidates), np.array([0]), np.array([1]))[0]
    assert path.p_jobs[path.jobs.tolist().index(1)] > before
    # `top` keeps the best; the same call twice gives the same order.
    [short] = follow_ons(prior, _featurize(slots), candidates, slots, np.array([0]), np.array([0]),
                         np.array([COURSE_END]), TODAY, taxonomy=TAXONOMY, p_course=np.array([0.6]), top=1)
    assert short.jobs.tolist() == path.jobs[:1].tolist() and short.opened == 3


def test_a_course_ending_later_opens_fewer_jobs_and_none_is_worth_nothing(tables, prior):
    candidates, slots = tables
    paths = follow_ons(prior, _featurize(slots), candidates, slots, np.array([0, 0]), np.array([0, 0]),
                       np.array([COURSE_END, COURSE_END + 200]), TODAY, taxonomy=TAXONOMY)
    assert paths[0].opened == 3 and paths[1].opened == 0
    assert paths[1].value == 0.0 and len(paths[1].jobs) == 0
    # Scored here when not given: the training seat's own score.
    own = score(prior, _featurize(slots)(candidates), np.array([0]), np.array([0]))[0]
    assert paths[0].p_course == pytest.approx(own)


def test_utility_parts_are_the_documented_ones(tables):
    candidates, slots = tables
    f = _featurize(slots)(candidates)
    rows = np.arange(len(slots))
    parts = utility_parts(f, np.zeros(len(slots), np.int64), rows)
    # Wish: the first wished course, job or training; none for welding or a slot without a course.
    assert parts["wish"].tolist() == [1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0]
    # Pay over twice the usual pay; a training seat and pay not stated count as usual (0.5).
    assert parts["pay"].tolist() == pytest.approx([0.5, 6000 / (2 * PAY_REFERENCE_CNY), 0.5, 5000 / 9600,
                                                   7000 / 9600, 5000 / 9600, 0.5])
    # Near: 1 at home, 5 km of a 20 km limit 0.75, beyond the limit (33 km) 0.
    assert parts["near"].tolist() == pytest.approx([1.0, 0.75, 0.75, 0.75, 1.0, 0.75, 0.0], abs=1e-3)
    u = utility(parts)
    assert u.tolist() == pytest.approx((0.5 * parts["wish"] + 0.25 * parts["pay"] + 0.25 * parts["near"]).tolist())
    assert sum(UTILITY_WEIGHTS.values()) == pytest.approx(1.0)


def test_the_wish_order_ranks_by_utility_times_the_score(tables, prior):
    candidates, slots = tables
    f = _featurize(slots)(candidates)
    ranked = rank_slots(prior, f, candidates, slots, 0, TODAY, limit=10, order="wish")
    keys = ranked.utility * ranked.score
    assert (np.diff(keys) <= 1e-12).all()
    assert set(ranked.utility_parts) == set(UTILITY_WEIGHTS)
    by_fit = rank_slots(prior, f, candidates, slots, 0, TODAY, limit=10, order="fit")
    assert by_fit.utility is None and sorted(by_fit.index.tolist()) == sorted(ranked.index.tolist())
    # Welding (not wished) falls behind every wished cooking slot, whatever its score.
    order = ranked.index.tolist()
    assert all(order.index(4) > order.index(row) for row in (0, 1, 3) if row in order)


def _world() -> tuple[CandidateTable, SlotTable]:
    """Three people (free text, certificates, wishes) and the seven slots, plus two more courses: a second cooking
    seat teaching the same (so two seats share their person after the course), and a welding course without a
    certificate; and a job needing what only the welding course teaches."""
    one, slots = _tables()
    candidates = CandidateTable(
        ids=np.array([5, 6, 7]), lat=np.array([29.0, 29.05, 29.2]), lng=np.array([119.6, 119.65, 119.6]),
        max_travel_km=np.array([20.0, 40.0, 10.0]), needs_housing=np.array([False, True, False]),
        education=np.array([3, 1, 5], np.int8), birth_year=np.array([1990, 1985, 2000], np.int16),
        available_from=np.array([TODAY - 30, TODAY + 10, TODAY]), active=np.array([True, True, True]),
        skills=({"food_hygiene": 3}, {"chinese_cooking": 4, "arc_welding": 1}, {}),
        free_text_skills=((), ("会做面点", "电焊"), ("厨房帮工",)),
        certified_skills=(frozenset(), frozenset({"arc_welding"}), frozenset()),
        preferred_courses=(("cooking",), ("welding", "cooking"), ()), bans=((), (), ()))
    extra = {"ids": [8, 9, 10], "company_ids": [5, 6, 6], "lat": [29.01, 29.02, 29.03], "lng": [119.6] * 3,
             "is_training": [True, True, False], "course": ("cooking", "welding", None),
             "occupation": (None,) * 3, "required_skills": ({"chinese_cooking": 2}, {"arc_welding": 3},
                                                            {"arc_welding": 3}),
             "free_text_required": ((), (), ("焊接",)), "title": ("烹饪班二", "焊工培训", "电焊工"),
             "seats_free": [3, 3, 1], "housing_provided": [True, False, True],
             "pay_mid": [np.nan, np.nan, 8000.0], "certificate_awarded": [True, False, False],
             "min_age": [16] * 3, "starts_on": [TODAY + 5, TODAY + 3, COURSE_END + 40], "open": [True] * 3,
             "base_in_force": [True] * 3, "base_placements": [4.0, 0.0, 10.0], "base_stayed": [3.0, 0.0, 2.0]}
    columns = {}
    for name, value in vars(slots).items():
        if isinstance(value, np.ndarray):
            columns[name] = np.concatenate([value, np.asarray(extra[name], value.dtype)])
        elif name in extra:
            columns[name] = (*value, *extra[name])
    return candidates, dataclasses.replace(slots, **columns)


def test_the_derived_people_after_their_courses_score_as_the_plain_ones(prior):
    """The paths with the person's own features given (derived after the course, seats sharing a person scored
    once) are exactly the paths featurized afresh: the same jobs, scores, values and counts."""
    from matcher.engine.slot_side import SlotSide

    candidates, slots = _world()
    side = SlotSide(slots, taxonomy=TAXONOMY, skill_names=NAMES)
    # Every person on every course (rows 0, 7 teach the same; 8 teaches welding, certifying nothing), two ends each.
    ci = np.repeat(np.arange(3), 6)
    si = np.tile(np.array([0, 7, 8, 0, 7, 8]), 3)
    ends = np.tile(np.array([COURSE_END, COURSE_END, COURSE_END, TODAY + 2, COURSE_END + 30, TODAY + 2]), 3)
    for featurize in (_featurize(slots), side.featurizer):
        plain = follow_ons(prior, featurize, candidates, slots, ci, si, ends, TODAY, taxonomy=TAXONOMY, top=10)
        fast = follow_ons(prior, featurize, candidates, slots, ci, si, ends, TODAY, taxonomy=TAXONOMY, top=10,
                          features=featurize(candidates))
        assert sum(p.opened for p in plain) > 10  # the world opens jobs to compare
        for a, b in zip(plain, fast, strict=True):
            assert (a.course_row, a.course_end, a.opened) == (b.course_row, b.course_end, b.opened)
            assert a.jobs.tolist() == b.jobs.tolist()
            np.testing.assert_array_equal(a.p_jobs, b.p_jobs)
            assert a.p_course == b.p_course and a.value == b.value


def test_the_derived_features_are_the_plain_features_column_for_column():
    """after_course_features: every feature of every (person after a course, slot) pair, against featurizing the
    people after their courses afresh, through the plain featurizer and the cached slot side alike."""
    from matcher.engine.paths import after_course_features, certified_by
    from matcher.engine.slot_side import SlotSide

    candidates, slots = _world()
    ci, si = np.array([0, 1, 2, 1, 0]), np.array([0, 8, 7, 0, 8])
    ends = np.full(5, COURSE_END)
    after = after_course(candidates, ci, slots, si, ends, TAXONOMY)
    taught = [taught_skills(slots, s, TAXONOMY) for s in si]
    certified = [certified_by(slots, s, TAXONOMY) for s in si]
    pairs_c, pairs_s = np.repeat(np.arange(5), len(slots)), np.tile(np.arange(len(slots)), 5)
    for featurize in (_featurize(slots), SlotSide(slots, taxonomy=TAXONOMY, skill_names=NAMES).featurizer):
        derived = after_course_features(featurize(candidates), after, ci, taught, certified)
        np.testing.assert_array_equal(derived.features(pairs_c, pairs_s), featurize(after).features(pairs_c, pairs_s))
        np.testing.assert_array_equal(derived.required_held(pairs_c, pairs_s),
                                      featurize(after).required_held(pairs_c, pairs_s))
