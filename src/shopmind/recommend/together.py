"""Frequently bought together: items in the same orders; for an item no order pairs with
anything yet, items bought or put in the cart in the same shopping sessions.

>>> import pandas as pd
>>> orders = pd.DataFrame({"basket": [1, 1, 2, 2, 3, 3], "item_id": list("tsts" "tp")})
>>> fbt = BoughtTogether().fit(orders)
>>> fbt.with_item("t")
[('s', 2, 'together'), ('p', 1, 'together')]
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

__all__ = ["BoughtTogether"]


def _cooccurrence(baskets: pd.DataFrame, index: dict) -> sp.csr_matrix:
    baskets = baskets[baskets["item_id"].isin(index)].drop_duplicates(["basket", "item_id"])
    n = len(index)
    if baskets.empty:
        return sp.csr_matrix((n, n), dtype=np.float32)
    rows, _ = pd.factorize(baskets["basket"])
    cols = baskets["item_id"].map(index).to_numpy()
    incidence = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)),
                              shape=(rows.max() + 1, n))
    together = (incidence.T @ incidence).tocsr()
    together.setdiag(0)
    together.eliminate_zeros()
    return together


class BoughtTogether:
    """Co-occurrence of items in baskets.

    ``fit(orders, sessions=None)``: ``orders`` has columns ``basket`` (an order id) and
    ``item_id``, one row per line; ``sessions`` (optional) the same for shopping sessions
    (purchases and add-to-carts of one session). Partners of an item come from orders; an item
    with no order partner at all falls back to its session partners. Ties: the partner fewer
    baskets hold ranks first (the pair says more about it), then by id.
    """

    def __init__(self, min_count: int = 1):
        self.min_count = min_count

    def fit(self, orders: pd.DataFrame, sessions: pd.DataFrame | None = None) -> BoughtTogether:
        frames = [orders] + ([sessions] if sessions is not None else [])
        ids = pd.unique(pd.concat([f["item_id"] for f in frames], ignore_index=True).dropna())
        self.item_ids_ = np.asarray(sorted(ids.tolist()), dtype=object)
        self.index_ = {iid: i for i, iid in enumerate(self.item_ids_.tolist())}
        self.orders_ = _cooccurrence(orders, self.index_)
        self.sessions_ = (_cooccurrence(sessions, self.index_) if sessions is not None
                          else sp.csr_matrix(self.orders_.shape, dtype=np.float32))
        self.support_ = np.asarray(self.orders_.sum(axis=0)).ravel() + \
            np.asarray(self.sessions_.sum(axis=0)).ravel()
        return self

    def with_item(self, item_id, k: int | None = None) -> list[tuple[object, int, str]]:
        """``(partner id, baskets with both, kind)`` best first; kind ``together`` (orders) or
        ``cart_together`` (sessions, the fallback)."""
        i = self.index_.get(item_id) if hasattr(self, "index_") else None
        if i is None:
            return []
        for matrix, kind in ((self.orders_, "together"), (self.sessions_, "cart_together")):
            lo, hi = matrix.indptr[i], matrix.indptr[i + 1]
            counts = matrix.data[lo:hi]
            partners = matrix.indices[lo:hi]
            keep = counts >= self.min_count
            if keep.any():
                partners, counts = partners[keep], counts[keep]
                order = np.lexsort((self.item_ids_[partners].astype(str),
                                    self.support_[partners], -counts))[:k]
                return [(self.item_ids_[p], int(c), kind)
                        for p, c in zip(partners[order], counts[order])]
        return []
