"""benchmarks/astro_coba.py: Stimberg et al.'s example 6 built from spikemem's pieces, at a
tiny size on numba and on Brian2 (runtime mode), and the recorded comparison with the
authors' script on Brian2's C++ standalone mode."""
import json

import numpy as np
import pytest

import benchmark_scripts

bench = benchmark_scripts.load("astro_coba")

RECORDED = benchmark_scripts.BENCHMARKS / "results" / "astrocytes" / "04-coba.json"
SCALE, DURATION = 0.1, 0.3          # 320 + 80 neurons, 320 astrocytes, 0.3 s


@pytest.fixture(scope="module")
def runs():
    return {backend: bench.run_spikemem(DURATION, SCALE, backend=backend)
            for backend in ("numba", "brian2-numpy")}


def test_the_script_geometry():
    """The script's grids: 56 rows of excitatory neurons and of astrocytes, each
    astrocyte coupled to the few (about four) within 75 um, and synapses onto the
    inhibitory neurons (at 0, 0) covered by astrocyte 0."""
    x_e, y_e, x_a, y_a = bench.positions(bench.N_E, bench.N_A)
    assert np.unique(x_e).size == 58 and np.unique(y_e).size == 56 and np.unique(x_a).size == 58
    d = np.hypot(x_a[:, None] - x_a[None, :], y_a[:, None] - y_a[None, :])
    neighbours = ((d < bench.GAP_M) & (d > 0)).sum(1)
    assert 3 <= neighbours.mean() <= 4 and neighbours.max() <= 4
    assert bench.covering_astrocyte(np.zeros(3), np.zeros(3), bench.N_A).tolist() == [0, 0, 0]
    # int() truncates towards zero, as the script's C++ does: x = -1.5 cells is cell -1
    grid_a = bench.SIZE_M / 56
    assert bench.covering_astrocyte(np.array([-1.5 * grid_a]), np.array([2.5 * grid_a]), bench.N_A)[0] == \
        int(-1 + 2 * (3200 / 56))


def test_phases_and_statistics_of_known_spikes():
    """Rates per stimulus phase, CV of the intervals, releases and the 1 ms population rate."""
    assert bench.phases(3.0) == [(0.0, 2.0, 1.0), (2.0, 3.0, 1.2)]
    n_e, n_i, n_a = bench.sizes(0.01)
    regular = np.arange(0.005, 3.0, 0.1)                  # neuron 0: 10 Hz, regular
    spikes = {"exc": (regular, np.zeros(regular.size, int)), "inh": (np.array([2.5]), np.array([0])),
              "astro": (np.array([0.5, 2.2, 2.9]), np.array([0, 1, 1]))}
    stats = bench.statistics(spikes, 3.0, 0.01)
    assert stats["exc"]["rate_hz"] == pytest.approx([20 / n_e / 2.0, 10 / n_e / 1.0])
    assert stats["exc"]["cv_isi"] == pytest.approx(0.0, abs=1e-9) and np.isnan(stats["inh"]["cv_isi"])
    assert stats["astro"]["releases"] == 3 and stats["astro"]["releasing"] == 2
    assert stats["astro"]["rate_hz"] == pytest.approx([1 / n_a / 2.0, 2 / n_a / 1.0])
    assert stats["population_rate"]["mean_hz"] == pytest.approx(31 / (n_e + n_i) / 3.0)
    assert stats["population_rate"]["max_hz"] == pytest.approx(1 / (n_e + n_i) / 1e-3)


def test_numba_and_brian2_agree_on_the_tiny_network(runs, tmp_path):
    """The same network on numba and on Brian2's runtime mode: statistics within the
    benchmark's tolerances (here the same to rounding), and the JSON's rows."""
    numba, brian2 = runs["numba"], runs["brian2-numpy"]
    assert numba["synapses"] == brian2["synapses"] > 10_000
    rows = [bench.row("brian2-numpy", brian2, DURATION, SCALE), bench.row("spikemem-numba", numba, DURATION, SCALE)]
    ours, ref = rows[1]["statistics"], rows[0]["statistics"]
    assert ref["exc"]["spikes"] > 50 and ref["inh"]["spikes"] > 10       # the network fires
    assert all(bench.agreement(ours, ref).values()), bench.agreement(ours, ref)
    assert ours["exc"]["spikes"] == pytest.approx(ref["exc"]["spikes"], rel=0.02)
    for row in rows:
        assert row["run_s"] > 0 and row["compile_s"] >= 0
        assert set(row["statistics"]) == {"exc", "inh", "astro", "population_rate"}


def test_the_recorded_comparison():
    """04-coba.json: the authors' script on cpp_standalone and spikemem on numba, one
    invocation, the same duration and sizes; the statistics within the stated
    tolerances and the speed ratio that of the two run phases."""
    data = json.loads(RECORDED.read_text())
    ref, ours = data["rows"]
    assert (ref["simulator"], ours["simulator"]) == ("brian2-cpp_standalone", "spikemem-numba")
    assert ref["duration_s"] == ours["duration_s"] >= 1 and ref["scale"] == ours["scale"] == 1.0
    assert abs(ours["synapses"] - 1_280_000) < 5_000 and abs(ref["synapses"] - 1_280_000) < 5_000
    assert len(data["phases"]) == len(ref["statistics"]["exc"]["rate_hz"]) == len(ours["statistics"]["exc"]["rate_hz"])
    assert data["agreement"] == bench.agreement(ours["statistics"], ref["statistics"])
    assert all(data["agreement"].values()), data["agreement"]
    assert ref["astrocyte_dt_ms"] == ours["astrocyte_dt_ms"] == bench.ASTROCYTE_DT * 1e3
    assert data["speedup"] == pytest.approx(ref["run_s"] / ours["run_s"], rel=0.02)
    assert data["speedup"] >= 5          # the target: numba at least 5x the C++ run phase
