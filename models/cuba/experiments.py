"""The CUBA network as an experiment: its activity as a function of its parameters."""
from __future__ import annotations

from brian2 import ms, second

from spikemem import analysis
from spikemem.backends import simulation
from spikemem.experiments import Outcome, Param, experiment

from .network import WE, WI, cuba


@experiment(name="cuba")
def activity(seed, backend, dtype, n=Param(4000, "neurons (80 % excitatory)"),
             p=Param(0.02, "connection probability"), duration=Param(1 * second, "simulated time"),
             tau_m=Param(20 * ms, "membrane time constant"), w_exc=Param(WE, "jump of ge per excitatory spike"),
             w_inh=Param(WI, "jump of gi per inhibitory spike")):
    """Firing rate and irregularity (CV of ISIs) of each population of Brian2's CUBA network."""
    net = cuba(n=n, p=p, seed=seed, tau_m=tau_m, w_exc=w_exc, w_inh=w_inh)
    sim = simulation(net, backend, progress=False, **({"dtype": dtype} if dtype else {}))
    sim.run(duration)
    result = sim.result()
    return Outcome(analysis.activity(result, float(duration)), result)
