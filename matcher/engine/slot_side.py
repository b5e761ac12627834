"""The slot half of `PairFeaturizer`, built once for a slot table and joined to a few candidates per request.

`PairFeaturizer` fits its vocabularies (skills, courses, TF-IDF n-grams) over candidates and slots together, so
a recommendations page would rebuild the whole slot side (thousands of slots: skill matrices, text features) for
its one candidate. `SlotSide` keeps what depends on the slots alone and, per request, builds only the candidate
rows; the features are the same numbers `PairFeaturizer(candidates, slots)` gives (tests/engine/test_slot_side.py).

- Candidate side: PairFeaturizer itself builds it (against no slots), so however it reads a candidate's skills,
  the joined featurizer reads them so too; its skill and course columns are moved to the slot side's.
- Skills: the slot side is built over every code the taxonomy or a slot names (so every taxonomy family); a
  candidate's key no slot has meets no requirement and is dropped.
- Courses: a wished course no slot offers never matches; the wish ranks keep their place in the list.
- Text: TF-IDF weights depend on every distinct document fitted, the candidate's too. The slot side keeps the
  n-gram counts and document frequencies of the slot documents; a candidate document that is new adds itself to
  them, and the slot rows are reweighted with the resulting IDF (a vectorised pass over their counts).
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections import Counter
from collections.abc import Mapping

import numpy as np
import scipy.sparse as sp

from matcher.engine.features import SKILL_LEVELS, PairFeaturizer
from matcher.engine.types import CandidateTable, SlotTable

# The n-grams PairFeaturizer's TfidfVectorizer reads (analyzer="char", ngram_range=(1, 2), its defaults otherwise).
TEXT_NGRAMS = (1, 2)


def _probe(codes: list[str]) -> CandidateTable:
    """One candidate holding (and certified in) every skill code: it puts all of them, and so every taxonomy
    family, in the skill vocabulary."""
    return CandidateTable(
        ids=np.zeros(1, np.int64), lat=np.zeros(1), lng=np.zeros(1), max_travel_km=np.zeros(1),
        needs_housing=np.zeros(1, bool), education=np.zeros(1, np.int8), birth_year=np.zeros(1, np.int16),
        available_from=np.zeros(1, np.int64), active=np.ones(1, bool), skills=({c: 1 for c in codes},),
        free_text_skills=((),), certified_skills=(frozenset(codes),), preferred_courses=((),), bans=((),))


def _with_probe(candidates: CandidateTable, probe: CandidateTable) -> CandidateTable:
    """The candidates, then the probe row (a per-row column left empty, meaning its default, stays empty)."""
    columns = {}
    for column in dataclasses.fields(candidates):
        mine, its = getattr(candidates, column.name), getattr(probe, column.name)
        if isinstance(mine, np.ndarray):
            columns[column.name] = np.concatenate([mine, its.astype(mine.dtype)])
        elif len(mine):
            columns[column.name] = (*mine, *(its or ((),)))
    return dataclasses.replace(candidates, **columns)


def _no_slots(slots: SlotTable) -> SlotTable:
    """An empty slot table (the candidate side of the featurizer is built against it)."""
    return dataclasses.replace(slots, **{column.name: getattr(slots, column.name)[:0]
                                         for column in dataclasses.fields(slots)})


def _rows(value) -> int | None:
    if isinstance(value, np.ndarray | sp.spmatrix | sp.sparray):
        return value.shape[0] if value.ndim else None
    return len(value) if isinstance(value, tuple) else None


def _move_columns(matrix, target: np.ndarray, width: int) -> sp.csr_matrix:
    """`matrix` with column j moved to target[j] (dropped where -1), `width` columns wide."""
    coo = sp.coo_matrix(matrix)
    columns = target[coo.col] if len(coo.col) else np.zeros(0, np.int64)
    keep = columns >= 0
    return sp.csr_matrix((coo.data[keep], (coo.row[keep], columns[keep])), shape=(matrix.shape[0], width))


class SlotSide:
    """What `PairFeaturizer` computes from a slot table alone; `featurizer(candidates)` joins candidates to it."""

    def __init__(self, slots: SlotTable, *, taxonomy: Mapping[str, str | None] | None = None,
                 skill_names: Mapping[str, str] | None = None, **featurizer_options):
        self.slots = slots
        self.taxonomy, self.skill_names = dict(taxonomy or {}), dict(skill_names or {})
        # Whatever else PairFeaturizer takes (pay reference, ...), given to it as given here.
        self._options = {"taxonomy": self.taxonomy, "skill_names": self.skill_names, **featurizer_options}
        codes = sorted(set(self.taxonomy) | {c for required in slots.required_skills for c in required})
        self._probe = _probe(codes)
        # The slot-side matrices, fitted with the probe (no text, no wishes) as the only candidate.
        self._base = PairFeaturizer(self._probe, slots, **self._options)
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
        fitted = counter.fit_transform(sorted(self._slot_docs))
        self._analyzer = counter.build_analyzer()
        self._vocab = dict(counter.vocabulary_)
        self._df = np.bincount(fitted.indices, minlength=len(self._vocab)).astype(np.float64)
        counts = counter.transform(unique_docs.tolist())[np.asarray(inverse).ravel()]
        self._counts = sp.csr_matrix(counts, dtype=np.float64)
        self._counts.sort_indices()
        self._cached_text = self._weighted(np.zeros(0), {}, 0)

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
        grams = {doc: Counter(self._analyzer(doc)) for doc in set(docs) if doc}  # each distinct text analysed once
        extra_df = np.zeros(len(self._vocab))
        new_terms: Counter[str] = Counter()
        for doc in new:
            for term in grams[doc]:
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
            for term, tf in grams[doc].items():
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
        time only.

        PairFeaturizer itself builds the candidate side, against no slots and with the probe beside them (so the
        taxonomy families are the slot side's); what it builds per candidate row is taken over, its skill and
        course columns moved to the slot side's vocabulary. A key no slot has meets no requirement: dropped."""
        n = len(candidates)
        base = self._base
        joined = PairFeaturizer(_with_probe(candidates, self._probe), _no_slots(self.slots), **self._options)
        featurizer = copy.copy(base)
        featurizer.candidates = candidates
        for name, value in vars(joined).items():
            if _rows(value) == n + 1 and _rows(vars(base).get(name)) == 1:  # one entry per candidate row
                setattr(featurizer, name, value[:n])
        # Skill columns: (skill, level) blocks, then one per taxonomy family (the same families on both sides).
        levels = SKILL_LEVELS
        k_joined, k_base = len(joined.skill_vocab), len(base.skill_vocab)
        families = base.cand_levels.shape[1] - levels * k_base
        if joined.cand_levels.shape[1] - levels * k_joined != families:
            raise AssertionError("the probe did not bring every taxonomy family")  # cannot happen: all codes
        by_skill = np.full(k_joined, -1, dtype=np.int64)
        for code, j in joined.skill_vocab.items():
            by_skill[j] = base.skill_vocab.get(code, -1)
        by_level = np.where(np.repeat(by_skill, levels) >= 0,
                            np.repeat(by_skill, levels) * levels + np.tile(np.arange(levels), k_joined), -1)
        by_level = np.concatenate([by_level, levels * k_base + np.arange(families)])
        featurizer.cand_levels = _move_columns(joined.cand_levels[:n], by_level, base.cand_levels.shape[1])
        featurizer.cand_certified = _move_columns(joined.cand_certified[:n], by_skill, k_base)
        featurizer.cand_held = _move_columns(joined.cand_held[:n], by_skill, k_base)
        # Wish ranks: the rank is the wish's place in the person's list, whichever courses the slots have.
        wish_rank = np.zeros((n, base.wish_rank.shape[1]), dtype=base.wish_rank.dtype)
        for code, j in joined.course_vocab.items():
            if code in base.course_vocab:
                wish_rank[:, base.course_vocab[code]] = joined.wish_rank[:n, j]
        featurizer.wish_rank = wish_rank
        featurizer.cand_text, featurizer.slot_text = self._text(candidates)
        return featurizer
