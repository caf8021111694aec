"""Review analysis: document sentiment, clause sentiment and aspect-level opinions with evidence.

For every review :class:`ReviewAnalyzer` returns its polarity and score, its clauses with theirs,
and a list of :class:`AspectMention` — (aspect, polarity, strength 0–1, evidence span). Aspects
come from the :class:`~shopmind.reviews.taxonomy.AspectTaxonomy`; a clause's opinion from the
:class:`~shopmind.reviews.lexicon.Lexicon` (opinion words, negation 「不」/"not", degree words
「很」/"slightly") and, once the analyzer is fitted, from its sentiment model too — any
:class:`~shopmind.reviews.base.TextClassifier`, e.g. a fine-tuned transformer.

>>> analyzer = ReviewAnalyzer()
>>> result = analyzer.analyze("商品质量不错，物流速度很快，但客服服务态度一般")[0]
>>> [(m.aspect, m.polarity, m.evidence) for m in result.aspects]  # doctest: +NORMALIZE_WHITESPACE
[('quality', 'positive', '商品质量不错'), ('logistics', 'positive', '物流速度很快'),
 ('service', 'neutral', '但客服服务态度一般')]
>>> result.aspects[2].score < 0  # 「一般」 is lukewarm: neutral, leaning negative
True
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from shopmind.errors import DataError, NotFittedError
from shopmind.reviews.base import (
    POLARITIES,
    PairClassifier,
    TextClassifier,
    as_texts,
    polarity_from_rating,
    polarity_of_score,
    polarity_proba,
    to_polarity,
)
from shopmind.reviews.category_features import as_categories
from shopmind.reviews.clauses import (
    Match,
    PhraseMatcher,
    find_term,
    phrase_key,
    split_clauses,
    units,
)
from shopmind.reviews.lexicon import Lexicon, default_lexicon
from shopmind.reviews.mentions import CategoryMentionDetector
from shopmind.reviews.taxonomy import AspectTaxonomy, default_taxonomy
from shopmind.text.language import detect_language

__all__ = ["ReviewAnalyzer", "ReviewAnalysis", "ClauseSentiment", "AspectMention", "TermOpinion",
           "lexicon_score", "opinion_words"]


@dataclass
class AspectMention:
    """One opinion about one aspect: ``review[start:end] == evidence``."""

    aspect: str
    polarity: str
    score: float  # [-1, 1]
    strength: float  # [0, 1]
    evidence: str
    start: int
    end: int
    terms: list[str] = field(default_factory=list)  # the words that name the aspect
    opinions: list[str] = field(default_factory=list)  # the words that carry the opinion


@dataclass
class ClauseSentiment:
    text: str
    start: int
    end: int
    polarity: str
    score: float
    aspects: list[str] = field(default_factory=list)


@dataclass
class TermOpinion:
    """The opinion about an aspect term the caller asked about (「电池」, "battery").

    With an aspect-term model trained on the shop's annotated reviews, the model's verdict on
    (review, term); without one, the sentiment of the clause that holds the term — or of the
    whole review, when that clause holds no opinion (「这款电池，用了一个月，非常满意」).
    ``review[start:end]`` is the term as written. A term the review does not contain is still
    answered when it names a taxonomy aspect the review talks about ("quality" of
    「做工很好」; ``start:end`` is then that opinion's evidence), or when the trained model
    learned it as one of the shop's aspect categories and, asked through ``analyze(terms=…)``
    about a category the shop annotated on enough reviews, the review speaks of it
    (:class:`~shopmind.reviews.mentions.CategoryMentionDetector`). The evidence of such a
    category is the clause the detector finds it in most surely (the review, for a category
    annotated too rarely to detect).
    """

    term: str
    polarity: str
    score: float  # [-1, 1]
    evidence: str  # the clause that holds the term, the mention of an aspect, or the review
    start: int
    end: int


@dataclass
class ReviewAnalysis:
    text: str
    language: str | None
    polarity: str
    score: float  # P(positive) - P(negative)
    proba: dict[str, float]  # negative / neutral / positive
    clauses: list[ClauseSentiment]
    aspects: list[AspectMention]
    terms: list[TermOpinion] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


# --------------------------------------------------------------------------- the vocabulary


@dataclass
class _Entry:
    """Every role one dictionary phrase plays."""

    terms: set[str] = field(default_factory=set)  # aspects it names
    cues: set[str] = field(default_factory=set)  # aspects it suggests
    opinion: float | None = None  # generic polarity
    aspect_opinions: dict[str, float] = field(default_factory=dict)
    negator: bool = False
    degree: float | None = None
    excess: bool = False  # 「太」, "too": a scalar right after it is a complaint
    scalar: bool = False  # 「大」, "dim": neutral alone

    def weight(self, aspect: str | None) -> float | None:
        if aspect is not None and aspect in self.aspect_opinions:
            return self.aspect_opinions[aspect]
        return self.opinion


def _build_matcher(lexicon: Lexicon, taxonomy: AspectTaxonomy) -> PhraseMatcher[_Entry]:
    entries: dict[tuple[str, ...], _Entry] = {}
    text_of: dict[tuple[str, ...], str] = {}

    def entry(phrase: str) -> _Entry | None:
        key = phrase_key(phrase)
        if not key:
            return None
        text_of.setdefault(key, phrase)
        return entries.setdefault(key, _Entry())

    for word, weight in lexicon.opinions.items():
        if (e := entry(word)) is not None:
            e.opinion = weight
    for word in lexicon.negators:
        if (e := entry(word)) is not None:
            e.negator = True
    for word, factor in lexicon.degree.items():
        if (e := entry(word)) is not None:
            e.degree = factor
            e.excess = word in lexicon.excess
    for word in lexicon.scalars:
        if (e := entry(word)) is not None:
            e.scalar = True
    naming: dict[tuple[str, ...], tuple[set[str], set[str]]] = {}
    for aspect in taxonomy:
        for term in aspect.terms:
            if (e := entry(term)) is not None:
                e.terms.add(aspect.name)
                naming.setdefault(phrase_key(term), (set(), set()))[0].add(aspect.name)
        for cue in aspect.cues:
            if (e := entry(cue)) is not None:
                e.cues.add(aspect.name)
                naming.setdefault(phrase_key(cue), (set(), set()))[1].add(aspect.name)
        for word, weight in aspect.opinions.items():
            if (e := entry(word)) is not None:
                e.aspect_opinions[aspect.name] = weight
    # A longer phrase hides the shorter ones inside it from the matcher: it inherits their
    # aspect roles (「防伪码能查」 still names authenticity through 「防伪」).
    for key, e in entries.items():
        for i in range(len(key)):
            for j in range(i + 1, len(key) + 1):
                if (i, j) != (0, len(key)) and key[i:j] in naming:
                    terms, cues = naming[key[i:j]]
                    e.terms |= terms
                    e.cues |= cues
    return PhraseMatcher((text_of[k], e) for k, e in entries.items())


# --------------------------------------------------------------------------- scoring

_NEGATION_FLIP = 0.75  # 「不好」 is a little milder than 「差」
_EXCESS = -0.5  # a scalar after an excess word, before the excess word's own degree
_NEGATION_REACH = 2  # units between a negator and its opinion (degree words not counted)
_DEGREE_REACH = 1
# 「偏大一点」: these degree words come after the opinion they weaken
_POST_DEGREE = {phrase_key(w) for w in ("一点", "一点点", "一些", "些")}
_SENTENCE_END = re.compile(r"[。.!！?？\n]")


def _opinion_values(matches: list[Match[_Entry]], aspect: str | None, us) -> list[list]:
    """[match index, value] of every opinion about ``aspect`` (None: in general) in a clause,
    after negation and degree words."""
    out: list[list] = []
    neg_end, neg_factor, skipped = None, 1.0, 0  # skipped: degree-word units after the negator
    deg_end, deg_factor, excess = None, 1.0, False  # excess: the degree run holds 「太」/"too"
    n = len(matches)
    for k, m in enumerate(matches):
        e = m.value
        weight = e.weight(aspect)
        if e.negator:
            neg_end, skipped = m.last, 0
            neg_factor = e.degree or 1.0  # 「不太」 weakens the negation, "never" strengthens it
            continue
        next_is_opinion = (k + 1 < n and matches[k + 1].first == m.last
                           and bool(matches[k + 1].value.weight(aspect)))
        if e.degree is not None and (next_is_opinion or not weight):
            if e.degree < 1 and out and _joined(us, m) in _POST_DEGREE \
                    and m.first - matches[out[-1][0]].last <= 1:
                out[-1][1] *= e.degree  # 「偏大一点」 weakens what came before
                continue
            adjacent = deg_end is not None and m.first == deg_end
            deg_factor = min(2.0, deg_factor * e.degree) if adjacent else e.degree
            excess = e.excess or (adjacent and excess)
            deg_end = m.last
            skipped += m.last - m.first
            continue
        if not weight and e.scalar and excess and m.first == deg_end:
            weight = _EXCESS  # 「太大」, "too dim"
        if not weight:
            continue
        value = weight
        if deg_end is not None and m.first - deg_end <= _DEGREE_REACH:
            value *= deg_factor
        if neg_end is not None and m.first - neg_end - skipped <= _NEGATION_REACH:
            value = -value * _NEGATION_FLIP * neg_factor
        out.append([k, value])
        neg_end = deg_end = None
        deg_factor, excess = 1.0, False
    return out


def _opinion_score(matches: list[Match[_Entry]], aspect: str | None, us) -> tuple[float, list[int]]:
    """(tanh of the summed opinion values, indices of the matches that carried them)."""
    values = _opinion_values(matches, aspect, us)
    return math.tanh(sum(v for _, v in values)), [k for k, _ in values]


def _joined(us, m: Match) -> tuple[str, ...]:
    return tuple(u for u, _, _ in us[m.first:m.last])


_DEFAULT_MATCHER: PhraseMatcher[_Entry] | None = None


def lexicon_score(text: str, start: int = 0, end: int | None = None) -> tuple[float, int]:
    """(score in [-1, 1], number of opinion words) of ``text[start:end]`` by the default lexicon.

    >>> lexicon_score("不是很好")[0] < 0 < lexicon_score("还不错")[0]
    True
    """
    us = units(text, start, end)
    score, used = _opinion_score(_default_matcher().find_units(us), None, us)
    return score, len(used)


def _default_matcher() -> PhraseMatcher[_Entry]:
    global _DEFAULT_MATCHER
    if _DEFAULT_MATCHER is None:
        _DEFAULT_MATCHER = _build_matcher(default_lexicon(), default_taxonomy())
    return _DEFAULT_MATCHER


def opinion_words(text: str) -> list[tuple[int, int, float]]:
    """(start, end, value) of every opinion word in ``text``, negation and degree applied,
    by the default lexicon (clause by clause).

    >>> [(s, e, round(v, 2)) for s, e, v in opinion_words("不好，很快")]
    [(1, 2, -0.45)]
    """
    matcher = _default_matcher()
    out = []
    for clause in split_clauses(text):
        us = units(text, clause.start, clause.end)
        matches = matcher.find_units(us)
        out += [(matches[k].start, matches[k].end, v)
                for k, v in _opinion_values(matches, None, us)]
    return out


@dataclass
class _ClauseFacts:
    clause_start: int
    clause_end: int
    matches: list[Match[_Entry]]
    us: list
    aspects: dict[str, list[int]]  # aspect -> indices of the matches naming it
    named: bool  # by terms (not only cues)


def _clause_facts(text: str, start: int, end: int, matcher: PhraseMatcher[_Entry]) -> _ClauseFacts:
    us = units(text, start, end)
    matches = matcher.find_units(us)
    named: dict[str, list[int]] = {}
    cued: dict[str, list[int]] = {}
    for k, m in enumerate(matches):
        for a in m.value.terms:
            named.setdefault(a, []).append(k)
        for a in m.value.cues:
            cued.setdefault(a, []).append(k)
    if not named and len(cued) > 1:
        # Cues alone are weak: 'the box arrived damaged' is about the box, because 'damaged'
        # is an opinion about packaging, not about delivery.
        voiced = {a: ks for a, ks in cued.items() if any(a in m.value.aspect_opinions
                                                         for m in matches)}
        cued = voiced or cued
    return _ClauseFacts(start, end, matches, us, named or cued, bool(named))


# --------------------------------------------------------------------------- the analyzer


class ReviewAnalyzer:
    """Sentiment and aspect opinions of reviews in Chinese, English or both.

    ``sentiment`` is any :class:`~shopmind.reviews.base.TextClassifier` (fitted or not);
    ``fit`` trains it on the shop's labelled reviews. Without one the analyzer works from its
    lexicon alone. The model gives the document's calibrated probabilities; with
    ``clause_model=True`` it also scores every clause (about half the speed), blended into the
    lexicon's clause and aspect scores with ``model_weight`` where the lexicon has evidence and
    alone where it has none. ``band`` is the |score| below which a clause is neutral.
    Without a model the document's score is the clauses' mean, a complaint counting
    ``negative_weight`` times a compliment of the same strength (reviewers soften complaints and
    praise what was fine; SO-CAL, Taboada et al. 2011, weighs them 1.5 too).
    """

    def __init__(self, sentiment: TextClassifier | None = None,
                 taxonomy: AspectTaxonomy | None = None, lexicon: Lexicon | None = None,
                 model_weight: float = 0.3, band: float = 0.3, clause_model: bool = False,
                 negative_weight: float = 1.5, aspect_model: PairClassifier | None = None,
                 mention_model: CategoryMentionDetector | None = None):
        self.sentiment = sentiment
        self.aspect_model = aspect_model
        self.mention_model = mention_model
        self.taxonomy = taxonomy
        self.lexicon = lexicon
        self.model_weight = model_weight
        self.band = band
        self.clause_model = clause_model
        self.negative_weight = negative_weight
        self._matcher: PhraseMatcher[_Entry] | None = None

    # -- training
    def fit(self, texts, labels=None, ratings=None, categories=None) -> ReviewAnalyzer:
        """Fit the sentiment model on labelled reviews (labels, or star ratings as labels).

        ``categories``: each review's product category (or None), for a model that reads them
        (the n-gram ensemble does); ``analyze`` then takes them too.
        """
        texts = as_texts(texts)
        categories = as_categories(categories, len(texts))
        if (labels is None) == (ratings is None):
            raise DataError("pass exactly one of labels= or ratings=")
        y = to_polarity(labels) if labels is not None else polarity_from_rating(ratings)
        if len(y) != len(texts):
            raise DataError(f"{len(texts)} texts but {len(y)} labels")
        if len(set(y)) < 2:
            raise DataError("the reviews have a single polarity; sentiment needs at least two")
        if self.sentiment is None:
            from shopmind.reviews.ngram import NgramSentimentClassifier

            self.sentiment = NgramSentimentClassifier()
        if categories is not None and _reads_categories(self.sentiment):
            self.sentiment.fit(texts, y, categories=categories)
        else:
            self.sentiment.fit(texts, y)
        return self

    def fit_terms(self, texts, terms, labels) -> ReviewAnalyzer:
        """Fit the aspect-term model on the shop's annotated reviews, one row per (review,
        term, polarity); it then judges the ``terms`` asked of :meth:`analyze`. A term may be
        an aspect category the review does not contain ("quality" of 「做工很好」). Without a
        model set, an :class:`~shopmind.reviews.absa.AspectTermClassifier`. Whether it judges
        better than the analyzer without it is for :meth:`term_scores` on reviews neither has
        seen (the engine keeps it only where it does). Where the model learned aspect
        categories (terms absent from their reviews), it also learns which reviews speak of
        each (``mention_model``; see :mod:`shopmind.reviews.mentions`)."""
        from shopmind.reviews.absa import AspectTermClassifier

        texts, terms = _text_term_rows(texts, terms)
        y = to_polarity(labels)
        if len(y) != len(texts):
            raise DataError(f"{len(texts)} texts but {len(y)} labels; give one label per text")
        if len(set(y)) < 2:
            raise DataError("the aspect labels have a single polarity; the model needs two")
        self.aspect_model = (self.aspect_model or AspectTermClassifier()).fit(texts, terms, y)
        self.mention_model = _fit_mentions(self.aspect_model, texts, terms)
        return self

    def term_scores(self, texts, terms, labels) -> dict[str, float]:
        """Accuracy and macro-F1 of :meth:`judge_terms` against the labels; a term left
        unjudged is a miss (of its class's recall) but not a class of its own."""
        from shopmind.evaluate import confusion_matrix

        y = to_polarity(labels)
        said = self.judge_terms(texts, terms)
        got = np.array([o.polarity if o else "unjudged" for o in said], dtype=object)
        classes = sorted(set(y))
        # rows: the true classes ("unjudged" never is one); columns: what was said, unjudged last
        full = confusion_matrix(y, got, classes + ["unjudged"])[:len(classes)]
        matrix = full[:, :len(classes)]
        hits = np.diag(matrix).astype(float)
        f1 = 2 * hits / np.maximum(matrix.sum(axis=0) + full.sum(axis=1), 1)
        return {"accuracy": round(float(hits.sum() / len(y)), 4),
                "macro_f1": round(float(f1.mean()), 4)}

    @property
    def fitted(self) -> bool:
        return self.sentiment is not None and hasattr(self.sentiment, "classes_")

    @property
    def terms_fitted(self) -> bool:
        return self.aspect_model is not None and hasattr(self.aspect_model, "classes_")

    def _vocabulary(self) -> PhraseMatcher[_Entry]:
        if self._matcher is None:
            self._matcher = _build_matcher(self.lexicon or default_lexicon(),
                                           self.taxonomy or default_taxonomy())
        return self._matcher

    # -- analysis
    def analyze(self, texts, n_jobs: int = 1, categories=None,
                terms: Sequence[str] | None = None) -> list[ReviewAnalysis]:
        """Analyse one review or many (the batch path is the fast one).

        ``n_jobs`` > 1 splits a large batch over that many forked processes (one per core).
        ``categories``: each review's product category (or None), as given to ``fit``.
        ``terms``: aspect terms to judge in every review, the shop's own words or the
        customer's (「电池」, "battery life"), or taxonomy aspects by name ("quality"); each
        one a review speaks of is judged in the analysis's ``terms`` (see :class:`TermOpinion`).
        """
        texts = as_texts(texts)
        categories = as_categories(categories, len(texts))
        if terms:
            asked = _clean_terms(terms)
            analyses = self.analyze(texts, n_jobs, categories)
            said = iter(self._judge([(a, t) for a in analyses for t in asked], detect=True))
            for analysis in analyses:
                analysis.terms = [o for o in (next(said) for _ in asked) if o is not None]
            return analyses
        if n_jobs > 1 and len(texts) >= 200 * n_jobs:
            return _analyze_in_processes(self, texts, n_jobs, categories)
        matcher = self._vocabulary()
        per_text = []
        for text in texts:
            per_text.append([(c, _clause_facts(text, c.start, c.end, matcher))
                             for c in split_clauses(text)])
        doc_proba = clause_scores = None
        if self.fitted:
            clause_texts = [c.text for clauses in per_text for c, _ in clauses] \
                if self.clause_model else []
            if categories is not None and _reads_categories(self.sentiment):
                # a clause is about the product its review is about
                clause_categories = [categories[i] for i, clauses in enumerate(per_text)
                                     for _ in clauses] if self.clause_model else []
                raw = self.sentiment.predict_proba(texts + clause_texts,
                                                   categories=categories + clause_categories)
            else:
                raw = self.sentiment.predict_proba(texts + clause_texts)
            proba = polarity_proba(self.sentiment.classes_, raw)
            doc_proba = proba[:len(texts)]
            if self.clause_model:
                clause_scores = iter(proba[len(texts):, 2] - proba[len(texts):, 0])
        out = []
        for i, text in enumerate(texts):
            model_scores = [next(clause_scores) for _ in per_text[i]] if clause_scores else None
            out.append(self._analyze_one(text, per_text[i], model_scores,
                                         None if doc_proba is None else doc_proba[i]))
        return out

    def _analyze_one(self, text, clauses, model_scores, doc_proba) -> ReviewAnalysis:
        clause_rows: list[ClauseSentiment] = []
        mentions: list[AspectMention] = []
        lexicon_scores = []
        pending: list[tuple[str, _ClauseFacts]] = []  # aspects named without an opinion
        previous_end = 0
        for j, (clause, facts) in enumerate(clauses):
            general, used = _opinion_score(facts.matches, None, facts.us)
            if facts.aspects:  # 「物流很快」: 「快」 is an opinion only about delivery
                own = [_opinion_score(facts.matches, a, facts.us) for a in facts.aspects]
                if any(u for _, u in own):
                    general = float(np.mean([s for s, u in own if u]))
                    used = used or [k for _, u in own for k in u]
            model = None if model_scores is None else float(model_scores[j])
            score = self._blend(general, bool(used), model)
            lexicon_scores.append(general if used else None)
            clause_rows.append(ClauseSentiment(clause.text, clause.start, clause.end,
                                               polarity_of_score(score, self.band),
                                               round(score, 4), sorted(facts.aspects)))
            same_sentence = not _SENTENCE_END.search(text, previous_end, clause.start)
            previous_end = clause.end
            if pending and not facts.aspects and used and same_sentence:
                # 「质量嘛，还不错」: this clause's opinion is about the aspect named just before
                for aspect, before in pending:
                    s, u = _opinion_score(facts.matches, aspect, facts.us)
                    mentions.append(self._mention(text, aspect, self._blend(s, True, model),
                                                  before, facts, u, before.clause_start,
                                                  facts.clause_end))
                pending = []
                continue
            for aspect, before in pending:  # named, but no opinion given: a neutral mention
                mentions.append(self._mention(text, aspect, 0.0, before, before, [],
                                              before.clause_start, before.clause_end))
            pending = []
            for aspect in facts.aspects:
                s, u = _opinion_score(facts.matches, aspect, facts.us)
                if not u and model is None:
                    if facts.named:
                        pending.append((aspect, facts))
                    continue
                mentions.append(self._mention(text, aspect, self._blend(s, bool(u), model),
                                              facts, facts, u, facts.clause_start,
                                              facts.clause_end))
        for aspect, before in pending:
            mentions.append(self._mention(text, aspect, 0.0, before, before, [],
                                          before.clause_start, before.clause_end))
        if doc_proba is None:
            doc_proba = _lexicon_proba([s for s in lexicon_scores if s is not None], self.band,
                                       self.negative_weight)
        proba = {p: round(float(doc_proba[k]), 4) for k, p in enumerate(POLARITIES)}
        score = float(doc_proba[2] - doc_proba[0])
        return ReviewAnalysis(text, detect_language(text), POLARITIES[int(np.argmax(doc_proba))],
                              round(score, 4), proba, clause_rows, mentions)

    def judge_terms(self, texts, terms) -> list[TermOpinion | None]:
        """Each review's opinion about its own aspect term (the SemEval task): one term per
        text; None where the review does not speak of it (see :class:`TermOpinion`). A
        category the shop annotated is taken as spoken of, as the term of an annotated pair is;
        :meth:`analyze` with ``terms`` asks the category detector first."""
        texts, terms = _text_term_rows(texts, terms)
        return self._judge(list(zip(self.analyze(texts), terms, strict=True)))

    def _judge(self, asked: list[tuple[ReviewAnalysis, str]],
               detect: bool = False) -> list[TermOpinion | None]:
        names = self._aspect_names()
        knows = getattr(self.aspect_model, "knows_category", lambda _: False)
        out: list[TermOpinion | None] = []
        for_model: list[tuple[str, TermOpinion, str]] = []  # (review, opinion, its evidence)
        unspoken = self._unspoken(asked) if detect else set()
        located: list[tuple[TermOpinion, ReviewAnalysis]] = []  # categories to find a clause for
        for k, (analysis, term) in enumerate(asked):
            opinion, clause = _clause_opinion(analysis, term)
            if clause is not None:
                for_model.append((analysis.text, opinion, clause.text))
            elif term.lower() in names:  # an aspect asked by name: what the review says of it
                opinion = next((TermOpinion(term, m.polarity, m.score, m.evidence, m.start, m.end)
                                for m in analysis.aspects if m.aspect == names[term.lower()]),
                               None)
                if opinion is not None and knows(term):
                    for_model.append((analysis.text, opinion, opinion.evidence))
            elif knows(term) and k not in unspoken:
                # a category of the shop's (「排队时间」), learned by the model and unknown to
                # the taxonomy, which cannot tell whether a review speaks of it: the model does
                opinion = TermOpinion(term, "neutral", 0.0, analysis.text, 0, len(analysis.text))
                for_model.append((analysis.text, opinion, analysis.text))
                if self.mention_model is not None and self.mention_model.detects(term):
                    located.append((opinion, analysis))
            out.append(opinion)
        if self.terms_fitted and for_model:
            # the trained model judges every term in a text, and aspects asked by a name it
            # was trained on as a category; the rest keep the lexicon's verdict
            raw = self.aspect_model.predict_proba([r for r, _, _ in for_model],
                                                  [o.term for _, o, _ in for_model])
            for (_, opinion, evidence), p in zip(
                    for_model, polarity_proba(self.aspect_model.classes_, raw), strict=True):
                opinion.polarity = POLARITIES[int(np.argmax(p))]
                opinion.score = round(float(p[2] - p[0]), 4)
                opinion.evidence = evidence
        self._locate_categories(located)
        return out

    def _locate_categories(self, located: list[tuple[TermOpinion, ReviewAnalysis]]) -> None:
        """A learned category's evidence: of its review's clauses, the one the detector finds
        it in most surely (the model judged the whole review; a quote should be short)."""
        rows = [(i, c) for i, (_, analysis) in enumerate(located) for c in analysis.clauses]
        if not rows:
            return
        proba = self.mention_model.pair_proba([c.text for _, c in rows],
                                              [located[i][0].term for i, _ in rows])
        best: dict[int, tuple[float, ClauseSentiment]] = {}
        for (i, clause), p in zip(rows, proba, strict=True):
            if i not in best or p > best[i][0]:
                best[i] = (p, clause)
        for i, (_, clause) in best.items():
            opinion = located[i][0]
            opinion.evidence, opinion.start, opinion.end = clause.text, clause.start, clause.end

    def _own_categories(self) -> list[str]:
        """The detected categories that are not the taxonomy's aspects (those it finds itself)."""
        if self.mention_model is None:
            return []
        known = self._aspect_names()
        return [c for c in self.mention_model.categories_ if c not in known]

    def _aspect_names(self) -> dict[str, str]:
        """Every name of a taxonomy aspect, lower-cased (key, Chinese, English) -> its key."""
        return {k.lower(): a.name for a in self.taxonomy or default_taxonomy()
                for k in (a.name, a.zh, a.en)}

    def _unspoken(self, asked: list[tuple[ReviewAnalysis, str]]) -> set[int]:
        """Where in ``asked`` a category the detector knows is one the review does not speak of."""
        if self.mention_model is None:
            return set()
        rows = [k for k, (_, term) in enumerate(asked) if self.mention_model.detects(term)]
        said = self.mention_model.mentioned([asked[k][0].text for k in rows],
                                            [asked[k][1] for k in rows]) if rows else []
        return {k for k, yes in zip(rows, said, strict=True) if not yes}

    def _blend(self, lexicon: float, has_lexicon: bool, model: float | None) -> float:
        if model is None:
            return lexicon if has_lexicon else 0.0
        if not has_lexicon:
            return model
        return (1 - self.model_weight) * lexicon + self.model_weight * model

    def _mention(self, text, aspect, score, naming: _ClauseFacts, opinion: _ClauseFacts,
                 used: list[int], start: int, end: int) -> AspectMention:
        terms = [text[naming.matches[k].start:naming.matches[k].end]
                 for k in naming.aspects.get(aspect, [])]
        words = [text[opinion.matches[k].start:opinion.matches[k].end] for k in used]
        return AspectMention(aspect, polarity_of_score(score, self.band), round(score, 4),
                             _strength(score), text[start:end], start, end, terms, words)

    def analyze_frame(self, reviews: pd.DataFrame,
                      text_col: str = "text") -> tuple[pd.DataFrame, pd.DataFrame]:
        """(one row per review, one row per aspect mention) of a reviews frame.

        Both carry ``row`` (the review's position in ``reviews``) and, when present,
        ``review_id``, ``item_id``, ``user_id``, ``ts`` and ``rating``. A ``category`` column
        (the reviewed item's category) reaches a model that reads categories. Besides the
        taxonomy's aspects, the mentions hold the shop's own categories the analyzer learned to
        detect (see :meth:`fit_terms`), each judged in the reviews that speak of it, the clause
        it is found in its evidence.
        """
        if text_col not in reviews.columns:
            raise DataError(f"the reviews frame has no {text_col!r} column")
        analyses = self.analyze(reviews[text_col].tolist(), categories=reviews["category"].tolist()
                                if "category" in reviews else None,
                                terms=self._own_categories() or None)
        keep = [c for c in ("review_id", "item_id", "user_id", "ts", "rating") if c in reviews]
        base = reviews[keep].reset_index(drop=True).assign(row=np.arange(len(reviews)))
        per_review = base.assign(
            language=[r.language for r in analyses], polarity=[r.polarity for r in analyses],
            score=[r.score for r in analyses],
            **{f"p_{p}": [r.proba[p] for r in analyses] for p in POLARITIES})
        rows = [(i, m.aspect, m.polarity, m.score, m.strength, m.evidence, m.start, m.end)
                for i, r in enumerate(analyses) for m in r.aspects]
        rows += [(i, o.term, o.polarity, o.score, _strength(o.score), o.evidence, o.start, o.end)
                 for i, r in enumerate(analyses) for o in r.terms]
        mentions = pd.DataFrame(rows, columns=["row", "aspect", "polarity", "score", "strength",
                                               "evidence", "start", "end"])
        mentions = base.merge(mentions, on="row", how="inner").assign(
            language=lambda f: per_review["language"].to_numpy()[f["row"].to_numpy()])
        return per_review, mentions

    def mentions_frame(self, reviews: pd.DataFrame, text_col: str = "text") -> pd.DataFrame:
        """One row per aspect mention of a reviews frame (see :meth:`analyze_frame`)."""
        return self.analyze_frame(reviews, text_col)[1]

    # -- persistence
    def save(self, path: str | Path) -> Path:
        """A directory: ``analyzer.json`` (taxonomy, lexicon, settings), the sentiment model
        and the aspect-term model."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)

        def saved(model, role: str) -> dict:
            cls = type(model)
            file = f"{role}-{cls.__name__}.model"
            model.save(path / file)
            return {"class": f"{cls.__module__}.{cls.__name__}", "file": file}

        spec = {"format": 1, "model_weight": self.model_weight, "band": self.band,
                "clause_model": self.clause_model, "negative_weight": self.negative_weight,
                "taxonomy": (self.taxonomy or default_taxonomy()).to_dict(),
                "lexicon": (self.lexicon or default_lexicon()).to_dict(),
                "sentiment": saved(self.sentiment, "sentiment") if self.fitted else None,
                "aspect_terms": saved(self.aspect_model, "aspect") if self.terms_fitted else None,
                "mentions": saved(self.mention_model, "mentions") if self.mention_model else None}
        (path / "analyzer.json").write_text(json.dumps(spec, ensure_ascii=False, indent=1),
                                            encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> ReviewAnalyzer:
        path = Path(path)
        spec_file = path / "analyzer.json"
        if not spec_file.is_file():
            raise NotFittedError(f"no review analyzer at {path}; train one with "
                                 f"`shopmind reviews train` or ReviewAnalyzer().fit(...).save()")
        spec = json.loads(spec_file.read_text(encoding="utf-8"))
        models = {role: _load_classifier(spec[role]["class"], path / spec[role]["file"])
                  if spec.get(role) else None for role in ("sentiment", "aspect_terms", "mentions")}
        return cls(models["sentiment"], AspectTaxonomy.from_dict(spec["taxonomy"]),
                   Lexicon.from_dict(spec["lexicon"]), spec["model_weight"], spec["band"],
                   spec.get("clause_model", False), spec.get("negative_weight", 1.5),
                   models["aspect_terms"], models["mentions"])


_WORKER: ReviewAnalyzer | None = None


def _reads_categories(model) -> bool:
    """Whether a sentiment model's fit and predict_proba take ``categories=``."""
    import inspect

    return "categories" in inspect.signature(model.predict_proba).parameters


def _strength(score: float) -> float:
    """An opinion's strength in [0, 1]: how far its score is from neutral."""
    return round(min(1.0, abs(score)), 4)


def _fit_mentions(aspect_model, texts: list[str], terms: list[str]):
    """A :class:`CategoryMentionDetector` of the categories ``aspect_model`` learned (terms
    absent from their reviews), from each annotated review's categories; None where the model
    learned none, or no category was annotated on enough reviews to learn it."""
    knows = getattr(aspect_model, "knows_category", None)
    if knows is None:
        return None
    by_review: dict[str, set[str]] = {}
    for text, term in zip(texts, terms, strict=True):
        by_review.setdefault(text, set())
        if knows(term):
            by_review[text].add(term)
    if not any(by_review.values()):
        return None
    try:
        return CategoryMentionDetector().fit(list(by_review), list(by_review.values()))
    except DataError:  # no category with enough reviews either way: all stay judged
        return None


def _clean_terms(terms) -> list[str]:
    """The aspect terms, stripped; none may be empty."""
    terms = [t.strip() for t in as_texts(terms, "terms")]
    if not all(terms):
        raise DataError(f"the aspect term at row {terms.index('')} is empty; give the words to "
                        "look for")
    return terms


def _text_term_rows(texts, terms) -> tuple[list[str], list[str]]:
    """(texts, stripped terms), one term per text, none empty."""
    texts, terms = as_texts(texts), _clean_terms(terms)
    if len(texts) != len(terms):
        raise DataError(f"{len(texts)} texts but {len(terms)} terms; give one term per text")
    return texts, terms


def _clause_opinion(analysis: ReviewAnalysis,
                    term: str) -> tuple[TermOpinion | None, ClauseSentiment | None]:
    """The term where it stands (:func:`~shopmind.reviews.clauses.find_term`) judged by its
    clause, or by the review where the clause says nothing of it; with the clause."""
    span = find_term(analysis.text, term)
    clause = next((c for c in analysis.clauses if c.start <= span[0] < c.end),
                  None) if span else None
    if clause is None:
        return None, None
    said = analysis if clause.score == 0 else clause
    return TermOpinion(term, said.polarity, said.score, said.text, *span), clause


def _analyze_chunk(chunk: tuple[list[str], list[str | None] | None]) -> list[ReviewAnalysis]:
    texts, categories = chunk
    return _WORKER.analyze(texts, categories=categories)


def _analyze_in_processes(analyzer: ReviewAnalyzer, texts: list[str], n_jobs: int,
                          categories: list[str | None] | None) -> list[ReviewAnalysis]:
    """Forked workers inherit the loaded analyzer (nothing is pickled but texts and results)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    global _WORKER
    analyzer._vocabulary()
    _WORKER = analyzer
    try:
        size = -(-len(texts) // n_jobs)
        chunks = [(texts[i:i + size], None if categories is None else categories[i:i + size])
                  for i in range(0, len(texts), size)]
        with ProcessPoolExecutor(n_jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            return [r for part in pool.map(_analyze_chunk, chunks) for r in part]
    finally:
        _WORKER = None


def _load_classifier(qualified: str, path: Path):
    """Load a saved classifier by class name; only shopmind's own classes are trusted."""
    import importlib

    module, _, name = qualified.rpartition(".")
    if not module.startswith("shopmind."):
        raise DataError(f"refusing to load the model class {qualified!r}: not part of shopmind")
    return getattr(importlib.import_module(module), name).load(path)


def _lexicon_proba(scores: Sequence[float], band: float, negative_weight: float) -> np.ndarray:
    """A three-class distribution from the clauses' lexicon scores (not calibrated: fit a model
    for calibrated document probabilities)."""
    if not scores:
        return np.array([0.1, 0.8, 0.1])
    scores = np.asarray(scores, dtype=float)
    s = float(np.clip(np.mean(np.where(scores < 0, negative_weight * scores, scores)) * 1.5, -1, 1))
    neutral = max(0.0, 1 - abs(s) / band) * 0.8 + 0.1
    rest = 1 - neutral
    pos = rest * (1 + s) / 2
    return np.array([rest - pos, neutral, pos])
