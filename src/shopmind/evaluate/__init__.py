"""Metrics and evaluation protocols shared by every capability: the only place a metric lives.

* :mod:`~shopmind.evaluate.ranking` — full-ranking recommendation and search metrics;
* :mod:`~shopmind.evaluate.splits` — leave-one-out and temporal splits of user sequences;
* :mod:`~shopmind.evaluate.classification` — accuracy, F1, AUC, log-loss, calibration.

Metric names in result dicts are lower case (``ndcg@10``, ``hr@10``, ``mrr``, ``accuracy``,
``macro_f1``, ``auc``), the names benchmarks write.
"""

from shopmind.evaluate.classification import (
    accuracy,
    classification_metrics,
    confusion_matrix,
    detection_metrics,
    expected_calibration_error,
    log_loss,
    macro_f1,
    roc_auc,
)
from shopmind.evaluate.ranking import (
    catalog_coverage,
    evaluate_scores,
    graded_ndcg_at_k,
    hit_rate_at_k,
    mrr,
    ndcg_at_k,
    ranking_metrics,
    recall_at_k,
    target_ranks,
    top_k,
)
from shopmind.evaluate.splits import (
    LeaveOneOut,
    TemporalSplit,
    leave_one_out,
    seen_matrix,
    temporal_split,
)

__all__ = [
    # ranking
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
    # splits
    "LeaveOneOut",
    "leave_one_out",
    "TemporalSplit",
    "temporal_split",
    "seen_matrix",
    # classification
    "accuracy",
    "confusion_matrix",
    "macro_f1",
    "detection_metrics",
    "roc_auc",
    "log_loss",
    "expected_calibration_error",
    "classification_metrics",
]
