"""Product search: hybrid keyword + semantic retrieval in Chinese and English, a ranker learned
from the shop's judgments or search clicks, filters and facets, query understanding
(spelling, synonyms, category intent, autocomplete), personal re-ranking and incremental updates.

>>> import pandas as pd
>>> items = pd.DataFrame({"item_id": [1, 2], "title": ["Red Running Shoes", "蓝牙耳机"]})
>>> ProductSearch(encoder="hashing").fit(items).search("runing shoes").item_ids[0]
1
"""

from shopmind.search.analysis import Analyzer
from shopmind.search.engine import FEATURES, ProductSearch, SearchResult, default_gain
from shopmind.search.filters import Filters
from shopmind.search.judgments import judgments_from_events
from shopmind.search.keyword import KeywordIndex
from shopmind.search.ranker import PairwiseRanker, TreeRanker, reciprocal_rank_fusion
from shopmind.search.spelling import SpellingCorrector
from shopmind.search.synonyms import Synonyms, learn_synonyms
from shopmind.search.understanding import Autocomplete
from shopmind.search.vector import StaticQueryEncoder, VectorIndex

__all__ = [
    "ProductSearch", "SearchResult", "Filters", "FEATURES", "default_gain",
    "judgments_from_events", "Analyzer", "KeywordIndex", "VectorIndex", "StaticQueryEncoder",
    "PairwiseRanker", "TreeRanker", "reciprocal_rank_fusion", "SpellingCorrector", "Synonyms",
    "learn_synonyms", "Autocomplete",
]
