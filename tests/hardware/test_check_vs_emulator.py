"""One definition, one meaning: a target's ``check`` passes a network exactly when its
emulator runs it (the one exception: the SpiNNaker emulator records state that the PyNN
export for the board does not)."""
import pytest
from brian2 import ms, mV, nA, nS

from spikemem.backends import simulation
from spikemem.connectors import AllToAll, OneToOne
from spikemem.errors import ModelError
from spikemem.network import Network
from spikemem.neurons import IF_cond_exp, IF_curr_exp, Izhikevich
from spikemem.targets import TARGETS

from hardware_networks import bad_network, cell, delay_network, random_network, reset_below_rest


def small(model=None):
    net = Network(dt=1 * ms, seed=0)
    net.spike_source("src", 2, [[2e-3], [3e-3]])
    net.population("p", 2, model or cell())
    net.connect("src", "p", OneToOne(), weight=1 * nA)
    net.record_spikes("p")
    return net


def poisson():
    net = small()
    net.poisson_source("noise", 3, 20.0)
    net.connect("noise", "p", AllToAll(), weight=0.5 * nA)
    return net


def step_current():
    net = small()
    net.step_current("p", 0.5 * nA, 0.01)
    return net


def isyn_monitor():
    net = small()
    net.record_state("p", "isyn_exc")
    return net


def izhikevich():
    net = Network(dt=1 * ms)
    net.spike_source("src", 1, [[1e-3]])
    net.population("p", 1, Izhikevich())
    net.connect("src", "p", OneToOne(), weight=1 * mV, receptor="v")
    return net


def two_taus():
    net = small(cell(tau_syn_I=8 * ms))
    net.connect("src", "p", OneToOne(), weight=-1 * nA, receptor="inh")
    return net


def conductance():
    """IF_cond_exp cells beside IF_curr_exp ones, Poisson-driven (weights in siemens)."""
    net = poisson()
    net.population("g", 2, IF_cond_exp(tau_m=100 * ms, e_rev_I=-100 * mV), params={"v_thresh": [-52e-3, -50e-3]})
    net.connect("noise", "g", AllToAll(), weight=2 * nS)
    net.connect("p", "g", OneToOne(), weight=1 * nS, receptor="inh")
    net.record_spikes("g")
    return net


def fine_step():
    net = Network(dt=0.1 * ms)
    net.spike_source("src", 1, [[1e-3]])
    net.population("p", 1, cell())
    net.connect("src", "p", OneToOne(), weight=1 * nA)
    return net


NETWORKS = {"random": lambda: random_network(0), "plastic": lambda: random_network(1, plastic=True),
            "bad": bad_network, "delay_20": lambda: delay_network(20), "delay_200": lambda: delay_network(200),
            "poisson": poisson, "conductance": conductance, "step_current": step_current, "isyn_monitor": isyn_monitor,
            "izhikevich": izhikevich, "board_cell": lambda: small(IF_curr_exp(integration="spinnaker")),
            "i_offset": lambda: small(cell(i_offset=0.2 * nA)),
            "two_taus": two_taus, "fine_step": fine_step,
            "reset_below_rest": lambda: reset_below_rest([-49e-3, -55e-3])}
#: the SpiNNaker emulator records state; the board's PyNN export records spikes only
RECORDS_STATE = {"spinnaker": {"isyn_monitor", "reset_below_rest"}, "loihi": set()}


def emulator_runs(net, backend) -> bool:
    try:
        sim = simulation(net, backend)
    except ModelError:
        return False
    sim.run(0.02, progress=False)
    sim.result()
    return True


@pytest.mark.parametrize("target", ["loihi", "spinnaker"])
def test_check_passes_exactly_what_the_emulator_runs(target):
    if target == "spinnaker":
        pytest.importorskip("spynnaker")          # the check reads the installed sPyNNaker's limits
    t = TARGETS.get(target)
    verdicts = {name: (not t.check(make()), emulator_runs(make(), t.backend)) for name, make in NETWORKS.items()}
    differ = {name for name, (passes, runs) in verdicts.items() if passes != runs}
    assert differ == RECORDS_STATE[target], verdicts
    assert all(runs for name, (passes, runs) in verdicts.items() if name in differ)
    assert verdicts["poisson"] == (True, True) and verdicts["bad"] == (False, False)
    assert verdicts["random"] == (True, True)
    if target == "spinnaker":
        assert verdicts["conductance"] == (True, True)
