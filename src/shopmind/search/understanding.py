"""Query understanding: autocomplete suggestions and category intent.

* :class:`Autocomplete` completes a typed prefix from past queries (weighted by how often they
  were searched), brands, category names and product titles; a prefix matches the start of a
  phrase or of any word inside it, so ``hose`` also suggests ``garden hose``.
* :func:`category_intent` turns the categories of the best keyword matches (weighted by score)
  and the categories past searchers of the same query chose into a distribution over categories.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Mapping

import numpy as np

from shopmind.search.analysis import Analyzer

__all__ = ["Autocomplete", "category_intent", "normalize_query"]


def normalize_query(text: str) -> str:
    """Lower case, NFKC, single spaces: the form queries are counted and completed in.

    >>> normalize_query("  Garden   HOSE ")
    'garden hose'
    """
    return " ".join(Analyzer.normalize(text or "").split())


class Autocomplete:
    """Prefix completion over weighted phrases.

    >>> ac = Autocomplete().fit(past_queries={"garden hose": 5, "gas mower": 2},
    ...                         phrases={"Garden Hose Reel": 1, "Hose Nozzle": 1})
    >>> ac.suggest("ga")
    ['garden hose', 'gas mower', 'garden hose reel']
    >>> ac.suggest("hose")  # a phrase starting with the prefix first, then word-inside matches
    ['hose nozzle', 'garden hose', 'garden hose reel']
    """

    def __init__(self, query_weight: float = 3.0):
        self.query_weight = query_weight

    def fit(self, past_queries: Mapping[str, float] | None = None,
            phrases: Mapping[str, float] | None = None) -> Autocomplete:
        weights: Counter = Counter()
        for text, count in (phrases or {}).items():
            key = normalize_query(text)
            if key:
                weights[key] += float(count)
        for text, count in (past_queries or {}).items():
            key = normalize_query(text)
            if key:
                weights[key] += self.query_weight * float(count)
        self._set(weights)
        return self

    def _set(self, weights: Mapping[str, float]) -> None:
        self.weights_ = dict(weights)
        self.phrases_ = sorted(self.weights_)
        # Every word start inside a phrase is a way in: (suffix, phrase), sorted.
        self.suffixes_ = sorted(e for p in self.phrases_ for e in self._suffixes(p))

    @staticmethod
    def _suffixes(phrase: str) -> list[tuple[str, str]]:
        out, start = [], 0
        for word in phrase.split(" ")[1:]:
            start = phrase.index(word, start + 1)
            out.append((phrase[start:], phrase))
        return out

    def add(self, phrases: Mapping[str, float]) -> None:
        """Count more phrases or queries (e.g. new items' titles, today's searches); a few are
        inserted in place, many rebuild the index."""
        new: dict[str, float] = {}
        for text, w in phrases.items():
            key = normalize_query(text)
            if key:
                new[key] = new.get(key, 0.0) + float(w)
        unseen = [k for k in new if k not in self.weights_]
        for key, w in new.items():
            self.weights_[key] = self.weights_.get(key, 0.0) + w
        if len(unseen) > 1000:
            self._set(self.weights_)
            return
        for key in unseen:
            bisect.insort(self.phrases_, key)
            for entry in self._suffixes(key):
                bisect.insort(self.suffixes_, entry)

    def suggest(self, prefix: str, k: int = 8) -> list[str]:
        """Up to ``k`` completions, phrase-start matches first, then by weight."""
        prefix = normalize_query(prefix)
        if not prefix:
            return []
        scored: dict[str, tuple] = {}
        lo = bisect.bisect_left(self.phrases_, prefix)
        hi = bisect.bisect_left(self.phrases_, prefix + "\uffff")
        for p in self.phrases_[lo:hi]:
            scored[p] = (0, -self.weights_[p], len(p), p)
        lo = bisect.bisect_left(self.suffixes_, (prefix,))
        hi = bisect.bisect_left(self.suffixes_, (prefix + "\uffff",))
        for _, p in self.suffixes_[lo:hi]:
            if p not in scored:
                scored[p] = (1, -self.weights_[p], len(p), p)
        return [key[3] for key in sorted(scored.values())[:k]]

    def to_json(self) -> dict:
        return {"query_weight": self.query_weight, "weights": self.weights_}

    @classmethod
    def from_json(cls, blob: dict) -> Autocomplete:
        ac = cls(blob["query_weight"])
        ac._set(blob["weights"])
        return ac


def category_intent(categories: np.ndarray, scores: np.ndarray,
                    history: Mapping[str, float] | None = None, history_weight: float = 1.0,
                    k: int = 3) -> list[tuple[str, float]]:
    """The ``k`` likeliest categories: score-weighted votes of the top matches plus the
    categories past searchers of this query picked, normalised to sum to one.

    >>> category_intent(np.array(["Garden", "Garden", "Tools"]), np.array([3.0, 2.0, 1.0]))
    [('Garden', 0.8333), ('Tools', 0.1667)]
    """
    votes: Counter = Counter()
    for cat, s in zip(categories, scores):
        if cat and s > 0:
            votes[str(cat)] += float(s)
    total = sum(votes.values())
    if total > 0:
        votes = Counter({c: v / total for c, v in votes.items()})
    if history:
        h_total = sum(history.values())
        for c, v in history.items():
            votes[c] += history_weight * v / h_total
    total = sum(votes.values())
    if total <= 0:
        return []
    return [(c, round(v / total, 4)) for c, v in votes.most_common(k)]
