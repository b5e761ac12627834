"""Synthetic engine worlds (tables, referral history and a hidden ground truth) for tests and benchmarks.

Shaped like the demo city (matcher.demo.generator): a stay probability driven by skills, wished course,
travel beyond what the person accepts, housing, pay, the base's quality and a certificate; protected traits
play no part. The logging policy that produced the history mimics caseworkers: mostly a wished course,
mostly nearby. Deterministic for a seed; builds 100,000 candidates in about a second.

The hidden truth is a `WorldSpec`, chosen by `make_world(..., truth=...)`:

- "additive" (the default, and what every world was before truths had names): each fact adds to the logit on
  its own.
- "interactions": the interactions seen in real cities. Skills matter less for training seats (a course teaches
  them); needing housing matters only with distance (a person who lives near can commute); education matters for
  e-commerce (online-shop work is reading and typing); pay matters for jobs, while a training seat's stipend (补贴,
  paid during the course; some training slots carry one) has its own, smaller effect.
- "varied": the same kinds of interaction with strengths (and the logging policy's bias) drawn from the seed, so
  that no two worlds share one tuning (`WorldSpec.drawn`).

The logging policy stays biased in every truth: most referrals go to a wished course, to the nearest of a few
slots of that course. Options the default truth does not use (stipends) draw from their own random stream, so a
default world is the same for a seed as it always was.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from matcher.engine.features import haversine_km
from matcher.engine.types import Ban, CandidateTable, History, SlotTable

# code -> (name_zh, name_en, min_age, monthly pay, ((skill code, skill name_zh), ...)), as in seed/reference.
COURSES: dict[str, tuple[str, str, int, float, tuple[tuple[str, str], ...]]] = {
    "cooking": ("烹饪", "Cooking", 16, 4500, (("chinese_cooking", "中式烹调"), ("pastry", "面点制作"),
                                              ("food_hygiene", "食品卫生"), ("kitchen_helper", "厨房帮工"))),
    "auto_repair": ("汽修", "Auto repair", 18, 5000, (("engine_repair", "发动机维修"), ("car_maintenance", "汽车保养"),
                                                    ("tire_service", "轮胎更换"), ("auto_electrics", "汽车电路"))),
    "ecommerce": ("电商运营", "E-commerce operation", 16, 4800, (("live_streaming", "直播带货"),
                                                            ("online_store", "网店运营"),
                                                            ("customer_service", "客服"),
                                                            ("photo_editing", "商品拍摄修图"))),
    "housekeeping": ("家政服务", "Housekeeping", 18, 4200, (("cleaning", "保洁"), ("elder_care", "养老护理"),
                                                        ("childcare", "育婴"))),
    "electrician": ("电工", "Electrician", 18, 5500, (("low_voltage", "低压电工"), ("wiring", "室内布线"))),
    "welding": ("焊工", "Welding", 18, 6000, (("arc_welding", "电焊"), ("gas_welding", "气焊"))),
    "logistics": ("物流仓储", "Logistics and warehousing", 18, 5200, (("warehousing", "仓库管理"),
                                                                  ("sorting", "快递分拣"), ("delivery", "配送"),
                                                                  ("driving_c1", "C1驾驶"))),
    "hairdressing": ("美容美发", "Hairdressing", 16, 4000, (("haircut", "理发"), ("hair_coloring", "染烫"))),
    "greening": ("绿化园艺", "Greening and gardening", 18, 3800, (("pruning", "修剪养护"),
                                                               ("landscaping", "园林施工"))),
    "planting": ("种植养殖", "Planting and breeding", 18, 3600, (("crop_growing", "农作物种植"),
                                                              ("livestock", "畜禽养殖"))),
    "forklift": ("叉车驾驶", "Forklift driving", 18, 5300, (("forklift_operation", "叉车操作"),)),
    "construction": ("建筑施工", "Construction trades", 18, 6200, (("masonry", "砌筑"), ("carpentry", "木工"),
                                                               ("painting", "油漆涂装"))),
}
COURSE_WEIGHTS = np.array([16, 13, 12, 7, 7, 6, 11, 4, 5, 5, 6, 8], dtype=float)
GENERAL_SKILLS = (("computer_basics", "计算机基础"), ("sewing", "缝纫"), ("assembly", "流水线装配"),
                  ("security_guard", "保安"))
FREE_TEXT = ("会开三轮车", "懂一点水电", "做过保安", "流水线普工", "会用剪映剪视频", "搬运装卸", "外卖配送",
             "在厨房帮过工", "会修电动车", "做过网店客服")
CITY_CENTRE = (29.08, 119.65)
RANK_EFFECT = np.array([-0.6, 0.7, 0.35, 0.1])  # index = wish rank, 0: not wished


@dataclass(frozen=True)
class WorldSpec:
    """What makes placements last in one world (the hidden truth's logit) and how caseworkers referred.

    logit = -1.1 + skill_effect * match * (skill_on_training on a training seat, else 1) + RANK_EFFECT[wish]
            - 0.9 * (km beyond the travel limit) / 10
            - housing_effect * housing_gap * (min(1, km / housing_distance_km), or 1 when that is None)
            + education_ecommerce * (education / 6 - 0.4) on an e-commerce slot
            + pay_effect * (pay - 4,800) / 1,000 on a job + stipend_effect * stipend / 1,000 on a training seat
            + the base's hidden quality + 0.3 if the slot awards a certificate
    """

    name: str = "additive"
    skill_effect: float = 1.6
    skill_on_training: float = 1.0
    housing_effect: float = 1.0
    housing_distance_km: float | None = None
    education_ecommerce: float = 0.0
    pay_effect: float = 0.25
    stipend_share: float = 0.0  # share of training slots that pay a stipend (pay_mid on a training slot)
    stipend_effect: float = 0.0
    policy_wished: float = 0.8  # share of history referrals to one of the person's wished courses
    policy_draws: int = 3  # the referral goes to the nearest of this many slots of the chosen course

    @classmethod
    def drawn(cls, seed: int) -> WorldSpec:
        """Interactions of the "interactions" kind with strengths drawn from `seed` (the "varied" truth)."""
        rng = np.random.default_rng([int(seed), 4242])
        return cls(name="varied", skill_effect=float(rng.uniform(1.2, 2.2)),
                   skill_on_training=float(rng.uniform(0.0, 0.6)), housing_effect=float(rng.uniform(1.2, 2.5)),
                   housing_distance_km=float(rng.uniform(8, 30)), education_ecommerce=float(rng.uniform(1.0, 3.5)),
                   pay_effect=float(rng.uniform(0.15, 0.5)), stipend_share=float(rng.uniform(0.3, 0.8)),
                   stipend_effect=float(rng.uniform(0.3, 0.9)), policy_wished=float(rng.uniform(0.65, 0.9)),
                   policy_draws=int(rng.integers(2, 5)))


TRUTHS: dict[str, WorldSpec] = {
    "additive": WorldSpec(),
    "interactions": WorldSpec(name="interactions", skill_on_training=0.25, housing_effect=1.8,
                              housing_distance_km=15.0, education_ecommerce=2.5, pay_effect=0.35,
                              stipend_share=0.5, stipend_effect=0.6),
}
ECOMMERCE = list(COURSES).index("ecommerce")


def world_spec(truth: str | WorldSpec, seed: int = 0) -> WorldSpec:
    """The WorldSpec a `truth` argument names ("additive", "interactions", "varied": drawn from the seed)."""
    if isinstance(truth, WorldSpec):
        return truth
    if truth == "varied":
        return WorldSpec.drawn(seed)
    if truth not in TRUTHS:
        raise ValueError(f"truth must be a WorldSpec or one of {[*TRUTHS, 'varied']}, not {truth!r}")
    return TRUTHS[truth]


@dataclass(frozen=True)
class World:
    candidates: CandidateTable
    slots: SlotTable
    history: History
    today: int
    taxonomy: dict[str, str | None]
    skill_names: dict[str, str]
    course_names: dict[str, tuple[str, str]]
    base_quality: np.ndarray  # per slot: the hidden quality (logit) of its base
    _held: np.ndarray  # bool [n, k] skill held (any level)
    _required: np.ndarray  # bool [m, k]
    _wish_rank: np.ndarray  # int8 [n, n_courses + 1]
    _slot_course: np.ndarray  # int [m]
    spec: WorldSpec = WorldSpec()  # the hidden truth

    def stay_probability(self, candidate_index, slot_index) -> np.ndarray:
        """The hidden truth: what makes a placement last the horizon (no protected trait plays a part)."""
        ci, si = np.asarray(candidate_index, np.int64), np.asarray(slot_index, np.int64)
        c, s, spec = self.candidates, self.slots, self.spec
        required = self._required[si]
        match = (required & self._held[ci]).sum(axis=1) / np.maximum(1, required.sum(axis=1))
        training = s.is_training[si]
        rank = self._wish_rank[ci, self._slot_course[si]]
        distance = haversine_km(c.lat[ci], c.lng[ci], s.lat[si], s.lng[si])
        over = np.maximum(0.0, distance - c.max_travel_km[ci]) / 10
        housing_gap = (c.needs_housing[ci] & ~s.housing_provided[si]).astype(float)
        if spec.housing_distance_km is not None:
            housing_gap = housing_gap * np.minimum(1.0, distance / spec.housing_distance_km)
        money = np.nan_to_num(s.pay_mid[si])
        pay = np.where(training, spec.stipend_effect * money / 1000,
                       np.where(np.isfinite(s.pay_mid[si]), spec.pay_effect * (money - 4800) / 1000, 0.0))
        education = np.where(self._slot_course[si] == ECOMMERCE,
                             spec.education_ecommerce * (c.education[ci] / 6 - 0.4), 0.0)
        logit = (-1.1 + spec.skill_effect * match * np.where(training, spec.skill_on_training, 1.0)
                 + RANK_EFFECT[rank] - 0.9 * over - spec.housing_effect * housing_gap + pay + education
                 + self.base_quality[si] + 0.3 * s.certificate_awarded[si])
        return 1 / (1 + np.exp(-logit))


def make_world(seed: int = 0, n_candidates: int = 2000, n_slots: int = 300, n_history: int = 3000, *,
               today: int | None = None, ban_share: float = 0.03, truth: str | WorldSpec = "additive") -> World:
    """A random city. History referrals are spread over the 1,100 days before `today - 100`. `truth` names the
    hidden truth (see the module's docstring and `WorldSpec`)."""
    spec = world_spec(truth, seed)
    rng = np.random.default_rng(seed)
    today = today if today is not None else dt.date(2026, 3, 1).toordinal()
    courses = list(COURSES)
    skill_codes = [code for c in courses for code, _ in COURSES[c][4]] + [code for code, _ in GENERAL_SKILLS]
    skill_index = {code: i for i, code in enumerate(skill_codes)}
    taxonomy = {code: c for c in courses for code, _ in COURSES[c][4]} | {code: None for code, _ in GENERAL_SKILLS}
    skill_names = {code: name for c in courses for code, name in COURSES[c][4]} | dict(GENERAL_SKILLS)
    course_skills = [np.array([skill_index[code] for code, _ in COURSES[c][4]]) for c in courses]
    n, m, k, nc = n_candidates, n_slots, len(skill_codes), len(courses)

    # ---- candidates --------------------------------------------------------------------------
    weights = COURSE_WEIGHTS / COURSE_WEIGHTS.sum()
    n_wishes = rng.choice([1, 2, 3], size=n, p=[0.45, 0.40, 0.15])
    wish_draw = np.stack([rng.choice(nc, size=n, p=weights) for _ in range(3)], axis=1)
    wishes: list[tuple[str, ...]] = []
    wish_rank = np.zeros((n, nc + 1), dtype=np.int8)
    for r in range(n):
        seen: list[int] = []
        for w in wish_draw[r, :n_wishes[r]]:
            if w not in seen:
                seen.append(int(w))
        wishes.append(tuple(courses[w] for w in seen))
        for rank, w in enumerate(seen, start=1):
            wish_rank[r, w] = rank
    levels = np.zeros((n, k), dtype=np.int8)
    for slot_wish in range(2):
        has = (n_wishes > slot_wish) & (rng.random(n) < 0.55)
        for r in np.flatnonzero(has):
            options = course_skills[wish_draw[r, slot_wish]]
            levels[r, options[rng.integers(len(options))]] = rng.choice([1, 2, 3, 4], p=[0.35, 0.35, 0.22, 0.08])
    extra = rng.random(n) < 0.4
    extra_skill = rng.integers(0, k, size=n)
    levels[extra, extra_skill[extra]] = np.maximum(levels[extra, extra_skill[extra]],
                                                   rng.integers(1, 4, size=int(extra.sum())))
    skills = tuple({skill_codes[j]: int(levels[r, j]) for j in np.flatnonzero(levels[r])} for r in range(n))
    certified_draw = rng.random(n) < 0.2
    certified = tuple(frozenset([next(iter(s))]) if s and certified_draw[r] else frozenset()
                      for r, s in enumerate(skills))
    free_text_draw = rng.integers(0, len(FREE_TEXT), size=n)
    has_text = rng.random(n) < 0.15
    free_text = tuple((FREE_TEXT[free_text_draw[r]],) if has_text[r] else () for r in range(n))
    ban_draw = rng.random(n) < ban_share
    bans = []
    for r in range(n):
        if not ban_draw[r]:
            bans.append(())
        elif rng.random() < 0.3:
            bans.append((Ban(kind="food_safety", courses=frozenset({"cooking"})),))
        else:
            until = today + int(rng.integers(-365, 730))
            bans.append((Ban(kind="court_order", courses=frozenset({courses[rng.integers(nc)]}), until=until),))
    candidates = CandidateTable(
        ids=np.arange(1, n + 1, dtype=np.int64) * 7,
        lat=CITY_CENTRE[0] + rng.normal(0, 0.12, n),
        lng=CITY_CENTRE[1] + rng.normal(0, 0.14, n),
        max_travel_km=rng.choice([5.0, 10.0, 15.0, 20.0, 30.0, 50.0], size=n),
        needs_housing=rng.random(n) < 0.2,
        education=rng.choice(7, size=n, p=[0.03, 0.18, 0.45, 0.18, 0.10, 0.05, 0.01]).astype(np.int8),
        birth_year=rng.integers(1963, 2005, size=n).astype(np.int16),
        available_from=today - rng.integers(-60, 1600, size=n).astype(np.int64),
        active=rng.random(n) < 0.97,
        skills=skills,
        free_text_skills=free_text,
        certified_skills=certified,
        preferred_courses=tuple(wishes),
        bans=tuple(bans),
    )

    # ---- bases and slots ---------------------------------------------------------------------
    n_bases = max(3, m // 7)
    base_lat = CITY_CENTRE[0] + rng.normal(0, 0.12, n_bases)
    base_lng = CITY_CENTRE[1] + rng.normal(0, 0.14, n_bases)
    quality = rng.normal(0, 0.5, n_bases)
    base_placements = rng.poisson(12, n_bases).astype(float) * (rng.random(n_bases) < 0.85)
    base_stayed = rng.binomial(base_placements.astype(int), 1 / (1 + np.exp(-(-0.3 + quality)))).astype(float)
    base_courses = rng.choice(nc, size=(n_bases, 2), p=weights)
    base_of = rng.integers(0, n_bases, size=m)
    slot_course = base_courses[base_of, rng.integers(0, 2, size=m)]
    is_training = rng.random(m) < 0.35
    required_levels = np.zeros((m, k), dtype=np.int8)
    required: list[dict[str, int]] = []
    for r in range(m):
        options = course_skills[slot_course[r]]
        chosen = rng.choice(options, size=min(len(options), int(rng.integers(1, 4))), replace=False)
        required_levels[r, chosen] = rng.integers(1, 4, size=len(chosen))
        required.append({skill_codes[j]: int(required_levels[r, j]) for j in chosen})
    pay = np.array([COURSES[courses[c]][3] for c in slot_course]) * rng.uniform(0.9, 1.2, m)
    titles = tuple(f"{COURSES[courses[c]][0]}培训班" if t else f"{COURSES[courses[c]][0]}岗位"
                   for c, t in zip(slot_course, is_training, strict=True))
    free_required_draw = rng.random(m) < 0.3
    # Stipends come from their own stream, so that the default truth's worlds stay what they were for a seed.
    extra = np.random.default_rng([int(seed), 17])
    stipend = np.where(extra.random(m) < spec.stipend_share, np.round(extra.uniform(500, 2000, m), -2), np.nan)
    slots = SlotTable(
        ids=np.arange(1, m + 1, dtype=np.int64) * 3,
        company_ids=base_of.astype(np.int64) + 1000,
        lat=base_lat[base_of] + rng.normal(0, 0.007, m),
        lng=base_lng[base_of] + rng.normal(0, 0.008, m),
        is_training=is_training,
        course=tuple(courses[c] for c in slot_course),
        occupation=tuple(None for _ in range(m)),
        required_skills=tuple(required),
        free_text_required=tuple(("有相关经验优先",) if f else () for f in free_required_draw),
        title=titles,
        seats_free=np.where(rng.random(m) < 0.05, 0, rng.integers(1, 9, size=m)).astype(np.int32),
        housing_provided=rng.random(m) < 0.4,
        pay_mid=np.where(is_training, stipend, np.round(pay, -2)),
        certificate_awarded=is_training & (rng.random(m) < 0.8),
        min_age=np.array([COURSES[courses[c]][2] for c in slot_course], dtype=np.int16),
        starts_on=today + rng.integers(-30, 61, size=m).astype(np.int64),
        open=rng.random(m) < 0.95,
        base_in_force=rng.random(n_bases)[base_of] < 0.95,
        base_placements=base_placements[base_of],
        base_stayed=base_stayed[base_of],
    )
    world = World(candidates=candidates, slots=slots, history=History(*(np.zeros(0, np.int64),) * 3,
                                                                         np.zeros(0, bool)),
                  today=today, taxonomy=taxonomy, skill_names=skill_names,
                  course_names={c: (COURSES[c][0], COURSES[c][1]) for c in courses}, base_quality=quality[base_of],
                  _held=levels > 0, _required=required_levels > 0, _wish_rank=wish_rank, _slot_course=slot_course,
                  spec=spec)
    if n_history <= 0 or m == 0:
        return world
    # ---- referral history: the caseworkers' logging policy -------------------------------------
    hc = rng.integers(0, n, size=n_history)
    wished = rng.random(n_history) < spec.policy_wished
    pick = rng.integers(0, 3, size=n_history) % np.maximum(1, n_wishes[hc])
    course = np.where(wished, wish_draw[hc, pick], rng.choice(nc, size=n_history, p=weights))
    hs = np.full(n_history, -1, dtype=np.int64)
    for c in range(nc):
        rows = np.flatnonzero(course == c)
        options = np.flatnonzero(slot_course == c)
        if not len(rows):
            continue
        if not len(options):
            options = np.arange(m)
        draws = options[rng.integers(0, len(options), size=(len(rows), spec.policy_draws))]
        d = haversine_km(candidates.lat[hc[rows], None], candidates.lng[hc[rows], None],
                         slots.lat[draws], slots.lng[draws])
        hs[rows] = draws[np.arange(len(rows)), d.argmin(axis=1)]
    p = world.stay_probability(hc, hs)
    referred_on = np.sort(today - 100 - rng.integers(0, 1100, size=n_history)).astype(np.int64)
    history = History(candidate_index=hc.astype(np.int64), slot_index=hs, referred_on=referred_on,
                      stayed=rng.random(n_history) < p)
    return World(**{**world.__dict__, "history": history})
