"""The AM-SU torch layer: the template's dynamics (numba, float64), its
gradients, and its refusals."""
import numpy as np
import pytest
import torch

from spikemem.glia import AMSU
from spikemem.errors import ModelError
from spikemem.models.astrocytes.amsu import AMSULayer, SpikingSequenceModel


def _layer(n=6, group=None):
    torch.manual_seed(0)
    layer = AMSULayer(4, n, tau=4.0, tau_a=(5.0, 40.0), seed=3, group=group, dtype=torch.float64)
    with torch.no_grad():
        layer.input.mul_(3.0)
        layer.k.copy_(torch.linspace(-2.0, 3.0, n, dtype=torch.float64))
        layer.b.copy_(torch.linspace(1.5, -1.0, n, dtype=torch.float64))
    return layer


def test_the_numba_template_runs_the_layers_dynamics():
    from spikemem.backends import simulate
    layer = _layer()
    steps = 60
    x = (np.random.default_rng(1).random((steps, 4)) < 0.35).astype(float)
    spikes, _, v, a = layer(torch.tensor(x)[:, None, :], record=True)
    net = layer.to_network(dt=1e-3, input_spikes=x)
    net.record_spikes("hidden")
    net.record_state("hidden", ["v", "a", "m"])
    r = simulate(net, (steps + 1) * 1e-3, backend="numba", progress=False)
    found = np.zeros((steps + 1, 6))
    t = np.rint(r.spikes["hidden"].times / 1e-3).astype(int)
    found[t, r.spikes["hidden"].ids] = 1
    assert spikes.sum() > 30 and a.max() > 0.5                    # the astrocytes do something
    assert np.array_equal(found[1:], spikes[:, 0].detach().numpy())        # the template's step t + 1 is the layer's t
    traces = {name.split(".")[1]: tr.values for name, tr in r.traces.items()}
    # recorded at each step's start: the end of the step before
    assert np.allclose(traces["v"][2:], v[:-1, 0].detach().numpy(), atol=1e-10)
    assert np.allclose(traces["a"][2:], a[:-1, 0].detach().numpy(), atol=1e-12)
    k = layer.k.detach().numpy()
    assert np.allclose(traces["m"], 1 + k * traces["a"], atol=1e-12)     # the efficacy state is 1 + k*a


def test_shared_astrocytes_run_alike_in_the_layer_and_on_numba():
    from spikemem.backends import simulate
    layer = _layer(7, group=3)                  # astrocytes of 3, 3 and 1 neurons
    steps = 60
    x = (np.random.default_rng(1).random((steps, 4)) < 0.35).astype(float)
    spikes, (_, c, _), v, a = layer(torch.tensor(x)[:, None, :], record=True)
    assert c.shape == (1, 3) and layer.tau_a.shape == (3,)
    a = a[:, 0].detach().numpy()
    assert spikes.sum() > 30 and a.max() > 0.5
    assert np.array_equal(a[:, 0], a[:, 2]) and not np.array_equal(a[:, 2], a[:, 3])    # one state per group
    net = layer.to_network(dt=1e-3, input_spikes=x)
    net.record_spikes("hidden")
    net.record_state("hidden", ["v", "a", "m"])
    r = simulate(net, (steps + 1) * 1e-3, backend="numba", progress=False)
    found = np.zeros((steps + 1, 7))
    found[np.rint(r.spikes["hidden"].times / 1e-3).astype(int), r.spikes["hidden"].ids] = 1
    assert np.array_equal(found[1:], spikes[:, 0].detach().numpy())
    traces = {name.split(".")[1]: tr.values for name, tr in r.traces.items()}
    assert np.allclose(traces["v"][2:], v[:-1, 0].detach().numpy(), atol=1e-10)
    assert np.allclose(traces["a"][2:], a[:-1], atol=1e-12)
    assert np.allclose(traces["m"], 1 + layer.k.detach().numpy() * traces["a"], atol=1e-12)


def test_a_shared_astrocyte_is_moved_a_fraction_alpha_by_each_spike_of_its_group():
    layer = AMSULayer(2, 4, tau_a=1e9, alpha=0.5, group=2, dtype=torch.float64)
    with torch.no_grad():
        layer.input.copy_(torch.tensor([[5.0, 0], [5.0, 0], [5.0, 0], [0, 0]], dtype=torch.float64))
        layer.recurrent.zero_()
    x = torch.zeros(3, 1, 2, dtype=torch.float64)
    x[0, 0, 0] = 1                              # neurons 0, 1 and 2 fire at step 0
    _, _, _, a = layer(x, record=True)
    assert torch.allclose(a[1, 0], torch.tensor([0.75, 0.75, 0.5, 0.5], dtype=torch.float64))
    full = AMSULayer(2, 4, alpha=1.0, group=2, dtype=torch.float64)
    with torch.no_grad():
        full.input.copy_(layer.input)
        full.recurrent.zero_()
    assert torch.equal(full(x, record=True)[3][1, 0], torch.ones(4, dtype=torch.float64))


def test_the_astrocytic_gains_take_gradients_and_the_lif_variant_has_none():
    layer = _layer()
    x = (torch.rand(30, 2, 4, generator=torch.Generator().manual_seed(0)) < 0.4).double()
    spikes, _ = layer(x)
    spikes.sum().backward()
    assert layer.k.grad.abs().sum() > 0 and layer.b.grad.abs().sum() > 0
    shared = _layer(7, group=3)
    shared(x)[0].sum().backward()
    assert shared.k.grad.abs().sum() > 0 and shared.b.grad.abs().sum() > 0
    assert sum(p.numel() for p in shared.parameters()) == sum(p.numel() for p in _layer(7).parameters())
    lif = AMSULayer(4, 6, astro=False)
    assert {n for n, _ in lif.named_parameters()} == {"input", "recurrent"}
    assert sum(p.numel() for p in AMSULayer(4, 6).parameters()) == 4 * 6 + 6 * 6 + 2 * 6


def test_without_astrocytic_gains_the_unit_is_leaky():
    lif = AMSULayer(3, 5, astro=False, seed=2, dtype=torch.float64)
    x = (torch.rand(40, 1, 3, generator=torch.Generator().manual_seed(4)) < 0.5).double() * 2
    spikes, _, v, _ = lif(x, record=True)
    beta, w, u = lif.beta[0].item(), lif.input.detach(), lif.recurrent.detach()
    v_ref, s_ref = torch.zeros(5, dtype=torch.float64), torch.zeros(5, dtype=torch.float64)
    for t in range(40):             # neurons.Leaky's step
        v_ref = beta * (v_ref + w @ x[t, 0] + u @ s_ref)
        s_ref = (v_ref > 1.0).double()
        v_ref = v_ref - s_ref
        assert torch.equal(s_ref, spikes[t, 0]) and torch.allclose(v_ref, v[t, 0])


def test_bad_settings_are_refused_by_name():
    with pytest.raises(ModelError, match="n_hidden"):
        AMSULayer(3, 0)
    with pytest.raises(ModelError, match="tau_a"):
        AMSULayer(3, 4, tau_a=(10.0, 5.0))
    with pytest.raises(ModelError, match="group"):
        AMSULayer(3, 4, group=0)
    with pytest.raises(ModelError, match="surrogate"):
        AMSULayer(3, 4, surrogate="step")
    with pytest.raises(ModelError, match=r"\(T, batch, 3\)"):
        AMSULayer(3, 4)(torch.zeros(5, 3))
    with pytest.raises(ModelError, match="n_out"):
        SpikingSequenceModel(3, 4, 0)
    with pytest.raises(ModelError, match="tau_a"):
        AMSU(tau_a=-1.0)
    with pytest.raises(ModelError, match="alpha"):
        AMSU(alpha=np.array([0.1, -0.2]))
    with pytest.raises(ModelError, match="alpha"):
        AMSULayer(3, 4, alpha=1.5)
