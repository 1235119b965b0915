"""predict: a trained network gives, on numba, the spike counts of the torch
model on the same input spike trains."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

from spikemem.errors import ModelError  # noqa: E402
from spikemem.learn import Trainer, compile, encode, mlp, predict  # noqa: E402


def _data(n=96, d=10, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.uniform(0, 0.3, (n, d))
    x[y == 1, : d // 2] += 0.6
    x[y == 0, d // 2:] += 0.6
    return x.astype(np.float32), y


@pytest.mark.parametrize("recurrent", [False, True])
def test_numba_predicts_what_the_trained_torch_model_computes(recurrent):
    x, y = _data()
    model = compile(mlp([10, 8, 2], recurrent=recurrent, seed=0), dtype=torch.float64, device="cpu")
    Trainer(model, lr=0.02, epochs=3, batch_size=16, steps=12, progress=False).fit(x, y)
    spikes = encode(torch.as_tensor(x[:24], dtype=torch.float64), 12, "poisson", seed=5)
    with torch.no_grad():
        expected = model(spikes).numpy()
    counts = predict(model.to_network(), spikes, backend="numba")
    assert counts.shape == (24, 2) and counts.sum() > 24
    assert np.array_equal(counts, expected)
    assert np.mean(counts.argmax(1) == y[:24]) > 0.8


def test_predict_refuses_analog_input_and_wrong_shapes():
    net = mlp([4, 3])
    with pytest.raises(ModelError, match="zeros and ones"):
        predict(net, np.full((5, 2, 4), 0.5))
    with pytest.raises(ModelError, match=r"\(steps, samples, 4\)"):
        predict(net, np.zeros((5, 2, 3)))
    with pytest.raises(ModelError, match="progress is not an option"):
        predict(net, np.zeros((5, 2, 4)), progress=True)
