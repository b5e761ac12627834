"""Pairwise features of (candidate, slot): what the scoring model, the rule prior and the explanations see.

Only the documented inputs of `CandidateTable` / `SlotTable` feed a feature. Birth year, which the tables
carry for the legal minimum-age check, is never read here; protected traits are not in the tables at all.

Everything is precomputed per table in `PairFeaturizer.__init__` (sparse skill and text matrices, course
ranks, coordinates in radians), so `features` is a handful of vectorised gathers and sparse row dots:
no Python loop over pairs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import scipy.sparse as sp

from matcher.engine.skill_text import SkillTextMap, is_text_key
from matcher.engine.types import EDUCATION_LEVELS, CandidateTable, SlotTable

FEATURE_NAMES: tuple[str, ...] = (
    "skill_match",  # share of required skills held, level-aware (partial credit), taxonomy-aware; free text
    # read onto the taxonomy (skill_text), a requirement left as text is met only by the same text, else unknown
    "text_match",  # char 1-2-gram TF-IDF cosine: free-text skills vs slot title / free text / skill names
    "certified_skill",  # 1 if the candidate holds a certificate for one of the required skills
    "course_rank",  # 1.0 first wish, 0.66 second, 0.33 third, 0 not wished (or no course)
    "distance_km",  # great-circle distance from the residence (NaN when a coordinate is unknown)
    "over_travel_km",  # max(0, distance - max_travel_km)
    "housing_gap",  # 1 if the candidate needs housing and the slot provides none
    "pay",  # a job: (monthly pay mid - reference) / 1000 CNY; a training seat: its stipend (补贴) / 1000 CNY, the
    # money paid during the course against none; 0 for unknown pay or a course without a stipend
    "education",  # ordinal level / 6
    "certificate_subsidy",  # the (training) slot awards a certificate: training subsidy eligible
    "base_stay_rate",  # the base's smoothed share of earlier placements that stayed the horizon
    "is_training",  # training slot (1) or job slot (0)
)

# +1: the score may only rise with the feature, -1: only fall, 0: unconstrained. Common sense, enforced in
# the learned model via HistGradientBoosting's `monotonic_cst` (isotonic calibration keeps it).
MONOTONE: dict[str, int] = {
    "skill_match": 1,
    "text_match": 1,
    "certified_skill": 1,
    "course_rank": 1,
    "distance_km": -1,
    "over_travel_km": -1,
    "housing_gap": -1,
    "pay": 1,
    "education": 0,
    "certificate_subsidy": 1,
    "base_stay_rate": 1,
    "is_training": 0,
}

COURSE_RANK_VALUES = (0.0, 1.0, 0.66, 0.33)  # index = wish rank (0: not wished)
SKILL_LEVELS = 4
DEFAULT_SKILL_LEVEL = 2  # a skill entry's level when none was given (matcher.skills)
RELATED_SKILL_CREDIT = 0.25  # a required skill not held, but a skill of the same taxonomy family is
PAY_REFERENCE_CNY = 4800.0
PAY_SCALE_CNY = 1000.0
BASE_PRIOR_STAY_RATE = 0.5  # smoothing: (stayed + a * prior) / (placements + a)
BASE_PRIOR_STRENGTH = 5.0
EARTH_RADIUS_KM = 6371.0088

_INDEX = {name: i for i, name in enumerate(FEATURE_NAMES)}


def feature_index(name: str) -> int:
    return _INDEX[name]


def haversine_km(lat1, lng1, lat2, lng2) -> np.ndarray:
    """Great-circle distance in km between arrays of degrees (broadcasting)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lng2) - np.radians(lng1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _all_same(index: np.ndarray) -> int | None:
    """The single row all pairs share, if they do (the ranking fast path)."""
    if len(index) and index[0] == index[-1] and (index == index[0]).all():
        return int(index[0])
    return None


def _pair_dot(a: sp.csr_matrix, b: sp.csr_matrix, ai: np.ndarray, bi: np.ndarray) -> np.ndarray:
    """Row-wise dot products a[ai[k]] . b[bi[k]] for every pair k."""
    if a.nnz == 0 or b.nnz == 0 or len(ai) == 0:
        return np.zeros(len(ai))
    one_a, one_b = _all_same(ai), _all_same(bi)
    if one_a is not None:
        return (b @ a[one_a].toarray().ravel())[bi]
    if one_b is not None:
        return (a @ b[one_b].toarray().ravel())[ai]
    rows, cols = a.shape[0], b.shape[0]
    if len(ai) * 4 >= rows * cols and rows * cols <= 50_000_000:
        # A batch over (most of) all pairs: one sparse product, then gather. Row-indexing millions of
        # pairs out of the sparse matrices costs several times more.
        product = a @ b.T
        dense = product.toarray() if sp.issparse(product) else np.asarray(product)
        return dense[ai, bi]
    return np.asarray(a[ai].multiply(b[bi]).sum(axis=1)).ravel()


class PairFeaturizer:
    """Features of (candidate row, slot row) pairs for one pair of tables.

    `taxonomy` (skill code -> family, e.g. the course it belongs to) gives partial credit for a related
    skill; `skill_names` (code -> display name, e.g. Chinese) lets required skills be matched as text;
    `synonyms` ((text, code) pairs) with those names read free-text skills as taxonomy codes (`skill_text`).
    All are optional: without them skills match by code, and free text only the same free text.

    A slot's free-text requirement that reads as no code counts in the skill match's denominator and is met
    only by a person who wrote the same text: whether anyone else has it is unknown, and unknown is not met.
    """

    def __init__(self, candidates: CandidateTable, slots: SlotTable, *,
                 taxonomy: Mapping[str, str | None] | None = None, skill_names: Mapping[str, str] | None = None,
                 synonyms: Mapping[str, str] | list[tuple[str, str]] | None = None,
                 pay_reference: float = PAY_REFERENCE_CNY, base_prior_rate: float = BASE_PRIOR_STAY_RATE,
                 base_prior_strength: float = BASE_PRIOR_STRENGTH):
        self.candidates, self.slots = candidates, slots
        self.taxonomy = dict(taxonomy or {})
        self.skill_names = dict(skill_names or {})
        self.pay_reference, self.base_prior_rate = float(pay_reference), float(base_prior_rate)
        n = len(candidates)
        self.text_map = SkillTextMap(self.skill_names, synonyms)
        self.cand_skills = tuple(self._read_skills(held, texts, levels) for held, texts, levels in zip(
            candidates.skills, candidates.free_text_skills,
            candidates.free_text_levels or ((),) * n, strict=True))
        self.slot_skills = tuple(self._read_skills(required, texts, levels) for required, texts, levels in zip(
            slots.required_skills, slots.free_text_required,
            slots.free_text_required_levels or ((),) * len(slots), strict=True))
        self._skills(candidates, slots)
        self._text(candidates, slots)
        # Wished courses: rank 1..3 per (candidate, course); the extra last column is "slot has no course".
        codes = sorted({c for c in slots.course if c} | {c for wishes in candidates.preferred_courses for c in wishes})
        self.course_vocab = {c: i for i, c in enumerate(codes)}
        self.wish_rank = np.zeros((n, len(codes) + 1), dtype=np.int8)
        for row, wishes in enumerate(candidates.preferred_courses):
            for rank, code in enumerate(wishes[:3], start=1):
                if self.wish_rank[row, self.course_vocab[code]] == 0:
                    self.wish_rank[row, self.course_vocab[code]] = rank
        self.slot_course = np.array([self.course_vocab[c] if c else len(codes) for c in slots.course], dtype=np.int64)
        self._rank_value = np.asarray(COURSE_RANK_VALUES)
        # Slot-only and candidate-only columns.
        self.c_lat, self.c_lng = np.asarray(candidates.lat, float), np.asarray(candidates.lng, float)
        self.s_lat, self.s_lng = np.asarray(slots.lat, float), np.asarray(slots.lng, float)
        self.max_travel = np.asarray(candidates.max_travel_km, float)
        self.needs_housing = np.asarray(candidates.needs_housing, bool)
        self.education = np.asarray(candidates.education, float) / (len(EDUCATION_LEVELS) - 1)
        pay = np.asarray(slots.pay_mid, float)
        training = np.asarray(slots.is_training, bool)
        # A job's pay against the usual pay; a course's stipend against none (an unpaid course is the usual one).
        # The model tells the two apart through its (pay, is_training) pair (model.INTERACTION_PAIRS).
        self.slot_pay = np.where(np.isfinite(pay), np.where(training, pay, pay - pay_reference) / PAY_SCALE_CNY, 0.0)
        self.slot_housing = np.asarray(slots.housing_provided, bool)
        self.slot_certificate = np.asarray(slots.certificate_awarded, float)
        placements = np.asarray(slots.base_placements, float)
        stayed = np.asarray(slots.base_stayed, float)
        self.slot_base_rate = (stayed + base_prior_strength * base_prior_rate) / (placements + base_prior_strength)
        self.slot_training = training.astype(float)

    # ---- precomputation ------------------------------------------------------------------------
    def _read_skills(self, coded: Mapping[str, int], texts: tuple[str, ...], levels: tuple[int, ...]) -> dict[str, int]:
        """Skill key -> level: the coded skills, and each free text as the code it reads as (else as text)."""
        skills = dict(coded)
        for i, text in enumerate(texts):
            key = self.text_map.key(text)
            if key is not None:
                level = int(levels[i]) if i < len(levels) else DEFAULT_SKILL_LEVEL
                skills[key] = max(level, skills.get(key, 0))
        return skills

    def _skills(self, candidates: CandidateTable, slots: SlotTable) -> None:
        codes = sorted({c for s in self.cand_skills for c in s} | {c for s in self.slot_skills for c in s}
                       | {c for s in candidates.certified_skills for c in s})
        self.skill_vocab = {c: i for i, c in enumerate(codes)}
        k = len(codes)
        families = sorted({self.taxonomy[c] for c in codes if self.taxonomy.get(c)})
        family_of = {c: families.index(self.taxonomy[c]) for c in codes if self.taxonomy.get(c)}
        related = RELATED_SKILL_CREDIT if families else 0.0
        width = SKILL_LEVELS * k + len(families)
        # Candidate side: column (skill, l) = 1 if the level held >= l; then 1 per family of a skill held.
        rows, cols = [], []
        for r, held in enumerate(self.cand_skills):
            fams = set()
            for code, level in held.items():
                j = self.skill_vocab[code]
                for lv in range(min(max(int(level), 1), SKILL_LEVELS)):
                    rows.append(r)
                    cols.append(SKILL_LEVELS * j + lv)
                if code in family_of:
                    fams.add(family_of[code])
            for f in fams:
                rows.append(r)
                cols.append(SKILL_LEVELS * k + f)
        self.cand_levels = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(candidates), width))
        # Slot side, so that cand . slot = sum over required skills of credit, where credit is
        # min(1, held/required) for a held skill (sum_{l<=r}[held>=l] / r) and RELATED_SKILL_CREDIT for a
        # skill not held whose family is: related * (required-in-family . families-held - required-and-held).
        rows, cols, vals = [], [], []
        req_rows, req_cols = [], []
        self.n_required = np.zeros(len(slots))  # every requirement, known or not: the denominator
        self.n_taxonomy_required = np.zeros(len(slots))
        for r, required in enumerate(self.slot_skills):
            self.n_required[r] = len(required)
            for code, level in required.items():
                j = self.skill_vocab[code]
                need = min(max(int(level), 1), SKILL_LEVELS)
                for lv in range(need):
                    rows.append(r)
                    cols.append(SKILL_LEVELS * j + lv)
                    vals.append(1.0 / need - (related if lv == 0 and code in family_of else 0.0))
                if code in family_of:
                    rows.append(r)
                    cols.append(SKILL_LEVELS * k + family_of[code])
                    vals.append(related)
                if not is_text_key(code):  # certificates and the "holds none" flag speak of taxonomy skills
                    self.n_taxonomy_required[r] += 1
                    req_rows.append(r)
                    req_cols.append(j)
        self.slot_credit = sp.csr_matrix((vals, (rows, cols)), shape=(len(slots), width))
        self.slot_credit.sum_duplicates()
        self.slot_required = sp.csr_matrix((np.ones(len(req_rows)), (req_rows, req_cols)), shape=(len(slots), k))
        rows, cols = [], []
        for r, certified in enumerate(candidates.certified_skills):
            for code in certified:
                rows.append(r)
                cols.append(self.skill_vocab[code])
        self.cand_certified = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(candidates), k))
        # Held at any level: the level-1 column of each skill.
        self.cand_held = sp.csr_matrix(self.cand_levels[:, [SKILL_LEVELS * j for j in range(k)]]) if k else \
            sp.csr_matrix((len(candidates), 0))

    def _text(self, candidates: CandidateTable, slots: SlotTable) -> None:
        cand_docs = [" ".join(t) for t in candidates.free_text_skills]
        slot_docs = [" ".join([title, *free, *(self.skill_names.get(c, c) for c in req)])
                     for title, free, req in zip(slots.title, slots.free_text_required, slots.required_skills,
                                                 strict=True)]
        # Fit and transform each distinct document once (most candidates share few texts, or none).
        unique_docs, inverse = np.unique(np.asarray(cand_docs + slot_docs, dtype=object).astype(str),
                                         return_inverse=True)
        present = [d for d in unique_docs if d.strip()]
        if not present:
            self.cand_text = sp.csr_matrix((len(candidates), 0))
            self.slot_text = sp.csr_matrix((len(slots), 0))
            return
        # Imported here: scikit-learn costs a process ~100 MB and seconds, and most processes never build text
        # features (the command line, an import job, a page without recommendations).
        from sklearn.feature_extraction.text import TfidfVectorizer

        vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 2))
        vectorizer.fit(present)
        matrix = vectorizer.transform(unique_docs.tolist())[inverse.ravel()]
        self.cand_text = sp.csr_matrix(matrix[:len(cand_docs)])
        self.slot_text = sp.csr_matrix(matrix[len(cand_docs):])

    # ---- features ------------------------------------------------------------------------------
    def features(self, candidate_index: np.ndarray, slot_index: np.ndarray) -> np.ndarray:
        """float64 [p, len(FEATURE_NAMES)] for the pairs (candidate_index[k], slot_index[k])."""
        ci = np.asarray(candidate_index, dtype=np.int64).ravel()
        si = np.asarray(slot_index, dtype=np.int64).ravel()
        if ci.shape != si.shape:
            raise ValueError("candidate_index and slot_index must have the same length")
        out = np.empty((len(ci), len(FEATURE_NAMES)), dtype=np.float64)
        n_required = self.n_required[si]
        credit = _pair_dot(self.cand_levels, self.slot_credit, ci, si)
        out[:, 0] = np.where(n_required > 0, np.clip(credit, 0.0, None) / np.maximum(n_required, 1), 1.0)
        out[:, 1] = np.clip(_pair_dot(self.cand_text, self.slot_text, ci, si), 0.0, 1.0)
        out[:, 2] = _pair_dot(self.cand_certified, self.slot_required, ci, si) > 0
        out[:, 3] = self._rank_value[self.wish_rank[ci, self.slot_course[si]]]
        distance = haversine_km(self.c_lat[ci], self.c_lng[ci], self.s_lat[si], self.s_lng[si])
        out[:, 4] = distance
        out[:, 5] = np.maximum(distance - self.max_travel[ci], 0.0)
        out[:, 6] = self.needs_housing[ci] & ~self.slot_housing[si]
        out[:, 7] = self.slot_pay[si]
        out[:, 8] = self.education[ci]
        out[:, 9] = self.slot_certificate[si]
        out[:, 10] = self.slot_base_rate[si]
        out[:, 11] = self.slot_training[si]
        return out

    def tie_breaks(self, candidate_index: np.ndarray, slot_index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """What the exact assignment breaks ties by (engine.assignment), per pair: which of the candidate's wishes
        the slot's course is (int32: 1 = first wish; 0 = not wished, or a job slot: a wish is for a course, and a
        job carrying a course code grants none) and the distance in km (NaN where a coordinate is unknown)."""
        ci, si = np.asarray(candidate_index, dtype=np.int64), np.asarray(slot_index, dtype=np.int64)
        wish = np.where(self.slot_training[si] > 0, self.wish_rank[ci, self.slot_course[si]], 0).astype(np.int32)
        return wish, haversine_km(self.c_lat[ci], self.c_lng[ci], self.s_lat[si], self.s_lng[si])

    def required_held(self, candidate_index: np.ndarray, slot_index: np.ndarray) -> np.ndarray:
        """int [p]: how many of the slot's required taxonomy skills the candidate holds, at any level."""
        ci = np.asarray(candidate_index, dtype=np.int64).ravel()
        si = np.asarray(slot_index, dtype=np.int64).ravel()
        return np.rint(_pair_dot(self.cand_held, self.slot_required, ci, si)).astype(np.int64)

    def requires_skills(self, slot_index: np.ndarray) -> np.ndarray:
        """bool [p]: the slot names required taxonomy skills (free text read as a code included)."""
        return self.n_taxonomy_required[np.asarray(slot_index, dtype=np.int64).ravel()] > 0

    def describe(self, candidate_index: int, slot_index: int) -> dict:
        """Raw facts of one pair, for explanations (counts, kilometres, the wished course, ...)."""
        c, s = int(candidate_index), int(slot_index)
        cands, slots = self.candidates, self.slots
        held = self.cand_skills[c]
        required = self.slot_skills[s]
        matched = [code for code, level in required.items() if held.get(code, 0) >= level]
        partial = [code for code, level in required.items() if 0 < held.get(code, 0) < level]
        # A requirement left as text that the person did not write too: whether they have it is not known.
        unknown = [code for code in required if is_text_key(code) and code not in held]
        held_families = {self.taxonomy.get(code) for code in held} - {None}
        related = [code for code in required if code not in held and self.taxonomy.get(code) in held_families]
        course = slots.course[s]
        wishes = cands.preferred_courses[c]
        rank = wishes.index(course) + 1 if course in wishes[:3] else 0
        row = self.features(np.array([c]), np.array([s]))[0]
        distance = float(row[4])
        pay = float(slots.pay_mid[s])
        return {
            "skills_required": len(required),
            "skills_matched": len(matched),
            "skills_partial": len(partial),
            "skills_related": len(related),
            "skills_unknown": len(unknown),
            "required_skills": sorted(code for code in required if not is_text_key(code)),
            "matched_skills": sorted(code for code in matched if not is_text_key(code)),
            "certified_required": sorted(set(required) & set(cands.certified_skills[c])),
            "text_similarity": float(row[1]),
            "course": course,
            "course_rank": rank,
            "preferred_courses": list(wishes),
            "distance_km": distance if np.isfinite(distance) else None,
            "max_travel_km": float(cands.max_travel_km[c]),
            "over_travel_km": float(row[5]) if np.isfinite(row[5]) else None,
            "needs_housing": bool(cands.needs_housing[c]),
            "housing_provided": bool(slots.housing_provided[s]),
            "is_training": bool(slots.is_training[s]),
            "pay_mid": pay if np.isfinite(pay) else None,
            # A stipend is measured against no stipend, a job's pay against the usual pay.
            "pay_reference": 0.0 if slots.is_training[s] else self.pay_reference,
            "education": int(cands.education[c]),
            "education_level": EDUCATION_LEVELS[int(cands.education[c])],
            "certificate_awarded": bool(slots.certificate_awarded[s]),
            "base_placements": int(slots.base_placements[s]),
            "base_stayed": int(slots.base_stayed[s]),
            "base_stay_rate": float(row[10]),
            "starts_on": dt.date.fromordinal(int(slots.starts_on[s])).isoformat(),
        }
