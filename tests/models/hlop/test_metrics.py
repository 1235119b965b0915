"""ACC, BWT and forgetting on small hand-made accuracy matrices."""
import numpy as np
import pytest

from spikemem.errors import ModelError
from spikemem.models.hlop.metrics import acc, bwt, forgetting, learning_accuracy, over_seeds, summary

#: three tasks: task 0 drops from 0.9 to 0.5, task 1 rises from 0.8 to 0.85
MATRIX = [[0.9, 0.1, 0.1],
          [0.7, 0.8, 0.2],
          [0.5, 0.85, 0.95]]


def test_acc_is_the_mean_of_the_last_row():
    assert acc(MATRIX) == pytest.approx((0.5 + 0.85 + 0.95) / 3)


def test_bwt_is_the_mean_change_of_earlier_tasks():
    assert bwt(MATRIX) == pytest.approx(((0.5 - 0.9) + (0.85 - 0.8)) / 2)


def test_forgetting_counts_from_the_best_accuracy_and_never_gains():
    # task 0: best 0.9, end 0.5; task 1: best 0.8, end 0.85 (a gain, -0.05)
    assert forgetting(MATRIX) == pytest.approx((0.4 - 0.05) / 2)
    assert learning_accuracy(MATRIX) == pytest.approx((0.9 + 0.8 + 0.95) / 3)


def test_no_forgetting_gives_zero_bwt_and_a_single_task_has_none():
    kept = np.tril(np.full((4, 4), 0.9))      # each task kept at 0.9, unseen tasks at 0
    assert bwt(kept) == 0.0 and forgetting(kept) == 0.0 and acc(kept) == pytest.approx(0.9)
    assert bwt([[0.7]]) == 0.0 and acc([[0.7]]) == pytest.approx(0.7)


def test_over_seeds_gives_mean_std_and_the_mean_matrix():
    other = np.array(MATRIX) - 0.1
    out = over_seeds([MATRIX, other])
    assert out["acc"]["mean"] == pytest.approx(acc(MATRIX) - 0.05)
    assert out["acc"]["std"] == pytest.approx(np.std([acc(MATRIX), acc(other)], ddof=1))
    assert out["bwt"]["values"] == pytest.approx([bwt(MATRIX), bwt(other)])
    np.testing.assert_allclose(out["matrix"], np.array(MATRIX) - 0.05)
    assert over_seeds([MATRIX])["acc"]["std"] == 0.0
    assert set(summary(MATRIX)) == {"acc", "bwt", "forgetting", "learning_accuracy"}


@pytest.mark.parametrize("bad, match", [
    ([[0.5, 0.5]], "square"),
    (np.zeros((0, 0)), "square"),
    ([[0.5, np.nan], [0.5, 0.5]], r"a\[0\]\[1\] = nan"),
    ([[0.5, 0.5], [1.5, 0.5]], r"a\[1\]\[0\] = 1.5"),
])
def test_bad_matrices_are_refused_naming_the_entry(bad, match):
    with pytest.raises(ModelError, match=match):
        acc(bad)


def test_over_seeds_refuses_nothing_and_mixed_shapes():
    with pytest.raises(ModelError, match="no accuracy matrix"):
        over_seeds([])
    with pytest.raises(ModelError, match="different shapes"):
        over_seeds([MATRIX, [[0.5]]])
