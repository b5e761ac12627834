"""The slot half of `PairFeaturizer`, built once for a slot table and joined to a few candidates per request.

`PairFeaturizer` fits its vocabularies (skills, courses, TF-IDF n-grams) over candidates and slots together, so
a recommendations page would rebuild the whole slot side (thousands of slots: skill matrices, text features) for
its one candidate. `SlotSide` keeps what depends on the slots alone and, per request, builds only the candidate
rows; the features are the same numbers `PairFeaturizer(candidates, slots)` gives (tests/engine/test_slot_side.py).

- Skills: the slot side is built over every code the taxonomy or a slot names, so a candidate's codes fall into
  the same columns (a code outside them, unknown to both, builds the pair the plain way).
- Courses: a wished course no slot offers never matches; the wish ranks keep their place in the list.
- Text: TF-IDF weights depend on every distinct document fitted, the candidate's too. The slot side keeps the
  n-gram counts and document frequencies of the slot documents; a candidate document that is new adds itself to
  them, and the slot rows are reweighted with the resulting IDF (a vectorised pass over their counts).
"""

from __future__ import annotations

import copy
import math
from collections import Counter
from collections.abc import Mapping

import numpy as np
import scipy.sparse as sp

from matcher.engine.features import EDUCATION_LEVELS, PairFeaturizer
from matcher.engine.types import CandidateTable, SlotTable

# The n-grams PairFeaturizer's TfidfVectorizer reads (analyzer="char", ngram_range=(1, 2), its defaults otherwise).
TEXT_NGRAMS = (1, 2)


def _probe(codes: list[str]) -> CandidateTable:
    """One candidate holding (and certified in) every skill code: it puts all of them in the skill vocabulary."""
    return CandidateTable(
        ids=np.zeros(1, np.int64), lat=np.zeros(1), lng=np.zeros(1), max_travel_km=np.zeros(1),
        needs_housing=np.zeros(1, bool), education=np.zeros(1, np.int8), birth_year=np.zeros(1, np.int16),
        available_from=np.zeros(1, np.int64), active=np.ones(1, bool), skills=({c: 1 for c in codes},),
        free_text_skills=((),), certified_skills=(frozenset(codes),), preferred_courses=((),), bans=((),))


def _with_probe(candidates: CandidateTable, probe: CandidateTable) -> CandidateTable:
    """The candidates, then the probe row (only the columns the skill matrices read)."""
    return CandidateTable(
        ids=np.zeros(len(candidates) + 1, np.int64), lat=np.zeros(len(candidates) + 1),
        lng=np.zeros(len(candidates) + 1), max_travel_km=np.zeros(len(candidates) + 1),
        needs_housing=np.zeros(len(candidates) + 1, bool), education=np.zeros(len(candidates) + 1, np.int8),
        birth_year=np.zeros(len(candidates) + 1, np.int16), available_from=np.zeros(len(candidates) + 1, np.int64),
        active=np.ones(len(candidates) + 1, bool), skills=(*candidates.skills, *probe.skills),
        free_text_skills=((),) * (len(candidates) + 1),
        certified_skills=(*candidates.certified_skills, *probe.certified_skills),
        preferred_courses=((),) * (len(candidates) + 1), bans=((),) * (len(candidates) + 1))


def _no_slots(slots: SlotTable) -> SlotTable:
    """An empty slot table (the candidate side of the skill matrices is built against it)."""
    pick = np.zeros(0, np.int64)
    return SlotTable(
        ids=slots.ids[pick], company_ids=slots.company_ids[pick], lat=slots.lat[pick], lng=slots.lng[pick],
        is_training=slots.is_training[pick], course=(), occupation=(), required_skills=(), free_text_required=(),
        title=(), seats_free=slots.seats_free[pick], housing_provided=slots.housing_provided[pick],
        pay_mid=slots.pay_mid[pick], certificate_awarded=slots.certificate_awarded[pick],
        min_age=slots.min_age[pick], starts_on=slots.starts_on[pick], open=slots.open[pick],
        base_in_force=slots.base_in_force[pick], base_placements=slots.base_placements[pick],
        base_stayed=slots.base_stayed[pick], intake_starts=())


class SlotSide:
    """What `PairFeaturizer` computes from a slot table alone; `featurizer(candidates)` joins candidates to it."""

    def __init__(self, slots: SlotTable, *, taxonomy: Mapping[str, str | None] | None = None,
                 skill_names: Mapping[str, str] | None = None):
        self.slots = slots
        self.taxonomy, self.skill_names = dict(taxonomy or {}), dict(skill_names or {})
        codes = sorted(set(self.taxonomy) | {c for required in slots.required_skills for c in required})
        self._probe = _probe(codes)
        # The slot-side matrices, fitted with the probe (no text, no wishes) as the only candidate.
        self._base = PairFeaturizer(self._probe, slots, taxonomy=self.taxonomy, skill_names=self.skill_names)
        self._text_counts(slots)

    # ---- text ----------------------------------------------------------------------------------
    def _text_counts(self, slots: SlotTable) -> None:
        # The slot documents exactly as PairFeaturizer._text writes them.
        docs = [" ".join([title, *free, *(self.skill_names.get(c, c) for c in req)])
                for title, free, req in zip(slots.title, slots.free_text_required, slots.required_skills,
                                            strict=True)]
        unique_docs, inverse = (np.unique(np.asarray(docs, dtype=object).astype(str), return_inverse=True)
                                if docs else (np.zeros(0, dtype=str), np.zeros(0, np.int64)))
        self._slot_docs = {str(d) for d in unique_docs if str(d).strip()}
        self._vocab: dict[str, int] = {}
        self._analyzer = None
        if not self._slot_docs:
            self._counts = sp.csr_matrix((len(slots), 0))
            self._df = np.zeros(0)
            return
        from sklearn.feature_extraction.text import CountVectorizer

        counter = CountVectorizer(analyzer="char", ngram_range=TEXT_NGRAMS)
        counter.fit(sorted(self._slot_docs))
        self._analyzer = counter.build_analyzer()
        self._vocab = dict(counter.vocabulary_)
        fitted = counter.transform(sorted(self._slot_docs))
        self._df = np.bincount(fitted.indices, minlength=len(self._vocab)).astype(np.float64)
        counts = counter.transform(unique_docs.tolist())[np.asarray(inverse).ravel()]
        self._counts = sp.csr_matrix(counts, dtype=np.float64)
        self._counts.sort_indices()
        self._cached_text = self._weighted(np.zeros(0), {}, 0)

    def _analyze(self, doc: str) -> list[str]:
        if self._analyzer is None:
            from sklearn.feature_extraction.text import CountVectorizer

            self._analyzer = CountVectorizer(analyzer="char", ngram_range=TEXT_NGRAMS).build_analyzer()
        return self._analyzer(doc)

    def _weighted(self, extra_df: np.ndarray, new_terms: dict[str, int], new_docs: int):
        """The slot rows' TF-IDF (l2-normalised) when `new_docs` candidate documents join the fit, adding
        `extra_df` to the slot n-grams' document frequencies; and the IDF of every n-gram, slot and new."""
        n = len(self._slot_docs) + new_docs
        df = self._df + extra_df if len(extra_df) else self._df
        idf = np.log((1 + n) / (1 + df)) + 1.0
        new_idf = {term: math.log((1 + n) / (1 + count)) + 1.0 for term, count in new_terms.items()}
        counts = self._counts
        data = counts.data * idf[counts.indices]
        lengths = np.diff(counts.indptr)
        norms = np.sqrt(np.bincount(np.repeat(np.arange(counts.shape[0]), lengths), weights=data ** 2,
                                    minlength=counts.shape[0]))
        row_norm = np.repeat(np.where(norms > 0, norms, 1.0), lengths)
        matrix = sp.csr_matrix((data / row_norm, counts.indices, counts.indptr), shape=counts.shape)
        return matrix, idf, new_idf

    def _text(self, candidates: CandidateTable):
        """(candidate rows, slot rows) of TF-IDF as PairFeaturizer fits them, in the slot n-grams' columns (an
        n-gram no slot has adds nothing to a pair's dot product, only to the candidate's norm)."""
        docs = [" ".join(t) for t in candidates.free_text_skills]
        if not self._vocab:  # no slot text: every pair's text match is 0, as PairFeaturizer makes it
            return sp.csr_matrix((len(candidates), 0)), self._counts
        new = sorted({d for d in docs if d.strip()} - self._slot_docs)
        extra_df = np.zeros(len(self._vocab))
        new_terms: Counter[str] = Counter()
        for doc in new:
            for term in set(self._analyze(doc)):
                if term in self._vocab:
                    extra_df[self._vocab[term]] += 1
                else:
                    new_terms[term] += 1
        slot_text, idf, new_idf = self._weighted(extra_df, new_terms, len(new)) if new else self._cached_text
        rows, cols, vals = [], [], []
        for r, doc in enumerate(docs):
            if not doc:
                continue
            weights: dict[object, float] = {}
            for term, tf in Counter(self._analyze(doc)).items():
                if term in self._vocab:
                    weights[self._vocab[term]] = tf * idf[self._vocab[term]]
                elif term in new_idf:
                    weights[term] = tf * new_idf[term]  # outside the slot columns: counts for the norm only
            norm = math.sqrt(sum(w * w for w in weights.values()))
            for column, weight in weights.items():
                if isinstance(column, int) and norm > 0:
                    rows.append(r)
                    cols.append(column)
                    vals.append(weight / norm)
        cand_text = sp.csr_matrix((vals, (rows, cols)), shape=(len(candidates), len(self._vocab)))
        return cand_text, slot_text

    # ---- joining candidates --------------------------------------------------------------------
    def featurizer(self, candidates: CandidateTable) -> PairFeaturizer:
        """A featurizer for (candidates, the slots) giving PairFeaturizer's features, built in the candidates'
        time only."""
        n = len(candidates)
        joined = object.__new__(PairFeaturizer)
        joined.taxonomy, joined.skill_names = self.taxonomy, self.skill_names
        joined._skills(_with_probe(candidates, self._probe), _no_slots(self.slots))
        if joined.skill_vocab != self._base.skill_vocab:
            # A skill code neither the taxonomy nor any slot knows: the plain way (rare; same features).
            return PairFeaturizer(candidates, self.slots, taxonomy=self.taxonomy, skill_names=self.skill_names,
                                  pay_reference=self._base.pay_reference,
                                  base_prior_rate=self._base.base_prior_rate)
        featurizer = copy.copy(self._base)
        featurizer.candidates = candidates
        featurizer.cand_levels = sp.csr_matrix(joined.cand_levels[:n])
        featurizer.cand_certified = sp.csr_matrix(joined.cand_certified[:n])
        featurizer.cand_held = sp.csr_matrix(joined.cand_held[:n])
        featurizer.cand_text, featurizer.slot_text = self._text(candidates)
        vocab = self._base.course_vocab
        wish_rank = np.zeros((n, len(vocab) + 1), dtype=np.int8)
        for row, wishes in enumerate(candidates.preferred_courses):
            for rank, code in enumerate(wishes[:3], start=1):
                if code in vocab and wish_rank[row, vocab[code]] == 0:
                    wish_rank[row, vocab[code]] = rank
        featurizer.wish_rank = wish_rank
        featurizer.c_lat, featurizer.c_lng = np.asarray(candidates.lat, float), np.asarray(candidates.lng, float)
        featurizer.max_travel = np.asarray(candidates.max_travel_km, float)
        featurizer.needs_housing = np.asarray(candidates.needs_housing, bool)
        featurizer.education = np.asarray(candidates.education, float) / (len(EDUCATION_LEVELS) - 1)
        return featurizer
