"""Ranking metrics: where the held-out item lands in a full ranking, and what that is worth.

Every recommender and search model is judged here, so the conventions are fixed once:

* ranks are 0-based positions in the ranking of **all** items (no sampled negatives);
* ties are pessimistic: a target tied with others is placed after all of them, so a model that
  scores everything the same gets the worst rank, not a lucky one;
* rows whose target is ``-1`` (nothing to predict) get rank ``-1`` and are left out of every mean;
* a metric over zero valid rows is ``nan`` (an honest "not measured", never a flattering 0 or 1).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse as sp

from shopmind.errors import DataError

__all__ = [
    "target_ranks",
    "top_k",
    "hit_rate_at_k",
    "ndcg_at_k",
    "mrr",
    "catalog_coverage",
    "graded_ndcg_at_k",
    "recall_at_k",
    "ranking_metrics",
    "evaluate_scores",
]


def _as_scores(scores) -> np.ndarray:
    scores = np.asarray(scores)
    if not np.issubdtype(scores.dtype, np.floating):
        scores = scores.astype(np.float64)
    if scores.ndim != 2:
        raise DataError(f"scores must be a 2-D (rows × items) array, got shape {scores.shape}")
    if np.isnan(scores).any():
        # NaN compares false with everything, which would silently give a target rank 0.
        scores = np.where(np.isnan(scores), -np.inf, scores)
    return scores


def _excluded_entries(exclude, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of every nonzero entry of ``exclude``, each once."""
    exclude = sp.csr_matrix(exclude, copy=True)
    if exclude.shape != shape:
        raise DataError(f"exclude has shape {exclude.shape} but scores have shape {shape}")
    exclude.sum_duplicates()
    exclude.eliminate_zeros()
    rows = np.repeat(np.arange(shape[0]), np.diff(exclude.indptr))
    return rows, exclude.indices.astype(np.int64)


def target_ranks(scores: np.ndarray, targets: np.ndarray,
                 exclude: sp.csr_matrix | None = None) -> np.ndarray:
    """0-based rank of each row's target among all items (pessimistic on ties).

    rank = #items scored strictly higher + #other items scored equal. Items that are nonzero in
    ``exclude`` (e.g. already seen) are left out of the ranking, except the target itself, which
    is never excluded. NaN scores count as ``-inf``. Rows with target ``< 0`` get rank ``-1``.

    >>> scores = np.array([[0.1, 0.9, 0.5], [0.2, 0.2, 0.2], [0.3, 0.1, 0.2]])
    >>> target_ranks(scores, np.array([2, 0, -1])).tolist()
    [1, 2, -1]
    >>> seen = sp.csr_matrix(np.array([[0, 1, 1], [0, 0, 0], [0, 0, 0]]))
    >>> target_ranks(scores, np.array([2, 0, -1]), exclude=seen).tolist()
    [0, 2, -1]
    """
    scores = _as_scores(scores)
    n_rows, n_items = scores.shape
    targets = np.asarray(targets, dtype=np.int64).ravel()
    if len(targets) != n_rows:
        raise DataError(f"got {len(targets)} targets for {n_rows} rows of scores")
    if np.any(targets >= n_items):
        raise DataError(f"target item index {targets.max()} is out of range for {n_items} items")
    valid = targets >= 0
    safe_targets = np.where(valid, targets, 0)
    target_score = scores[np.arange(n_rows), safe_targets]
    higher = (scores > target_score[:, None]).sum(axis=1)
    equal = (scores == target_score[:, None]).sum(axis=1)
    ranks = higher + equal - 1  # the target always ties with itself
    if exclude is not None:
        # Subtract excluded items from the counts instead of densifying the mask: exclude is
        # sparse (items seen per user) and the score matrix is the big thing here.
        rows, cols = _excluded_entries(exclude, scores.shape)
        counted = cols != safe_targets[rows]
        rows, cols = rows[counted], cols[counted]
        beats_or_ties = scores[rows, cols] >= target_score[rows]
        ranks -= np.bincount(rows[beats_or_ties], minlength=n_rows)
    return np.where(valid, ranks, -1).astype(np.int64)


def top_k(scores: np.ndarray, k: int, exclude: sp.csr_matrix | None = None) -> np.ndarray:
    """The ``k`` best item indices per row, best first (ties: lower item index first).

    Excluded items are never returned; a row with fewer than ``k`` non-excluded items is padded
    with ``-1``. ``k`` larger than the number of items is cut to it.

    >>> scores = np.array([[0.1, 0.9, 0.5, 0.7]])
    >>> top_k(scores, 2).tolist()
    [[1, 3]]
    >>> top_k(scores, 2, exclude=sp.csr_matrix(np.array([[0, 1, 0, 0]]))).tolist()
    [[3, 2]]
    """
    scores = _as_scores(scores)
    n_rows, n_items = scores.shape
    k = min(int(k), n_items)
    if k <= 0:
        return np.zeros((n_rows, 0), dtype=np.int64)
    # Sort on negated scores: NaN sorts after everything, even after -inf, so marking excluded
    # items NaN keeps them behind genuine -inf scores (which _as_scores made of input NaNs).
    keys = -scores
    if exclude is not None:
        rows, cols = _excluded_entries(exclude, scores.shape)
        keys[rows, cols] = np.nan
    if k < n_items:
        part = np.argpartition(keys, k - 1, axis=1)[:, :k]
    else:
        part = np.broadcast_to(np.arange(n_items), (n_rows, n_items))
    part_keys = np.take_along_axis(keys, part, axis=1)
    order = np.lexsort((part, part_keys), axis=1)
    best = np.take_along_axis(part, order, axis=1).astype(np.int64)
    best[np.isnan(np.take_along_axis(part_keys, order, axis=1))] = -1
    return best


def _valid(ranks) -> np.ndarray:
    ranks = np.asarray(ranks, dtype=np.int64).ravel()
    return ranks[ranks >= 0]


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if len(values) else float("nan")


def hit_rate_at_k(ranks: np.ndarray, k: int) -> float:
    """Share of rows whose target is in the top ``k`` (rank < k).

    >>> hit_rate_at_k(np.array([0, 3, 12, -1]), 10)
    0.6666666666666666
    """
    return _mean((_valid(ranks) < k).astype(np.float64))


def ndcg_at_k(ranks: np.ndarray, k: int) -> float:
    """Mean NDCG@k with one relevant item per row: ``1 / log2(rank + 2)`` if rank < k, else 0.

    >>> ndcg_at_k(np.array([0, 1]), 10)  # (1 + 1/log2(3)) / 2
    0.8154648767857288
    """
    ranks = _valid(ranks)
    gains = np.where(ranks < k, 1.0 / np.log2(ranks + 2.0), 0.0)
    return _mean(gains)


def mrr(ranks: np.ndarray) -> float:
    """Mean reciprocal rank, ``1 / (rank + 1)``, over the whole ranking (no cut-off).

    >>> mrr(np.array([0, 1, 3, -1]))
    0.5833333333333334
    """
    return _mean(1.0 / (_valid(ranks) + 1.0))


def catalog_coverage(topk: np.ndarray, n_items: int) -> float:
    """Share of the catalog that appears in at least one recommendation list (``-1`` = padding).

    >>> catalog_coverage(np.array([[0, 1], [1, 2]]), 10)
    0.3
    """
    if n_items <= 0:
        raise DataError(f"n_items must be positive, got {n_items}")
    topk = np.asarray(topk, dtype=np.int64)
    return len(np.unique(topk[topk >= 0])) / n_items


def _first_k(lists, k: int) -> np.ndarray:
    """Ragged per-query arrays as one (n_queries × k) float array, cut at k, padded with 0."""
    if isinstance(lists, np.ndarray) and lists.ndim == 2:
        out = np.zeros((lists.shape[0], k))
        width = min(k, lists.shape[1])
        out[:, :width] = lists[:, :width]
        return out
    heads = [np.asarray(x, dtype=np.float64).ravel()[:k] for x in lists]
    lengths = np.fromiter((len(h) for h in heads), dtype=np.int64, count=len(heads))
    out = np.zeros((len(heads), k))
    if lengths.sum():
        rows = np.repeat(np.arange(len(heads)), lengths)
        cols = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        out[rows, cols] = np.concatenate(heads)
    return out


def _ideal_first_k(all_gains: Sequence, k: int) -> np.ndarray:
    """Each query's gains sorted best first, cut at k (one sort over all queries together)."""
    gains = [np.asarray(g, dtype=np.float64).ravel() for g in all_gains]
    lengths = np.fromiter((len(g) for g in gains), dtype=np.int64, count=len(gains))
    out = np.zeros((len(gains), k))
    if not lengths.sum():
        return out
    flat = np.concatenate(gains)
    query = np.repeat(np.arange(len(gains)), lengths)
    order = np.lexsort((-flat, query))
    position = np.arange(len(flat)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    kept = position < k
    out[query[order][kept], position[kept]] = flat[order][kept]
    return out


def graded_ndcg_at_k(ranked_gains: Sequence[np.ndarray], all_gains: Sequence[np.ndarray],
                     k: int) -> float:
    """Mean NDCG@k for graded relevance (search), linear gains, discount ``log2(position + 2)``.

    ``ranked_gains[q]`` are the gains of the results returned for query ``q``, in ranked order;
    ``all_gains[q]`` are the gains of every judged item of that query, used for the ideal DCG
    (pass ``2 ** rel - 1`` for exponential gains). A query whose ideal DCG is 0 (nothing
    relevant) contributes 0 and still counts in the mean: a query set with unanswerable queries
    should not score as if they were answered.

    >>> # DCG = 2/log2(3) + 1/log2(4), ideal DCG = 2/log2(2) + 1/log2(3)
    >>> round(graded_ndcg_at_k([[0, 2, 1]], [[2, 1, 0, 0]], k=3), 4)
    0.6697
    >>> graded_ndcg_at_k([[1], [0]], [[1], [0]], k=1)  # second query has nothing relevant
    0.5
    """
    if len(ranked_gains) != len(all_gains):
        raise DataError(f"got {len(ranked_gains)} ranked lists but {len(all_gains)} gain sets")
    if k <= 0:
        raise DataError(f"k must be positive, got {k}")
    discount = 1.0 / np.log2(np.arange(k) + 2.0)
    dcg = _first_k(ranked_gains, k) @ discount
    ideal = _ideal_first_k(all_gains, k) @ discount
    ndcg = np.divide(dcg, ideal, out=np.zeros_like(dcg), where=ideal > 0)
    return _mean(ndcg)


def recall_at_k(ranked_relevant_flags: Sequence[np.ndarray], n_relevant: np.ndarray,
                k: int) -> float:
    """Mean share of each query's relevant items found in its top ``k`` results.

    ``ranked_relevant_flags[q]`` marks which returned results (in ranked order) are relevant;
    ``n_relevant[q]`` is how many relevant items query ``q`` has in total. As in
    :func:`graded_ndcg_at_k`, a query with no relevant item contributes 0 and is counted.

    >>> recall_at_k([[1, 0, 1], [0, 0, 0]], [4, 1], k=2)  # (1/4 + 0) / 2
    0.125
    """
    n_relevant = np.asarray(n_relevant, dtype=np.float64).ravel()
    if len(ranked_relevant_flags) != len(n_relevant):
        raise DataError(f"got {len(ranked_relevant_flags)} ranked lists but "
                        f"{len(n_relevant)} relevant counts")
    if k <= 0:
        raise DataError(f"k must be positive, got {k}")
    found = (_first_k(ranked_relevant_flags, k) != 0).sum(axis=1)
    if np.any(found > n_relevant):
        raise DataError("a query has more relevant results in its top k than n_relevant says")
    recall = np.divide(found, n_relevant, out=np.zeros_like(n_relevant), where=n_relevant > 0)
    return _mean(recall)


def ranking_metrics(ranks: np.ndarray, ks: Sequence[int] = (10,), topk: np.ndarray | None = None,
                    n_items: int | None = None) -> dict[str, float]:
    """``hr@k`` and ``ndcg@k`` for every k in ``ks``, ``mrr``, and ``coverage@k`` given ``topk``.

    ``topk`` holds one recommendation list per row of ``ranks`` (rows with rank ``-1`` are left
    out); coverage is reported for every k in ``ks`` no longer than its lists.

    >>> metrics = ranking_metrics(np.array([0, 1, 20]), ks=(1, 10))
    >>> {name: round(value, 4) for name, value in metrics.items()}
    {'hr@1': 0.3333, 'ndcg@1': 0.3333, 'hr@10': 0.6667, 'ndcg@10': 0.5436, 'mrr': 0.5159}
    """
    ranks = np.asarray(ranks, dtype=np.int64).ravel()
    metrics: dict[str, float] = {}
    for k in sorted(set(ks)):
        metrics[f"hr@{k}"] = hit_rate_at_k(ranks, k)
        metrics[f"ndcg@{k}"] = ndcg_at_k(ranks, k)
    metrics["mrr"] = mrr(ranks)
    if topk is not None:
        if n_items is None:
            raise DataError("ranking_metrics needs n_items to compute coverage from topk")
        topk = np.asarray(topk)
        if topk.ndim != 2 or len(topk) != len(ranks):
            raise DataError(f"topk must have one row per rank ({len(ranks)}), got {topk.shape}")
        topk = topk[ranks >= 0]
        for k in sorted(set(ks)):
            if k <= topk.shape[1]:
                metrics[f"coverage@{k}"] = catalog_coverage(topk[:, :k], n_items)
    return metrics


def evaluate_scores(score_fn: Callable[[np.ndarray], np.ndarray], rows: np.ndarray,
                    targets: np.ndarray, n_items: int, k: int = 10,
                    exclude: sp.csr_matrix | None = None, batch_size: int = 1024,
                    ks: Sequence[int] = (10,)) -> dict[str, float]:
    """Full-ranking evaluation of a scorer, batch by batch so memory stays ``batch × n_items``.

    ``score_fn(rows_batch)`` returns a (len(batch) × n_items) score matrix. ``rows`` are the
    row ids handed to it (e.g. user indices) and index the rows of ``exclude``. Rows with target
    ``-1`` are skipped without being scored. Metrics are reported at every cut-off in ``ks`` and
    at ``k``; ``"n"`` is the number of rows evaluated.

    >>> scores = np.array([[0.9, 0.1, 0.5], [0.1, 0.9, 0.5]])
    >>> evaluate_scores(lambda r: scores[r], np.array([0, 1]), np.array([0, 2]), n_items=3,
    ...                 k=1, ks=(1,), batch_size=1)
    {'hr@1': 0.5, 'ndcg@1': 0.5, 'mrr': 0.75, 'coverage@1': 0.6666666666666666, 'n': 2}
    """
    rows = np.asarray(rows).ravel()
    targets = np.asarray(targets, dtype=np.int64).ravel()
    if len(rows) != len(targets):
        raise DataError(f"got {len(targets)} targets for {len(rows)} rows")
    if batch_size <= 0:
        raise DataError(f"batch_size must be positive, got {batch_size}")
    if exclude is not None:
        exclude = sp.csr_matrix(exclude)
        if exclude.shape[1] != n_items:
            raise DataError(f"exclude has {exclude.shape[1]} columns but n_items is {n_items}")
    cutoffs = sorted({int(k), *map(int, ks)})
    width = max(cutoffs)
    keep = targets >= 0
    rows, targets = rows[keep], targets[keep]
    ranks = np.empty(len(rows), dtype=np.int64)
    # Coverage only needs which items were ever recommended, so keep one mask per cut-off
    # rather than every list.
    recommended = np.zeros((len(cutoffs), n_items), dtype=bool)
    for start in range(0, len(rows), batch_size):
        batch = slice(start, start + batch_size)
        scores = np.asarray(score_fn(rows[batch]))
        if scores.shape != (len(rows[batch]), n_items):
            raise DataError(f"score_fn returned shape {scores.shape}, expected "
                            f"{(len(rows[batch]), n_items)}")
        batch_exclude = exclude[rows[batch]] if exclude is not None else None
        ranks[batch] = target_ranks(scores, targets[batch], batch_exclude)
        best = top_k(scores, width, batch_exclude)
        for i, cutoff in enumerate(cutoffs):
            head = best[:, :cutoff]
            recommended[i, head[head >= 0]] = True
    metrics = ranking_metrics(ranks, cutoffs)
    for i, cutoff in enumerate(cutoffs):
        metrics[f"coverage@{cutoff}"] = catalog_coverage(np.flatnonzero(recommended[i]), n_items)
    metrics["n"] = len(rows)
    return metrics
