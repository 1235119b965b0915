"""The Li-Rinzel astrocyte (``spikemem.glia.astrocytes``): NEST 3.10's astrocyte_lr_1994
driven by the same spikes (benchmarks/astro_nest.py), the backends against each
other, the templates and bad input."""
import functools
from importlib.util import find_spec

import numpy as np
import pytest
from brian2 import ms, pA, umolar

import benchmark_scripts

import spikemem as sm
from spikemem.errors import ModelError
from spikemem.glia import LI_RINZEL_DEFAULTS, LiRinzel, sic_synapse
from spikemem.neurons import NeuronModel, template_of

astro_nest = benchmark_scripts.load("astro_nest")

needs_nest = pytest.mark.skipif(find_spec("nest") is None, reason="needs NEST (the hardware extra)")

#: measured (benchmarks/results/astrocytes/01-nest.json): with rk4 at dt = 0.1 ms, spikemem and NEST's
#: RKF45 (its steps capped at dt) agree to rounding, 1e-13 uM over 60 s; Euler leaves ~1e-6 uM in 1 s.
#: I_SIC (pA), NEST's SIC delay given to the summed projection: 1.2e-12 (60 s, a delay of one step) to 6e-12
#: (60 s, 1 ms), 4.6e-12 on the small network (1 s, 1 ms, 10 connections per neuron)
RK4_TOLERANCE = {"IP3": 1e-11, "Ca_astro": 1e-11, "h_IP3R": 1e-12, "I_SIC": 1e-11}


def _astro_net(inputs_s, backend_dt=0.1 * ms, method="rk4", sic_delay=None):
    net = sm.Network(dt=backend_dt, seed=0)
    net.spike_source("inp", 1, [inputs_s])
    net.population("astro", 2, LiRinzel(method=method, delta_IP3=0.2 * umolar), init={"Ca_astro": [0.073, 0.2]
                                                                                        * umolar})
    net.population("post", 1, sm.AdEx(sic=True))
    net.connect("inp", "astro", sm.AllToAll(), weight=np.array([1.0, 2.5]), delay=1 * ms, receptor="ip3")
    net.connect("astro", "post", sm.AllToAll(), weight=np.array([1.0, 0.5]) * pA, receptor="sic", synapse=sic_synapse(),
                delay=sic_delay)
    net.record_state("astro", ["IP3", "Ca_astro", "h_IP3R"])
    net.record_state("post", ["I_SIC", "v"])
    return net


def test_exported_and_recognised():
    assert sm.LiRinzel is LiRinzel and sm.sic_synapse is sic_synapse
    assert template_of(LiRinzel()) == "LiRinzel" and template_of(LiRinzel(method="euler")) == "LiRinzel"
    assert template_of(NeuronModel.from_spec(LiRinzel().spec())) == "LiRinzel"       # a saved network's
    assert template_of(sm.AdEx(sic=True)) == "AdEx_SIC" and template_of(sm.AdEx()) == "AdEx"
    assert LiRinzel().threshold is None
    assert float(LI_RINZEL_DEFAULTS["delta_IP3"] / umolar) == pytest.approx(0.0002)      # NEST 3.10's default


def test_a_spike_adds_delta_ip3_times_its_weight():
    """NEST's input semantics: IP3 jumps by delta_IP3*w when the spike arrives (emission + delay)."""
    net = _astro_net([0.0105])
    ip3 = sm.simulate(net, 0.02, progress=False).traces["astro.IP3"].values / 1e-3       # uM
    before, after = ip3[115], ip3[116]       # arrives at step 115 (10.5 ms + 1 ms), recorded from 116 on
    decay = np.exp(-0.1 / 7142.0)
    assert np.allclose(before, 0.16)
    assert np.allclose(after, 0.16 + (np.array([1.0, 2.5]) * 0.2) * decay, rtol=1e-9)


@pytest.mark.parametrize("d", [1, 10])
def test_sic_is_the_log_of_calcium_above_threshold_in_nM(d):
    """I_SIC = sum of w*SIC_scale*ln((Ca - SIC_th)/nM) over the astrocytes above threshold;
    with a SIC delay of d steps, the record of step m holds the SIC of step m - d
    (d = 1: the neuron's step reads the SIC of that step's start), zero before."""
    r = sm.simulate(_astro_net([], sic_delay=d * 0.1 * ms), 0.002, progress=False)
    ca = r.traces["astro.Ca_astro"].values / 1e-3                            # uM
    y = (ca - 0.19669) * 1000
    sic = np.where(y > 1, np.log(np.maximum(y, 1)), 0.0)
    assert np.all(sic[:, 0] == 0) and np.all(sic[:, 1] > 0)           # one below, one above threshold
    i_sic = r.traces["post.I_SIC"].values[:, 0] / 1e-12                  # pA; weights 1 and 0.5 pA
    assert np.allclose(i_sic[d:], sic[:-d] @ [1.0, 0.5], rtol=1e-12)
    assert np.all(i_sic[:d] == 0)


@pytest.mark.parametrize("backend", ["brian2", "torch-float64"])
def test_backends_agree(backend):
    if backend.startswith("torch"):
        pytest.importorskip("torch")
    inputs = astro_nest.input_times(300.0, 40.0, 5) * 1e-3
    ref = sm.simulate(_astro_net(inputs), 0.3, progress=False)
    got = sm.simulate(_astro_net(inputs), 0.3, backend=backend, progress=False)
    for key in ("astro.IP3", "astro.Ca_astro", "astro.h_IP3R", "post.I_SIC", "post.v"):
        a, b = ref.traces[key].values, got.traces[key].values
        assert np.allclose(a, b, rtol=1e-9, atol=1e-12 * np.abs(a).max()), key
    assert np.ptp(ref.traces["astro.Ca_astro"].values) > 1e-5          # calcium moved


@pytest.mark.parametrize("name, value, what", [
    ("delta_IP3", -0.2 * umolar, "parameter 'delta_IP3' must be >= 0"),
    ("rate_SERCA", -1 * umolar / ms, "parameter 'rate_SERCA' must be >= 0"),
    ("Kd_act", 0 * umolar, "parameter 'Kd_act' must be > 0")])
def test_negative_parameters_are_refused(name, value, what):
    net = sm.Network(dt=0.1 * ms)
    net.population("astro", 1, LiRinzel(**{name: value}))
    with pytest.raises(ModelError, match=f"population 'astro' {what}"):
        net.build()


@pytest.mark.parametrize("var", ["IP3", "Ca_astro", "h_IP3R"])
def test_negative_initial_values_are_refused(var):
    net = sm.Network(dt=0.1 * ms)
    net.population("astro", 2, LiRinzel(), init={var: [0.1, -0.1] * (umolar if var != "h_IP3R" else 1)})
    with pytest.raises(ModelError, match=f"initial value of '{var}' must be >= 0 .* for some neurons"):
        net.build()


def test_a_fraction_above_one_is_refused():
    net = sm.Network(dt=0.1 * ms)
    net.population("astro", 1, LiRinzel(), init={"h_IP3R": 1.2})
    with pytest.raises(ModelError, match="initial value of 'h_IP3R' must be <= 1, got 1.2"):
        net.build()


def test_bad_weights_and_names_are_refused():
    with pytest.raises(ModelError, match=r"unknown parameter\(s\) \['delta_ip3'\]"):
        LiRinzel(delta_ip3=0.2 * umolar)
    with pytest.raises(ModelError, match=r"LiRinzel: method must be one of \['rk4', 'rk2', 'euler'\], got 'rk5'"):
        LiRinzel(method="rk5")
    net = sm.Network(dt=0.1 * ms)
    net.spike_source("inp", 1, [[0.001]])
    net.population("astro", 1, LiRinzel())
    net.connect("inp", "astro", sm.AllToAll(), weight=-1.0, receptor="ip3")
    with pytest.raises(ModelError, match="weights on receptor 'ip3' .* must be >= 0"):
        net.build()


def test_a_convolution_cannot_scale_its_weights():
    net = sm.Network(dt=0.1 * ms)
    net.spike_source("inp", 4, [[0.001]] * 4)
    net.population("astro", 4, LiRinzel())
    net.connect("inp", "astro", sm.Convolution(kernel=np.ones((1, 1)), sheet=(2, 2)), receptor="ip3")
    with pytest.raises(ModelError, match="scales them by 'delta_IP3'"):
        net.build()


@functools.cache
def _nest(case):
    return astro_nest.nest_traces(case)


def _against_nest(case, method="rk4", sic_delay_steps=0):
    """The differences to NEST; ``sic_delay_steps``: that many steps more on spikemem's SIC delay."""
    nest = _nest(case)
    ours = {**nest, "sic_delay_ms": nest["sic_delay_ms"] + sic_delay_steps * astro_nest.DT_MS}
    return astro_nest.differences(nest, astro_nest.spikemem_traces(case, ours, method=method))


@pytest.mark.hardware
@needs_nest
def test_one_second_against_nest():
    """rk4 at dt = 0.1 ms leaves only rounding against NEST; Euler's error is
    visible, so the comparison can tell integrators apart."""
    rk4 = _against_nest("drive-1s")
    assert rk4["Ca_astro"]["range"][1] - rk4["Ca_astro"]["range"][0] > 0.05       # calcium rose
    for v, tol in RK4_TOLERANCE.items():
        assert rk4[v]["max_abs"] < tol, (v, rk4[v])
    euler = _against_nest("drive-1s", method="euler")
    assert 1e-8 < euler["Ca_astro"]["max_abs"] < 1e-4


@pytest.mark.slow
@pytest.mark.hardware
@needs_nest
def test_sixty_seconds_against_nest():
    got = _against_nest("drive-60s")
    assert got["I_SIC"]["range"][1] > 1.0            # calcium crossed the SIC threshold
    for v, tol in RK4_TOLERANCE.items():
        assert got[v]["max_abs"] < 10 * tol, (v, got[v])


@pytest.mark.slow
@pytest.mark.hardware
@needs_nest
def test_nest_small_network_example_rebuilt():
    """NEST's astrocyte_small_network (TripartiteConnect, tsodyks_synapse inputs,
    a SIC delay of 1 ms, the summed projection's delay): the astrocytes and I_SIC
    agree to rounding; a SIC delay one step shorter or longer leaves 0.8 pA."""
    got = _against_nest("astrocyte_small_network")
    for v in RK4_TOLERANCE:
        assert got[v]["max_abs"] < RK4_TOLERANCE[v], (v, got[v])
    assert got["I_SIC"]["range"][1] > 10.0
    for off in (-1, 1):
        assert _against_nest("astrocyte_small_network", sic_delay_steps=off)["I_SIC"]["max_abs"] > 0.1, off


def test_described_with_its_weight_scale():
    text = _astro_net([0.001]).describe()
    assert "receptor 'ip3' (IP3, weight times delta_IP3)" in text and "1 x AdEx_SIC" in text


# ---------------------------------------------------------------- the G-ChI astrocyte
astro_stimberg = benchmark_scripts.load("astro_stimberg")
_STIMBERG_JSON = benchmark_scripts.BENCHMARKS / "results/astrocytes/02-stimberg.json"

#: measured (02-stimberg.json): spikemem's numba and Brian2 backends against Brian2 running the
#: authors' script agree to rounding, at most 1e-14 uM over 30 s at dt = 1 ms
GCHI_TOLERANCE = {"Gamma_A": 1e-12, "I": 1e-11, "C": 1e-11, "h": 1e-12}


def test_gchi_figure_2_against_the_authors_script():
    """Stimberg et al.'s figure 2 (the deterministic astrocyte, 30 s): spikemem on
    numba against the authors' traces every 100 ms, as Brian2 gave them."""
    import json
    ref = json.loads(_STIMBERG_JSON.read_text())["reference"]["example_2"]
    every = ref["every_steps"]
    ours = astro_stimberg.example_2(backend="numba")
    assert max(ref["C"]) > 1.0 and max(ref["Gamma_A"]) > 0.9     # the figure's calcium events
    for v, tol in GCHI_TOLERANCE.items():
        np.testing.assert_allclose(ours[v][::every], ref[v], rtol=0, atol=tol, err_msg=v)


def test_gchi_torch_agrees_with_numba():
    """Torch in float64 gives numba's traces (5 s, two calcium events' worth of input)."""
    ours = astro_stimberg.example_2(5.0, backend="numba")
    theirs = astro_stimberg.example_2(5.0, backend="torch", dtype="float64")
    for v in astro_stimberg.VARIABLES:
        np.testing.assert_allclose(theirs[v], ours[v], rtol=1e-10, atol=1e-13, err_msg=v)


def test_gchi_template_and_bad_input():
    model = sm.GChI()
    assert template_of(model) == "GChI" and model.params["O_beta"] == pytest.approx(5e-3)
    with pytest.raises(ModelError, match=r"GChI: unknown parameter\(s\) \['O_bet'\]"):
        sm.GChI(O_bet=1)
    for init, message in (({"C": -0.1 * umolar}, r"initial value of 'C' must be >= 0"),
                          ({"h": 1.5}, r"initial value of 'h' must be <= 1")):
        net = sm.Network(dt=1 * ms)
        net.population("astro", 2, sm.GChI(), init=init)
        with pytest.raises(ModelError, match=rf"population 'astro' {message}"):
            net.build()
    net = sm.Network(dt=1 * ms)
    net.population("astro", 1, sm.GChI(K_D=-0.5 * umolar))
    with pytest.raises(ModelError, match=r"population 'astro' parameter 'K_D' must be > 0"):
        net.build()


def test_gchi_ring_wave_against_the_authors_script():
    """Figure 5 (50 astrocytes, 4000 s, rk4, dt = 50 ms): rounding grows over the run
    (numba's math functions against numpy's: 1e-9 uM by 390 s, up to 0.95 uM by 4000 s,
    see docs/models/astrocytes.md), but the wave is the authors': it reaches every
    astrocyte at the same second, and each one's peak calcium is within 0.05 uM
    (measured: 0.025)."""
    import json
    ref = json.loads(_STIMBERG_JSON.read_text())["reference"]["example_5"]
    ours = astro_stimberg.wave(astro_stimberg.example_5(backend="numba"))
    assert ref["reached"] == astro_stimberg.N_RING == ours["reached"]
    np.testing.assert_array_equal(ours["arrival_s"], ref["arrival_s"])
    np.testing.assert_allclose(ours["peak_uM"], ref["peak_uM"], rtol=0, atol=0.05)
    middle = astro_stimberg.N_RING // 2
    assert ref["arrival_s"][middle] < ref["arrival_s"][0]        # it starts at the stimulated one


def _stimberg_reference(case: str) -> dict:
    import json
    return json.loads(_STIMBERG_JSON.read_text())["reference"][case]


def test_gchi_with_gliotransmission_template_and_bad_input():
    """Figures 3 and 4's astrocyte: G-ChI that releases gliotransmitter once per
    calcium crossing of C_Theta (a refractory condition), its own template."""
    model = sm.GChI("rk4", gliotransmission=True)
    assert template_of(model) == "GChI_glio" and template_of(NeuronModel.from_spec(model.spec())) == "GChI_glio"
    assert (model.threshold, model.refractory) == ("C > C_Theta", "C > C_Theta")
    assert model.init == {"h": 0.9, "x_A": 1.0} and model.params["U_A"] == pytest.approx(0.6)
    with pytest.raises(ModelError, match=r"\['U_A'\].*need gliotransmission=True"):
        sm.GChI(U_A=0.5)
    with pytest.raises(ModelError, match=r"gliotransmitter_synapse: unknown parameter\(s\) \['U_0'\]"):
        sm.gliotransmitter_synapse(U_0=0.5)
    net = sm.Network(dt=1 * ms)
    net.population("astro", 2, sm.GChI(gliotransmission=True, U_A=1.5))
    with pytest.raises(ModelError, match=r"population 'astro' parameter 'U_A' must be <= 1"):
        net.build()


#: measured (02-stimberg.json): spikemem on numba against Brian2 running the authors' scripts
#: for figures 3 and 4 agrees to rounding: C 4e-15 uM, G_A 0, u_S, x_S, r_S 3e-14, Y_S 2e-11 uM
#: (of 1500), mean Y_S 6e-12 uM, mean r_S 1e-15
FIG3_TOLERANCE = {"C": 1e-11, "G_A": 1e-9, "u_S": 1e-12, "x_S": 1e-12, "r_S": 1e-12, "Y_S": 1e-8}


def test_figure_3_against_the_authors_script():
    """Figure 3 (two astrocytes, three synapses, 17.1 s): calcium and
    gliotransmitter of the astrocytes every 100 ms, and the synapses over
    their stimulation every 5 ms, as Brian2 gave them."""
    ref = _stimberg_reference("example_3")
    ours = astro_stimberg.example_3(backend="numba")
    for v in ("C", "G_A"):
        np.testing.assert_allclose(ours[v][::ref["astrocyte_every_steps"]], ref[v], rtol=0,
                                   atol=FIG3_TOLERANCE[v], err_msg=v)
    start, every = ref["synapse_from_step"], ref["synapse_every_steps"]
    for v in astro_stimberg.SYNAPTIC:
        np.testing.assert_allclose(ours[v][start::every], ref[v], rtol=0, atol=FIG3_TOLERANCE[v], err_msg=v)
    # the figure: both astrocytes released gliotransmitter, which lowers the release of the synapses
    # it reaches (alpha = 0), the more the stronger the astrocyte's stimulation
    assert np.all(np.max(ref["G_A"], axis=0) > 1.0)
    first = np.max(np.asarray(ref["r_S"])[:20], axis=0)       # the first spike's release
    assert first[0] == pytest.approx(0.6) and first[0] > 2 * first[1] > 4 * first[2]


def test_figure_4_synrel_against_the_authors_script():
    """Figure 4B on the first 20 synapses of each group (each synapse with its
    astrocyte is a circuit of its own; the authors' Poisson draws are
    reproduced): the mean Y_S of each group every 100 ms over 20 s."""
    ref = _stimberg_reference("example_4_synrel")
    ours = astro_stimberg.example_4_synrel(ref["subset"], backend="numba")
    np.testing.assert_allclose(ours[::ref["every_steps"]], ref["subset_Y_S_mean"], rtol=0, atol=1e-8)
    # the figure: at 11 Hz, gliotransmission (closed and open loop) lowers the mean neurotransmitter
    closed, open_, none = ref["window_means"][-1]
    assert closed < none and open_ < none


def test_figure_4_rsmean_against_the_authors_script():
    """Figure 4C with 10 rates (0.1 to 100 Hz) instead of the authors' 100, 195 s:
    the mean and standard deviation over time of each synapse's released
    resources r_S, per rate and group."""
    ref = _stimberg_reference("example_4_rsmean")
    ours = astro_stimberg.example_4_rsmean(backend="numba")
    np.testing.assert_allclose(ours["mean"], ref["r_S_mean"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(ours["std"], ref["r_S_std"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(astro_stimberg.rsmean_rates(), ref["rates_Hz"], rtol=1e-12)


def _gliotransmission_net():
    """Two releasing astrocytes that start near C_Theta, each in a closed loop
    with one of three synapses driven by 8 spikes: releases within 1 s."""
    net = sm.Network(dt=1 * ms, seed=0)
    net.spike_source("source", 1, [np.arange(0.2, 0.6, 0.05)])
    net.population("target", 3, sm.NeuronModel("dv/dt = -v/second : 1", receptors={"exc": "v"}, name="dummy"))
    syn = net.connect("source", "target", sm.AllToAll(), weight=0.0, synapse=sm.gliotransmitter_synapse(),
                      init={"x_S": 1.0}, name="syn")
    net.population("astro", 2, sm.GChI("rk4", gliotransmission=True, F_ex=2 * umolar / sm.second),
                   params={"I_bias": [0.8, 1.25] * umolar}, init={"C": [0.45, 0.49] * umolar, "I": 1.0 * umolar})
    net.connect("astro", syn, sm.FromList([(0, 1), (1, 2)]), synapse=sm.astrocyte_to_synapses())
    net.connect(syn, "astro", sm.FromList([(0, 0), (1, 1)]), synapse=sm.synapses_to_astrocyte())
    net.record_state("astro", ["C", "G_A", "x_A"])
    net.record_spikes("astro")
    return net


@pytest.mark.parametrize("backend,options", [("brian2", {"target": "numpy"}),
                                             ("torch", {"dtype": "float64", "device": "cpu"})],
                         ids=["brian2", "torch"])
def test_gliotransmission_backends_agree(backend, options):
    """The releasing astrocyte and the modulated synapse on Brian2 and torch
    (float64) as on numba: the same releases, traces and synaptic state."""
    if backend == "torch":
        pytest.importorskip("torch")
    runs = {}
    for name, opts in (("numba", {}), (backend, options)):
        sim = sm.simulation(_gliotransmission_net(), name, **opts)
        sim.run(1.0)
        runs[name] = sim.result(), {v: sim.get("syn", v) for v in ("Gamma_S", "u_S", "x_S", "Y_S")}
    (ref, ref_syn), (got, got_syn) = runs["numba"], runs[backend]
    assert ref.spikes["astro"].ids.tolist() == [1, 0]      # each astrocyte releases once, C staying above
    np.testing.assert_array_equal(got.spikes["astro"].times, ref.spikes["astro"].times)
    for v in ("C", "G_A", "x_A"):
        np.testing.assert_allclose(got.traces[f"astro.{v}"].values, ref.traces[f"astro.{v}"].values,
                                   rtol=1e-12, atol=1e-18, err_msg=v)
    for v, values in ref_syn.items():
        np.testing.assert_allclose(got_syn[v], values, rtol=1e-12, atol=1e-18, err_msg=v)
    assert ref_syn["Gamma_S"][0] == 0 < ref_syn["Gamma_S"][1] and ref_syn["Gamma_S"][2] > 0
