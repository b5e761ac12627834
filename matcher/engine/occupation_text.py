"""Occupation codes suggested from a slot's title: character n-gram TF-IDF over the classification's names and
aliases (职业分类大典 2022, seed/reference/csco22.csv), offline.

A title such as 中餐厨师 or 后厨帮工 rarely is an occupation's name; the classification lists the job titles used for
each occupation (aliases), and character 1-3-grams find the nearest occupation without a word segmenter. A title is
compared with each occupation's name and with each of its aliases on its own (one document per name or alias), and an
occupation scores its best document: one long alias list would otherwise drown the name. Pure: rows are given.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from matcher.engine.skill_text import normalise

NGRAMS = (1, 3)
MIN_SCORE = 0.2  # below this cosine a "suggestion" is noise: none is offered


class OccupationRow(NamedTuple):
    code: str
    name: str
    aliases: tuple[str, ...] = ()


class OccupationSuggestion(NamedTuple):
    code: str
    name: str
    score: float  # cosine similarity, 0..1
    matched: str  # the name or alias the title is nearest


class OccupationSuggester:
    """`fit(rows)` then `suggest(title)`: the occupations a title most likely is, best first."""

    def __init__(self, ngram_range: tuple[int, int] = NGRAMS, min_score: float = MIN_SCORE):
        self.ngram_range = ngram_range
        self.min_score = min_score

    def fit(self, rows: Sequence[OccupationRow]) -> OccupationSuggester:
        from sklearn.feature_extraction.text import TfidfVectorizer

        docs, owner = [], []
        for i, row in enumerate(rows):
            for text in dict.fromkeys((row.name, *row.aliases)):  # the name first, each text once
                if normalise(text):
                    docs.append(text.strip())
                    owner.append(i)
        self.rows_ = list(rows)
        self.docs_ = docs
        self.owner_ = np.asarray(owner, dtype=np.int64)
        # Normalised (full width, case, no spaces or punctuation): 叉车司机（夜班） and 叉车司机 夜班 read alike.
        self.vectorizer_ = TfidfVectorizer(analyzer="char", ngram_range=self.ngram_range, sublinear_tf=True,
                                           preprocessor=normalise)
        self.matrix_ = self.vectorizer_.fit_transform(docs) if docs else None
        # Features x documents, row-major: a title's few n-grams pick a few rows (no transpose per request).
        self.by_ngram_ = self.matrix_.T.tocsr() if docs else None
        return self

    def suggest(self, title: str, limit: int = 3) -> list[OccupationSuggestion]:
        return self.suggest_many([title], limit=limit)[0]

    def suggest_many(self, titles: Sequence[str], limit: int = 3) -> list[list[OccupationSuggestion]]:
        """`suggest` for many titles at once (an import): one sparse product for them all."""
        titles = [normalise(title or "") for title in titles]
        if self.matrix_ is None or not any(titles):
            return [[] for _title in titles]
        scores = (self.vectorizer_.transform(titles) @ self.by_ngram_).toarray()
        return [self._best(row, limit) if title else [] for title, row in zip(titles, scores, strict=True)]

    def _best(self, scores: np.ndarray, limit: int) -> list[OccupationSuggestion]:
        order = np.argsort(-scores, kind="stable")
        out, seen = [], set()
        for doc in order:
            score = float(scores[doc])
            if score < self.min_score or len(out) >= limit:
                break
            row = self.rows_[self.owner_[doc]]
            if row.code in seen:
                continue
            seen.add(row.code)
            out.append(OccupationSuggestion(row.code, row.name, round(score, 3), self.docs_[doc]))
        return out
