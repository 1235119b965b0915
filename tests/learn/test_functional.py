"""The fused Leaky scan against the same steps recorded by autograd, and the
OTTT product's gradients."""
import pytest

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

from spikemem.learn.functional import SURROGATES, leaky_scan, spike, trace_linear  # noqa: E402


def _stepwise(current, beta, v_th, surrogate, scale):
    """The same neurons one step at a time, every operation recorded by autograd."""
    v = torch.zeros_like(current[0])
    spikes, after = [], []
    for t in range(current.shape[0] + 1):
        v = (v + current[t - 1]) * beta if t else v * beta
        s = spike(v, v_th, surrogate, scale)
        v = v - v_th * s.detach()
        spikes.append(s)
        after.append(v)
    return torch.stack(spikes), torch.stack(after)


@pytest.mark.parametrize("surrogate", sorted(SURROGATES))
def test_the_scan_gives_the_stepwise_values_and_gradients(surrogate):
    g = torch.Generator().manual_seed(0)
    current = torch.randn(9, 3, 5, generator=g, dtype=torch.float64, requires_grad=True)
    beta = torch.linspace(0.5, 0.95, 5, dtype=torch.float64)
    v_th = torch.linspace(0.5, 1.5, 5, dtype=torch.float64)
    w_s, w_v = torch.randn(10, 3, 5, generator=g, dtype=torch.float64), torch.randn(10, 3, 5, generator=g,
                                                                                 dtype=torch.float64)
    fused = leaky_scan(current, beta, v_th, surrogate, 1.3)
    ref = _stepwise(current, beta, v_th, surrogate, 1.3)
    assert fused[0].sum() > 5                      # some spikes, some resets
    for a, b in zip(fused, ref):
        assert torch.equal(a, b)
    grads = [torch.autograd.grad((s * w_s).sum() + (v * w_v).sum(), current)[0] for s, v in (fused, ref)]
    assert torch.allclose(grads[0], grads[1], rtol=1e-12, atol=1e-12)
    # spikes alone (no gradient through the membrane): the counts readout
    grads = [torch.autograd.grad(s.sum(), current)[0] for s, _ in (leaky_scan(current, beta, v_th, surrogate, 1.3),
                                                                    _stepwise(current, beta, v_th, surrogate, 1.3))]
    assert torch.allclose(grads[0], grads[1], rtol=1e-12, atol=1e-12)


def test_float32_runs_the_same_kernel():
    current = torch.randn(6, 2, 4)
    s, v = leaky_scan(current, torch.full((4,), 0.9), torch.ones(4))
    assert s.dtype == v.dtype == torch.float32 and s.shape == (7, 2, 4)


def test_trace_linear_takes_the_trace_for_the_weight_gradient():
    g = torch.Generator().manual_seed(1)
    s = (torch.rand(4, 6, generator=g) < 0.5).double().requires_grad_()
    trace = torch.rand(4, 6, generator=g, dtype=torch.float64)
    w = torch.randn(3, 6, generator=g, dtype=torch.float64, requires_grad=True)
    out = trace_linear(s, trace, w)
    assert torch.equal(out, torch.nn.functional.linear(s, w))
    up = torch.randn(4, 3, generator=g, dtype=torch.float64)
    gs, gw = torch.autograd.grad((out * up).sum(), (s, w))
    assert torch.allclose(gw, up.t() @ trace) and torch.allclose(gs, up @ w)


def test_the_torch_loops_for_other_devices_give_the_kernels_results(monkeypatch):
    """Off the CPU the scan runs as torch operations; here the same on the CPU."""
    import spikemem.learn.functional as functional
    g = torch.Generator().manual_seed(2)
    current = torch.randn(8, 3, 4, generator=g, dtype=torch.float64, requires_grad=True)
    beta, v_th = torch.full((4,), 0.8, dtype=torch.float64), torch.linspace(0.5, 1.0, 4, dtype=torch.float64)
    w = torch.randn(9, 3, 4, generator=g, dtype=torch.float64)
    results = []
    for on_cpu in (True, False):
        monkeypatch.setattr(functional, "_cpu", lambda *t, on=on_cpu: on)
        s, v = leaky_scan(current, beta, v_th, "atan", 1.0)
        grads = [torch.autograd.grad(out, current)[0] for out in ((s * w).sum() + (v * w).sum(),)]
        grads.append(torch.autograd.grad(leaky_scan(current, beta, v_th, "atan", 1.0)[0].sum(), current)[0])
        results.append((s, v, grads))
    assert torch.equal(results[0][0], results[1][0]) and torch.allclose(results[0][1], results[1][1])
    for a, b in zip(results[0][2], results[1][2]):
        assert torch.allclose(a, b, rtol=1e-12, atol=1e-12)
