"""The Loihi emulator as a spikemem backend (``"loihi"``), and ``emulate``: its
spikes beside the float64 numba run of the same network."""
from __future__ import annotations


import numpy as np
from brian2 import amp

from spikemem.errors import ModelError
from spikemem.network import BuiltPopulation, BuiltProjection
from spikemem.backends.contract import Simulation
from spikemem.targets import Emulation, violations_error

from ..common import emulate_with
from .formats import HEADROOM_BITS, STATE_MAX, W_MANT
from .kernel import Emulator
from .quantize import Plan


def emulate(network, duration, rounding: str = "stochastic", trace_impulse: int = 64,
            headroom_bits: int = HEADROOM_BITS) -> Emulation:
    """Run the Loihi emulator and the numba backend (float64) for ``duration``
    seconds and report how far apart their spikes are."""
    return emulate_with("loihi", "loihi", network, duration, rounding=rounding, trace_impulse=trace_impulse,
                        headroom_bits=headroom_bits)


class LoihiSimulation(Simulation):
    """The Loihi target's fixed-point emulator as a spikemem backend.

    Stateful like every backend: chunked runs equal one run; ``set_spikes``
    replaces a spike source's future spikes; ``get`` / ``set`` read and write
    ``v`` (volts), ``u`` (amperes: the synaptic current after the last step's
    arrivals, both receptors together) and projection weights ``w``
    (amperes), all converted from and to the integers; ``v_thresh`` and
    ``i_offset`` read back their quantised values, other parameters their
    float values (``lnet`` holds the integers, ``lnet.errors`` the
    differences; ``i_offset`` is the bias less the drive that moves the rest
    from v_reset to v_rest, and ``v`` counts from v_reset, Loihi's 0).
    ``overflows`` counts u wrap-arounds and v saturations.
    """

    name = "loihi"
    packages = ("numba",)
    chunk_steps = 2000

    def __init__(self, built, rounding: str = "stochastic", trace_impulse: int = 64,
                 headroom_bits: int = HEADROOM_BITS, dtype: str = "int24"):
        built = built.explicit(who="Loihi")      # the chip holds a convolution's synapses listed
        if dtype != "int24":            # (the one state type, offered as every backend offers its own)
            raise ModelError(f"loihi backend: dtype {dtype!r} is not offered; Loihi's state is 24-bit "
                             f"integers (dtype 'int24')")
        super().__init__(built, rounding=rounding, trace_impulse=trace_impulse, headroom_bits=headroom_bits,
                         dtype=dtype)
        plan = Plan(built, trace_impulse, headroom_bits)
        if plan.violations:
            raise violations_error("loihi", plan.violations)
        self.lnet = plan.lnet
        self._probe = {}                     # population -> compartments probed for state monitors
        comps = []
        self.emulator = Emulator(self.lnet, rounding=rounding)
        for mon in built.state_monitors:
            c = self.emulator.comp0[mon.population] + np.asarray(mon.ids)
            self._probe[id(mon)] = np.arange(len(comps), len(comps) + c.size)
            comps.extend(c.tolist())
        self.emulator.probe_comp = np.asarray(comps, np.int64)
        self._starts = {}                    # step -> probed v when an _advance began there
        self._built()

    @property
    def overflows(self) -> dict:
        return {"u_wraps": int(self.emulator.overflow[0]), "v_saturations": int(self.emulator.overflow[1])}

    # --- the run loop's hooks
    def _advance(self, stop, report):
        self._starts[self.step] = self.emulator.v[self.emulator.probe_comp].copy()
        self.emulator.run(stop - self.step)        # empties its own spike buffer as it goes
        return self.emulator.step

    def _probed_at_step_starts(self):
        """Probed v (steps, compartments) at the start of each step, as Brian2
        records: the probe after the step before, or where a run began (after a
        ``set`` perhaps), the state it began with."""
        after, _ = self.emulator.probe_table()
        if not after.shape[0]:
            return after
        start = np.concatenate([after[:1], after[:-1]])
        for step, v in self._starts.items():
            if step < start.shape[0]:
                start[step] = v
        return start

    def _recorded(self, **which):
        table = self.emulator.spike_table()
        spikes = self._spike_trains({name: ([steps], [ids]) for name, (steps, ids) in table.items()})
        v_all = self._probed_at_step_starts()
        buffers = []
        for mon in self.built.state_monitors:
            pop = self.lnet.populations[mon.population]
            rows = v_all[::mon.every][:, self._probe[id(mon)]]
            v = pop.v_reset[mon.ids] + rows / pop.scale
            buffers.append([v[:, None, :]])
        return spikes, self._traces(buffers)

    def _result_meta(self, **which):
        return {"overflows": self.overflows}

    # --- state in SI units
    def _owner(self, name, var):
        pop = self.built.populations.get(name)
        if pop is not None and pop.kind == "neuron" and var == "u":
            return pop, amp.dim, pop.size
        return super()._owner(name, var)

    def _get(self, owner, var):
        em = self.emulator
        if isinstance(owner, BuiltPopulation):
            pop, c0 = self.lnet.populations[owner.name], em.comp0[owner.name]
            sl = slice(c0, c0 + pop.size)
            if var == "v":
                return pop.v_reset + em.v[sl] / pop.scale
            if var == "u":
                return em.u[sl] / (pop.k * pop.scale)
            if var == "v_thresh":
                return pop.v_reset + (pop.vth_mant << 6) / pop.scale
            if var == "i_offset":
                return ((pop.bias_mant << pop.bias_exp) / pop.scale - pop.drive) / pop.kb
            if var in ("isyn_exc", "isyn_inh"):
                raise ModelError(f"population '{owner.name}': Loihi keeps one current u per compartment; "
                                 f"read 'u' (both receptors) instead of '{var}'")
            return owner.params[var] if var in owner.params else owner.init[var]
        if var == owner.switch and owner.name in em.rule_index:     # 1: learning, 0: frozen
            return float(em.l_on[em.rule_index[owner.name]])
        if var != "w":
            if var in owner.namespace:
                return owner.namespace[var]
            raise ModelError(f"projection '{owner.name}': Loihi's learning engine keeps traces x1, y1, "
                             f"not '{var}'; read 'w'")
        post = self.lnet.populations[owner.post]
        _, wact = em.weights(owner.name)
        return wact / (post.k[owner.j] * post.scale)

    def _set(self, owner, var, values):
        em = self.emulator
        if isinstance(owner, BuiltPopulation) and var in ("v", "u"):
            pop, c0 = self.lnet.populations[owner.name], em.comp0[owner.name]
            x = (values - pop.v_reset) * pop.scale if var == "v" else values * pop.k * pop.scale
            x = np.rint(x)
            if np.any(np.abs(x) > STATE_MAX):
                raise ModelError(f"'{owner.name}'.{var}: {np.max(np.abs(values)):g} is outside Loihi's 24-bit range")
            (em.v if var == "v" else em.u)[c0:c0 + pop.size] = x.astype(np.int64)
            return
        if isinstance(owner, BuiltProjection) and var == owner.switch and owner.name in em.rule_index:
            if values not in (0.0, 1.0):
                raise ModelError(f"'{owner.name}'.{var}: Loihi's learning engine runs the rule (1) or is off (0), "
                                 f"got {values}")
            em.l_on[em.rule_index[owner.name]] = int(values)
            return
        if isinstance(owner, BuiltProjection) and var == "w":
            proj = next(p for p in self.lnet.projections if p.name == owner.name)
            post = self.lnet.populations[owner.post]
            mant = np.rint(values * post.k[owner.j] * post.scale / 2.0 ** (6 + proj.w_exp))
            lo, hi = W_MANT[proj.sign]
            if np.any(mant < lo) or np.any(mant > hi):
                raise ModelError(f"'{owner.name}'.w: weights must quantize into [{lo}, {hi}] x "
                                 f"{2.0 ** (6 + proj.w_exp) / post.scale / np.max(post.k):g} A "
                                 f"(the projection's exponent and sign)")
            em.set_weights(owner.name, mant.astype(np.int64))
            return
        raise ModelError(f"'{owner.name}'.{var} is fixed when the network is quantised; change the network "
                         f"and build a new simulation")

    def _set_spikes(self, pop, steps, ids):
        self.emulator.set_spikes(pop.name, steps, ids)

    def _set_rates(self, pop, rates):
        self.emulator.set_rates(pop.name, rates)
