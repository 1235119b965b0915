"""Training loops and measurements, at tiny sizes."""
import numpy as np
import torch

from spikemem.models.astrocytes import baselines, train
from spikemem.models.astrocytes.tasks import char_corpus, delayed_recall


def test_an_lstm_learns_a_short_recall_and_the_accuracy_counts_tokens():
    torch.set_num_threads(1)
    model = baselines.build("lstm", 3, 2, 400, seed=0)       # 2 symbols and 1 cue
    before = train.recall_accuracy(model, delayed_recall(256, 2, tokens=1, vocab=2, seed=5))
    result = train.train_recall(model, 2, iterations=150, tokens=1, vocab=2, lr=1e-2)
    assert result["accuracy"] > 0.95 and result["accuracy"] > before + 0.2


def test_bits_per_char_carries_the_state_and_matches_a_uniform_guess():
    corpus = char_corpus(max_chars=3000)

    class Uniform(torch.nn.Module):
        def forward(self, x, state=None):
            self.last_state = None
            return torch.zeros(*x.shape[:2], len(corpus.vocab))
    assert np.isclose(train.bits_per_char(Uniform(), corpus, streams=3, seq_len=17), np.log2(len(corpus.vocab)))
    model = baselines.build("amsu", len(corpus.vocab), len(corpus.vocab), 4000)
    result = train.train_lm(model, corpus, iterations=3, seq_len=16, batch=4)
    assert result["train_bpc"] > 0 and train.bits_per_char(model, corpus, streams=4, seq_len=32) > 0
    assert train.latency_per_token(model, len(corpus.vocab), tokens=5) > 0
    assert train.throughput(model, len(corpus.vocab), batch=2, seq_len=8, repeats=1) > 0
