"""Bad input, through the API and the command line: each case is refused with an
error of the stated type whose message names the offending value, before any work.

One row per distinct mistake a user makes; the rows are the census the issue
tracker asks for (``test_the_census_is_complete``).
"""
import json
import os

import numpy as np
import pytest
from brian2 import Hz, mV, ms, nA

import spikemem as sm
from spikemem.cli import main as cli
from spikemem.cli.common import CLIError
from spikemem.connectors import (AllToAll, Convolution, DistanceKernel, FixedNumberPre, FixedProbability,
                                 FromList, FromMatrix, OneToOne)
from spikemem.distributions import Normal, Uniform
from spikemem.errors import ModelError
from spikemem.network import Network
from spikemem.neurons import IF_curr_exp, NeuronModel, RateUnit
from spikemem.rates import PoissonUnit, ReLURate
from spikemem.plasticity import stdp
from spikemem.results import Result


def small(**connect):
    """A source driving three IF_curr_exp cells, recorded; ``connect`` overrides the projection."""
    net = Network(dt=0.1 * ms)
    net.spike_source("src", 2, [[1 * ms], [2 * ms]])
    net.population("cells", 3, IF_curr_exp())
    net.connect("src", "cells", **{"connector": AllToAll(), "weight": 1 * nA, "name": "drive", **connect})
    net.record_spikes("cells")
    return net


def sheet(kernel=np.full((3, 3), 1e-10), sheet=(4, 4), boundary="periodic", classes=None, **connect):
    """A thunk building a 4 x 4 sheet of IF_curr_exp cells connected to itself by a Convolution."""
    def make():
        net = Network(dt=0.1 * ms)
        net.population("cells", 16, IF_curr_exp())
        net.connect("cells", "cells", Convolution(kernel, sheet=sheet, boundary=boundary, classes=classes),
                    name="rec", **connect)
        return net.build()
    return make


def with_(edit):
    """A thunk: ``small()`` after ``edit(net)`` (cases run at test time, not at collection)."""
    def make():
        net = small()
        edit(net)
        return net
    return make


def built(make):
    return lambda: make().build()


def built_small(**connect):
    return built(lambda: small(**connect))


def sim(backend="numba", **options):
    return lambda: sm.simulation(small(), backend, **options)


def ran(action, backend="numba"):
    """``action(simulation)`` on a built ``small()`` network."""
    def go():
        s = sm.simulation(small(), backend)
        action(s)
    return go


def with_signal(*edits):
    """A thunk: ``small()`` with signal 'v' (10 samples of 2 components, 1 ms
    apart) read by a ReLURate population, then each ``edit(net)``."""
    def make():
        net = small()
        net.signal("v", np.zeros((10, 2)), dt=1 * ms)
        net.population("sheet", 2, ReLURate(drive="v_x + v_y"))
        for edit in edits:
            edit(net)
        return net
    return make


# --- place recognition
def _img(*shape):
    return np.zeros(shape, np.uint8)


def pr_traverse(images, places):
    from spikemem.models.place_recognition.data import traverse
    return traverse("summer", "summer", images, places)


def _route_missing_place():
    from spikemem.models.place_recognition.data import Route, traverse
    return Route({"spring": traverse("spring", "spring", [_img(8, 8)], [0]), "summer": pr_traverse([_img(8, 8)], [7])},
                 ("spring",), "summer")


def _synthetic_route(*args, **kwargs):
    from spikemem.models.place_recognition.data import synthetic_route
    return synthetic_route(*args, **kwargs)


def _train_module(*args, **kwargs):
    from spikemem.models.place_recognition.module import train_module
    return train_module(*args, **kwargs)


def _restore_into_other_network():
    from spikemem.experiments import checkpoint
    from spikemem.models.place_recognition.module import STATE
    from spikemem.models.place_recognition.network import module_network
    state = checkpoint.capture(sm.simulation(module_network(4, n_inputs=16, seed=1), "numba"), STATE)
    checkpoint.restore(sm.simulation(module_network(4, n_inputs=16, seed=2), "numba"), state)


# --- grid cells
def _path(xy, t=None):
    from spikemem.models.grid_cells.trajectory import Trajectory
    xy = np.asarray(xy, dtype=float)
    return Trajectory(np.arange(len(xy)) * 0.02 if t is None else t, xy, (1.0, 1.0))


def _grid(**parameters):
    from spikemem.models.grid_cells.network import Parameters, can_network
    return can_network(np.zeros((2, 2)), Parameters(**parameters))


# (id, thunk, error type, text the message must contain)
API = [
    # --- the network
    ("dt-negative", lambda: Network(dt=-0.1 * ms), ModelError, "-0.0001"),
    ("dt-in-volts", lambda: Network(dt=0.1 * mV), ModelError, "dt"),
    ("seed-negative", lambda: Network(seed=-3), ModelError, "-3"),
    ("seed-float", lambda: Network(seed=1.5), ModelError, "1.5"),
    ("seed-bool", lambda: Network(seed=True), ModelError, "True"),
    ("population-name-not-identifier", lambda: Network().population("2cells", 3, IF_curr_exp()), ModelError,
     "2cells"),
    ("population-name-taken", with_(lambda n: n.population("cells", 2, IF_curr_exp())), ModelError,
     "'cells' already exists"),
    ("population-size-zero", lambda: Network().population("p", 0, IF_curr_exp()), ModelError, "got 0"),
    ("population-size-float", lambda: Network().population("p", 2.5, IF_curr_exp()), ModelError, "2.5"),
    ("population-model-not-a-model", lambda: Network().population("p", 3, "LIF"), ModelError, "str"),
    ("population-unknown-parameter", built(with_(lambda n: n.population("p", 2, IF_curr_exp(), {"tau_x": 1}))),
     ModelError, "tau_x"),
    ("population-unknown-initial-variable", built(with_(lambda n: n.population("p", 2, IF_curr_exp(), None,
                                                                             {"u": 0.0}))), ModelError, "'u'"),
    ("parameter-wrong-unit", built(with_(lambda n: n.population("p", 2, IF_curr_exp(tau_m=10 * mV)))),
     ModelError, "tau_m"),
    ("parameter-nan", built(with_(lambda n: n.population("p", 2, IF_curr_exp(v_thresh=float("nan"))))),
     ModelError, "v_thresh"),
    ("refractory-negative", built(with_(lambda n: n.population("p", 2, IF_curr_exp(tau_refrac=-1 * ms)))),
     ModelError, "refractory"),
    ("refractory-condition-unknown-variable", built(with_(lambda n: n.population("p", 2, NeuronModel(
        "dv/dt = -v/(10*ms) : volt", threshold="v > 1*mV", reset="v = 0*mV", refractory="v > v_held")))),
     ModelError, "'v_held'"),
    ("refractory-condition-not-boolean", built(with_(lambda n: n.population("p", 2, NeuronModel(
        "dv/dt = -v/(10*ms) : volt", threshold="v > 1*mV", reset="v = 0*mV", refractory="v + 1*mV")))),
     ModelError, "not a boolean"),
    ("equation-undeclared-identifier", built(with_(lambda n: n.population("p", 2, NeuronModel(
        "dv/dt = (q - v)/(10*ms) : volt", threshold="v > 1*mV", reset="v = 0*mV")))), ModelError, "['q']"),
    ("equation-inconsistent-units", built(with_(lambda n: n.population("p", 2, NeuronModel(
        "dv/dt = (1*nA - v)/(10*ms) : volt", threshold="v > 1*mV", reset="v = 0*mV")))), ModelError, "1 * nA - v"),
    ("threshold-wrong-unit", built(with_(lambda n: n.population("p", 2, NeuronModel(
        "dv/dt = -v/(10*ms) : volt", threshold="v > 1*nA", reset="v = 0*mV")))), ModelError, "1 * nA"),
    ("reset-without-threshold", built(with_(lambda n: n.population("p", 2, NeuronModel(
        "dv/dt = -v/(10*ms) : volt", reset="v = 0*mV")))), ModelError, "reset needs a threshold"),
    ("equal-time-constants-exact", built(with_(lambda n: n.population("p", 2, IF_curr_exp(
        tau_m=5 * ms, tau_syn_E=5 * ms)))), ModelError, "tau_m equals tau_syn_E"),
    # --- spike and Poisson sources
    ("spike-lists-count", lambda: Network().spike_source("s", 3, [[1 * ms]]), ModelError, "1 spike lists for 3"),
    ("spike-id-out-of-range", lambda: Network().spike_source("s", 2, [1 * ms], [5]), ModelError, "[0, 2)"),
    ("spike-time-negative", lambda: Network().spike_source("s", 1, [-1 * ms], [0]), ModelError, "-0.001"),
    ("spike-times-ids-mismatch", lambda: Network().spike_source("s", 2, [1 * ms, 2 * ms], [0]), ModelError,
     "2 spike times but 1 ids"),
    ("spike-times-in-volts", lambda: Network().spike_source("s", 1, [1 * mV], [0]), ModelError, "spike times"),
    ("poisson-rate-negative", lambda: Network().poisson_source("s", 2, -5 * Hz), ModelError, "rate"),
    ("poisson-rate-in-ms", lambda: Network().poisson_source("s", 2, 5 * ms), ModelError, "rate"),
    # --- projections
    ("connect-unknown-pre", with_(lambda n: n.connect("nope", "cells", AllToAll(), 1 * nA)), ModelError,
     "'nope'"),
    ("connect-unknown-post", with_(lambda n: n.connect("src", "nope", AllToAll(), 1 * nA)), ModelError,
     "'nope'"),
    ("connect-into-source", with_(lambda n: n.connect("cells", "src", AllToAll(), 1 * nA)), ModelError,
     "'src' is a spike source"),
    ("connect-named-like-population", with_(lambda n: n.connect("src", "cells", AllToAll(), 1 * nA,
                                                                        name="cells")), ModelError, "'cells'"),
    ("connect-name-taken", with_(lambda n: n.connect("src", "cells", AllToAll(), 1 * nA, name="drive")),
     ModelError, "'drive' already exists"),
    ("connector-not-a-connector", with_(lambda n: n.connect("src", "cells", "all", 1 * nA)), ModelError,
     "'all'"),
    ("synapse-not-a-model", with_(lambda n: n.connect("src", "cells", AllToAll(), 1 * nA,
                                                              synapse="stdp")), ModelError, "'stdp'"),
    ("receptor-unknown", built_small(receptor="gaba"), ModelError, "'gaba'"),
    ("weight-missing", built_small(weight=None), ModelError, "no weight given"),
    ("weight-wrong-unit", built_small(weight=1 * ms), ModelError, "weight"),
    ("weight-array-length", built_small(weight=np.ones(5) * nA), ModelError, "weight"),
    ("delay-not-whole-steps", built_small(delay=0.25 * ms), ModelError, "0.00025"),
    ("delay-below-one-step", built_small(delay=0 * ms), ModelError, "at least one time step"),
    ("delay-in-volts", built_small(delay=1 * mV), ModelError, "delay"),
    ("synapse-unknown-initial-variable", built_small(synapse=stdp(w_max=2 * nA), init={"zz": 0}), ModelError,
     "'zz'"),
    ("delivering-synapse-with-delay", built_small(synapse=sm.SynapseModel(
        "w : amp", on_pre="isyn_exc_post += w"), delay=2 * ms, receptor="exc"), ModelError, "0.002"),
    # --- connectors and distributions
    ("probability-above-one", built_small(connector=FixedProbability(1.5)), ModelError, "1.5"),
    ("probability-negative", built_small(connector=FixedProbability(-0.1)), ModelError, "-0.1"),
    ("fixed-number-too-large", built_small(connector=FixedNumberPre(7)), ModelError, "7"),
    ("from-list-id-out-of-range", built_small(connector=FromList([(0, 9, 1e-9)])), ModelError, "9"),
    ("one-to-one-size-mismatch", built_small(connector=OneToOne()), ModelError, "OneToOne"),
    ("from-matrix-shape", built_small(connector=FromMatrix(np.ones((4, 4)))), ModelError, "(4, 4)"),
    ("distance-kernel-grid-mismatch", built_small(connector=DistanceKernel(shape=(2,))), ModelError,
     "grid (2,) has 2 cells"),
    ("convolution-kernel-larger-than-sheet", sheet(kernel=np.ones((5, 3)) * 1e-10), ModelError,
     "5 x 3 is larger than the sheet 4 x 4"),
    ("convolution-kernel-even", sheet(kernel=np.ones((3, 2)) * 1e-10), ModelError, "odd (a centre tap), got 3 x 2"),
    ("convolution-classes-shape", sheet(kernel=np.ones((2, 3, 3)) * 1e-10, classes=np.zeros((3, 3), int)),
     ModelError, "got (3, 3)"),
    ("convolution-class-out-of-range", sheet(kernel=np.ones((2, 3, 3)) * 1e-10,
                                             classes=np.full((4, 4), 2)), ModelError, "class 2 is out of range"),
    ("convolution-classes-missing", sheet(kernel=np.ones((2, 3, 3)) * 1e-10), ModelError, "needs classes="),
    ("convolution-sheet-size-mismatch", sheet(sheet=(3, 3)), ModelError, "3 x 3 has 9 neurons"),
    ("convolution-unknown-boundary", sheet(boundary="toroidal"), ModelError, "'toroidal'"),
    ("convolution-delay-per-synapse", sheet(delay=Uniform(1 * ms, 2 * ms)), ModelError,
     "one delay for every synapse"),
    ("convolution-plastic-synapse", sheet(synapse=stdp()), ModelError, "per-synapse state or plasticity"),
    ("uniform-reversed", lambda: Uniform(2 * nA, 1 * nA), ModelError, "Uniform"),
    ("normal-negative-sd", lambda: Normal(1 * nA, -1 * nA), ModelError, "Normal"),
    # --- inputs and monitors
    ("current-unknown-population", with_(lambda n: n.step_current("nope", 1 * nA, 1 * ms)), ModelError,
     "'nope'"),
    ("current-unknown-variable", built(with_(lambda n: n.step_current("cells", 1 * nA, 1 * ms, variable="w"))),
     ModelError, "'w'"),
    ("current-shape", built(with_(lambda n: n.current("cells", [0.0, 1e-3], np.ones((2, 5)) * nA))), ModelError,
     "(2, 5)"),
    ("current-times-not-increasing", built(with_(lambda n: n.current("cells", [1e-3, 1e-3], [0.0, 1e-9]))),
     ModelError, "times must increase"),
    ("record-unknown-population", with_(lambda n: n.record_spikes("nope")), ModelError, "'nope'"),
    ("record-unknown-variable", built(with_(lambda n: n.record_state("cells", "vv"))), ModelError, "'vv'"),
    ("record-every-zero", with_(lambda n: n.record_state("cells", "v", every=0)), ModelError, "0"),
    ("record-ids-out-of-range", built(with_(lambda n: n.record_state("cells", "v", ids=[0, 3]))), ModelError,
     "index 3 is out of range"),
    ("view-selects-nothing", with_(lambda n: n.populations["cells"][[]]), ModelError, "[] selects no neurons"),
    ("step-current-start-in-volts", with_(lambda n: n.step_current(n.populations["cells"], 1 * nA, 1 * mV)),
     ModelError, "step current on 'cells' start"),
    ("record-variable-named-twice", with_(lambda n: n.record_state("cells", ["v", "v"])), ModelError,
     "'v' is named twice"),
    ("record-variable-twice", with_(lambda n: (n.record_state("cells", "v"), n.record_state("cells", "v"))),
     ModelError, "'v' is already recorded"),
    ("view-index-out-of-range", with_(lambda n: n.populations["cells"][5]), ModelError, "index 5"),
    ("connect-view-of-other-network", with_(lambda n: n.connect(small().populations["src"][0:1], "cells",
                                                                 AllToAll(), 1 * nA)), ModelError, "src"),
    ("delay-rounding-unknown", built_small(delay=0.25 * ms, delay_rounding="up"), ModelError, "'up'"),
    ("set-weights-wrong-length", built(with_(lambda n: n.set_weights("drive", np.ones(2) * nA))), ModelError,
     "drive"),
    ("record-spikes-of-thresholdless", built(with_(lambda n: (n.population("rate", 2, RateUnit()),
                                                              n.record_spikes("rate")))), ModelError, "'rate'"),
    # --- signals and rate units
    ("signal-nan", with_signal(lambda n: n.signal("u", [0.0, np.nan])), ModelError,
     "signal 'u': sample 1 (component 0) is nan"),
    ("signal-inf", with_signal(lambda n: n.signal("u", [[0.0, np.inf]])), ModelError, "signal 'u': sample 0"),
    ("signal-wrong-shape", with_signal(lambda n: n.signal("u", np.zeros((2, 3, 4)))), ModelError,
     "signal 'u': values must have shape (K,) or (K, d)"),
    ("signal-dt-zero", with_signal(lambda n: n.signal("u", [1.0], dt=0)), ModelError, "signal 'u': dt"),
    ("signal-dt-in-volts", with_signal(lambda n: n.signal("u", [1.0], dt=1 * mV)), ModelError, "signal 'u' dt"),
    ("signal-clashes-with-signal", with_signal(lambda n: n.signal("v_x", [1.0])), ModelError,
     "'v_x' is already taken by signal 'v'"),
    ("signal-clashes-with-variable", built(with_signal(lambda n: n.population(
        "other", 1, NeuronModel("v_y : 1")))), ModelError, "population 'other': its model declares 'v_y'"),
    ("signal-reserved-name", with_signal(lambda n: n.signal("ms", [1.0])), ModelError, "'ms' is a name"),
    ("signal-components-count", with_signal(lambda n: n.signal("u", np.zeros((3, 2)), components=("a",))),
     ModelError, "signal 'u': 1 component names for 2 components"),
    ("signal-unit-mismatch", built(with_signal(lambda n: n.signal("u", [1.0] * mV), lambda n: n.population(
        "reader", 1, ReLURate(drive="u")))), ModelError, "population 'reader'"),
    ("signal-run-past-end", lambda: sm.simulate(with_signal()(), 15 * ms), ModelError,
     "signal 'v' covers 0.01 s; the run would reach 0.015 s"),
    ("set-signal-other-d", lambda: sm.simulation(with_signal()(), "numba").set_signal("v", np.zeros((10, 3))),
     ModelError, "got shape (10, 3)"),
    ("set-signal-unknown", lambda: sm.simulation(with_signal()(), "numba").set_signal("u", np.zeros(3)),
     ModelError, "no signal named 'u'"),
    ("relu-rate-tau-zero", built(with_(lambda n: n.population("r", 2, ReLURate(tau=0 * ms)))), ModelError,
     "population 'r' parameter 'tau' must be > 0"),
    ("poisson-unit-gain-negative", built(with_(lambda n: n.population("p", 2, PoissonUnit(gain=-1 * Hz)))),
     ModelError, "population 'p' parameter 'gain' must be > 0"),
    # --- simulations
    ("backend-unknown", sim("nest"), ModelError, "'nest'"),
    ("option-unknown", sim(threadz=2), ModelError, "threadz"),
    ("threads-zero", sim(threads=0), ModelError, "0"),
    ("torch-dtype-unknown", sim("torch", dtype="float8"), ModelError, "float8"),
    ("torch-surrogate-unknown", sim("torch", surrogate="nope"), ModelError, "'nope'"),
    ("duration-negative", lambda: sm.simulate(small(), -1 * ms), ModelError, "-0.001"),
    ("run-duration-in-volts", ran(lambda s: s.run(1 * mV)), ModelError, "duration"),
    ("set-unknown-variable", ran(lambda s: s.set("cells", "vv", 0.0)), ModelError, "'vv'"),
    ("set-unknown-population", ran(lambda s: s.set("nope", "v", 0.0)), ModelError, "'nope'"),
    ("set-wrong-shape", ran(lambda s: s.set("cells", "v", np.zeros(7))), ModelError, "7"),
    ("set-spikes-of-neurons", ran(lambda s: s.set_spikes("cells", [1e-3], [0])), ModelError, "'cells'"),
    ("get-unknown-variable", ran(lambda s: s.get("cells", "vv")), ModelError, "'vv'"),
    # --- place recognition (issue 23)
    ("route-image-sizes-differ", lambda: pr_traverse([_img(8, 8), _img(9, 9)], [0, 1]), ModelError,
     "image 1 is 9 x 9"),
    ("route-colour-modes-differ", lambda: pr_traverse([_img(8, 8), _img(8, 8, 3)], [0, 1]), ModelError,
     "image 1 is RGB"),
    ("route-empty-traverse", lambda: pr_traverse([], []), ModelError, "traverse 'summer' is empty"),
    ("route-place-missing-from-references", lambda: _route_missing_place(), ModelError, "place 7"),
    ("route-region-larger-than-route", lambda: _synthetic_route(10, size=16).regions(30), ModelError,
     "30 places is larger than the route (10 places)"),
    ("module-nan-image", lambda: _train_module(np.full((1, 28, 28), np.nan), [0], n_e=4), ModelError,
     "image 0 has a pixel that is not finite"),
    ("module-checkpoint-of-another-network", lambda: _restore_into_other_network(), ModelError,
     "not from this one"),
    # --- grid cells (issue 22)
    ("trajectory-nan", lambda: _path([[0.1, 0.1], [np.nan, 0.2], [0.3, 0.3]]), ModelError,
     "xy is NaN or infinite at sample 1"),
    ("trajectory-gap", lambda: _path([[0.1, 0.1]] * 4, t=np.array([0, 0.02, 0.04, 1.0])).check(), ModelError,
     "a gap of 0.96 s"),
    ("trajectory-too-fast", lambda: _path(np.column_stack([np.linspace(0, 1, 4), np.zeros(4)]),
                                          t=np.arange(4) * 0.001).check(),
     ModelError, "positions in centimetres or times in milliseconds"),
    ("grid-sheet-too-small", lambda: _grid(n=20), ModelError, "n = 20 is too small for a grid period lam = 13"),
    ("grid-unknown-boundary", lambda: _grid(boundary="toroidal"), ModelError, "boundary 'toroidal'"),
    # --- files
    ("save-into-missing-folder", lambda: small().save("/nonexistent/net.json"), ModelError, "'/nonexistent'"),
    ("save-onto-a-folder", lambda: small().save("/"), ModelError, "'/': is a directory"),
    ("result-missing-file", lambda: Result.load("/nonexistent/r.h5"), OSError, "/nonexistent/r.h5"),
]


@pytest.mark.parametrize("thunk, error, text", [case[1:] for case in API], ids=[case[0] for case in API])
def test_api_refuses_by_name(thunk, error, text):
    with pytest.raises(error) as caught:
        thunk()
    assert text in str(caught.value), f"{caught.value!r} does not name {text!r}"


def network_file(tmp_path, edit):
    """A saved ``small()`` network whose JSON spec went through ``edit(spec)``."""
    spec = small().spec()
    edit(spec)
    path = tmp_path / "net.json"
    path.write_text(json.dumps(spec))
    return str(path)


FILES = [
    ("file-not-json", lambda tmp: (tmp / "net.json").write_text("{nope") and str(tmp / "net.json"), "not a readable"),
    ("file-wrong-format", lambda tmp: network_file(tmp, lambda s: s.update(format="other")), "not a spikemem"),
    ("file-wrong-version", lambda tmp: network_file(tmp, lambda s: s.update(version=99)), "version 99"),
    ("file-unknown-population-kind", lambda tmp: network_file(tmp, lambda s: s["populations"][1]["model"].update(
        kind="alien")), "'alien'"),
    ("file-unknown-monitor-kind", lambda tmp: network_file(tmp, lambda s: s["monitors"][0].update(kind="movie")),
     "'movie'"),
    ("file-missing-key", lambda tmp: network_file(tmp, lambda s: s.pop("populations")), "populations"),
    ("file-negative-seed", lambda tmp: network_file(tmp, lambda s: s.update(seed=-1)), "-1"),
]


@pytest.mark.parametrize("make, text", [case[1:] for case in FILES], ids=[case[0] for case in FILES])
def test_network_files_refused_by_name(make, text, tmp_path):
    path = make(tmp_path)
    with pytest.raises(ModelError) as caught:
        Network.load(path)
    assert text in str(caught.value)


CLI = [
    ("cli-unknown-model", ["run", "nomodel", "--duration", "0.01"], "nomodel"),
    ("cli-negative-duration", ["run", "cuba", "--duration", "-1"], "-1"),
    ("cli-nan-duration", ["run", "cuba", "--duration", "nan"], "nan"),
    ("cli-size-zero", ["run", "cuba", "--n", "0", "--duration", "0.01"], "0"),
    ("cli-negative-seed", ["run", "cuba", "--seed", "-2", "--duration", "0.01"], "-2"),
    ("cli-threads-zero", ["run", "cuba", "--threads", "0", "--duration", "0.01"], "0"),
    ("cli-unknown-backend", ["run", "cuba", "--backend", "nest", "--duration", "0.01"], "nest"),
    ("cli-out-is-a-file", ["run", "cuba", "--duration", "0.01", "--out", "{tmp}/afile"], "afile"),
    ("cli-out-below-a-file", ["run", "cuba", "--duration", "0.01", "--out", "{tmp}/afile/sub"], "afile/sub"),
    ("cli-network-file-missing", ["run", "{tmp}/none.json", "--duration", "0.01"], "none.json"),
    ("cli-export-nir-into-a-file", ["export", "nir", "cuba", "-o", "{tmp}/afile/x.nir"], "afile/x.nir"),
    ("cli-check-unknown-target", ["check", "cuba", "--target", "truenorth"], "truenorth"),
]


@pytest.mark.parametrize("argv, text", [case[1:] for case in CLI], ids=[case[0] for case in CLI])
def test_cli_refuses_by_name_before_work(argv, text, tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    before = sorted(os.listdir(tmp_path))
    try:
        status = cli([a.replace("{tmp}", str(tmp_path)) for a in argv])
    except SystemExit as e:        # argparse's own refusals
        status = e.code
    except CLIError as e:
        pytest.fail(f"CLIError escaped main(): {e}")
    err = capsys.readouterr().err
    assert status == 2 and text in err, err
    assert sorted(os.listdir(tmp_path)) == before          # nothing written


def test_the_census_is_complete():
    ids = [case[0] for case in API + FILES + CLI]
    assert len(set(ids)) == len(ids) >= 60
