"""Free-text skills read onto the skill taxonomy: what a person or a slot wrote, as a skill code when it says one.

People write 开叉车 or 焊工, not `forklift_operation` or `arc_welding`. A text is read, in this order, as:
the code whose Chinese name or synonym it is (after normalising: full-width forms, case, spaces and punctuation);
else the code whose name or synonym it most resembles (Jaccard similarity of character 1-2 grams, at least
`SIMILARITY_THRESHOLD`); else the code one of whose names it contains (会开叉车, 三年电焊经验), the longest such
name deciding. When two codes are equally near, the text is left as text: a guess between two skills would be
a guess. A text read as no code stays text (`text_key`), which matches only the same text written elsewhere;
for a slot's requirement, that is a requirement whose fulfilment the engine cannot know (never counted as met).

Pure: the taxonomy's names and the synonyms (seed/reference/skill_synonyms.csv) are given, nothing is read here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

SIMILARITY_THRESHOLD = 0.5
TEXT_PREFIX = "text:"  # a key that names no taxonomy skill: the normalised text itself
MIN_CONTAINED_LENGTH = 2  # a one-character name (e.g. a lone 车) inside a text says too little

_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)


def normalise(text: str) -> str:
    """Full-width to half-width, lower case, no spaces or punctuation: ＣＩ驾照 / c1 驾照 -> c1驾照."""
    return _NOISE.sub("", unicodedata.normalize("NFKC", text or "").lower())


def grams(text: str) -> frozenset[str]:
    """Character 1- and 2-grams of a normalised text."""
    return frozenset(text) | frozenset(text[i:i + 2] for i in range(len(text) - 1))


def is_text_key(key: str) -> bool:
    return key.startswith(TEXT_PREFIX)


class SkillTextMap:
    """Reads free text as taxonomy codes (`code_for`) or as a text key (`key`)."""

    def __init__(self, names: Mapping[str, str] | None = None,
                 synonyms: Iterable[tuple[str, str]] | Mapping[str, str] | None = None, *,
                 threshold: float = SIMILARITY_THRESHOLD):
        pairs = list((names or {}).items())
        pairs = [(normalise(name), code) for code, name in pairs]
        synonym_pairs = synonyms.items() if isinstance(synonyms, Mapping) else (synonyms or ())
        pairs += [(normalise(text), code) for text, code in synonym_pairs]
        self.threshold = float(threshold)
        self._exact: dict[str, set[str]] = {}
        for text, code in pairs:
            if text:
                self._exact.setdefault(text, set()).add(code)
        self._grams = [(grams(text), code) for text, code in
                       sorted((t, c) for t, codes in self._exact.items() for c in codes)]
        self._cache: dict[str, str | None] = {}

    def code_for(self, text: str) -> str | None:
        """The taxonomy code `text` names, or None when it names none (or two equally well)."""
        key = normalise(text)
        if key not in self._cache:
            self._cache[key] = self._read(key)
        return self._cache[key]

    def key(self, text: str) -> str | None:
        """The skill key `text` stands for: a taxonomy code, else TEXT_PREFIX + the normalised text (None: empty)."""
        code = self.code_for(text)
        if code is not None:
            return code
        normalised = normalise(text)
        return TEXT_PREFIX + normalised if normalised else None

    def _read(self, text: str) -> str | None:
        if not text:
            return None
        exact = self._exact.get(text)
        if exact:
            return _single(exact)
        own = grams(text)
        best, best_codes = 0.0, set()
        for other, code in self._grams:
            score = len(own & other) / len(own | other)
            if score > best:
                best, best_codes = score, {code}
            elif score == best and score > 0:
                best_codes.add(code)
        if best >= self.threshold:
            return _single(best_codes)
        longest, contained = 0, set()
        for name, codes in self._exact.items():
            if len(name) >= MIN_CONTAINED_LENGTH and name in text:
                if len(name) > longest:
                    longest, contained = len(name), set(codes)
                elif len(name) == longest:
                    contained |= codes
        return _single(contained)


def _single(codes: set[str]) -> str | None:
    return next(iter(codes)) if len(codes) == 1 else None
