"""Which of the shop's own aspect categories a review speaks of.

The taxonomy finds its aspects by their words (「物流」, "shipping"). A shop's own categories —
ASAP's 「排队时间」 (service wait time) or "value for money" — have no word list: they come
from the shop's annotated reviews, where the category is named beside the review, not in it.
The aspect-term model learns their polarity; :class:`CategoryMentionDetector` learns whether a
review speaks of them at all, so a category is judged only in the reviews that mention it
instead of in every review asked.

One logistic regression per category over the review's character n-grams (sub-linear TF-IDF,
L2-normalised; any language, no segmentation), classes weighted to balance: a category
mentioned by few reviews still gets found. Each category's threshold is the one that gave the
best F1 on out-of-fold probabilities (3 folds of the training reviews): with a hundred reviews
the regressions' probabilities crowd around one half, with tens of thousands they spread, and a
fixed 0.5 suits neither. A review annotated with some categories is taken to not mention the
others (annotators list what a review speaks of, as SemEval's and ASAP's did).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from shopmind.data.model_files import read_model, strings_from_array, strings_to_array, write_model
from shopmind.errors import DataError, NotFittedError
from shopmind.evaluate import detection_metrics
from shopmind.reviews.base import as_texts
from shopmind.reviews.tfidf import l2_tfidf, smooth_idf

__all__ = ["CategoryMentionDetector"]


class CategoryMentionDetector:
    """Detects the shop's aspect categories in reviews (see the module doc).

    ``C`` is the regressions' inverse regularisation, ``ngrams`` the longest character n-gram,
    ``min_reviews`` how many reviews must mention a category, and how many must not, for it to
    get a detector; ``threshold`` the probability from which a category counts as mentioned
    (``None``: each category's own, chosen out of fold). Categories are matched
    case-insensitively. Learned: ``categories_``, ``thresholds_``.
    """

    def __init__(self, C: float = 4.0, ngrams: int = 3, min_reviews: int = 3,
                 threshold: float | None = None):
        self.C = C
        self.ngrams = ngrams
        self.min_reviews = min_reviews
        self.threshold = threshold

    def fit(self, texts, categories) -> CategoryMentionDetector:
        """``categories``: per review, the categories it speaks of (any iterable of names;
        empty when it speaks of none of them)."""
        texts = as_texts(texts)
        if len(categories) != len(texts):
            raise DataError(f"{len(texts)} reviews but {len(categories)} category sets; give "
                            f"one set per review")
        sets = [{str(c).strip().lower() for c in cats} for cats in categories]
        names = sorted({c for s in sets for c in s if c})
        targets = {c: np.array([c in s for s in sets]) for c in names}
        kept = [c for c in names
                if self.min_reviews <= targets[c].sum() <= len(texts) - self.min_reviews]
        if not kept:
            raise DataError(f"no category is mentioned by at least {self.min_reviews} reviews "
                            f"and absent from as many; annotate more reviews with categories")
        y = np.column_stack([targets[c] for c in kept])
        self._vocab, self._idf, self._coef, self._intercept = self._fit_arrays(texts, y)
        self.categories_ = np.array(kept, dtype=object)
        self._index = {c: i for i, c in enumerate(kept)}
        self.thresholds_ = (np.full(len(kept), self.threshold) if self.threshold is not None
                            else self._out_of_fold_thresholds(texts, y))
        return self

    def _fit_arrays(self, texts: list[str], y: np.ndarray):
        """(vocabulary, idf, coefficients, intercepts) of one regression per column of ``y``
        (reviews × categories, booleans); a column of one class gets its prior as intercept."""
        from sklearn.linear_model import LogisticRegression

        counter = self._counter()
        counts = counter.fit_transform(texts)
        idf = smooth_idf(counts)
        x = l2_tfidf(counts, idf)
        coef = np.zeros((y.shape[1], x.shape[1]), dtype=np.float32)
        intercept = np.zeros(y.shape[1], dtype=np.float32)
        for j in range(y.shape[1]):
            if 0 < y[:, j].sum() < len(y):
                fit = LogisticRegression(C=self.C, class_weight="balanced", solver="liblinear",
                                         max_iter=3000).fit(x, y[:, j].astype(np.int64))
                coef[j], intercept[j] = fit.coef_[0], fit.intercept_[0]
            else:
                share = np.clip(y[:, j].mean(), 1e-3, 1 - 1e-3)
                intercept[j] = np.log(share / (1 - share))
        return counter.vocabulary_, idf, coef, intercept

    def _out_of_fold_thresholds(self, texts: list[str], y: np.ndarray) -> np.ndarray:
        """Per category, the threshold on out-of-fold probabilities with the best F1."""
        from sklearn.model_selection import KFold

        oof = np.zeros(y.shape)
        for fit_rows, held in KFold(3, shuffle=True, random_state=0).split(texts):
            vocab, idf, coef, intercept = self._fit_arrays([texts[i] for i in fit_rows],
                                                           y[fit_rows])
            oof[held] = self._proba([texts[i] for i in held], vocab, idf, coef, intercept)
        grid = np.round(np.arange(0.05, 0.951, 0.05), 2)
        said = oof[:, :, None] >= grid  # reviews × categories × thresholds
        hits = (said & y[:, :, None]).sum(axis=0)
        f1 = 2 * hits / np.maximum(said.sum(axis=0) + y.sum(axis=0)[:, None], 1)
        return grid[np.argmax(f1, axis=1)]

    def _counter(self, vocab: dict | None = None):
        """The character n-gram counter: learning its vocabulary (n-grams in ≥ 2 reviews), or
        with ``vocab`` a fitted one's."""
        from sklearn.feature_extraction.text import CountVectorizer

        learn = {"min_df": 2} if vocab is None else {"vocabulary": vocab}
        return CountVectorizer(analyzer="char", ngram_range=(1, self.ngrams), lowercase=True,
                               dtype=np.float32, **learn)

    def _proba(self, texts: list[str], vocab, idf, coef, intercept) -> np.ndarray:
        scores = l2_tfidf(self._counter(vocab).transform(texts), idf) @ coef.T + intercept
        return 1 / (1 + np.exp(-np.asarray(scores, dtype=np.float64)))

    def _check_fitted(self) -> None:
        if not hasattr(self, "categories_"):
            raise NotFittedError("this CategoryMentionDetector is not fitted; call fit() or load()")

    def predict_proba(self, texts) -> np.ndarray:
        """Reviews × ``categories_``: the probability that each review speaks of each."""
        self._check_fitted()
        return self._proba(as_texts(texts), self._vocab, self._idf, self._coef, self._intercept)

    def detects(self, category: str) -> bool:
        """Whether ``category`` has a detector (it was annotated on enough reviews)."""
        return hasattr(self, "_index") and category.strip().lower() in self._index

    def mentioned(self, texts, categories) -> np.ndarray:
        """Per (review, category) row, whether the review speaks of the category; every
        category must be one :meth:`detects`."""
        proba, thresholds = self._pair_proba(texts, categories)
        return proba >= thresholds

    def pair_proba(self, texts, categories) -> np.ndarray:
        """Per (text, category) row, the probability that the text speaks of the category
        (as :meth:`mentioned`, before its threshold)."""
        return self._pair_proba(texts, categories)[0]

    def _pair_proba(self, texts, categories) -> tuple[np.ndarray, np.ndarray]:
        texts, categories = as_texts(texts), [c.strip().lower() for c in categories]
        if len(texts) != len(categories):
            raise DataError(f"{len(texts)} reviews but {len(categories)} categories; give one "
                            f"category per review")
        self._check_fitted()
        unknown = next((i for i, c in enumerate(categories) if c not in self._index), None)
        if unknown is not None:
            raise DataError(f"category {categories[unknown]!r} at row {unknown} has no detector; "
                            f"known: {list(self.categories_)}")
        unique, rows = np.unique(np.array(texts, dtype=object), return_inverse=True)
        proba = self.predict_proba(list(unique))
        columns = [self._index[c] for c in categories]
        return proba[rows, columns], self.thresholds_[columns]

    def score(self, texts, categories) -> dict[str, float]:
        """Micro precision, recall and F1 of the mentions found in ``texts`` against
        ``categories`` (per review, the categories it speaks of; as in :meth:`fit`), over the
        categories this detector knows."""
        self._check_fitted()
        texts = as_texts(texts)
        truth = np.array([[c in {str(x).strip().lower() for x in cats} for c in self.categories_]
                          for cats in categories])
        found = self.predict_proba(texts) >= self.thresholds_
        return {k: round(v, 4) for k, v in detection_metrics(truth, found).items()}

    def save(self, path: str | Path) -> Path:
        self._check_fitted()
        terms = sorted(self._vocab, key=self._vocab.get)
        return write_model(path, "category-mentions",
                           {"C": self.C, "ngrams": self.ngrams, "min_reviews": self.min_reviews,
                            "threshold": self.threshold, "categories": list(self.categories_)},
                           {"vocab": strings_to_array(terms), "idf": self._idf,
                            "thresholds": self.thresholds_,
                            "coef": self._coef, "intercept": self._intercept})

    @classmethod
    def load(cls, path: str | Path) -> CategoryMentionDetector:
        _, params, arrays = read_model(path, "category-mentions")
        model = cls(params["C"], params["ngrams"], params["min_reviews"], params["threshold"])
        model.categories_ = np.array(params["categories"], dtype=object)
        model._index = {c: i for i, c in enumerate(params["categories"])}
        model._vocab = {t: i for i, t in enumerate(strings_from_array(arrays["vocab"]))}
        model._idf, model._coef = arrays["idf"], arrays["coef"]
        model._intercept, model.thresholds_ = arrays["intercept"], arrays["thresholds"]
        return model
