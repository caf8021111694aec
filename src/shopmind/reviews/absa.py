"""Aspect-term sentiment (the SemEval task): given a sentence and an aspect term in it, its polarity.

:class:`AspectTermClassifier` is the classical model, for any language and no pretrained
weights: sparse features of the whole sentence, of a window on each side of the term, of the
clause that holds it, and of the term itself, plus the lexicon's opinion scores of those spans,
into a logistic regression. A fine-tuned transformer
(:class:`~shopmind.reviews.transformer.TransformerClassifier` with pairs) follows the same
:class:`~shopmind.reviews.base.PairClassifier` contract and is stronger where an encoder for
the language exists.

The term is found in the sentence case-insensitively (the first occurrence); a sentence may
instead hold the marker ``$T$`` where the term stands, as SemEval files do. A term that is not in
the sentence is an aspect category (ASAP's 「service wait time」 over a Chinese review): the
sentence's words are then crossed with it, so each category learns which words speak of it.

>>> clf = AspectTermClassifier(C=1.0)
>>> texts = ["the battery is great but the screen is awful"] * 4 + ["great screen, awful battery"] * 4
>>> terms = ["battery", "screen"] * 2 + ["screen", "battery"] * 2
>>> labels = ["positive", "negative"] * 2 + ["positive", "negative"] * 2
>>> clf.fit(texts, terms, labels).predict(["the screen is great but the keyboard is awful"],
...                                       ["screen"]).tolist()
['positive']
"""

from __future__ import annotations

import bisect
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from shopmind.data.model_files import (
    read_model,
    strings_from_array,
    strings_to_array,
    write_model,
)
from shopmind.errors import DataError, NotFittedError
from shopmind.reviews.analyzer import lexicon_score, opinion_words
from shopmind.reviews.base import as_texts
from shopmind.reviews.clauses import split_clauses, units

__all__ = ["AspectTermClassifier", "locate_term", "MARKER"]

MARKER = "$T$"
_DENSE_SCALE = 3.0  # the lexicon scores beside l2-normalised sparse rows
_NEGATORS = {"not", "no", "never", "nt", "dont", "doesnt", "didnt", "isnt", "wasnt", "cant", "cannot",
             "without", "hardly", "不", "没", "无", "别", "非", "未"}


def locate_term(text: str, term: str) -> tuple[str, int, int]:
    """(sentence, start, end) of the aspect term: at the ``$T$`` marker, else its first
    case-insensitive occurrence, else (not found) an empty span at the end.

    >>> locate_term("the $T$ is slow", "battery")
    ('the battery is slow', 4, 11)
    >>> locate_term("Battery is slow", "battery")[1:]
    (0, 7)
    """
    if MARKER in text:
        start = text.index(MARKER)
        return text.replace(MARKER, term, 1).replace(MARKER, term), start, start + len(term)
    start = text.lower().find(term.lower()) if term else -1
    if start < 0:
        return text, len(text), len(text)
    return text, start, start + len(term)


def _features(text: str, term: str, window: int) -> tuple[list[str], list[float]]:
    sentence, start, end = locate_term(text, term)
    us = units(sentence)
    words = [u for u, _, _ in us]
    inside = [i for i, (_, a, b) in enumerate(us) if a < end and b > start]
    first = inside[0] if inside else sum(1 for _, a, _ in us if a < start)
    last = inside[-1] + 1 if inside else first
    feats: list[str] = []
    scope = 0  # words still under the last negator
    for i, w in enumerate(words):  # the sentence: words, bigrams, words under a negation
        feats.append("w:" + w)
        if i:
            feats.append("b:" + words[i - 1] + "_" + w)
        if scope:
            feats.append("n:" + w)
            scope -= 1
        if w in _NEGATORS:
            scope = 3
    left = words[max(0, first - window):first]
    right = words[last:last + window]
    for tag, span in (("L", left), ("R", right)):
        for k, w in enumerate(span):
            feats.append(f"{tag}:{w}")
            if k:
                feats.append(f"{tag}b:{span[k - 1]}_{w}")
    for w in words[first:last]:
        feats.append("a:" + w)
    feats.append("a:" + "_".join(words[first:last]))
    if start == end:
        # an aspect category (「service wait time」), not a term in the sentence: nothing locates
        # it, so the sentence's features are crossed with it — each category learns its own words
        # (「排队」 speaks of waiting, 「好吃」 of taste), and the category alone is its prior
        category = "t:" + term.lower()
        feats += [category] + [f"{category}|{f}" for f in feats if f[0] in "wbn"]
    clause = next((c for c in split_clauses(sentence) if c.start <= start < c.end), None)
    clause_span = (clause.start, clause.end) if clause else (0, len(sentence))
    cwords = [u for u, _, _ in units(sentence, *clause_span)]
    for k, w in enumerate(cwords):
        feats.append("c:" + w)
        if k:
            feats.append(f"cb:{cwords[k - 1]}_{w}")
    left_start = us[max(0, first - window)][1] if us and first > 0 else start
    right_end = us[min(len(us), last + window) - 1][2] if us and last < len(us) else end
    dense = []
    for a, b in ((0, len(sentence)), clause_span, (left_start, start), (end, right_end)):
        score, n = lexicon_score(sentence, a, b)
        dense += [score, float(n > 0)]
    # opinion words by their distance (in units) to the term: near ones speak about it
    starts = [a for _, a, _ in us]
    near = [0.0, 0.0, 0.0]  # proximity-weighted sum, nearest value, nearest closeness
    best = None
    for a, _, value in opinion_words(sentence):
        position = bisect.bisect_right(starts, a) - 1
        distance = first - position if position < first else max(0, position - last + 1)
        near[0] += value / (1 + distance)
        if best is None or distance < best:
            best, near[1], near[2] = distance, value, 1 / (1 + distance)
    return feats, dense + near


class AspectTermClassifier:
    """Logistic regression over sentence, window, clause and term features (see module doc).

    ``C`` regularisation, ``window`` units on each side of the term, ``min_df`` the least
    number of training pairs a feature must occur in.
    """

    def __init__(self, C: float = 4.0, window: int = 5, min_df: int = 1):
        self.C = C
        self.window = window
        self.min_df = min_df

    def _rows(self, texts, pairs) -> tuple[list[list[str]], np.ndarray]:
        texts, pairs = as_texts(texts), as_texts(pairs, "pairs")
        if len(texts) != len(pairs):
            raise DataError(f"{len(texts)} texts but {len(pairs)} aspect terms")
        feats, dense = zip(*[_features(t, a, self.window) for t, a in zip(texts, pairs)]) \
            if texts else ((), ())
        return list(feats), np.array(dense, dtype=np.float32).reshape(len(texts), -1)

    def _matrix(self, feats: list[list[str]], dense: np.ndarray) -> sp.csr_matrix:
        from sklearn.feature_extraction.text import CountVectorizer

        counts = CountVectorizer(analyzer=lambda f: f, vocabulary=self._vocab,
                                 dtype=np.float32).transform(feats)
        x = counts.tocsr()
        x.data = 1.0 + np.log(x.data)
        x = x @ sp.diags(self._idf)
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
        x = sp.diags(1.0 / np.maximum(norms, 1e-12)) @ x
        return sp.hstack([x, sp.csr_matrix(dense * _DENSE_SCALE)], format="csr", dtype=np.float32)

    def fit(self, texts, pairs, labels) -> AspectTermClassifier:
        """Fit on sentences, their aspect terms and the polarity labels (any values)."""
        from sklearn.feature_extraction.text import CountVectorizer
        from sklearn.linear_model import LogisticRegression

        feats, dense = self._rows(texts, pairs)
        labels = np.asarray(labels, dtype=object)
        if len(labels) != len(feats):
            raise DataError(f"{len(feats)} pairs but {len(labels)} labels")
        keys, y = np.unique(labels.astype(str), return_inverse=True)
        if len(keys) < 2:
            raise DataError("the labels hold a single class; a classifier needs two or more")
        first = {str(v): v for v in labels}
        self.classes_ = np.array([first[k] for k in keys], dtype=object)
        counter = CountVectorizer(analyzer=lambda f: f, min_df=self.min_df, dtype=np.float32)
        counts = counter.fit_transform(feats)
        self._vocab = {t: i for i, t in enumerate(counter.get_feature_names_out().tolist())}
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        self._idf = (np.log((1 + counts.shape[0]) / (1 + df)) + 1).astype(np.float32)
        x = self._matrix(feats, dense)
        # liblinear, one-vs-rest for more classes: far faster than a multinomial fit on
        # hundreds of thousands of sparse features, and as accurate here
        targets = [y] if len(keys) == 2 else [(y == k).astype(np.int64) for k in range(len(keys))]
        fits = [LogisticRegression(C=self.C, max_iter=3000, solver="liblinear").fit(x, t)
                for t in targets]
        self._coef = np.vstack([m.coef_ for m in fits]).astype(np.float32)
        self._intercept = np.concatenate([m.intercept_ for m in fits]).astype(np.float32)
        return self

    def predict_proba(self, texts, pairs) -> np.ndarray:
        if not hasattr(self, "classes_"):
            raise NotFittedError("this AspectTermClassifier is not fitted; call fit() or load()")
        scores = np.asarray(self._matrix(*self._rows(texts, pairs)) @ self._coef.T
                            + self._intercept, dtype=np.float64)
        if scores.shape[1] == 1:
            p = 1 / (1 + np.exp(-scores[:, 0]))
            return np.column_stack([1 - p, p])
        p = 1 / (1 + np.exp(-scores))  # one-vs-rest, normalised
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, texts, pairs) -> np.ndarray:
        proba = self.predict_proba(texts, pairs)
        return self.classes_[np.argmax(proba, axis=1)]

    def save(self, path: str | Path) -> Path:
        if not hasattr(self, "classes_"):
            raise NotFittedError("nothing to save: the AspectTermClassifier is not fitted")
        terms = sorted(self._vocab, key=self._vocab.get)
        classes = [c.item() if isinstance(c, np.generic) else c for c in self.classes_]
        return write_model(path, "aspect-term", {"C": self.C, "window": self.window,
                                                  "min_df": self.min_df, "classes": classes},
                            {"vocab": strings_to_array(terms), "idf": self._idf,
                             "coef": self._coef, "intercept": self._intercept})

    @classmethod
    def load(cls, path: str | Path) -> AspectTermClassifier:
        _, params, arrays = read_model(path, "aspect-term")
        model = cls(params["C"], params["window"], params["min_df"])
        model.classes_ = np.array(params["classes"], dtype=object)
        model._vocab = {t: i for i, t in enumerate(strings_from_array(arrays["vocab"]))}
        model._idf, model._coef, model._intercept = arrays["idf"], arrays["coef"], arrays["intercept"]
        return model

