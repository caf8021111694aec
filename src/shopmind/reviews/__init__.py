"""Review intelligence in Chinese and English: sentiment, aspect-level customer needs, insight.

* :class:`ReviewAnalyzer` — per review: polarity and score, clause sentiment, and aspect
  opinions (aspect, polarity, strength 0–1, evidence span) from an extensible
  :class:`AspectTaxonomy` and :class:`Lexicon`, plus any fitted sentiment model;
* :class:`NgramSentimentClassifier` — the calibrated word + character n-gram ensemble,
  trained on the shop's own reviews (``fit(texts, labels)``, ``predict``, ``predict_proba``,
  ``save`` / ``load``);
* :class:`AspectTermClassifier` and :class:`TransformerPairClassifier` — aspect-term
  sentiment (sentence + aspect term → polarity); :class:`CategoryMentionDetector` — which of
  the shop's own aspect categories a review speaks of; :class:`TransformerClassifier` — a fine-tuned
  encoder as a sentiment model; :class:`StackedSentimentClassifier` — several sentiment models
  weighed on held-out reviews (e.g. the n-gram ensemble and a fine-tuned encoder);
  :func:`distillation_set` — a teacher's cross-fitted probabilities on the reviews and on
  augmented variants of them, to distil it into a fine-tuned encoder;
* :class:`ReviewInsights` — per-product and per-category reports: aspect distribution, top
  praises and complaints with quotes, change over time, what customers need.
"""

from shopmind.reviews.absa import AspectTermClassifier
from shopmind.reviews.analyzer import (
    AspectMention,
    ClauseSentiment,
    ReviewAnalysis,
    ReviewAnalyzer,
    TermOpinion,
)
from shopmind.reviews.base import (
    POLARITIES,
    PairClassifier,
    TextClassifier,
    polarity_from_rating,
    to_polarity,
)
from shopmind.reviews.distill import augment_reviews, distillation_set, out_of_fold_proba
from shopmind.reviews.insight import ReviewInsights
from shopmind.reviews.lexicon import Lexicon, default_lexicon
from shopmind.reviews.mentions import CategoryMentionDetector
from shopmind.reviews.ngram import NgramSentimentClassifier
from shopmind.reviews.stacking import StackedSentimentClassifier
from shopmind.reviews.taxonomy import Aspect, AspectTaxonomy, default_taxonomy
from shopmind.reviews.transformer import (
    TransformerClassifier,
    TransformerPairClassifier,
    aspect_term_model,
)

__all__ = [
    "ReviewAnalyzer",
    "ReviewAnalysis",
    "TermOpinion",
    "ClauseSentiment",
    "AspectMention",
    "NgramSentimentClassifier",
    "StackedSentimentClassifier",
    "out_of_fold_proba",
    "augment_reviews",
    "distillation_set",
    "AspectTermClassifier",
    "CategoryMentionDetector",
    "TransformerClassifier",
    "aspect_term_model",
    "TransformerPairClassifier",
    "ReviewInsights",
    "Aspect",
    "AspectTaxonomy",
    "default_taxonomy",
    "Lexicon",
    "default_lexicon",
    "TextClassifier",
    "PairClassifier",
    "POLARITIES",
    "to_polarity",
    "polarity_from_rating",
]
