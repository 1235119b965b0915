"""Recall@N, precision-recall and its area on small hand-made score matrices."""
import numpy as np
import pytest

from spikemem.errors import ModelError
from spikemem.models.place_recognition.metrics import auc, precision_recall, recall_at, recall_at_100_precision


def test_a_perfect_diagonal_recalls_everything():
    scores = np.eye(5)
    ids = np.arange(5)
    assert recall_at(scores, ids, ids, ns=(1, 5)) == {1: 1.0, 5: 1.0}
    p, r, t = precision_recall(scores, ids, ids)
    assert auc(p, r) == 1.0
    assert recall_at_100_precision(scores, ids, ids) == 1.0


def test_place_ids_name_the_columns_in_any_order():
    ids = np.array([30, 10, 20])
    scores = np.array([[0.9, 0.1, 0.2],     # query of place 30: best
                       [0.2, 0.1, 0.8]])    # query of place 10: third
    assert recall_at(scores, [30, 10], ids, ns=(1, 2, 3)) == {1: 0.5, 2: 0.5, 3: 1.0}


def test_a_known_permutation_gives_its_recall():
    # queries 2 and 3 swapped: their true places come second
    scores = np.array([[1.0, 0.1, 0.1, 0.1],
                       [0.1, 1.0, 0.1, 0.1],
                       [0.1, 0.1, 0.5, 1.0],
                       [0.1, 0.1, 1.0, 0.5]])
    ids = np.arange(4)
    assert recall_at(scores, ids, ids, ns=(1, 2)) == {1: 0.5, 2: 1.0}
    p, r, _ = precision_recall(scores, ids, ids)
    assert p.tolist() == [0.5] and r.tolist() == [0.5]
    assert auc(p, r) == 0.25


def test_ties_count_against_the_true_place():
    ids = np.arange(3)
    assert recall_at(np.zeros((3, 3)), ids, ids, ns=(1, 2, 3)) == {1: 0.0, 2: 0.0, 3: 1.0}
    scores = np.array([[1.0, 1.0, 0.0]])       # true place 0 tied with place 1
    assert recall_at(scores, [0], ids, ns=(1, 2)) == {1: 0.0, 2: 1.0}


def test_precision_recall_over_best_score_thresholds():
    # best scores 0.9 (right), 0.8 (wrong), 0.7 (right), 0.6 (wrong)
    scores = np.array([[0.9, 0.0], [0.0, 0.8], [0.7, 0.0], [0.0, 0.6]])
    truth = [0, 0, 0, 1]
    scores[3] = [0.6, 0.0]                     # query of place 1 picks place 0
    p, r, t = precision_recall(scores, truth, [0, 1])
    np.testing.assert_allclose(t, [0.9, 0.8, 0.7, 0.6])
    np.testing.assert_allclose(p, [1.0, 1 / 2, 2 / 3, 2 / 4])
    np.testing.assert_allclose(r, [1 / 4, 1 / 4, 2 / 4, 2 / 4])
    assert recall_at_100_precision(scores, truth, [0, 1]) == 0.25
    # trapezoids from (0, 1): 0.25 * 1 + 0 + 0.25 * (2/3 + 1/2) / 2 + 0
    assert auc(p, r) == pytest.approx(0.25 + 0.25 * (2 / 3 + 1 / 2) / 2)


def test_no_threshold_without_false_positives_gives_zero():
    scores = np.array([[0.0, 1.0], [1.0, 0.0]])
    assert recall_at_100_precision(scores, [0, 1], [0, 1]) == 0.0


def test_equal_best_scores_share_one_threshold():
    scores = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    p, r, t = precision_recall(scores, [0, 1, 1], [0, 1])
    assert t.tolist() == [1.0]
    np.testing.assert_allclose(p, [2 / 3])
    np.testing.assert_allclose(r, [2 / 3])


@pytest.mark.parametrize("scores, queries, ids, match", [
    (np.zeros((2, 3)), [0, 1], [0, 1], "3 place columns"),
    (np.zeros((2, 3)), [0], [0, 1, 2], "2 query rows"),
    (np.array([[0.0, np.nan]]), [0], [0, 1], "query 0, place column 1 is NaN"),
    (np.zeros((1, 2)), [7], [0, 1], "query 0: its place 7"),
    (np.zeros((1, 2)), [0], [4, 4], "place 4 has two columns"),
    (np.zeros(3), [0], [0, 1, 2], "n_query x n_places"),
])
def test_bad_score_matrices_are_named(scores, queries, ids, match):
    with pytest.raises(ModelError, match=match):
        recall_at(scores, queries, ids)


def test_bad_n_and_bad_curves():
    with pytest.raises(ModelError, match="whole number >= 1"):
        recall_at(np.eye(2), [0, 1], [0, 1], ns=(0,))
    with pytest.raises(ModelError, match="must not decrease"):
        auc([1.0, 1.0], [0.5, 0.2])
    with pytest.raises(ModelError, match="one length"):
        auc([1.0], [0.5, 0.2])


def test_precision_recall_agrees_with_counting_by_hand():
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 6, (40, 8)).astype(float)      # many ties
    truth = rng.integers(0, 8, 40)
    p, r, t = precision_recall(scores, truth, np.arange(8))
    best = scores.max(axis=1)
    right = np.array([(s[q] == best[i]) and (s == best[i]).sum() == 1 for i, (s, q) in enumerate(zip(scores, truth))])
    for pk, rk, tk in zip(p, r, t):
        positive = best >= tk
        assert pk == pytest.approx((positive & right).sum() / positive.sum())
        assert rk == pytest.approx((positive & right).sum() / len(best))
    assert t.tolist() == sorted(set(best.tolist()), reverse=True)
