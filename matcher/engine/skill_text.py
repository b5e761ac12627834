"""Free-text skills read onto the skill taxonomy: what a person or a slot wrote, as a skill code when it says one.

People write 开叉车 or 焊工, not `forklift_operation` or `arc_welding`. A text is read, in this order, as:
the code whose Chinese name or synonym it is (after normalising: full-width forms, case, spaces and punctuation);
else the code whose name or synonym it most resembles (Jaccard similarity of character 1-2 grams, at least
`SIMILARITY_THRESHOLD`); else the code one of whose names it contains (会开叉车, 三年电焊经验), the longest such
name deciding. When two codes are equally near, the text is left as text: a guess between two skills would be
a guess. A text read as no code stays text (`text_key`), which matches only the same text written elsewhere;
for a slot's requirement, that is a requirement whose fulfilment the engine cannot know (never counted as met).

Administrators confirm readings (matcher.reference.skill_mappings): a confirmed text joins the synonyms (so it is
read exactly, and texts near it or containing it are read by it too); a text confirmed as naming nothing in the
taxonomy is given as a synonym of None and reads as no code, however near a name it looks. `reading` says how a
text was read (only an exact reading is confident: the rest waits in the administrators' queue), `suggest` ranks
the codes a text may mean, for the person who decides.

Pure: the taxonomy's names and the synonyms (seed/reference/skill_synonyms.csv) are given, nothing is read here.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import NamedTuple

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


# How a text was read (`SkillTextMap.reading`): only EXACT (a name, a synonym or a confirmed reading) and NOTHING
# (confirmed as naming no taxonomy skill) are decided; the others are guesses or gaps a person should look at.
EXACT, NOTHING, SIMILAR, CONTAINED, AMBIGUOUS, UNKNOWN = "exact", "nothing", "similar", "contained", "ambiguous", \
    "unknown"
DECIDED = frozenset({EXACT, NOTHING})


class Reading(NamedTuple):
    code: str | None
    how: str  # EXACT, NOTHING, SIMILAR, CONTAINED, AMBIGUOUS or UNKNOWN


class Suggestion(NamedTuple):
    code: str
    score: float  # 0..1: character similarity, or the share of the text a contained name covers


def with_confirmed(synonyms: Iterable[tuple[str, str]],
                   confirmed: Mapping[str, str | None]) -> list[tuple[str, str | None]]:
    """The shipped synonyms with the confirmed readings (text -> code, None: names nothing) in place of any
    shipped synonym of the same text (a person's decision outranks the shipped list)."""
    decided = {normalise(text) for text in confirmed}
    return [(text, code) for text, code in synonyms if normalise(text) not in decided] + list(confirmed.items())


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
        self._nothing: set[str] = set()  # texts confirmed as naming no taxonomy skill
        for text, code in pairs:
            if not text:
                continue
            if code is None:
                self._nothing.add(text)
            else:
                self._exact.setdefault(text, set()).add(code)
        for text in self._nothing:
            self._exact.pop(text, None)
        self._grams = [(grams(text), code) for text, code in
                       sorted((t, c) for t, codes in self._exact.items() for c in codes)]
        # How many texts read as each code: a code that more of the ways people write have been confirmed as
        # ranks first among equally near suggestions.
        self._texts_per_code: dict[str, int] = {}
        for codes in self._exact.values():
            for code in codes:
                self._texts_per_code[code] = self._texts_per_code.get(code, 0) + 1
        self._cache: dict[str, Reading] = {}

    def code_for(self, text: str) -> str | None:
        """The taxonomy code `text` names, or None when it names none (or two equally well)."""
        return self.reading(text).code

    def reading(self, text: str) -> Reading:
        """The code `text` is read as, and how it was read."""
        key = normalise(text)
        if key not in self._cache:
            self._cache[key] = self._read(key)
        return self._cache[key]

    def suggest(self, text: str, limit: int = 3) -> list[Suggestion]:
        """The codes `text` most likely means, best first: by character similarity to a code's names and
        synonyms (confirmed texts among them), or by the share of the text a contained name covers; equally near
        codes by how many texts read as them."""
        own_text = normalise(text)
        if not own_text:
            return []
        own = grams(own_text)
        best: dict[str, float] = {}
        for other, code in self._grams:
            score = len(own & other) / len(own | other)
            if score > best.get(code, 0.0):
                best[code] = score
        for name, codes in self._exact.items():
            if len(name) >= MIN_CONTAINED_LENGTH and (name in own_text or own_text in name):
                share = min(len(name), len(own_text)) / max(len(name), len(own_text))
                for code in codes:
                    best[code] = max(best.get(code, 0.0), share)
        ranked = sorted(best.items(), key=lambda item: (-round(item[1], 6),
                                                        -math.log1p(self._texts_per_code.get(item[0], 0)), item[0]))
        return [Suggestion(code, round(score, 3)) for code, score in ranked[:limit] if score > 0]

    def key(self, text: str) -> str | None:
        """The skill key `text` stands for: a taxonomy code, else TEXT_PREFIX + the normalised text (None: empty)."""
        code = self.code_for(text)
        if code is not None:
            return code
        normalised = normalise(text)
        return TEXT_PREFIX + normalised if normalised else None

    def _read(self, text: str) -> Reading:
        if not text:
            return Reading(None, UNKNOWN)
        if text in self._nothing:
            return Reading(None, NOTHING)
        exact = self._exact.get(text)
        if exact:
            return _reading(exact, EXACT)
        own = grams(text)
        best, best_codes = 0.0, set()
        for other, code in self._grams:
            score = len(own & other) / len(own | other)
            if score > best:
                best, best_codes = score, {code}
            elif score == best and score > 0:
                best_codes.add(code)
        if best >= self.threshold:
            return _reading(best_codes, SIMILAR)
        longest, contained = 0, set()
        for name, codes in self._exact.items():
            if len(name) >= MIN_CONTAINED_LENGTH and name in text:
                if len(name) > longest:
                    longest, contained = len(name), set(codes)
                elif len(name) == longest:
                    contained |= codes
        return _reading(contained, CONTAINED) if contained else Reading(None, UNKNOWN)


def _reading(codes: set[str], how: str) -> Reading:
    """The one code, else (two or more equally near) no code: a guess between them would be a guess."""
    return Reading(next(iter(codes)), how) if len(codes) == 1 else Reading(None, AMBIGUOUS)
