"""encode: repeated analog values and seeded Poisson spikes."""
import pytest

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

from spikemem.errors import ModelError  # noqa: E402
from spikemem.learn import encode  # noqa: E402


def test_repeat_gives_the_values_at_every_step():
    x = torch.rand(4, 6)
    out = encode(x, 5, "repeat")
    assert out.shape == (5, 4, 6)
    assert torch.equal(out[3], x) and torch.allclose(out.mean(0), x)


def test_poisson_spikes_fire_with_probability_x_and_repeat_with_the_seed():
    x = torch.tensor([[0.0, 0.2, 0.9, 1.0]]).expand(500, 4)
    out = encode(x, 40, "poisson", seed=3)
    assert set(out.unique().tolist()) <= {0.0, 1.0}
    rate = out.mean((0, 1))
    assert rate[0] == 0 and rate[3] == 1
    assert abs(float(rate[1]) - 0.2) < 0.01 and abs(float(rate[2]) - 0.9) < 0.01
    assert torch.equal(out, encode(x, 40, "poisson", seed=3))
    assert not torch.equal(out, encode(x, 40, "poisson", seed=4))
    g = torch.Generator().manual_seed(3)
    assert torch.equal(out, encode(x, 40, "poisson", generator=g))


@pytest.mark.parametrize("args, words", [
    ((torch.rand(2, 3), 5, "rate"), ["how", "repeat", "poisson"]),
    ((torch.rand(2, 3), 0, "poisson"), ["steps", ">= 1"]),
    ((torch.rand(3), 5, "poisson"), ["(batch, n)"]),
    ((torch.full((2, 3), 1.5), 5, "poisson"), ["[0, 1]"]),
    ((torch.full((2, 3), float("nan")), 5, "poisson"), ["NaN"]),
    ((torch.full((2, 3), float("inf")), 5, "repeat"), ["inf"]),
])
def test_bad_input_is_refused(args, words):
    with pytest.raises(ModelError) as e:
        encode(*args)
    for w in words:
        assert w in str(e.value)


def test_repeat_takes_a_signed_current():
    x = torch.tensor([[-1.5, 0.0, 2.5]])
    assert torch.equal(encode(x, 3, "repeat")[2], x)


def test_a_bad_seed_is_refused():
    with pytest.raises(ModelError, match="seed"):
        encode(torch.rand(2, 3), 5, "poisson", seed=-1)


def test_a_numpy_integer_seed_is_a_seed():
    import numpy as np
    x = torch.rand(2, 3)
    assert torch.equal(encode(x, 5, "poisson", seed=np.int64(2)), encode(x, 5, "poisson", seed=2))
