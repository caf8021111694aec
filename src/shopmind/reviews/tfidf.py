"""Sparse TF-IDF rows for the review models that keep their own vocabulary (saved as arrays,
not as a pickled scikit-learn vectorizer)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["smooth_idf", "l2_tfidf"]


def smooth_idf(counts: sp.csr_matrix) -> np.ndarray:
    """Smoothed inverse document frequency of each column of a rows × features count matrix."""
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    return (np.log((1 + counts.shape[0]) / (1 + df)) + 1).astype(np.float32)


def l2_tfidf(counts: sp.csr_matrix, idf: np.ndarray) -> sp.csr_matrix:
    """Sub-linear TF (1 + log count) × ``idf``, each row scaled to unit length."""
    x = counts.astype(np.float32)
    x.data = 1.0 + np.log(x.data)
    x = x @ sp.diags(idf)
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    return sp.diags(1.0 / np.maximum(norms, 1e-12)) @ x
