"""Measures of place recognition on a score matrix.

A score matrix is ``n_query x n_places``, higher is a better match, and
``place_ids[j]`` is the place of column ``j``; ``query_places[i]`` is the true
place of query ``i`` and must be one of the columns.

Ties count against the true place: a query is right at N when fewer than N
*other* places score at least as high as its true place. A constant score (a
network that stays silent) thus recalls nothing, rather than everything.

The precision-recall curve follows the VPR convention: each query predicts its
best-scoring place; with a threshold t, a query is a positive when its best score
is >= t, a true positive when that best match is also its true place (strictly
best, as at Recall@1). Precision is true positives over positives, recall is
true positives over all queries.
"""
from __future__ import annotations

import numpy as np

from spikemem.errors import ModelError

RECALL_NS = (1, 5, 10, 15, 20, 25)


def recall_at(scores, query_places, place_ids, ns=RECALL_NS) -> dict[int, float]:
    """``{n: fraction of queries whose true place is among the n best}``."""
    scores, truth = _checked(scores, query_places, place_ids)
    for n in ns:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ModelError(f"recall_at: each N must be a whole number >= 1, got {n!r}")
    rank = _rank(scores, truth)
    return {int(n): float(np.mean(rank < n)) for n in ns}


def precision_recall(scores, query_places, place_ids) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(precision, recall, thresholds)``, one point per distinct best score,
    thresholds decreasing (so recall never decreases along the arrays)."""
    scores, truth = _checked(scores, query_places, place_ids)
    best = scores.max(axis=1)
    correct = _rank(scores, truth) == 0
    order = np.argsort(-best, kind="stable")
    best, correct = best[order], correct[order]
    # the last query of each run of equal best scores closes that threshold
    last = np.flatnonzero(np.append(best[1:] != best[:-1], True))
    true_positives = np.cumsum(correct)[last]
    return true_positives / (last + 1), true_positives / len(best), best[last]


def auc(precision, recall) -> float:
    """The area under a precision-recall curve, by the trapezoid rule over recall,
    the curve extended to recall 0 at its first precision."""
    p = np.asarray(precision, dtype=np.float64)
    r = np.asarray(recall, dtype=np.float64)
    if p.ndim != 1 or p.shape != r.shape or len(p) == 0:
        raise ModelError(f"auc: precision {p.shape} and recall {r.shape} must be two 1-D arrays of one length")
    if not (np.all(np.isfinite(p)) and np.all(np.isfinite(r))):
        raise ModelError("auc: precision and recall must be finite")
    if np.any(np.diff(r) < 0):
        raise ModelError("auc: recall must not decrease along the curve (order thresholds from high to low)")
    p = np.concatenate([p[:1], p])
    r = np.concatenate([[0.0], r])
    return float(np.sum(np.diff(r) * (p[1:] + p[:-1]) / 2))


def recall_at_100_precision(scores, query_places, place_ids) -> float:
    """The largest recall of a threshold with no false positive (0 if none)."""
    precision, recall, _ = precision_recall(scores, query_places, place_ids)
    perfect = precision == 1.0
    return float(recall[perfect].max()) if perfect.any() else 0.0


def _rank(scores: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """How many other places score at least as high as each query's true place."""
    rows = np.arange(len(scores))
    true_score = scores[rows, truth]
    return (scores >= true_score[:, None]).sum(axis=1) - 1


def _checked(scores, query_places, place_ids) -> tuple[np.ndarray, np.ndarray]:
    """The scores as floats and, per query, the column of its true place."""
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 2 or s.shape[0] == 0 or s.shape[1] == 0:
        raise ModelError(f"scores must be a non-empty n_query x n_places matrix, got shape {s.shape}")
    if np.isnan(s).any():
        i, j = np.argwhere(np.isnan(s))[0]
        raise ModelError(f"scores: query {i}, place column {j} is NaN")
    ids = np.asarray(place_ids).reshape(-1)
    queries = np.asarray(query_places).reshape(-1)
    if len(ids) != s.shape[1]:
        raise ModelError(f"scores have {s.shape[1]} place columns but place_ids has {len(ids)}")
    if len(queries) != s.shape[0]:
        raise ModelError(f"scores have {s.shape[0]} query rows but query_places has {len(queries)}")
    if len(np.unique(ids)) != len(ids):
        ids_sorted = np.sort(ids)
        dup = ids_sorted[np.argmax(ids_sorted[1:] == ids_sorted[:-1])]
        raise ModelError(f"place_ids: place {dup} has two columns")
    order = np.argsort(ids, kind="stable")
    at = np.clip(np.searchsorted(ids[order], queries), 0, len(ids) - 1)
    found = ids[order][at] == queries
    if not found.all():
        i = int(np.argmin(found))
        raise ModelError(f"query {i}: its place {queries[i]} is not among the place_ids")
    return s, order[at]
