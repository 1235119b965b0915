"""The sequence tasks: delayed recall's layout and the pydoc_data corpus."""
import numpy as np
import pytest

from spikemem.errors import ModelError
from spikemem.models.astrocytes.tasks import char_corpus, delayed_recall, lm_windows, pydoc_text


def test_delayed_recall_shows_the_tokens_then_cues_them_after_the_delay():
    task = delayed_recall(50, 7, tokens=3, vocab=5, seed=1)
    assert task.x.shape == (13, 50, 8) and task.y.shape == (50, 3)
    assert list(task.at) == [10, 11, 12]
    assert np.array_equal(task.x[:3, :, :5].argmax(-1).T, task.y)      # the tokens, one per step
    assert task.x[3:10].sum() == 0                                   # the delay is blank
    assert np.array_equal(task.x[10:, 0, 5:], np.eye(3))                # the i-th cue asks for the i-th
    assert (task.x[10:, :, 5:].sum(-1) == 1).all() and task.x[10:, :, :5].sum() == 0
    assert np.array_equal(delayed_recall(50, 7, tokens=3, vocab=5, seed=1).y, task.y)
    padded = delayed_recall(4, 2, tokens=2, length=12)
    assert padded.x.shape[0] == 12 and padded.x[6:].sum() == 0


def test_a_delay_longer_than_the_sequence_is_refused():
    with pytest.raises(ModelError, match="delay 500 is longer"):
        delayed_recall(4, 500, tokens=3, length=100)
    with pytest.raises(ModelError, match="delay"):
        delayed_recall(4, -1)
    with pytest.raises(ModelError, match="vocab"):
        delayed_recall(4, 10, vocab=1)


def test_the_pydoc_corpus_is_split_at_its_end():
    text = pydoc_text()
    corpus = char_corpus(max_chars=10_000, val_fraction=0.2)
    assert len(corpus.train) == 8000 and len(corpus.val) == 2000
    assert "".join(corpus.vocab[i] for i in corpus.train[:50]) == text[:50]
    assert "".join(corpus.vocab[i] for i in corpus.val[-20:]) == text[9980:10_000]
    x, y = lm_windows(corpus.train, 16, 4, np.random.default_rng(0))
    assert x.shape == (16, 4) and np.array_equal(x[1:], y[:-1])
    assert corpus.one_hot(x).shape == (16, 4, len(corpus.vocab))


def test_an_empty_corpus_is_refused():
    with pytest.raises(ModelError, match="corpus is empty"):
        char_corpus("")
    with pytest.raises(ModelError, match="val_fraction"):
        char_corpus("abcdef", val_fraction=1.0)
    with pytest.raises(ModelError, match="fewer than a window"):
        lm_windows(np.arange(5), 10, 2, np.random.default_rng(0))
