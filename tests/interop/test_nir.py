"""NIR export and import (spikemem.interop.nir), checked against real consumers (the torch extra).

Consumers: norse (``norse.torch.from_nir``) and snntorch
(``snntorch.import_nir.import_from_nir``). Their output at step n is
compared with spikemem's spikes at step n + lag (``step_lags``: spikemem's
projections take one step, a consumer's Affine none).
"""
import dataclasses
import os

import h5py
import numpy as np
import pytest

from spikemem.backends import simulate
from spikemem.connectors import AllToAll, FromList, FromMatrix, OneToOne
from spikemem.errors import ModelError
from spikemem.network import Network
from spikemem.interop.nir.neurons import IF, LI, LIF, CubaLIF
from spikemem.neurons import IF_cond_exp, IF_curr_exp, Izhikevich
from spikemem.plasticity import stdp

# the torch extra: skipped, not failed, where it is not installed
nir = pytest.importorskip("nir")
torch = pytest.importorskip("torch")
pytest.importorskip("norse")
pytest.importorskip("snntorch")
from spikemem.interop.nir import (CONVENTION, export_nir, import_nir, population_names, read_nir,  # noqa: E402
                                  spikes_from_raster, step_lags, to_raster, write_nir)

pytestmark = pytest.mark.torch

DT = 1e-4                 # snntorch's importer integrates at this dt, whatever the graph says
BRAILLE = os.path.join(os.path.dirname(__import__("norse").__file__), "torch", "utils", "test", "braille.nir")


def raster(steps, n, p, seed):
    return (np.random.default_rng(seed).random((steps, n)) < p).astype(np.float32)


def run_consumer(module, inputs, nodes=()):
    """Step a nirtorch module (norse's or snntorch's) once per row; its output and the named nodes."""
    state, out, cached = None, [], {n: [] for n in nodes}
    with torch.no_grad():
        for row in inputs:
            y, state = module(torch.tensor(row)[None], state)
            out.append(y[0].numpy() > 0)
            for n in nodes:
                cached[n].append(state.cache[n][0].numpy() > 0)
    return np.array(out), {n: np.array(v) for n, v in cached.items()}


def ours(result, net, name, steps):
    return to_raster(result.spikes[name], net.dt, steps, step_lags(net)[name])


# ----------------------------------------------------------------- export
def mixed_network(dt=1e-3, steps=300, seed=0):
    """Every NIR form, a delay, a recurrent projection, biases switched on at each population's lag."""
    rng = np.random.default_rng(seed)
    net = Network(dt=dt, seed=seed)
    net.spike_source("inp", 6, *spikes_from_raster(raster(steps, 6, 0.15, seed), dt))
    net.population("lif", 8, LIF(tau=5e-3, r=1.5, v_leak=0.1, v_threshold=0.5, v_reset=-0.2))
    net.population("cuba", 5, CubaLIF(tau_syn=3e-3, tau_mem=8e-3, r=2.0, v_leak=0.05, w_in=1.5,
                                      v_threshold=0.4, v_reset=0.1))
    net.population("iff", 4, IF(r=200.0, v_threshold=0.6, v_reset=-0.1))
    net.population("li", 3, LI(tau=4e-3, v_threshold=0.2))
    net.connect("inp", "lif", FromMatrix(rng.normal(0.3, 0.3, (6, 8))), receptor="input")
    net.connect("lif", "cuba", FromMatrix(rng.normal(0.3, 0.3, (8, 5))), receptor="input", delay=3 * dt)
    net.connect("cuba", "cuba", FromMatrix(rng.normal(-0.1, 0.2, (5, 5))), receptor="input")
    net.connect("lif", "iff", FromMatrix(rng.normal(0.3, 0.3, (8, 4))), receptor="input", delay=2 * dt)
    net.connect("inp", "li", FromMatrix(rng.normal(0.3, 0.3, (6, 3))), receptor="input")
    net.current("lif", [dt], rng.normal(0.02, 0.02, (1, 8)), variable="bias")
    net.current("cuba", [2 * dt], rng.normal(0.02, 0.02, (1, 5)), variable="bias")
    for pop in ("lif", "cuba", "iff", "li"):
        net.record_spikes(pop)
    return net


def test_export_states_the_graph_and_the_convention():
    net = mixed_network()
    g = export_nir(net)
    types = {name: type(node).__name__ for name, node in g.nodes.items()}
    assert {k: types[k] for k in ("inp", "lif", "cuba", "iff", "li", "li_threshold")} == \
        {"inp": "Input", "lif": "LIF", "cuba": "CubaLIF", "iff": "IF", "li": "LI", "li_threshold": "Threshold"}
    # delay 3 steps: Affine (same step) + Delay of 2 steps; delay 1: Affine only
    assert ("lif_to_cuba_1", "lif_to_cuba_1_delay") in g.edges and ("lif_to_cuba_1_delay", "cuba") in g.edges
    np.testing.assert_allclose(g.nodes["lif_to_cuba_1_delay"].delay, np.full(5, 2e-3))
    assert ("inp", "inp_to_lif_0") in g.edges and ("inp_to_lif_0", "lif") in g.edges
    assert ("li", "li_threshold") in g.edges and ("li_threshold", "li_to_li_4") not in g.edges
    # weights (out, in), the bias switched on by the current input, and the parameters
    built = net.build()
    w = np.zeros((8, 6))
    p = built.projections[0]
    w[p.j, p.i] = p.w
    np.testing.assert_array_equal(g.nodes["inp_to_lif_0"].weight, w)
    np.testing.assert_array_equal(g.nodes["inp_to_lif_0"].bias, built.inputs[0].values[0])
    np.testing.assert_array_equal(g.nodes["lif"].r, np.full(8, 1.5))
    np.testing.assert_array_equal(g.nodes["iff"].v_reset, np.full(4, -0.1))
    # one Output: the populations that project nowhere else
    assert sorted(n for n, t in types.items() if t == "Output") == ["cuba_output", "iff_output", "li_output"]
    assert g.metadata["spikemem.dt"] == 1e-3 and g.metadata["spikemem.convention"] == CONVENTION
    assert step_lags(net) == {"inp": 0, "lif": 1, "cuba": 2, "iff": 2, "li": 1}


def test_written_file_imports_to_the_same_spikes(tmp_path):
    net = mixed_network()
    path = tmp_path / "mixed.nir"
    write_nir(net, path)
    assert os.listdir(tmp_path) == ["mixed.nir"]
    graph = read_nir(path)
    assert graph.metadata["spikemem.convention"] == CONVENTION
    back = import_nir(path, inputs={"inp": raster(300, 6, 0.15, 0)})     # dt from the metadata
    assert back.dt == net.dt
    assert sorted(m.population for m in back.monitors) == ["cuba", "iff", "li"]     # feed Output
    back.record_spikes("lif")
    a, b = simulate(net, 0.3), simulate(back, 0.3)
    for pop in ("lif", "cuba", "iff", "li"):
        assert a.spikes[pop].count() > 5, pop
        np.testing.assert_array_equal(a.spikes[pop].times, b.spikes[pop].times, err_msg=pop)
        np.testing.assert_array_equal(a.spikes[pop].ids, b.spikes[pop].ids, err_msg=pop)


def test_euler_template_steps():
    """LIF and CubaLIF step as the convention writes them (checked on one neuron's trace)."""
    dt, steps = 1e-3, 12
    net = Network(dt=dt)
    net.spike_source("s", 1, [[2e-3, 3e-3, 7e-3]])
    net.population("lif", 1, LIF(tau=4e-3, r=2.0, v_leak=0.1, v_threshold=0.6, v_reset=-0.1, bias=0.05))
    net.population("cuba", 1, CubaLIF(tau_syn=2e-3, tau_mem=5e-3, r=3.0, w_in=2.0, v_threshold=0.5))
    net.connect("s", "lif", OneToOne(), weight=0.7, receptor="input")
    net.connect("s", "cuba", OneToOne(), weight=0.7, receptor="input")
    net.record_state("lif", "v")
    net.record_state("cuba", ["v", "i_syn"])
    res = simulate(net, steps * dt)
    x = np.zeros(steps)
    x[[3, 4, 8]] = 0.7                   # spikes at steps 2, 3, 7 act one step later
    v, vc, i, resets = 0.1, 0.0, 0.0, [0, 0]
    want_v, want_vc, want_i = [], [], []
    for n in range(steps):
        want_v.append(v), want_vc.append(vc), want_i.append(i)      # recorded at the step's start
        v += dt / 4e-3 * (0.1 - v + 2.0 * (x[n] + 0.05))
        if v > 0.6:
            v, resets[0] = -0.1, resets[0] + 1
        i += dt / 2e-3 * (2.0 * x[n] - i)
        vc += dt / 5e-3 * (0.0 - vc + 3.0 * i)          # the updated current
        if vc > 0.5:
            vc, resets[1] = 0.0, resets[1] + 1
    np.testing.assert_allclose(res.traces["lif.v"].values[:, 0], want_v, atol=1e-12)
    np.testing.assert_allclose(res.traces["cuba.v"].values[:, 0], want_vc, atol=1e-12)
    np.testing.assert_allclose(res.traces["cuba.i_syn"].values[:, 0], want_i, atol=1e-12)
    assert resets == [1, 2]                  # the reset rule is exercised too


# ----------------------------------------------------------------- consumers read our graphs
def consumer_network(steps, seed=5):
    """LIF -> CubaLIF in the form both consumers accept: dt 1e-4, v_leak = v_reset = 0, one
    threshold per layer, r = 1 (norse's LIF ignores r), r = tau_mem/dt (snntorch's CubaLIF)."""
    rng = np.random.default_rng(seed)
    net = Network(dt=DT, seed=seed)
    net.spike_source("inp", 5, *spikes_from_raster(raster(steps, 5, 0.3, seed), DT))
    net.population("hid", 8, LIF(tau=2e-3, r=1.0, v_threshold=0.25))
    net.population("out", 4, CubaLIF(tau_syn=5e-4, tau_mem=1e-3, r=1e-3 / DT, w_in=1.0, v_threshold=0.4))
    net.connect("inp", "hid", FromMatrix(rng.normal(1.0, 1.0, (5, 8))), receptor="input")
    net.connect("hid", "out", FromMatrix(rng.normal(0.3, 0.5, (8, 4))), receptor="input")
    net.current("hid", [DT], rng.normal(0.05, 0.05, (1, 8)), variable="bias")   # on at its lag
    net.record_spikes("hid")
    net.record_spikes("out")
    return net


@pytest.fixture(scope="module")
def consumer_case():
    steps = 400
    net = consumer_network(steps)
    res = simulate(net, steps * DT)
    return net, res, export_nir(net), raster(steps, 5, 0.3, 5), steps


def test_norse_reads_the_exported_graph(consumer_case):
    import norse.torch
    net, res, graph, inputs, steps = consumer_case
    out, cached = run_consumer(norse.torch.from_nir(graph, dt=DT), inputs, ["hid"])
    for name, theirs in (("hid", cached["hid"]), ("out", out)):
        mine = ours(res, net, name, steps - 2)
        assert mine.sum() > 10, name
        np.testing.assert_array_equal(mine, theirs[:steps - 2], err_msg=name)


def test_snntorch_reads_the_exported_graph(consumer_case):
    from snntorch.import_nir import import_from_nir
    net, res, graph, inputs, steps = consumer_case
    out, _ = run_consumer(import_from_nir(graph), inputs)
    mine = ours(res, net, "out", steps - 2)
    assert mine.sum() > 10
    np.testing.assert_array_equal(mine, out[:steps - 2])


# ----------------------------------------------------------------- we read their models
def test_snntorch_sequential_imports_to_the_same_spikes():
    """nn.Linear + snntorch Leaky, written as NIR by its equations: beta = 1 - dt/tau,
    mem += input means r*dt/tau = 1, reset to zero."""
    import snntorch as snn
    torch.manual_seed(0)
    leaky = dict(reset_mechanism="zero", reset_delay=False, init_hidden=True)
    model = torch.nn.Sequential(torch.nn.Linear(6, 10), snn.Leaky(beta=0.8, threshold=1.0, **leaky),
                                torch.nn.Linear(10, 4), snn.Leaky(beta=0.9, threshold=0.7, **leaky))
    with torch.no_grad():
        model[0].weight.mul_(4)
        model[2].weight.mul_(3)
    steps, dt = 200, 1e-3
    inputs = raster(steps, 6, 0.3, 1)
    with torch.no_grad():
        theirs = np.array([model(torch.tensor(row)).numpy() > 0 for row in inputs])

    def lif(beta, threshold, n):
        tau = dt / (1 - beta)
        return nir.LIF(tau=np.full(n, tau), r=np.full(n, tau / dt), v_leak=np.zeros(n),
                       v_threshold=np.full(n, threshold), v_reset=np.zeros(n))

    def affine(linear):
        return nir.Affine(linear.weight.detach().double().numpy(), linear.bias.detach().double().numpy())

    graph = nir.NIRGraph.from_list(affine(model[0]), lif(0.8, 1.0, 10), affine(model[2]), lif(0.9, 0.7, 4))
    net = import_nir(graph, dt=dt, inputs={"input": inputs})
    assert [m.population for m in net.monitors] == ["lif_1"]          # the node feeding Output
    assert step_lags(net) == {"input": 0, "lif": 1, "lif_1": 2}
    res = simulate(net, steps * dt)
    assert theirs.sum() > 20
    np.testing.assert_array_equal(ours(res, net, "lif_1", steps - 2), theirs[:steps - 2])


def test_norse_cells_import_to_the_same_spikes():
    """nn.Linear + norse LIFBoxCell (v_leak and v_reset non-zero), written as NIR with r = 1."""
    import norse.torch as nt
    torch.manual_seed(1)
    dt, steps = 1e-3, 200
    lin = torch.nn.Linear(5, 7).double()
    with torch.no_grad():
        lin.weight.mul_(3)
    p = nt.LIFBoxParameters(tau_mem_inv=torch.full((7,), 200.0, dtype=torch.float64),
                            v_leak=torch.full((7,), 0.1, dtype=torch.float64),
                            v_th=torch.full((7,), 0.5, dtype=torch.float64),
                            v_reset=torch.full((7,), -0.2, dtype=torch.float64))
    cell = nt.LIFBoxCell(p, dt=dt)
    inputs = raster(steps, 5, 0.3, 2)
    state, theirs = None, []
    with torch.no_grad():
        for row in inputs:
            z, state = cell(lin(torch.tensor(row, dtype=torch.float64)), state)
            theirs.append(z.numpy() > 0)
    theirs = np.array(theirs)
    graph = nir.NIRGraph.from_list(
        nir.Affine(lin.weight.detach().numpy(), lin.bias.detach().numpy()),
        nir.LIF(tau=1 / p.tau_mem_inv.numpy(), r=np.ones(7), v_leak=p.v_leak.numpy(),
                v_threshold=p.v_th.numpy(), v_reset=p.v_reset.numpy()))
    net = import_nir(graph, dt=dt, inputs={"input": inputs})
    res = simulate(net, steps * dt)
    assert theirs.sum() > 20
    np.testing.assert_array_equal(ours(res, net, "lif", steps - 1), theirs[:steps - 1])


def test_norse_braille_file_legacy_reset():
    """norse's own test graph (NIR 0.2.0, recurrent CubaLIF, no v_reset)."""
    import norse.torch
    with pytest.raises(ModelError) as e:
        import_nir(BRAILLE, dt=DT)
    for words in ("0.2.0", "v_reset", "'lif1.lif'", "'lif2'", "legacy_reset"):
        assert words in str(e.value)
    steps = 150
    inputs = raster(steps, 12, 0.3, 3)
    net = import_nir(BRAILLE, dt=DT, legacy_reset="zero", inputs={"input": inputs})
    assert {(p.pre, p.post) for p in net.projections} == \
        {("input", "lif1_lif"), ("lif1_lif", "lif1_lif"), ("lif1_lif", "lif2")}
    net.record_spikes("lif1_lif")
    res = simulate(net, steps * DT)
    out, cached = run_consumer(norse.torch.from_nir(nir.read(BRAILLE), dt=DT, ignore_warnings=True),
                               inputs, ["lif1_lif"])
    for name, theirs in (("lif1_lif", cached["lif1_lif"]), ("lif2", out)):
        mine = ours(res, net, name, steps - 2)
        assert mine.sum() > 10, name
        np.testing.assert_array_equal(mine, theirs[:steps - 2], err_msg=name)
    sub = import_nir(BRAILLE, dt=DT, legacy_reset="subtract")
    assert sub.populations["lif2"].model.reset == "v = v - v_threshold"


# ----------------------------------------------------------------- refusals on export
def test_export_refuses_every_offender_at_once(tmp_path):
    net = Network(dt=1e-3)
    net.spike_source("src", 3, [[1e-3], [], []])
    net.poisson_source("noise", 3, 10.0)
    net.population("curr", 3, IF_curr_exp())
    net.population("cond", 3, IF_cond_exp())
    net.population("izh", 3, Izhikevich())
    net.population("refr", 3, dataclasses.replace(LIF(), refractory=2e-3))
    net.population("custom", 3, dataclasses.replace(LIF(), equations=LIF().equations.replace("r*(x", "2*r*(x")))
    net.population("ok", 3, LIF())
    net.population("driven", 3, LIF())
    net.connect("src", "ok", AllToAll(), weight=1.0, receptor="input", name="plastic",
                synapse=stdp(A_plus=0.1, A_minus=0.1))
    net.connect("src", "ok", FromList([[0, 0, 1.0, 1e-3], [1, 1, 1.0, 3e-3]]), receptor="input",
                name="hetero")
    net.connect("src", "driven", AllToAll(), weight=1.0, receptor="input", name="fine")
    net.step_current("driven", 0.5, 2e-3, 5e-3, variable="bias")
    path = tmp_path / "x.nir"
    with pytest.raises(ModelError) as e:
        write_nir(net, path)
    msg = str(e.value)
    for words in ("'noise': Poisson", "'curr': refractory period", "'cond': IF_cond_exp", "'izh': Izhikevich",
                  "'refr': refractory", "'custom': its equations", "'driven': current input",
                  "'plastic': synapse model", "'hetero': per-synapse delays"):
        assert words in msg, words
    assert "'ok'" not in msg and "'fine'" not in msg and "'src'" not in msg
    assert os.listdir(tmp_path) == []


def test_export_refuses_a_population_with_its_own_dt():
    net = Network(dt=0.1e-3)
    net.spike_source("src", 1, [[1e-3]])
    net.population("slow", 3, LIF(), dt=1e-3)
    net.connect("src", "slow", AllToAll(), weight=1.0, receptor="input")
    with pytest.raises(ModelError, match=r"population 'slow': its own dt 0\.001 s, every 10 steps of the "
                                         r"network's"):
        export_nir(net)


def test_write_is_atomic(tmp_path, monkeypatch):
    import spikemem.interop.nir.export as hw
    path = tmp_path / "g.nir"
    path.write_bytes(b"old")

    def broken(filename, graph):
        with open(filename, "wb") as f:
            f.write(b"half")
        raise OSError("disk full")
    monkeypatch.setattr(hw.nir, "write", broken)
    with pytest.raises(OSError):
        write_nir(mixed_network(), path)
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["g.nir"]


def test_step_lags_of_a_skip_connection():
    net = Network(dt=1e-3)
    net.spike_source("s", 2, [[], []])
    for name in ("a", "b", "c"):
        net.population(name, 2, LIF())
    net.connect("s", "a", OneToOne(), weight=1.0, receptor="input")
    net.connect("a", "b", OneToOne(), weight=1.0, receptor="input")
    net.connect("b", "b", OneToOne(), weight=1.0, receptor="input")     # recurrence: fine
    net.connect("s", "c", OneToOne(), weight=1.0, receptor="input")
    assert step_lags(net) == {"s": 0, "a": 1, "b": 2, "c": 1}
    net.connect("a", "c", OneToOne(), weight=1.0, receptor="input")     # skips no layer, c at 1 and 2
    assert step_lags(net) == {"s": 0, "a": 1, "b": 2, "c": None}


# ----------------------------------------------------------------- refusals on import
def write_graph(path, graph):
    nir.write(path, graph)
    return path


def small_graph(n_hidden=3, second=None):
    return nir.NIRGraph.from_list(nir.Affine(np.ones((n_hidden, 2)), np.zeros(n_hidden)),
                                  nir.LIF(tau=np.full(3, 1e-3), r=np.ones(3), v_leak=np.zeros(3),
                                          v_threshold=np.ones(3), v_reset=np.zeros(3)),
                                  type_check=False)


def _edit(path, fn):
    with h5py.File(path, "a") as f:
        fn(f)
    return path


BAD_FILES = {
    "not hdf5": (lambda p: p.write_bytes(os.urandom(2000)) and p, ["not a readable HDF5"]),
    "truncated": (lambda p: p.write_bytes(write_graph(p, small_graph()).read_bytes()[:700]) and p,
                  ["HDF5"]),
    "no version": (lambda p: _edit(write_graph(p, small_graph()), lambda f: f.__delitem__("version")),
                   ["not a NIR file"]),
    "future version": (lambda p: _edit(write_graph(p, small_graph()), lambda f: (
        f.__delitem__("version"), f.create_dataset("version", data="2.1.0", dtype=h5py.string_dtype()))),
        ["NIR 2.1.0"]),
    "unknown node type": (lambda p: _edit(write_graph(p, small_graph()), lambda f: (
        f["node/nodes/lif"].__delitem__("type"),
        f["node/nodes/lif"].create_dataset("type", data="Hodgkin", dtype=h5py.string_dtype()))),
        ["node 'lif'", "'Hodgkin'"]),
    "external link": (lambda p: _edit(write_graph(p, small_graph()), lambda f: f["node/nodes"].__setitem__(
        "evil", h5py.ExternalLink("/etc/passwd", "/"))), ["ExternalLink"]),
    "huge dataset": (lambda p: _edit(write_graph(p, small_graph()), lambda f: f.create_dataset(
        "bomb", shape=(10 ** 9,), dtype="f8", chunks=(10 ** 6,), compression="gzip")), ["array elements"]),
    "shapes do not chain": (lambda p: write_graph(p, small_graph(n_hidden=4)),
                            ["edge 'affine' -> 'lif'", "gives 4 values", "takes 3"]),
    "missing weight": (lambda p: _edit(write_graph(p, small_graph()),
                                       lambda f: f["node/nodes/affine"].__delitem__("weight")),
                       ["malformed NIR graph"]),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_files_are_refused_clearly(tmp_path, case):
    make, words = BAD_FILES[case]
    path = make(tmp_path / "bad.nir")
    with pytest.raises(ModelError) as e:
        import_nir(path, dt=1e-3)
    for w in words:
        assert w in str(e.value), (case, str(e.value))


def lif_node(n):
    return nir.LIF(tau=np.full(n, 1e-3), r=np.ones(n), v_leak=np.zeros(n), v_threshold=np.ones(n),
                   v_reset=np.zeros(n))


def graph(nodes, edges):
    nodes = {"in": nir.Input(input_type={"input": np.array([2])}), **nodes}
    return nir.NIRGraph(nodes, edges, type_check=False)


A22 = lambda: nir.Affine(np.eye(2), np.zeros(2))      # noqa: E731
BAD_GRAPHS = {
    "unknown type": (graph({"c": nir.Conv1d(None, np.ones((2, 2, 1)), 1, 0, 1, 1, np.zeros(2)),
                            "i": nir.I(r=np.ones(2)), "l": lif_node(2)},
                           [("in", "c"), ("c", "i"), ("i", "l")]),
                     ["node 'c': type 'Conv1d'", "node 'i': type 'I'"]),
    "unknown edge": (graph({"l": lif_node(2)}, [("in", "l"), ("l", "ghost")]), ["unknown node(s) ['ghost']"]),
    "threshold after affine": (graph({"a": A22(), "t": nir.Threshold(np.ones(2)), "l": lif_node(2)},
                                     [("in", "a"), ("a", "t"), ("t", "l")]), ["'t': a Threshold must follow"]),
    "linear loop": (graph({"a": A22(), "b": A22(), "l": lif_node(2)},
                          [("in", "a"), ("a", "b"), ("b", "a"), ("b", "l")]), ["loop of linear nodes"]),
    "linear readout": (graph({"l": lif_node(2), "a": A22(), "o": nir.Output(output_type={"output": np.array([2])})},
                             [("in", "l"), ("l", "a"), ("a", "o")]), ["Output 'o' is fed by 'a'"]),
    "continuous edge": (graph({"li": nir.LI(np.ones(2), np.ones(2), np.zeros(2)), "a": A22(), "l": lif_node(2)},
                              [("in", "li"), ("li", "a"), ("a", "l")]), ["'li' (LI) feeds a projection"]),
    "fractional delay": (graph({"d": nir.Delay(np.full(2, 1.5e-3)), "l": lif_node(2)},
                               [("in", "d"), ("d", "l")]), ["not a whole number of steps"]),
    "bad parameter": (graph({"l": nir.LIF(tau=np.array([1e-3, -1.0]), r=np.ones(2), v_leak=np.zeros(2),
                                          v_threshold=np.array([1.0, np.nan]))},
                            [("in", "l")]), ["tau must be positive", "'v_threshold' has non-finite"]),
}


@pytest.mark.parametrize("case", sorted(BAD_GRAPHS))
def test_bad_graphs_are_refused_clearly(case):
    g, words = BAD_GRAPHS[case]
    with pytest.raises(ModelError) as e:
        import_nir(g, dt=1e-3)
    for w in words:
        assert w in str(e.value), (case, str(e.value))


def test_bad_requests_are_refused():
    g = graph({"l": lif_node(2)}, [("in", "l")])
    for kwargs, words in (({}, "give dt"), ({"dt": -1}, "positive"),
                          ({"dt": 1e-3, "inputs": {"nope": np.zeros((3, 2))}}, "'nope' is not an Input"),
                          ({"dt": 1e-3, "inputs": {"in": np.zeros((3, 5))}}, "5 columns"),
                          ({"dt": 1e-3, "inputs": {"in": np.full((3, 2), 0.5)}}, "0 or 1"),
                          ({"dt": 1e-3, "legacy_reset": "maybe"}, "legacy_reset")):
        with pytest.raises(ModelError) as e:
            import_nir(g, **kwargs)
        assert words in str(e.value)
    with pytest.raises(ModelError, match="single LIF node"):
        import_nir(lif_node(2), dt=1e-3)
    with pytest.raises(ModelError, match="no such NIR file"):
        import_nir("/nonexistent/graph.nir", dt=1e-3)


def test_import_gives_a_fresh_network_and_names():
    g = nir.NIRGraph({"in put": nir.Input(input_type={"input": np.array([2])}), "0": A22(), "1": lif_node(2),
                      "out": nir.Output(output_type={"output": np.array([2])})},
                     [("in put", "0"), ("0", "1"), ("1", "out")])
    a = import_nir(g, dt=1e-3, inputs={"in put": np.eye(2)})
    b = import_nir(g, dt=1e-3, inputs={"in_put": np.eye(2)})       # the population name works too
    assert a is not b and a.hash() == b.hash()
    assert list(a.populations) == ["in_put", "n1"]
    assert population_names(g) == {"in put": "in_put", "0": "n0", "1": "n1", "out": "out"}
    assert a.populations["in_put"].model.times.tolist() == [0.0, 1e-3]


def test_reading_is_shielded_from_the_hdf5_library(tmp_path, monkeypatch):
    """A crash or a hang of the HDF5 library on a hostile file happens in the child process."""
    import spikemem.interop.nir.read as hw
    path = write_graph(tmp_path / "g.nir", small_graph())
    monkeypatch.setattr(hw, "_SCAN", "import os; os.abort()")
    with pytest.raises(ModelError, match="HDF5 library failed"):
        read_nir(path)
    monkeypatch.setattr(hw, "_SCAN", "import time; time.sleep(30)")
    monkeypatch.setattr(hw, "SCAN_TIMEOUT_S", 1)
    with pytest.raises(ModelError, match="more than 1 s"):
        read_nir(path)


def test_damaged_files_give_model_errors_only(tmp_path):
    data = np.frombuffer(write_graph(tmp_path / "g.nir", small_graph()).read_bytes(), np.uint8)
    rng = np.random.default_rng(7)
    outcomes = set()
    for k in range(12):
        damaged = data.copy()
        damaged[rng.integers(0, data.size, 8)] = rng.integers(0, 256, 8, dtype=np.uint8)
        path = tmp_path / f"d{k}.nir"
        path.write_bytes(damaged.tobytes())
        try:
            import_nir(path, dt=1e-3)
            outcomes.add("imported")
        except ModelError:
            outcomes.add("refused")
    assert "refused" in outcomes


def test_subgraphs_are_inlined():
    """braille.nir with its recurrent layer wrapped into a subgraph, as snntorch wraps one."""
    flat_graph = read_nir(BRAILLE, legacy_reset="zero")
    nodes = dict(flat_graph.nodes)
    lif, w_rec = nodes.pop("lif1.lif"), nodes.pop("lif1.w_rec")
    nodes["lif1"] = nir.NIRGraph({"in": nir.Input(input_type={"input": np.array([38])}), "lif": lif,
                                  "w_rec": w_rec, "out": nir.Output(output_type={"output": np.array([38])})},
                                 [("in", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "out")],
                                 type_check=False)
    rename = {"lif1.lif": "lif1"}
    edges = [(rename.get(a, a), rename.get(b, b)) for a, b in flat_graph.edges if "w_rec" not in a + b]
    nested_graph = nir.NIRGraph(nodes, edges, type_check=False)
    steps = 100
    inputs = {"input": raster(steps, 12, 0.3, 4)}
    flat, nested = import_nir(flat_graph, dt=DT, inputs=inputs), import_nir(nested_graph, dt=DT, inputs=inputs)
    assert list(nested.populations) == ["input", "lif2", "lif1_lif"]
    assert ("lif1_lif", "lif1_lif") in {(p.pre, p.post) for p in nested.projections}
    a, b = simulate(flat, steps * DT), simulate(nested, steps * DT)
    assert a.spikes["lif2"].count() > 10
    np.testing.assert_array_equal(a.spikes["lif2"].times, b.spikes["lif2"].times)
    np.testing.assert_array_equal(a.spikes["lif2"].ids, b.spikes["lif2"].ids)


def test_linear_chains_compose_into_one_projection():
    rng = np.random.default_rng(3)
    s, lw, aw, ab = rng.normal(size=2), rng.normal(size=(3, 2)), rng.normal(size=(4, 3)), rng.normal(size=4)
    delay = np.array([2e-3, 2e-3, 0.0, 0.0])              # per output: two projections, 3 and 1 steps
    g = graph({"s": nir.Scale(s), "lin": nir.Linear(lw), "aff": nir.Affine(aw, ab), "d": nir.Delay(delay),
               "l": lif_node(4)}, [("in", "s"), ("s", "lin"), ("lin", "aff"), ("aff", "d"), ("d", "l")])
    built = import_nir(g, dt=1e-3).build()
    want = (aw @ lw @ np.diag(s)).T                         # (pre, post)
    by_delay = {int(p.delay[0]): p for p in built.projections}
    assert sorted(by_delay) == [1, 3]
    for steps, rows in ((3, [0, 1]), (1, [2, 3])):
        p = by_delay[steps]
        w = np.zeros((2, 4))
        w[p.i, p.j] = p.w
        np.testing.assert_allclose(w[:, rows], want[:, rows])
        assert set(p.j) == set(rows)
    np.testing.assert_allclose(built.inputs[0].values[0], ab)    # the bias, switched on at lag 1
    assert built.inputs[0].steps.tolist() == [1] and built.inputs[0].variable == "bias"


def test_write_nir_refuses_a_path_whose_folder_is_a_file_or_missing(tmp_path):
    net = Network(dt=1e-3)
    net.spike_source("s", 2, [[1e-3], []])
    net.population("l", 3, LIF(tau=5e-3))
    net.connect("s", "l", AllToAll(), weight=0.5, receptor="input")
    (tmp_path / "afile").write_text("")
    with pytest.raises(ModelError, match="afile.*is not a directory"):
        write_nir(net, tmp_path / "afile" / "x.nir")
    with pytest.raises(ModelError, match="nodir.*does not exist"):
        write_nir(net, tmp_path / "nodir" / "x.nir")
    assert sorted(os.listdir(tmp_path)) == ["afile"]


# ----------------------------------------------------------------- IF_curr_exp as CubaLIF
def if_curr_exp_network(i_offset=0.0, dt=1e-4, steps=2000, seed=0):
    """IF_curr_exp populations (no refractoriness) driven by both receptors, one with i_offset."""
    rng = np.random.default_rng(seed)
    net = Network(dt=dt, seed=seed)
    net.spike_source("inp", 10, *spikes_from_raster(raster(steps, 10, 0.02, seed), dt))
    net.population("e", 20, IF_curr_exp(tau_refrac=0.0, tau_syn_E=3e-3, tau_syn_I=3e-3))
    out = IF_curr_exp(tau_refrac=0.0, tau_m=10e-3, c_m=0.5e-9, tau_syn_E=2e-3, i_offset=i_offset)
    net.population("o", 5, out, init={"v": -65e-3 + i_offset * 10e-3 / 0.5e-9})     # at v_leak: NIR's start
    net.connect("inp", "e", FromMatrix(rng.uniform(0, 4e-9, (10, 20))), receptor="exc")
    net.connect("e", "e", FromMatrix(-rng.uniform(0, 2e-9, (20, 20))), receptor="inh", delay=2 * dt)
    net.connect("e", "o", FromMatrix(rng.uniform(0, 1e-9, (20, 5))), receptor="exc", delay=3 * dt)
    net.record_spikes("e")
    net.record_spikes("o")
    net.record_state("e", "v")
    return net


@pytest.mark.parametrize("i_offset", [0.0, 0.2e-9])
def test_if_curr_exp_exports_as_cubalif_and_imports_to_the_same_spikes(i_offset):
    net = if_curr_exp_network(i_offset)
    graph = export_nir(net)
    assert type(graph.nodes["e"]).__name__ == "CubaLIF"
    np.testing.assert_allclose(graph.nodes["o"].v_leak, -65e-3 + i_offset * 10e-3 / 0.5e-9)
    back = import_nir(graph, inputs={"inp": raster(2000, 10, 0.02, 0)})
    back.record_spikes("e")
    back.record_state("e", "v")
    a, b = simulate(net, 0.2), simulate(back, 0.2)
    for pop in ("e", "o"):
        assert a.spikes[pop].count() > 20, pop
        np.testing.assert_array_equal(a.spikes[pop].times, b.spikes[pop].times, err_msg=pop)
        np.testing.assert_array_equal(a.spikes[pop].ids, b.spikes[pop].ids, err_msg=pop)
    np.testing.assert_allclose(a.traces["e.v"].values, b.traces["e.v"].values, rtol=0, atol=1e-12)


def test_if_curr_exp_without_a_cubalif_form_is_refused_by_name():
    net = Network(dt=1e-4)
    net.spike_source("src", 2, [[1e-3], []])
    net.population("two_taus", 2, IF_curr_exp(tau_refrac=0.0, tau_syn_E=5e-3, tau_syn_I=10e-3))
    net.population("one_tau", 2, IF_curr_exp(tau_refrac=0.0, tau_syn_E=5e-3, tau_syn_I=10e-3))
    net.population("held", 2, IF_curr_exp(tau_refrac=2e-3))
    net.population("board", 2, IF_curr_exp(tau_refrac=0.0, integration="spinnaker"))
    net.population("offset", 2, IF_curr_exp(tau_refrac=0.0, i_offset=1e-9))
    for pop in ("two_taus", "one_tau", "held", "board", "offset"):
        net.connect("src", pop, AllToAll(), weight=1e-9, receptor="exc")
    net.connect("src", "two_taus", AllToAll(), weight=-1e-9, receptor="inh")
    with pytest.raises(ModelError) as e:
        export_nir(net)
    msg = str(e.value)
    for words in ("'two_taus': tau_syn_E 0.005 s != tau_syn_I 0.01 s", "'held': refractory period 0.002 s",
                  "'board': IF_curr_exp with integration 'spinnaker'", "'offset': initial v -0.065 V"):
        assert words in msg, words
    assert "'one_tau'" not in msg        # only its excitatory receptor is driven: tau_syn_E is the one
