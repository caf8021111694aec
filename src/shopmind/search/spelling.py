"""Spelling correction against the catalog's own vocabulary (symmetric-delete candidates).

A query word the catalog does not know (``mowe``, ``kitchenaide``, ``dewlat``) is replaced by the
most frequent catalog word within a small Damerau–Levenshtein distance; a known but rare word
gets its frequent neighbour added beside it. Run-together and split words are repaired both
ways (``backsplash`` ↔ ``back splash``) when the other form is what the catalog says.

Candidates come from a dictionary of one-character deletions of every catalog word (SymSpell's
trick), so a lookup costs a few dozen dict probes, not a scan of the vocabulary.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["SpellingCorrector", "damerau_levenshtein"]


def damerau_levenshtein(a: str, b: str, limit: int = 3) -> int:
    """Edit distance with adjacent transpositions (optimal string alignment), capped at ``limit``.

    >>> damerau_levenshtein("mowe", "mower"), damerau_levenshtein("dewlat", "dewalt")
    (1, 1)
    >>> damerau_levenshtein("kitchen", "chicken")
    3
    """
    if abs(len(a) - len(b)) >= limit:
        return limit
    prev2: list[int] | None = None
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if (prev2 is not None and i > 1 and j > 1 and a[i - 1] == b[j - 2]
                    and a[i - 2] == b[j - 1]):
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) >= limit:
            return limit
        prev2, prev = prev, cur
    return min(prev[-1], limit)


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


def _correctable(term: str) -> bool:
    return term.isascii() and term.isalpha() and len(term) >= 4


class SpellingCorrector:
    """Corrections of query terms from catalog term frequencies.

    >>> sc = SpellingCorrector().fit({"mower": 40, "mow": 3, "dewalt": 25, "back": 9,
    ...                                "splash": 4, "backsplash": 30})
    >>> sc.correct(["gas", "mowe"])
    {'mowe': [('mower', 1.0)]}
    >>> sc.correct(["back", "splash"])
    {'back splash': [('backsplash', 1.0)]}
    """

    def __init__(self, min_count: int = 2, rare_ratio: float = 20.0, rare_weight: float = 0.5):
        self.min_count = min_count
        self.rare_ratio = rare_ratio
        self.rare_weight = rare_weight

    def fit(self, counts: Mapping[str, int]) -> SpellingCorrector:
        """``counts``: catalog term → number of items using it."""
        self.counts_ = {t: int(c) for t, c in counts.items() if c > 0}
        index: dict[str, list[str]] = {}
        for term, c in self.counts_.items():
            if c < self.min_count or not _correctable(term):
                continue
            index.setdefault(term, []).append(term)
            for d in _deletes(term):
                index.setdefault(d, []).append(term)
        self.deletes_ = index
        self._memo: dict[tuple[str, str], tuple[str, int] | None] = {}
        return self

    def update(self, counts: Mapping[str, int]) -> None:
        """Add the term counts of new catalog items: words that reach ``min_count`` become
        corrections from now on (only their deletions are indexed; no refit)."""
        for term, c in counts.items():
            before = self.counts_.get(term, 0)
            after = before + int(c)
            self.counts_[term] = after
            if before < self.min_count <= after and _correctable(term):
                self.deletes_.setdefault(term, []).append(term)
                for d in _deletes(term):
                    self.deletes_.setdefault(d, []).append(term)
        self._memo.clear()

    def _best(self, term: str) -> tuple[str, int] | None:
        """The most frequent catalog word within distance 1 (2 for words of 7+ letters);
        remembered, since the same misspellings come back query after query."""
        key = (term, "")
        if key not in self._memo:
            if len(self._memo) > 200_000:
                self._memo.clear()
            self._memo[key] = self._search(term)
        return self._memo[key]

    def _search(self, term: str) -> tuple[str, int] | None:
        max_dist = 2 if len(term) >= 7 else 1
        probes = {term} | _deletes(term)
        if max_dist == 2:
            probes |= {d2 for d in _deletes(term) for d2 in _deletes(d)}
        seen: set[str] = set()
        best, best_key = None, None
        for p in probes:
            for cand in self.deletes_.get(p, ()):
                if cand in seen or cand == term:
                    continue
                seen.add(cand)
                dist = damerau_levenshtein(term, cand, max_dist + 1)
                if dist > max_dist:
                    continue
                key = (dist, -self.counts_[cand], cand)
                if best_key is None or key < best_key:
                    best, best_key = (cand, dist), key
        return best

    def _split(self, term: str) -> tuple[str, str] | None:
        best, best_count = None, 0
        for i in range(2, len(term) - 1):
            a, b = term[:i], term[i:]
            c = min(self.counts_.get(a, 0), self.counts_.get(b, 0))
            if c >= self.min_count and c > best_count:
                best, best_count = (a, b), c
        return best

    def correct(self, terms: Sequence[str], words: Sequence[str] | None = None
                ) -> dict[str, list[tuple[str, float]]]:
        """``{query term (or "a b" pair): [(replacement term, weight), …]}`` for what needs it.

        An unknown term is replaced (weight 1); a known term at least ``rare_ratio`` times rarer
        than a neighbour gets the neighbour added at ``rare_weight``. ``words`` are the terms as
        typed, before stemming (aligned with ``terms``): ``cordles`` stems to ``cordle``, two
        edits from ``cordless`` but one edit as typed.
        """
        counts = self.counts_
        out: dict[str, list[tuple[str, float]]] = {}
        for a, b in zip(terms, terms[1:]):
            if _correctable(a + b) and counts.get(a + b, 0) >= self.min_count \
                    and min(counts.get(a, 0), counts.get(b, 0)) < counts[a + b]:
                out[f"{a} {b}"] = [(a + b, 1.0)]
        typed = dict(zip(terms, words)) if words is not None else {}
        for term in dict.fromkeys(terms):
            if not _correctable(term):
                continue
            have = counts.get(term, 0)
            if have >= self.min_count * self.rare_ratio:
                continue
            best = self._best(term)
            word = typed.get(term, term)
            if word != term and _correctable(word):
                alt = self._best(word)
                if alt is not None and (best is None or (alt[1], -counts[alt[0]])
                                        < (best[1], -counts[best[0]])):
                    best = alt
            if best is not None and (have == 0 or counts[best[0]] >= have * self.rare_ratio):
                out[term] = [(best[0], 1.0 if have == 0 else self.rare_weight)]
            elif have == 0 and len(term) >= 6:
                split = self._split(term)
                if split is not None:
                    out[term] = [(split[0], 1.0), (split[1], 1.0)]
        return out

    def to_arrays(self) -> tuple[dict, dict[str, np.ndarray]]:
        terms = sorted(self.counts_)
        meta = {"min_count": self.min_count, "rare_ratio": self.rare_ratio,
                "rare_weight": self.rare_weight, "terms": terms}
        return meta, {"spell.counts": np.array([self.counts_[t] for t in terms], dtype=np.int64)}

    @classmethod
    def from_arrays(cls, meta: dict, arrays: Mapping[str, np.ndarray]) -> SpellingCorrector:
        sc = cls(meta["min_count"], meta["rare_ratio"], meta["rare_weight"])
        return sc.fit(dict(zip(meta["terms"], arrays["spell.counts"].tolist())))
