"""Trainer: learns small separable data with the ANN and both spiking methods,
repeats itself with its seed, calls the gradient transforms' hooks, stops early."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

from spikemem.errors import ModelError  # noqa: E402
from spikemem.learn import Trainer, ann_mlp, compile, mlp  # noqa: E402


def blobs(n=240, d=12, classes=3, seed=0):
    """Each class lights its own third of the inputs, over a dim background."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    x = rng.uniform(0.0, 0.25, (n, d))
    for c in range(classes):
        x[np.ix_(y == c, np.arange(d)[c::classes])] += 0.7
    return x.astype(np.float32), y.astype(np.int64)


@pytest.mark.parametrize("make", [
    lambda: ann_mlp([12, 16, 3], seed=0),
    lambda: compile(mlp([12, 16, 3], seed=0), device="cpu"),
    lambda: compile(mlp([12, 16, 3], seed=0), method="ottt", device="cpu"),
])
def test_models_learn_separable_data(make):
    x, y = blobs()
    trainer = Trainer(make(), lr=0.02, epochs=4, batch_size=32, steps=10, progress=False)
    before = trainer.evaluate(x, y)
    history = trainer.fit(x[:200], y[:200], x[200:], y[200:])
    assert [h["epoch"] for h in history] == [1, 2, 3, 4]
    assert history[-1]["loss"] < history[0]["loss"]
    assert history[-1]["val_accuracy"] >= 0.9 > before
    assert all(h["seconds"] > 0 for h in history)


def test_the_same_seed_trains_the_same_model():
    x, y = blobs()
    runs = []
    for seed in (1, 1, 2):
        model = compile(mlp([12, 8, 3], seed=0), device="cpu")
        history = Trainer(model, epochs=2, seed=seed, steps=8, progress=False).fit(x, y)
        runs.append((history[-1]["loss"], model.weight("fc1").detach().clone()))
    assert runs[0][0] == runs[1][0] and torch.equal(runs[0][1], runs[1][1])
    assert not torch.equal(runs[0][1], runs[2][1])


class _Freeze:
    """A transform that adds a constant penalty and zeroes the first layer's gradient."""

    def __init__(self):
        self.calls = 0

    def penalty(self, model):
        return torch.tensor(1.0)

    def transform(self, model):
        self.calls += 1
        model.weight("fc1").grad.zero_()


def test_transforms_join_the_loss_and_edit_the_gradients():
    x, y = blobs(n=64)
    model = ann_mlp([12, 8, 3])
    before = {n: model.weight(n).detach().clone() for n in model.layers}
    t = _Freeze()
    plain = Trainer(ann_mlp([12, 8, 3]), optimiser="sgd", lr=0.1, batch_size=16, progress=False).fit(x, y)
    history = Trainer(model, optimiser="sgd", lr=0.1, batch_size=16, transforms=[t], progress=False).fit(x, y)
    assert t.calls == 4
    assert torch.equal(model.weight("fc1"), before["fc1"]) and not torch.equal(model.weight("fc2"), before["fc2"])
    assert history[0]["loss"] > plain[0]["loss"] + 0.5


def test_callbacks_and_patience_stop_early():
    x, y = blobs()
    seen = []
    history = Trainer(ann_mlp([12, 8, 3]), epochs=10, callbacks=[lambda e, m: seen.append(e) or e == 3],
                      progress=False).fit(x, y)
    assert len(history) == 3 and seen == [1, 2, 3]
    # a learning rate of ~0 never improves on the first epoch
    history = Trainer(ann_mlp([12, 8, 3]), epochs=10, lr=1e-12, patience=2, progress=False).fit(x, y, x, y)
    assert len(history) == 3


@pytest.mark.parametrize("kwargs, words", [
    ({"loss": "hinge"}, ["loss", "cross_entropy"]),
    ({"optimiser": "lbfgs"}, ["optimiser", "adam"]),
    ({"lr": 0}, ["lr"]),
    ({"epochs": 0}, ["epochs", ">= 1"]),
    ({"batch_size": 1.5}, ["batch_size"]),
    ({"encoding": "latency"}, ["encoding", "poisson"]),
    ({"transforms": [object()]}, ["penalty(model)"]),
    ({"patience": 0}, ["patience"]),
])
def test_bad_arguments_are_refused(kwargs, words):
    with pytest.raises(ModelError) as e:
        Trainer(ann_mlp([4, 2]), **kwargs)
    for w in words:
        assert w in str(e.value)


def test_bad_data_is_refused():
    trainer = Trainer(ann_mlp([4, 2]), progress=False)
    with pytest.raises(ModelError, match="one per sample"):
        trainer.fit(np.zeros((5, 4)), np.zeros(4, dtype=int))
    with pytest.raises(ModelError, match="integer labels"):
        trainer.fit(np.zeros((5, 4)), np.zeros(5))
    with pytest.raises(ModelError, match=r"labels outside the model's 2 outputs \[0, 1\]: 0..2"):
        trainer.fit(np.zeros((3, 4)), np.array([0, 1, 2]))
    with pytest.raises(ModelError, match="NaN"):
        trainer.fit(np.full((5, 4), np.nan), np.zeros(5, dtype=int))
    with pytest.raises(ModelError, match="nn.Module"):
        Trainer(object())


def test_bad_inputs_are_refused_before_any_step():
    x, y = blobs(n=20)
    model = compile(mlp([12, 4, 3], seed=0), device="cpu")
    before = model.weight("fc1").detach().clone()
    trainer = Trainer(model, progress=False)
    for bad, words in [(x * 2, "outside [0, 1]"), (x[:, :10], "10 inputs per sample, the model's first layer 'fc1' "
                                                               "takes 12"), (np.where(x > 0.5, np.inf, x), "inf")]:
        with pytest.raises(ModelError, match=words.replace("[", r"\[").replace("]", r"\]")):
            trainer.fit(x, y, bad, y)              # the validation data too, before training starts
    assert torch.equal(model.weight("fc1"), before)
    Trainer(ann_mlp([12, 3]), progress=False).fit(x * 2, y)   # an ANN takes any finite input
    Trainer(model, encoding="repeat", progress=False).fit(x * 2 - 1, y)   # so does a repeated current


def test_patience_needs_validation_data_and_evaluate_keeps_the_training_flag():
    x, y = blobs(n=20)
    with pytest.raises(ModelError, match="patience=2 needs validation data"):
        Trainer(ann_mlp([12, 3]), patience=2, progress=False).fit(x, y)
    model = ann_mlp([12, 3]).eval()
    Trainer(model, progress=False).evaluate(x, y)
    assert not model.training
