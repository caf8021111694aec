"""Synonyms: the ones a shop configures, and the ones its own searches teach.

Configured synonyms are either one-way (``{"tv": ["television"]}``: a query for *tv* also finds
*television*) or groups of equals (``[["sofa", "couch"]]``). Keys may be phrases
(``"over the range": ["otr"]``).

Learned synonyms come from (query, item, relevance) pairs — judgments or search clicks: when a
query word keeps leading to items that do not contain it, the words those items do contain are
its synonyms (``otr`` → ``microwave``, ``电脑包`` → ``sleeve``). A pair is kept when it holds in at
least ``min_queries`` distinct queries, for at least ``min_confidence`` of the queries where the
word went unmatched, and the target word is ``min_lift`` times more common there than in the
catalog; among those, targets more than twice as common as the most specific one are dropped
(``case`` learns 壳, not 配件 "accessories").
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence

from shopmind.search.analysis import STOPWORDS, Analyzer

__all__ = ["Synonyms", "learn_synonyms"]


class Synonyms:
    """Term (or phrase) → weighted expansion terms, all analyzed.

    >>> syn = Synonyms.from_config({"tv": ["television"], "over the range": ["otr"]},
    ...                            groups=[["sofa", "couch"]])
    >>> syn.expand(["cheap", "couch"])
    {'sofa': 1.0}
    >>> syn.expand(["microwave", "over", "the", "range"])
    {'otr': 1.0}
    """

    def __init__(self, table: Mapping[tuple[str, ...], Mapping[str, float]] | None = None):
        self.table: dict[tuple[str, ...], dict[str, float]] = {
            k: dict(v) for k, v in (table or {}).items()}
        self.max_len = max((len(k) for k in self.table), default=1)

    @classmethod
    def from_config(cls, mapping: Mapping[str, Sequence[str]] | None = None,
                    groups: Iterable[Sequence[str]] | None = None,
                    analyzer: Analyzer | None = None) -> Synonyms:
        analyzer = analyzer or Analyzer()
        table: dict[tuple[str, ...], dict[str, float]] = defaultdict(dict)

        def link(src: str, dst: str) -> None:
            key = tuple(analyzer.terms(src))
            for term in analyzer.terms(dst):
                if key and term not in key:
                    table[key][term] = 1.0

        for src, dsts in (mapping or {}).items():
            for dst in ([dsts] if isinstance(dsts, str) else dsts):
                link(src, dst)
        for group in groups or ():
            for src in group:
                for dst in group:
                    if src != dst:
                        link(src, dst)
        return cls(table)

    def merged(self, other: Synonyms, weight: float = 1.0) -> Synonyms:
        """These synonyms plus ``other``'s (scaled by ``weight``); where both have one, the larger
        weight wins."""
        table = {k: dict(v) for k, v in self.table.items()}
        for key, exp in other.table.items():
            mine = table.setdefault(key, {})
            for term, w in exp.items():
                mine[term] = max(mine.get(term, 0.0), w * weight)
        return Synonyms(table)

    def expand(self, terms: Sequence[str]) -> dict[str, float]:
        """Expansion terms for a query (terms already in the query are not repeated)."""
        out: dict[str, float] = {}
        present = set(terms)
        for n in range(1, self.max_len + 1):
            for i in range(len(terms) - n + 1):
                for term, w in self.table.get(tuple(terms[i:i + n]), {}).items():
                    if term not in present:
                        out[term] = max(out.get(term, 0.0), w)
        return out

    def __len__(self) -> int:
        return len(self.table)

    def to_json(self) -> list:
        return [[list(k), v] for k, v in sorted(self.table.items())]

    @classmethod
    def from_json(cls, rows: list) -> Synonyms:
        return cls({tuple(k): v for k, v in rows})


def learn_synonyms(queries: Sequence[Sequence[str]], item_terms: Sequence[set[str]],
                   doc_freq: Mapping[str, int], n_items: int, min_queries: int = 3,
                   min_confidence: float = 0.3, min_lift: float = 5.0,
                   max_per_term: int = 3) -> Synonyms:
    """Learn one-way synonyms from relevant (query terms, item terms) pairs.

    ``queries[i]`` are the analyzed terms of a query and ``item_terms[i]`` the analyzed terms of
    an item judged (or clicked) relevant to it; ``doc_freq`` counts catalog items per term. The
    weight of a learned synonym is its confidence.

    >>> qs = [["otr", "microwave"], ["otr"], ["white", "otr"], ["otr", "oven"]]
    >>> items = [{"over", "range", "microwave"}] * 4
    >>> syn = learn_synonyms(qs, items, {"over": 50, "range": 40, "microwave": 30}, 1000)
    >>> sorted(syn.expand(["otr"]))
    ['microwave', 'over', 'range']
    """
    unmatched: Counter = Counter()  # term -> distinct queries where it missed a relevant item
    together: dict[str, Counter] = defaultdict(Counter)
    per_query: dict[tuple[str, ...], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for q, items in zip(queries, item_terms):
        key = tuple(q)
        for t in set(q):
            if t in STOPWORDS or t in items or t.replace(".", "").isdigit():
                continue
            per_query[key][t].update(u for u in items if u not in STOPWORDS)
    for targets in per_query.values():
        for t, items in targets.items():
            unmatched[t] += 1
            together[t].update(items)
    table: dict[tuple[str, ...], dict[str, float]] = {}
    for t, n in unmatched.items():
        if n < min_queries:
            continue
        kept = []
        for u, c in together[t].items():
            conf = c / n
            base = doc_freq.get(u, 0) / max(n_items, 1)
            lift = conf / base if base > 0 else float("inf")
            if c >= min_queries and conf >= min_confidence and lift >= min_lift:
                kept.append((conf, lift, u))
        # Equally confident targets: the more specific (rarer in the catalog) first, so "case"
        # learns 壳 (shell) rather than 手机 (phone), which every phone accessory mentions.
        kept.sort(key=lambda x: (-x[0], -x[1], x[2]))
        if kept:  # and nothing much broader than the best: a synonym names the same thing
            best_lift = max(x[1] for x in kept)
            kept = [x for x in kept if x[1] >= best_lift / 2]
            table[(t,)] = {u: round(float(conf), 4) for conf, _, u in kept[:max_per_term]}
    return Synonyms(table)
