"""The Brian2 backend on its three targets.

Compiled targets cost real time (a cold Cython cache about 15 s for the single
neuron, the C++ standalone CUBA about 15-25 s); everything else runs on numpy.
"""
import io
import os
import sys
import tempfile

import numpy as np
import pytest
import brian2 as b2
from brian2 import ms, nA
from brian2.devices.device import get_device, runtime_device

from spikemem.connectors import OneToOne
from spikemem.errors import ModelError
from spikemem.network import Network
from spikemem.neurons import IF_curr_exp
from spikemem.backends import simulation
from spikemem.backends.brian2.simulation import Brian2Simulation, STRICT_COMPILE_ARGS_GCC, brian2_settings

from spikemem.models.cuba.network import cuba

DT = 0.1e-3
PREF_KEYS = ("codegen.target", "codegen.cpp.extra_compile_args",
             "codegen.cpp.extra_compile_args_gcc", "codegen.runtime.cython.cache_dir")


def _prefs():
    return {k: b2.prefs[k] for k in PREF_KEYS}


# ---------------------------------------------------------------- construction
def test_unknown_target_raises_model_error():
    built = cuba(n=50).build()
    with pytest.raises(ModelError, match="gpu_magic"):
        Brian2Simulation(built, target="gpu_magic")


def test_model_errors_surface_at_construction():
    net = Network(dt=DT)
    net.population("p", 2, IF_curr_exp())
    net.connect("p", "p", OneToOne(), weight=1 * nA, on_pre="no_such_var += w")
    with pytest.raises(ModelError, match="no_such_var"):
        Brian2Simulation(net.build(), target="numpy")
    with pytest.raises(ModelError, match="no_such_var"):
        Brian2Simulation(net.build(), target="cpp_standalone")   # checked before any build


def test_strict_float_settings_are_scoped():
    before = _prefs()
    with brian2_settings("cython", True):
        flags = b2.prefs["codegen.cpp.extra_compile_args_gcc"]
        assert flags == STRICT_COMPILE_ARGS_GCC
        assert "-ffast-math" not in flags and "-ffp-contract=off" in flags
        assert b2.prefs["codegen.cpp.extra_compile_args"] is None
        assert b2.prefs["codegen.target"] == "cython"
        assert "spikemem-strict-" in b2.prefs["codegen.runtime.cython.cache_dir"]
    assert _prefs() == before
    with brian2_settings("cython", False):
        assert b2.prefs["codegen.cpp.extra_compile_args_gcc"] == before["codegen.cpp.extra_compile_args_gcc"]
    assert _prefs() == before


# ---------------------------------------------------------------- a single LIF neuron
I_AMP, T_ON = 1e-9, 10e-3
C_M, TAU_M, V_REST, V_THRESH, TAU_REFRAC = 1e-9, 20e-3, -65e-3, -50e-3, 0.1e-3


@pytest.fixture(scope="module")
def lif_built():
    net = Network(dt=DT)
    net.population("p", 1, IF_curr_exp(tau_refrac=TAU_REFRAC * 1e3 * ms))
    net.step_current("p", I_AMP * 1e9 * nA, T_ON * 1e3 * ms)
    net.record_spikes("p")
    net.record_state("p", "v")
    return net.build()


@pytest.mark.parametrize("target", ["numpy", "cython"])
def test_lif_step_current_spikes_at_analytic_times(lif_built, target):
    before = _prefs()
    sim = Brian2Simulation(lif_built, target=target)
    assert _prefs() == before                      # construction leaves Brian2's prefs alone
    sim.run(0.1)
    assert _prefs() == before
    res = sim.result()

    # v(t) = v_rest + R I (1 - exp(-(t - t_on)/tau_m)) reaches v_thresh after t_cross.
    ri = TAU_M / C_M * I_AMP
    t_cross = TAU_M * np.log(ri / (ri - (V_THRESH - V_REST)))
    spikes = res.spikes["p"]
    assert spikes.count() >= 2
    assert abs(spikes.times[0] - (T_ON + t_cross)) <= DT * (1 + 1e-9)
    # Each later spike: reset to v_rest, refractory period, the same climb again.
    isi = np.diff(spikes.times)
    assert np.all(np.abs(isi - (TAU_REFRAC + t_cross)) <= 2 * DT)
    assert np.all(spikes.ids == 0) and spikes.n == 1

    # Exact integration: the sample at t (recorded at the start of step t/dt,
    # as Brian2's StateMonitor records) is v at t.
    trace = res.traces["p.v"]
    assert trace.unit == "V" and trace.values.shape == (1000, 1)
    k = np.arange(int(round(T_ON / DT)), int(round(spikes.times[0] / DT)))
    expected = V_REST + ri * (1 - np.exp(-(k * DT - T_ON) / TAU_M))
    np.testing.assert_allclose(trace.values[k, 0], expected, rtol=0, atol=1e-12)
    assert np.all(trace.values[:int(round(T_ON / DT)), 0] == V_REST)

    assert res.meta["backend"] == f"brian2-{target}"
    assert res.meta["duration"] == pytest.approx(0.1) and res.meta["dt"] == DT
    assert set(res.meta["versions"]) >= {"brian2", "numpy", "spikemem"}
    assert res.meta["network_hash"] == lif_built.hash and res.meta["seed"] == lif_built.seed
    assert set(sim.timings) == {"build_s", "run_s"}
    assert sim.timings["build_s"] > 0 and sim.timings["run_s"] > 0


# ---------------------------------------------------------------- synaptic delays
@pytest.mark.parametrize("delays", [(1,), (3,), (2, 5)], ids=["d1", "d3", "hetero2-5"])
def test_delay_in_steps_moves_the_current_jump(delays):
    n, t_spike, w = len(delays), 50, 0.5e-9
    net = Network(dt=DT)
    net.spike_source("src", n, [[t_spike * DT]] * n)
    net.population("post", n, IF_curr_exp())
    net.connect("src", "post", OneToOne(), weight=w * 1e9 * nA,
                delay=np.asarray(delays) * DT if n > 1 else delays[0] * DT)
    net.record_state("post", "isyn_exc")
    sim = Brian2Simulation(net.build(), target="numpy")
    sim.run(10e-3)
    trace = sim.result().traces["post.isyn_exc"]
    assert trace.unit == "A"
    for c, d in enumerate(delays):
        nonzero = np.flatnonzero(trace.values[:, c])
        # spike at step n acts at step n + d, after that step's record (the
        # state at its start) and before its update: the next record has decayed
        assert nonzero[0] == t_spike + d + 1
        assert trace.values[t_spike + d + 1, c] == pytest.approx(w * np.exp(-DT / 5e-3), rel=1e-12)


# ---------------------------------------------------------------- continuation
def test_two_runs_equal_one_run_numpy():
    built = cuba(n=400, record_state=True).build()
    one = Brian2Simulation(built, target="numpy")
    one.run(0.1)
    two = Brian2Simulation(built, target="numpy")
    two.run(0.05)
    two.run(50 * ms)                       # quantities are accepted too
    a, b = one.result(), two.result()
    assert a.spikes["exc"].count() > 0
    for pop in ("exc", "inh"):
        np.testing.assert_array_equal(a.spikes[pop].times, b.spikes[pop].times)
        np.testing.assert_array_equal(a.spikes[pop].ids, b.spikes[pop].ids)
    np.testing.assert_array_equal(a.traces["exc.v"].values, b.traces["exc.v"].values)
    np.testing.assert_array_equal(a.traces["exc.v"].times, b.traces["exc.v"].times)
    assert b.meta["duration"] == a.meta["duration"] == pytest.approx(0.1)


def test_too_short_duration_raises():
    sim = Brian2Simulation(cuba(n=50).build(), target="numpy")
    with pytest.raises(ModelError):
        sim.run(DT / 4)


def test_progress_bar_fed_by_brian2_report(monkeypatch):
    class FakeTTY(io.StringIO):
        def isatty(self):
            return True
    sim = Brian2Simulation(cuba(n=50).build(), target="numpy")
    fake = FakeTTY()
    monkeypatch.setattr(sys, "stderr", fake)
    sim.run(0.05, progress=True)
    assert "brian2-numpy" in fake.getvalue() and "500/500" in fake.getvalue()


def test_progress_off_is_silent(capsys):
    sim = Brian2Simulation(cuba(n=50).build(), target="numpy")
    sim.run(0.01, progress=False)
    assert capsys.readouterr() == ("", "")


# ---------------------------------------------------------------- C++ standalone
def test_cpp_standalone_cuba_then_runtime_still_usable(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))   # to see the project dir go
    before = _prefs()
    net = cuba(n=400)
    sim = simulation(net, "brian2-cpp")
    assert get_device() is runtime_device                     # nothing switched before run
    sim.run(0.1)
    res = sim.result()
    assert get_device() is runtime_device
    assert _prefs() == before
    # the temporary project is removed (Brian2 may leave its compiler logs there)
    assert [f for f in os.listdir(tmp_path) if f.startswith("spikemem-")] == []

    assert res.meta["backend"] == "brian2-cpp_standalone"
    assert res.meta["duration"] == pytest.approx(0.1)
    assert res.spikes["exc"].count() > 0 and res.spikes["inh"].count() > 0
    assert res.spikes["exc"].n == 320 and res.spikes["inh"].n == 80
    assert sim.timings["build_s"] > 0 and sim.timings["run_s"] > 0
    assert sim.timings["build_s"] > sim.timings["run_s"]     # compilation dominates here
    with pytest.raises(ModelError, match="once"):
        sim.run(0.1)

    # Brian2 is back on the runtime device and simulates the same instance: the
    # same lowering on numpy gives the same spikes.
    ref = simulation(net, "brian2-numpy")
    ref.run(0.1)
    ref_res = ref.result()
    for pop in ("exc", "inh"):
        np.testing.assert_array_equal(ref_res.spikes[pop].times, res.spikes[pop].times)
        np.testing.assert_array_equal(ref_res.spikes[pop].ids, res.spikes[pop].ids)


def test_spike_source_built_after_another_simulation_ran():
    # Brian2's default clock is shared: after another simulation ran, it stands at
    # that simulation's end time; a new spike source must still emit its early spikes.
    other = Brian2Simulation(cuba(n=50).build(), target="numpy")
    other.run(20e-3)
    net = Network(dt=DT)
    net.spike_source("src", 2, [[1e-3, 15e-3], [5e-3]])
    net.record_spikes("src")
    sim = Brian2Simulation(net.build(), target="numpy")
    sim.run(20e-3)
    train = sim.result().spikes["src"]
    np.testing.assert_allclose(train.times, [1e-3, 5e-3, 15e-3], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(train.ids, [0, 1, 0])


def test_float32_runs_brian2_in_single_precision_as_numba():
    """dtype="float32" is Brian2's core.default_float_dtype for the network,
    and only for it; the numba engine in float32 has the same statistics."""
    from spikemem.analysis import cv_isi, mean_rate
    before = b2.prefs["core.default_float_dtype"]
    net = cuba(n=1000)
    brian = simulation(net, "brian2-numpy", dtype="float32")
    assert brian.objects.groups["exc"].variables["v"].dtype == np.float32
    assert b2.prefs["core.default_float_dtype"] == before
    numba = simulation(net, "numba", dtype="float32")
    results = []
    for sim in (brian, numba):
        sim.run(0.5)
        results.append(sim.result())
        assert results[-1].meta["dtype"] == "float32"
    for pop in ("exc", "inh"):
        a, b = results[0].spikes[pop], results[1].spikes[pop]
        assert a.count() > 500
        assert mean_rate(b, 0.5) == pytest.approx(mean_rate(a, 0.5), rel=0.1)
        assert cv_isi(b) == pytest.approx(cv_isi(a), abs=0.1)
    for backend in ("brian2-numpy", "numba"):
        with pytest.raises(ModelError, match="dtype must be one of .*'float16'"):
            simulation(net, backend, dtype="float16")
