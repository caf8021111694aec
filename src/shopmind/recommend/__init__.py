"""Recommenders behind one contract (see :class:`~shopmind.recommend.base.Recommender`).

``fit(sequences, items=None)``, ``recommend(user_ids, k, exclude_seen=True)``,
``next_items(recent_item_ids, k)``, ``similar_items(item_ids, k)``, ``score(user_indices)``,
``update_users(sequences)``, ``save(path)`` / ``Recommender.load(path)``.

Models: :class:`Popularity` (all-time or trending), :class:`ItemKNN` (co-occurrence cosine),
:class:`ALS` (implicit feedback, via ``implicit``), :class:`SASRec` (self-attentive sequential
model with full cross-entropy, optionally text-aware) and :class:`Blend` (a weighted mix).

Lists and rules, shared by the library, the CLI and the service: :class:`Rules` (in stock,
price, category, pin, boost, bury, diversity) applied by :func:`rank` over an
:class:`ItemCatalog`; for-you / next / similar with reasons in :mod:`~shopmind.recommend.personal`;
trending, buy again and bought together in :mod:`~shopmind.recommend.lists`.
"""

from shopmind.recommend.als import ALS
from shopmind.recommend.base import Recommendations, Recommender
from shopmind.recommend.blend import Blend
from shopmind.recommend.catalog import ItemCatalog
from shopmind.recommend.itemknn import ItemKNN
from shopmind.recommend.popularity import Popularity
from shopmind.recommend.ranking import rank
from shopmind.recommend.rules import Rules
from shopmind.recommend.sasrec import SASRec

__all__ = ["Recommender", "Recommendations", "Popularity", "ItemKNN", "ALS", "SASRec", "Blend",
           "Rules", "ItemCatalog", "rank"]
