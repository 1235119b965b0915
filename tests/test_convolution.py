"""The Convolution connector: the synapses it means, a build that does not list
them, and numba, torch and Brian2 computing the same network as its listed
synapses (``FromList``)."""
import time
import tracemalloc

import numpy as np
import pytest

import spikemem as sm
from spikemem.backends.numba import convolution as numba_convolution
from spikemem.connectors import Convolution
from spikemem.errors import ModelError
from spikemem.network import Network

from convolution_nets import rate_net, spiking_net

CASES = [("periodic", 1), ("periodic", 3), ("aperiodic", 1), ("aperiodic", 3)]


def reference(kernel, classes, periodic):
    """W[pre, post] straight from the definition: post (y, x) takes kernel[c][ry + dy, rx + dx]
    from the source of class c at (y - dy, x - dx)."""
    ny, nx = classes.shape
    c, ky, kx = kernel.shape
    w = np.zeros((ny * nx, ny * nx))
    for y in range(ny):
        for x in range(nx):
            for a in range(ky):
                for b in range(kx):
                    sy, sx = y - (a - ky // 2), x - (b - kx // 2)
                    if periodic:
                        sy, sx = sy % ny, sx % nx
                    elif not (0 <= sy < ny and 0 <= sx < nx):
                        continue
                    k = kernel[classes[sy, sx], a, b]
                    if k:
                        w[sy * nx + sx, y * nx + x] = k
    return w


@pytest.mark.parametrize("boundary, classes", CASES)
def test_the_listed_synapses_are_the_definition(boundary, classes):
    rng = np.random.default_rng(0)
    kernel = rng.normal(size=(classes, 5, 3)) * (rng.random((classes, 5, 3)) < 0.7)
    cls = rng.integers(0, classes, size=(6, 7))
    conn = Convolution(kernel if classes > 1 else kernel[0], sheet=(6, 7), boundary=boundary,
                       classes=cls if classes > 1 else None)
    i, j, w, d = conn.build(42, 42, None, "test")
    dense = np.zeros((42, 42))
    dense[i, j] = w
    expected = reference(kernel, cls if classes > 1 else np.zeros((6, 7), int), boundary == "periodic")
    np.testing.assert_array_equal(dense, expected)
    assert i.size == np.count_nonzero(expected) == conn.expected_synapses(42, 42)
    assert np.all(np.diff(i * 42 + j) > 0)           # (pre, post) order, no pair twice
    assert d is None


@pytest.mark.parametrize("boundary, classes", CASES)
def test_build_keeps_the_kernel_and_lists_on_demand(boundary, classes):
    net = rate_net(classes=classes, boundary=boundary)
    built = net.build().projections[0]
    assert built.i.size == built.j.size == built.w.size == 0 and built.conv is not None
    listed = built.explicit()
    conn = net.projections[0].connector
    i, j, w, _ = conn.build(64, 64, None, "test")
    np.testing.assert_array_equal(listed.i, i)
    np.testing.assert_array_equal(listed.w, w)
    assert built.n_synapses == i.size and listed.conv is None and np.all(listed.delay == 1)


def test_a_large_sheet_builds_at_once():
    """The n = 128 grid-cell sheet: 4 kernels of 53 x 53, about 4.6e7 synapses."""
    n, rng = 128, np.random.default_rng(0)
    net = Network(dt=0.5e-3)
    net.population("g", n * n, sm.RateUnit())
    net.connect("g", "g", Convolution(rng.normal(size=(4, 53, 53)) * 1e-3, sheet=(n, n),
                                      classes=rng.integers(0, 4, (n, n))),
                receptor="I", synapse=sm.summed("r", "I"), name="rec")
    tracemalloc.start()
    start = time.perf_counter()
    built = net.build()
    took = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert built.projections[0].n_synapses == n * n * 53 * 53
    assert took < 1.0 and peak < 50e6, (took, peak)
    assert "46,022,656 synapses as a convolution" in net.describe()
    est = sm.estimate(net)            # kept as its kernel, not priced per synapse
    assert est.total < 100e6


def test_the_spec_round_trips():
    net = rate_net(classes=3, boundary="aperiodic")
    again = Network.from_spec(net.spec())
    assert again.hash() == net.hash()
    a, b = net.build().projections[0].conv, again.build().projections[0].conv
    np.testing.assert_array_equal(a.kernel, b.kernel)
    np.testing.assert_array_equal(a.classes, b.classes)
    assert a.periodic == b.periodic is False


def run(make, backend, duration, **kw):
    return sm.simulate(make(**kw), duration, backend)


def same_spikes(a, b):
    sa, sb = a.spikes["g"], b.spikes["g"]
    assert sa.count() > 100
    np.testing.assert_array_equal(sa.ids, sb.ids)
    np.testing.assert_array_equal(sa.times, sb.times)


@pytest.mark.parametrize("boundary, classes", CASES)
def test_numba_convolution_is_its_listed_synapses(boundary, classes):
    kw = dict(boundary=boundary, classes=classes)
    a, b = run(spiking_net, "numba", 0.2, **kw), run(spiking_net, "numba", 0.2, explicit=True, **kw)
    same_spikes(a, b)
    np.testing.assert_array_equal(a.traces["g.isyn_exc"].values, b.traces["g.isyn_exc"].values)
    a, b = run(rate_net, "numba", 0.1, **kw), run(rate_net, "numba", 0.1, explicit=True, **kw)
    np.testing.assert_array_equal(a.traces["g.r"].values, b.traces["g.r"].values)


@pytest.mark.parametrize("boundary, classes", CASES)
def test_numba_fft_agrees_to_rounding(boundary, classes, monkeypatch):
    kw = dict(boundary=boundary, classes=classes)
    scatter = run(rate_net, "numba", 0.1, **kw).traces["g.r"].values
    monkeypatch.setattr(numba_convolution, "FFT_ABOVE", 0.0)
    assert numba_convolution.uses_fft(rate_net(**kw).build().projections[0].conv)
    fft = run(rate_net, "numba", 0.1, **kw).traces["g.r"].values
    assert not np.array_equal(fft, scatter)          # another sum: not the same bits
    np.testing.assert_allclose(fft, scatter, rtol=1e-12, atol=1e-12 * np.abs(scatter).max())


@pytest.mark.parametrize("boundary, classes", CASES)
def test_numba_spikes_through_the_fft_where_they_are_many(boundary, classes, monkeypatch):
    """A step whose spikes visit more taps than the FFT's work goes through the FFT:
    the same spikes, the currents to rounding."""
    kw = dict(boundary=boundary, classes=classes)
    scatter = run(spiking_net, "numba", 0.2, **kw)
    monkeypatch.setattr(numba_convolution, "FFT_ABOVE", 0.0)
    fft = run(spiking_net, "numba", 0.2, **kw)
    same_spikes(scatter, fft)
    a, b = scatter.traces["g.isyn_exc"].values, fft.traces["g.isyn_exc"].values
    assert not np.array_equal(a, b)
    np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12 * np.abs(a).max())


def test_fft_work_counts_the_transforms_each_engine_makes():
    from spikemem.backends.fft_layout import FFT_FIXED, fft_work, padded
    conv = rate_net(n=12, boundary="periodic", classes=4, tile=(2, 2)).build().projections[0].conv
    py, px = padded(conv)
    unit = py * px * np.log2(py * px) + FFT_FIXED
    assert fft_work(conv) == 2 * unit                     # one sheet's transform and the inverse (phases)
    assert fft_work(conv, phased=False) == 5 * unit       # one per class and the inverse (torch)
    one = rate_net(n=12, boundary="periodic", classes=1).build().projections[0].conv
    assert fft_work(one, phased=False) == fft_work(one) == 2 * unit


@pytest.mark.parametrize("boundary", ["periodic", "aperiodic"])
@pytest.mark.parametrize("tile", [(2, 2), (1, 4)])
def test_numba_fft_of_a_repeating_class_map_agrees_to_rounding(boundary, tile, monkeypatch):
    """One transform of the whole sheet, each class's spectrum a sum of its shifts."""
    kw = dict(n=12, boundary=boundary, classes=4, tile=tile)
    scatter = run(rate_net, "numba", 0.1, **kw).traces["g.r"].values
    monkeypatch.setattr(numba_convolution, "FFT_ABOVE", 0.0)
    conv = rate_net(**kw).build().projections[0].conv
    assert numba_convolution.phases(conv) == tile
    fft = run(rate_net, "numba", 0.1, **kw).traces["g.r"].values
    np.testing.assert_allclose(fft, scatter, rtol=1e-12, atol=1e-12 * np.abs(scatter).max())


@pytest.mark.parametrize("boundary", ["periodic", "aperiodic"])
def test_brian2_gets_the_listed_synapses(boundary):
    kw = dict(n=16, boundary=boundary, classes=2)
    same_spikes(run(spiking_net, "numba", 0.1, **kw), run(spiking_net, "brian2", 0.1, **kw))
    a, b = run(rate_net, "numba", 0.05, **kw), run(rate_net, "brian2", 0.05, **kw)
    np.testing.assert_allclose(a.traces["g.r"].values, b.traces["g.r"].values, rtol=1e-12)


@pytest.mark.parametrize("boundary, classes", CASES)
@pytest.mark.parametrize("fft", [False, True])
def test_torch_agrees_with_numba(boundary, classes, fft, monkeypatch):
    pytest.importorskip("torch")
    from spikemem.backends.torch import convolution as torch_convolution
    monkeypatch.setattr(torch_convolution, "FFT_ABOVE", 0.0 if fft else 1e9)
    kw = dict(boundary=boundary, classes=classes)
    spikes = dict(dtype="float64")
    same_spikes(run(spiking_net, "numba", 0.2, **kw),
                sm.simulate(spiking_net(**kw), 0.2, "torch", **spikes))
    a = run(rate_net, "numba", 0.1, **kw).traces["g.r"].values
    b = sm.simulate(rate_net(**kw), 0.1, "torch", dtype="float64").traces["g.r"].values
    np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12 * np.abs(a).max())


def test_torch_convolves_each_trial():
    pytest.importorskip("torch")
    import torch
    sim = sm.simulation(rate_net(classes=2), "torch", dtype="float64", batch=3)
    cc = sim.module.convs[0]
    x = torch.as_tensor(np.random.default_rng(0).random((3, 64)))
    w = sim.built.projections[0].conv.dense()
    np.testing.assert_allclose(cc.apply(x).numpy(), x.numpy() @ w, rtol=1e-12)


def test_torch_keeps_the_kernel_fixed():
    pytest.importorskip("torch")
    with pytest.raises(ModelError, match="projection 'rec' is a convolution .* Dale's law has nothing to keep"):
        sm.simulation(spiking_net(), "torch", dale=["rec"])
    assert "rec" not in sm.simulation(spiking_net(), "torch").weights()


def test_norse_gets_the_listed_synapses():
    pytest.importorskip("norse")
    from spikemem.interop.nir.neurons import LIF
    net = Network(dt=1e-4)
    net.spike_source("src", 16, [[1e-3]] * 16)
    net.population("g", 16, LIF())
    net.connect("src", "g", Convolution(np.arange(1.0, 10.0).reshape(3, 3) * 0.1, sheet=(4, 4)),
                receptor="input", delay=3e-4, name="rec")
    net.record_state("g", "v")
    a, b = sm.simulate(net, 0.003, "numba"), sm.simulate(net, 0.003, "norse")
    assert np.ptp(a.traces["g.v"].values) > 0.01
    np.testing.assert_allclose(b.traces["g.v"].values, a.traces["g.v"].values, rtol=1e-9, atol=1e-12)


def test_what_reads_synapses_one_by_one_refuses_a_large_convolution(monkeypatch):
    monkeypatch.setattr(sm.network, "EXPLICIT_LIMIT", 100)
    net = rate_net(classes=2)
    with pytest.raises(ModelError, match="projection 'rec' is a convolution of .* up to 100 .* 'numba' or 'torch'"):
        sm.simulation(net, "brian2")


def test_weights_of_a_convolution_are_its_kernel():
    net = spiking_net()
    sim = sm.simulation(net, "numba")
    with pytest.raises(ModelError, match="projection 'rec' is a convolution .* kernel"):
        sim.get("rec", "w")
    with pytest.raises(ModelError, match="projection 'rec' is a convolution .* kernel"):
        net.set_weights("rec", np.zeros(10))


def test_plastic_and_view_projections_are_refused():
    net = Network(dt=1e-4)
    pop = net.population("g", 16, sm.IF_curr_exp())
    net.connect(pop[0:16], pop, Convolution(np.full((3, 3), 1e-10), sheet=(4, 4)), name="rec")
    with pytest.raises(ModelError, match="whole populations"):
        net.build()
    net = Network(dt=1e-4)
    net.population("g", 16, sm.RateUnit())
    net.connect("g", "g", Convolution(np.full((3, 3), 0.1), sheet=(4, 4)), receptor="I",
                synapse=sm.hebbian(target="I", rate="r"), name="rec")
    with pytest.raises(ModelError, match="'hebbian' has per-synapse state or plasticity"):
        net.build()


def test_nir_exports_a_small_convolution_as_its_affine():
    pytest.importorskip("nir")
    from spikemem.interop.nir import export as nir_export
    from spikemem.interop.nir.neurons import LIF
    net = Network(dt=1e-4)
    net.spike_source("src", 16, [[1e-3]] * 16)
    net.population("g", 16, LIF())
    kernel = np.arange(1.0, 10.0).reshape(3, 3)
    net.connect("src", "g", Convolution(kernel, sheet=(4, 4), boundary="aperiodic"), receptor="input", name="rec")
    graph = nir_export.export_nir(net)
    np.testing.assert_array_equal(graph.nodes["rec"].weight, net.build().projections[0].conv.dense().T)
    big = Network(dt=1e-4)
    big.spike_source("src", 4096, [[1e-3]] * 4096)
    big.population("g", 4096, LIF())
    big.connect("src", "g", Convolution(kernel, sheet=(64, 64)), receptor="input", name="rec")
    with pytest.raises(ModelError, match="a convolution over 4,096 neurons.*no node that shapes one into a Conv2d"):
        nir_export.export_nir(big)


@pytest.mark.parametrize("target", ["spinnaker", "loihi"])
def test_hardware_targets_take_a_small_convolution_as_its_synapses(target):
    from spikemem.targets import TARGETS
    net = Network(dt=1e-3, seed=0)
    net.spike_source("src", 16, [[2e-3]] * 16)
    net.population("g", 16, sm.IF_curr_exp())
    conn = Convolution(np.full((3, 3), 0.5e-9), sheet=(4, 4), boundary="aperiodic")
    net.connect("src", "g", conn, receptor="exc", name="rec")
    listed = Network.from_spec(net.spec())
    i, j, w, _ = conn.build(16, 16, None, "test")
    listed.projections[0].connector = sm.FromList(np.stack([i, j, w], 1).tolist())
    t = TARGETS.get(target)
    assert t.check(net) == t.check(listed) == []
    assert t.map(net) == t.map(listed)


def test_hardware_targets_refuse_a_large_convolution(monkeypatch):
    from spikemem.targets import TARGETS
    monkeypatch.setattr(sm.network, "EXPLICIT_LIMIT", 10)
    net = Network(dt=1e-3, seed=0)
    net.population("g", 16, sm.IF_curr_exp())
    net.connect("g", "g", Convolution(np.full((3, 3), 0.5e-9), sheet=(4, 4)), receptor="exc", name="rec")
    for target in ("spinnaker", "loihi"):
        with pytest.raises(ModelError, match="'rec'.* 144 .*synapses one by one"):
            TARGETS.get(target).map(net)
        # check reports it among the other violations instead of raising
        (line,) = [str(v) for v in TARGETS.get(target).check(net) if "'rec'" in str(v)]
        assert "synapses of a convolution is 144 (limit 10 listed)" in line


def held_net(explicit=False):
    """Deliveries onto v, which IF_curr_exp holds while refractory: none reach a refractory neuron."""
    from convolution_nets import connector
    n, rng = 8, np.random.default_rng(3)
    net = Network(dt=0.5e-3, seed=3)
    net.population("g", n * n, sm.IF_curr_exp(tau_refrac=2 * sm.ms),
                   init={"v": rng.uniform(-65, -52, n * n) * sm.mV})
    net.current("g", [0.0], rng.uniform(0.6, 1.2, (1, n * n)) * sm.nA, variable="i_offset")
    net.connect("g", "g", connector(n, 5, 2, "periodic", 3, 1e-3, sign=1, explicit=explicit), receptor="v",
                delay=1e-3, name="rec")
    net.record_spikes("g")
    return net


@pytest.mark.parametrize("fft", [False, True])
def test_deliveries_onto_a_held_variable_skip_refractory_neurons(fft, monkeypatch):
    ref = sm.simulate(held_net(explicit=True), 0.2, "brian2")
    if fft:
        monkeypatch.setattr(numba_convolution, "FFT_ABOVE", 0.0)
    same_spikes(ref, sm.simulate(held_net(), 0.2, "numba"))
    if not fft:
        pytest.importorskip("torch")
        same_spikes(ref, sm.simulate(held_net(), 0.2, "torch", dtype="float64"))
