"""models.astrocytes.hardware: a batch of sequences as one network spikes as the
torch layer does; the frozen model is the frozen network, in torch; small
weights are pruned; bad input refused."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from spikemem.backends import simulate  # noqa: E402
from spikemem.errors import ModelError  # noqa: E402
from spikemem.glia import freeze_modulation  # noqa: E402
from spikemem.models.astrocytes import hardware, tasks  # noqa: E402
from spikemem.models.astrocytes.amsu import SpikingSequenceModel  # noqa: E402

pytestmark = pytest.mark.torch


def model_with_astrocytes(seed=0):
    """A small untrained model, in float64, with gains that modulate and weights that make it fire."""
    model = SpikingSequenceModel(7, 6, 4, seed=seed, tau_a=(5.0, 50.0), alpha=0.6).double()
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        model.layer.k.copy_(torch.rand(6, generator=gen, dtype=torch.float64) * 1.5 - 0.5)
        model.layer.b.copy_(torch.rand(6, generator=gen, dtype=torch.float64) * 0.8 - 0.2)
        model.layer.input.mul_(4.0)
    return model


def run_network(net, steps, batch, n):
    result = simulate(net, (steps + 1) * 1e-3, "numba", progress=False)
    return hardware.spike_matrix(result.spikes["hidden"], steps, batch, n, 1e-3)


def test_the_batch_network_spikes_as_the_torch_layer_and_gives_its_accuracy():
    model = model_with_astrocytes()
    task = tasks.delayed_recall(3, 4, seed=1)
    with torch.no_grad():
        spikes, _ = model.layer(torch.from_numpy(task.x).double())
    assert spikes.sum() > 10
    network = run_network(hardware.recall_network(model.layer, task.x), task.x.shape[0], 3, 6)
    assert np.array_equal(network, spikes.numpy())
    with torch.no_grad():
        logits = model(torch.from_numpy(task.x).double())[task.at][..., :4]
    expected = float((logits.argmax(-1).T.numpy() == task.y).mean())
    assert hardware.spike_accuracy(model, network, task) == expected


def test_the_frozen_model_with_a_board_reset_is_the_frozen_network():
    model = model_with_astrocytes(seed=2)
    task = tasks.delayed_recall(3, 4, seed=3)
    a = hardware.mean_astrocytic_state(model.layer, torch.from_numpy(task.x).double())
    assert a.shape == (6,) and np.all((a >= 0) & (a <= 1)) and a.max() > 0
    late = hardware.mean_astrocytic_state(model.layer, torch.from_numpy(task.x).double(), slice(5, None))
    first = hardware.mean_astrocytic_state(model.layer, torch.from_numpy(task.x).double(), [0])
    assert not np.any(first) and late.mean() > a.mean()          # a starts at 0 and grows
    frozen = freeze_modulation(hardware.recall_network(model.layer, task.x), np.tile(a, 3))
    network = run_network(frozen, task.x.shape[0], 3, 6)
    mine = _frozen_spikes(model, a, task.x, "zero")
    assert network.sum() > 10 and np.array_equal(network, mine)
    # the AM-SU's own reset keeps what lay above threshold: other spikes
    assert not np.array_equal(_frozen_spikes(model, a, task.x, "subtract"), mine)


def _frozen_spikes(model, a, x, reset):
    """The spikes FrozenModel feeds its readout (the readout replaced by the identity)."""
    frozen = hardware.FrozenModel(model, a, reset=reset)
    readout = model.readout
    model.readout = torch.nn.Identity()
    try:
        return frozen(torch.from_numpy(x).double()).numpy()
    finally:
        model.readout = readout


def test_frozen_at_zero_without_gains_is_the_layer_without_astrocytes():
    model = model_with_astrocytes(seed=4)
    with torch.no_grad():
        model.layer.k.zero_()
        model.layer.b.zero_()
    x = tasks.delayed_recall(4, 3, seed=5).x
    with torch.no_grad():
        spikes, _ = model.layer(torch.from_numpy(x).double())
    assert np.array_equal(_frozen_spikes(model, 0.7, x, "subtract"), spikes.numpy())


def test_prune_weights_zeroes_the_small_ones_only():
    model = model_with_astrocytes()
    net = freeze_modulation(hardware.recall_network(model.layer, tasks.delayed_recall(2, 2, seed=0).x), 0.3)
    before = {p.name: p.w.copy() for p in net.build().projections}
    n = hardware.prune_weights(net, 0.2)
    after = {p.name: p.w for p in net.build().projections}
    small = sum(int(((np.abs(w) < 0.2 * np.abs(w).max()) & (w != 0)).sum()) for w in before.values())
    assert n == small > 0
    for name, w in before.items():
        keep = np.abs(w) >= 0.2 * np.abs(w).max()
        assert np.array_equal(after[name][keep], w[keep]) and not np.any(after[name][~keep])
    assert hardware.prune_weights(net, 0.0) == 0


def test_bad_input_is_refused():
    model = model_with_astrocytes()
    with pytest.raises(ModelError, match="reset must be one of"):
        hardware.FrozenModel(model, 0.1, reset="soft")
    with pytest.raises(ModelError, match="one value or 6"):
        hardware.FrozenModel(model, [0.1, 0.2])
    with pytest.raises(ModelError, match="in \\[0, 1\\]"):
        hardware.FrozenModel(model, 1.5)
    with pytest.raises(ModelError, match="x must be \\(T, batch, 7\\)"):
        hardware.recall_network(model.layer, np.zeros((3, 7)))
    with pytest.raises(ModelError, match="selects none"):
        hardware.mean_astrocytic_state(model.layer, torch.zeros(3, 1, 7, dtype=torch.float64), slice(5, None))
    with pytest.raises(ModelError, match="ratio"):
        hardware.prune_weights(None, 1.0)
