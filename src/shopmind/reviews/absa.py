"""Aspect-term sentiment (the SemEval task): given a sentence and an aspect term in it, its polarity.

:class:`AspectTermClassifier` is the classical model, for any language and no pretrained
weights: sparse features of the whole sentence, of a window on each side of the term, of the
clause that holds it, and of the term itself, plus the lexicon's opinion scores of those spans,
into a logistic regression. A fine-tuned transformer
(:class:`~shopmind.reviews.transformer.TransformerClassifier` with pairs) follows the same
:class:`~shopmind.reviews.base.PairClassifier` contract and is stronger where an encoder for
the language exists.

The term is found in the sentence case-insensitively (as a whole word where it stands as one);
a sentence may instead hold the marker ``$T$`` where the term stands, as SemEval files do. A
term that is not in the sentence is an aspect category (ASAP's 「service wait time」 over a
Chinese review): the sentence's words are then crossed with it, so each category learns which
words speak of it.

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
from shopmind.reviews.clauses import find_term, split_clauses, units
from shopmind.reviews.tfidf import l2_tfidf, smooth_idf

__all__ = ["AspectTermClassifier", "locate_term", "MARKER"]

MARKER = "$T$"
_DENSE_SCALE = 3.0  # the lexicon scores beside l2-normalised sparse rows
_N_DENSE = 11  # lexicon (score, any opinion) of sentence, clause and windows; 3 nearness values
_NEGATORS = {"not", "no", "never", "nt", "dont", "doesnt", "didnt", "isnt", "wasnt", "cant", "cannot",
             "without", "hardly", "不", "没", "无", "别", "非", "未"}


def locate_term(text: str, term: str) -> tuple[str, int, int]:
    """(sentence, start, end) of the aspect term: at the ``$T$`` marker, else where
    :func:`~shopmind.reviews.clauses.find_term` finds it, else (not found) an empty span at
    the end.

    >>> locate_term("the $T$ is slow", "battery")
    ('the battery is slow', 4, 11)
    >>> locate_term("Battery is slow", "battery")[1:]
    (0, 7)
    """
    if MARKER in text:
        start = text.index(MARKER)
        return text.replace(MARKER, term, 1).replace(MARKER, term), start, start + len(term)
    span = find_term(text, term)
    return (text, *span) if span else (text, len(text), len(text))


class _Sentence:
    """What every aspect of one sentence shares: its units, its sentence-level features, its
    opinion words, its lexicon score and its clauses (worked out once, however many aspects it
    has)."""

    def __init__(self, sentence: str):
        self.text = sentence
        self.units = units(sentence)
        self.words = [u for u, _, _ in self.units]
        self.starts = [a for _, a, _ in self.units]
        feats: list[str] = []
        scope = 0  # words still under the last negator
        for i, w in enumerate(self.words):  # words, bigrams, words under a negation
            feats.append("w:" + w)
            if i:
                feats.append("b:" + self.words[i - 1] + "_" + w)
            if scope:
                feats.append("n:" + w)
                scope -= 1
            if w in _NEGATORS:
                scope = 3
        self.feats = feats
        self.opinions = [(bisect.bisect_right(self.starts, a) - 1, value)
                         for a, _, value in opinion_words(sentence)]
        score, n = lexicon_score(sentence)
        self.lexicon = [score, float(n > 0)]
        self.clauses = split_clauses(sentence)


def _features(sentence: _Sentence, start: int, end: int, term: str,
              window: int) -> tuple[list[str], list[float]]:
    if start == end:
        return _category_features(sentence, term)
    us, words = sentence.units, sentence.words
    inside = [i for i, (_, a, b) in enumerate(us) if a < end and b > start]
    first = inside[0] if inside else sum(1 for a in sentence.starts if a < start)
    last = inside[-1] + 1 if inside else first
    feats = list(sentence.feats)
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
    text = sentence.text
    clause = next((c for c in sentence.clauses if c.start <= start < c.end), None)
    clause_span = (clause.start, clause.end) if clause else (0, len(text))
    cwords = [u for u, _, _ in units(text, *clause_span)]
    for k, w in enumerate(cwords):
        feats.append("c:" + w)
        if k:
            feats.append(f"cb:{cwords[k - 1]}_{w}")
    left_start = us[max(0, first - window)][1] if us and first > 0 else start
    right_end = us[min(len(us), last + window) - 1][2] if us and last < len(us) else end
    dense = list(sentence.lexicon)
    for a, b in (clause_span, (left_start, start), (end, right_end)):
        score, n = lexicon_score(text, a, b)
        dense += [score, float(n > 0)]
    # opinion words by their distance (in units) to the term: near ones speak about it
    near = [0.0, 0.0, 0.0]  # proximity-weighted sum, nearest value, nearest closeness
    best = None
    for position, value in sentence.opinions:
        distance = first - position if position < first else max(0, position - last + 1)
        near[0] += value / (1 + distance)
        if best is None or distance < best:
            best, near[1], near[2] = distance, value, 1 / (1 + distance)
    return feats, dense + near


def _category_features(sentence: _Sentence, category: str) -> tuple[list[str], list[float]]:
    """An aspect category (「service wait time」), not a term in the sentence: nothing locates it,
    so the sentence's features are crossed with it — each category learns its own words
    (「排队」 speaks of waiting, 「好吃」 of taste) — and the category alone is its prior. The
    lexicon speaks for the whole sentence; the term's clause and windows are empty."""
    key = "t:" + category.lower()
    feats = sentence.feats + [key] + [f"{key}|{f}" for f in sentence.feats]
    total = sum(value for _, value in sentence.opinions)
    return feats, sentence.lexicon * 2 + [0.0] * 4 + [total, 0.0, 0.0]


class AspectTermClassifier:
    """Logistic regression over sentence, window, clause and term features (see module doc).

    ``C`` regularisation, ``window`` units on each side of the term, ``min_df`` the least
    number of training pairs a feature must occur in.
    """

    def __init__(self, C: float = 4.0, window: int = 5, min_df: int = 1):
        self.C = C
        self.window = window
        self.min_df = min_df

    def _rows(self, texts, pairs, vectorizer) -> tuple[sp.csr_matrix, np.ndarray]:
        """(feature counts, lexicon features) of every pair, counted by ``vectorizer``
        (``fit_transform`` or ``transform`` of a CountVectorizer). The pairs are read sorted
        by sentence, so that a sentence's shared part is worked out once for all its aspects,
        and streamed into the counts: no list of every pair's features is held."""
        texts, pairs = as_texts(texts), as_texts(pairs, "pairs")
        if len(texts) != len(pairs):
            raise DataError(f"{len(texts)} texts but {len(pairs)} aspect terms")
        located = [locate_term(t, a) for t, a in zip(texts, pairs)]
        order = sorted(range(len(texts)), key=lambda i: located[i][0])
        dense: list[list[float]] = []

        def rows():
            sentence = None
            for i in order:
                text, start, end = located[i]
                if sentence is None or sentence.text != text:
                    sentence = _Sentence(text)
                feats, values = _features(sentence, start, end, pairs[i], self.window)
                dense.append(values)
                yield feats

        counts = vectorizer(rows()).tocsr()
        back = np.argsort(np.asarray(order, dtype=np.int64))
        return counts[back], np.array(dense, dtype=np.float32).reshape(len(texts), _N_DENSE)[back]

    def _matrix(self, counts: sp.csr_matrix, dense: np.ndarray) -> sp.csr_matrix:
        return sp.hstack([l2_tfidf(counts, self._idf), sp.csr_matrix(dense * _DENSE_SCALE)],
                         format="csr", dtype=np.float32)

    def fit(self, texts, pairs, labels) -> AspectTermClassifier:
        """Fit on sentences, their aspect terms and the polarity labels (any values)."""
        from sklearn.feature_extraction.text import CountVectorizer
        from sklearn.linear_model import LogisticRegression

        labels = np.asarray(labels, dtype=object)
        if len(labels) != len(texts):
            raise DataError(f"{len(texts)} pairs but {len(labels)} labels")
        keys, y = np.unique(labels.astype(str), return_inverse=True)
        if len(keys) < 2:
            raise DataError("the labels hold a single class; a classifier needs two or more")
        first = {str(v): v for v in labels}
        self.classes_ = np.array([first[k] for k in keys], dtype=object)
        counter = CountVectorizer(analyzer=lambda f: f, min_df=self.min_df, dtype=np.float32)
        counts, dense = self._rows(texts, pairs, counter.fit_transform)
        self._vocab = {t: i for i, t in enumerate(counter.get_feature_names_out().tolist())}
        self._idf = smooth_idf(counts)
        x = self._matrix(counts, dense)
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
        from sklearn.feature_extraction.text import CountVectorizer

        counter = CountVectorizer(analyzer=lambda f: f, vocabulary=self._vocab, dtype=np.float32)
        scores = np.asarray(self._matrix(*self._rows(texts, pairs, counter.transform))
                            @ self._coef.T + self._intercept, dtype=np.float64)
        if scores.shape[1] == 1:
            p = 1 / (1 + np.exp(-scores[:, 0]))
            return np.column_stack([1 - p, p])
        p = 1 / (1 + np.exp(-scores))  # one-vs-rest, normalised
        return p / p.sum(axis=1, keepdims=True)

    def knows_category(self, term: str) -> bool:
        """Whether ``term`` was trained on as an aspect category (absent from its reviews)."""
        return hasattr(self, "_vocab") and "t:" + term.lower() in self._vocab

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

