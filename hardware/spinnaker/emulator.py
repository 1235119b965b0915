"""The SpiNNaker emulator as a spikemem backend (``"spinnaker"``): sPyNNaker
1!7.4.1's neuron core (IF_curr_exp and IF_cond_exp) running an exported ``run.py``,
in its integers; ``emulate`` and ``decomposition`` compare it with the float64 numba run."""
from __future__ import annotations

import dataclasses

import numpy as np

from spikemem.errors import ModelError
from spikemem.network import BuiltNetwork, BuiltPopulation
from spikemem.backends.contract import Simulation
from spikemem.analysis import compare_spikes
from spikemem.targets import Emulation

from ..common import emulate_with
from .supported import is_conductance, is_static, require_emulable, stdp_spec, weight_unit
from .formats import (COND_PARAMS, COND_SCALE, LIF_PARAMS, MS, MV, NA, ONE, RECEPTORS, STATE, STDP_ONE,
                      SYNAPSE_TYPE, US, exp_lut, s1615)
from .kernel import MAX_POST_EVENTS, run_ticks
from .quantize import neuron_constants
from .weights import weight_scaling

# SI -> the state's units: mV, nA (inh held positive), and uS times the weight scale
# for the conductances (both >= 0), as the core holds them before its >> 10
FACTOR = {"v": MV, "isyn_exc": NA, "isyn_inh": -NA, "gsyn_exc": US * COND_SCALE, "gsyn_inh": US * COND_SCALE,
          "i_offset": NA}
# run.py passes a conductance cell's initial conductances in uS and sPyNNaker writes
# them as they are, without the weight scale: the core starts from 1/1024 of them
INIT_FACTOR = {**FACTOR, "gsyn_exc": US, "gsyn_inh": US}
PARAM_FACTOR = dict(LIF_PARAMS + COND_PARAMS)
CONSTS = ("v_rest", "v_reset", "v_thresh", "R", "exp_TC", "exc_decay", "inh_decay", "exc_init", "inh_init",
          "e_rev_E", "e_rev_I")
SPIKE_BUFFER = 1 << 16
POISSON_BLOCK = 4096        # steps of Poisson spikes drawn at a time (memory: steps x sources)


def _state_vars(pop: BuiltPopulation) -> tuple:
    """The state a population's neurons hold on the core, by spikemem's names."""
    syn = ("gsyn_exc", "gsyn_inh") if is_conductance(pop) else ("isyn_exc", "isyn_inh")
    return ("v",) + syn + ("i_offset",)


class SpiNNakerSimulation(Simulation):
    """sPyNNaker 7.4.1's neuron core running spikemem.interop.pynn's run.py, in
    integers (backend "spinnaker"): IF_curr_exp and IF_cond_exp populations,
    mixed as they come.

    ``arithmetic``: "fixed" (the core's integers) or "float64" (the same
    algorithm and step order in float64, unrounded weights and tables: what
    is left of the difference to numba is the algorithm, not the rounding).
    State between runs is kept; ``get`` / ``set`` read and write v, isyn_exc,
    isyn_inh (gsyn_exc, gsyn_inh), i_offset, the LIF parameters (and reversal
    potentials) and the weights ``w`` in SI units (quantised on the way in).
    A conductance cell's initial conductances are taken as sPyNNaker takes
    run.py's: without the 1024 weight scale (1/1024 of them reach the cell).

    Poisson sources (sPyNNaker's SpikeSourcePoisson) fire in a step with
    probability rate*dt, at most once, drawn as the numba engine draws them
    (numpy's MT19937 from the network seed, a block of steps ahead of the
    neurons): the same spikes as numba where nothing else draws random numbers,
    for any split of the run. sPyNNaker's own generator gives other spikes of
    the same statistics, and its fast sources (rate*dt near 1) may send
    several spikes in one tick.
    """

    name = "spinnaker"
    packages = ("numba",)
    chunk_steps = 2000

    def __init__(self, built: BuiltNetwork, arithmetic: str = "fixed", dtype: str = "s16.15"):
        built = built.explicit(who="SpiNNaker")      # the chip holds a convolution's synapses listed
        if arithmetic not in ("fixed", "float64"):
            raise ModelError(f"spinnaker emulator: arithmetic must be 'fixed' or 'float64', got {arithmetic!r}")
        if dtype != "s16.15":           # (the board's state type; arithmetic="float64" is the unrounded twin)
            raise ModelError(f"spinnaker backend: dtype {dtype!r} is not offered; the core holds s16.15 "
                             f"(dtype 's16.15'; arithmetic='float64' runs the algorithm unrounded)")
        require_emulable(built)
        super().__init__(built, arithmetic=arithmetic, dtype=dtype)
        self.arithmetic = arithmetic
        fixed = arithmetic == "fixed"
        dtype = np.int64 if fixed else np.float64
        self._unit = float(ONE) if fixed else 1.0       # state units per mV / nA
        neurons = [p for p in built.populations.values() if p.kind == "neuron"]
        sources = [p for p in built.populations.values() if p.kind in ("spikes", "poisson")]
        starts = np.cumsum([0] + [p.size for p in neurons + sources])
        self.offset = {p.name: int(o) for p, o in zip(neurons + sources, starts)}
        self.N, self.G = int(starts[len(neurons)]), int(starts[-1])
        # neuron state (rows of STATE, isyn_inh positive as the core holds it) and constants
        self.params = {p.name: dict(p.params) for p in neurons}
        self.X = np.zeros((len(STATE), self.N), dtype)
        self.C = np.zeros((len(CONSTS), self.N), dtype)
        self.cond = np.zeros(self.N, np.int64)          # 1: input_type_conductance
        self.T_refract, self.timer = np.zeros(self.N, np.int64), np.zeros(self.N, np.int64)
        for pop in neurons:
            for var in _state_vars(pop):
                self.X[STATE[var], self._slice(pop.name)] = self._state(pop.init[var] * INIT_FACTOR[var],
                                                                        f"population '{pop.name}' {var}")
            self.cond[self._slice(pop.name)] = is_conductance(pop)
            self._derive(pop)
        # synapses, spike sources, recording
        self.scaling = weight_scaling(built)
        self.shift = np.zeros((2, self.N), np.int64)
        for (post, receptor), entry in self.scaling.items():
            self.shift[RECEPTORS.index(receptor), self._slice(post)] = entry["shift"]
        self._build_synapses()
        self._source_spikes = {p.name: (p.spike_steps.astype(np.int64), p.spike_ids.astype(np.int64))
                               for p in sources if p.kind == "spikes"}
        # Poisson sources: one stream for all, numpy's MT19937 seeded as the numba engine seeds its own
        self._poisson = [p for p in sources if p.kind == "poisson"]
        self._rates_dt = np.concatenate([np.broadcast_to(p.rate, (p.size,)) * built.dt for p in self._poisson]
                                        or [np.zeros(0)])
        self._rng = np.random.RandomState(built.seed)
        self._drawn_until = 0           # Poisson spikes are drawn for the steps before this one
        self._merge_sources()
        self._spikes = {name: ([], []) for name in built.spike_monitors}
        self._states = [[] for _ in built.state_monitors]
        self._setup_monitors()
        self.spiked = np.zeros(max(self.G, 1), np.int64)
        cap = max(self.G, SPIKE_BUFFER)
        self.sp_step, self.sp_gid, self.sp_n = np.zeros(cap, np.int64), np.zeros(cap, np.int64), np.zeros(1, np.int64)
        self._built()

    def _slice(self, name):
        o = self.offset[name]
        return slice(o, o + self.built.populations[name].size)

    def _state(self, x, where):
        """A value in mV / nA as the core holds it (s16.15, or float64)."""
        return s1615(x, where) if self.arithmetic == "fixed" else np.asarray(x, np.float64)

    def _derive(self, pop: BuiltPopulation):
        """(Re)compute a population's constants from its SI parameters."""
        view = dataclasses.replace(pop, params=self.params[pop.name])
        c = neuron_constants(view, self.built.dt, self.arithmetic == "fixed")
        sl = self._slice(pop.name)
        self.C[:, sl] = [c[k] for k in CONSTS]
        self.T_refract[sl] = c["T_refract"]

    def _build_synapses(self):
        """Every synapse in rows by presynaptic neuron (CSR over neurons and
        sources), a projection's synapses in their order within a row."""
        built, fixed = self.built, self.arithmetic == "fixed"
        cols = {k: [] for k in ("pre", "post", "type", "delay", "w", "rule", "row", "learns")}
        # name -> [positions in the rows, sign, resolution (SI per state unit), max weight (SI)]
        self._proj_index = {}
        rules, rule_ids, self.post_rule = [], {}, np.full(self.N, -1, np.int64)
        n_rows = 0
        for bpj in built.projections:
            n, r = bpj.i.size, SYNAPSE_TYPE[bpj.target]
            entry = self.scaling.get((bpj.post, RECEPTORS[r]))
            unit, si, scale = weight_unit(built.populations[bpj.post])
            if not fixed:               # nA, or uS times the weight scale
                w, res, w_max = np.abs(np.asarray(bpj.w, np.float64)) * si * scale, 1.0 / (si * scale), np.inf
            elif n:
                w = entry["projections"][bpj.name]["w16"].astype(np.int64)
                res, w_max = entry["resolution"] / si, entry["max_weight"] / si
            else:
                w, res, w_max = np.zeros(0, np.int64), 0.0, 0.0
            rid, rows, learns = -1, np.full(n, -1, np.int64), np.ones(n)
            if n and not is_static(bpj):
                spec = stdp_spec(bpj, si * scale)     # the host scales w_min, w_max and A as the weights
                rid = rule_ids.setdefault(tuple(sorted(spec.items())), len(rules))
                if rid == len(rules):
                    rules.append(self._rule(spec))
                self.post_rule[self._slice(bpj.post)] = rid
                rows = n_rows + bpj.i.astype(np.int64)         # a row per pre neuron and projection
                n_rows += built.populations[bpj.pre].size
                learns = bpj.namespace.get("plastic", bpj.state.get("plastic", 1.0))    # 0: frozen
            for k, v in (("pre", self.offset[bpj.pre] + bpj.i), ("post", self.offset[bpj.post] + bpj.j),
                         ("type", np.full(n, r)), ("delay", bpj.delay), ("w", w), ("rule", np.full(n, rid)),
                         ("row", rows), ("learns", np.broadcast_to(learns, (n,)) != 0)):
                cols[k].append(np.asarray(v, np.int64 if k != "w" else w.dtype))
            self._proj_index[bpj.name] = [None, -1.0 if r and unit == "nA" else 1.0, res, w_max]
        cols = {k: np.concatenate(v) if v else np.zeros(0, np.int64) for k, v in cols.items()}
        order = np.argsort(cols["pre"], kind="stable")
        pos, start = np.empty_like(order), 0
        pos[order] = np.arange(order.size)
        for bpj in built.projections:
            self._proj_index[bpj.name][0] = pos[start:start + bpj.i.size]
            start += bpj.i.size
        self.indptr = np.zeros(self.G + 1, np.int64)
        np.cumsum(np.bincount(cols["pre"], minlength=self.G), out=self.indptr[1:])
        self.syn_post, self.syn_type, self.syn_delay, self.syn_rule, self.syn_row, self.syn_learns = (
            cols[k][order] for k in ("post", "type", "delay", "rule", "row", "learns"))
        dtype = self.X.dtype
        self.syn_w = cols["w"][order].astype(dtype)
        self.pre_time, self.pre_trace = np.zeros(max(n_rows, 1), np.int64), np.zeros(max(n_rows, 1), dtype)
        self.ph_count = np.zeros(self.N, np.int64)
        self.ph_time = np.zeros((self.N, MAX_POST_EVENTS), np.int64)
        self.ph_trace = np.zeros((self.N, MAX_POST_EVENTS), dtype)
        nr, size = max(len(rules), 1), max([len(t) for r in rules for t in r[:2]] + [1])
        self.lutp, self.lutm = np.zeros((nr, size), dtype), np.zeros((nr, size), dtype)
        self.rule_c = np.zeros((nr, 4), dtype)
        for k, (lutp, lutm, consts) in enumerate(rules):
            self.lutp[k, :len(lutp)], self.lutm[k, :len(lutm)], self.rule_c[k] = lutp, lutm, consts
        self.RL = int(cols["delay"].max(initial=1)) + 1
        self.ring = np.zeros((2, self.N, self.RL), dtype)

    def _rule(self, spec: dict):
        """(LUT+, LUT-, [A+, A-, w_min, w_max]) as the core holds them for the
        STDPMechanism run.py builds on SpiNNaker: A = A * w_max, in nA (uS
        times the weight scale into a conductance cell)."""
        dt_ms = self.built.dt * MS
        consts = [spec["A_plus"] * spec["w_max"], spec["A_minus"] * spec["w_max"], spec["w_min"], spec["w_max"]]
        taus = (spec["tau_plus"], spec["tau_minus"])
        if self.arithmetic == "float64":
            return [np.exp(-np.arange(exp_lut(dt_ms, tau).size) * dt_ms / tau) for tau in taus] + [consts]
        return [exp_lut(dt_ms, tau) for tau in taus] + [[int(s1615(x, "STDP parameter")) for x in consts]]

    def _merge_sources(self):
        steps, gids = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
        for name, (s, i) in self._source_spikes.items():
            keep = s >= self.step
            steps.append(s[keep])
            gids.append(self.offset[name] + i[keep])
        steps, gids = np.concatenate(steps), np.concatenate(gids)
        order = np.lexsort((gids, steps))
        self.src_step, self.src_gid, self.src_ptr = steps[order], gids[order], np.zeros(1, np.int64)

    def _setup_monitors(self):
        gid, var, names, self.rec_lo, self.rec_hi = [], [], [], [], []
        for mon in self.built.state_monitors:
            self.rec_lo.append(len(gid))
            for v in mon.variables:
                gid += (self.offset[mon.population] + np.asarray(mon.ids, np.int64)).tolist()
                var += [STATE[v]] * len(mon.ids)
                names += [v] * len(mon.ids)
            self.rec_hi.append(len(gid))
        self.rec_gid, self.rec_var, self.rec_lo, self.rec_hi = (
            np.asarray(x, np.int64) for x in (gid, var, self.rec_lo, self.rec_hi))
        self.rec_every = np.asarray([mon.every for mon in self.built.state_monitors], np.int64)
        self.rec_cnt = np.zeros(len(self.rec_every), np.int64)
        # per recorded value: a row of X holds isyn_* or gsyn_* in different units
        self.rec_scale = 1.0 / (np.array([FACTOR[v] for v in names], float) * self._unit)

    # --- the run loop's hooks
    def _prepare_run(self, n_steps, **options):
        super()._prepare_run(n_steps, **options)
        end = self.step + n_steps
        n_rec = np.zeros(len(self.rec_every), np.int64)      # records of this run per monitor
        for k, every in enumerate(self.rec_every):
            first = -(-self.step // every) * every           # the first recorded step from now on
            n_rec[k] = max(0, -(-(end - first) // every))
        self.rec_offs = np.concatenate([[0], np.cumsum(n_rec * (self.rec_hi - self.rec_lo))]).astype(np.int64)
        self.rec_buf = np.zeros(int(self.rec_offs[-1]))
        self.rec_cnt[:] = 0
        self._rec_taken = np.zeros_like(self.rec_cnt)       # records already moved to _states

    def _draw_poisson(self, stop):
        """Poisson spikes for the steps from ``_drawn_until`` to ``stop``: per step one
        uniform per Poisson neuron, sources in network order, as the numba kernel draws
        them (so the same spikes where nothing else in the network draws), whatever the split."""
        if not self._poisson or stop <= self._drawn_until:
            return
        fired = self._rng.random_sample((stop - self._drawn_until, self._rates_dt.size)) < self._rates_dt
        first = 0
        for pop in self._poisson:
            steps, ids = np.nonzero(fired[:, first:first + pop.size])
            first += pop.size
            old_steps, old_ids = self._source_spikes.get(pop.name, (np.zeros(0, np.int64),) * 2)
            keep = old_steps >= self.step
            self._source_spikes[pop.name] = (np.concatenate([old_steps[keep], self._drawn_until + steps]),
                                             np.concatenate([old_ids[keep], ids]))
        self._drawn_until = stop
        self._merge_sources()

    def _advance(self, stop, report):
        if self._poisson:           # spikes drawn a block ahead; a run stopped early keeps the rest
            stop = min(stop, self.step + POISSON_BLOCK)
            self._draw_poisson(max(stop, self._drawn_until))
        return int(run_ticks(
            self.step, stop, self.RL, STDP_ONE if self.arithmetic == "fixed" else 1.0,
            self.X, self.C, self.cond, self.T_refract, self.timer, self.shift, self.ring,
            self.post_rule, self.ph_count, self.ph_time, self.ph_trace,
            self.src_step, self.src_gid, self.src_ptr, self.indptr, self.syn_post, self.syn_type,
            self.syn_delay, self.syn_w, self.syn_rule, self.syn_row, self.syn_learns, self.pre_time, self.pre_trace,
            self.lutp, self.lutm, self.rule_c, self.spiked, self.sp_step, self.sp_gid, self.sp_n,
            self.rec_every, self.rec_lo, self.rec_hi, self.rec_gid, self.rec_var, self.rec_scale,
            self.rec_offs, self.rec_cnt, self.rec_buf))

    def _flush(self):
        self._flush_spikes()
        for k, mon in enumerate(self.built.state_monitors):
            shape = (len(mon.variables), len(mon.ids))
            lo, hi, width = int(self._rec_taken[k]), int(self.rec_cnt[k]), shape[0] * shape[1]
            if hi > lo:
                start = self.rec_offs[k]
                self._states[k].append(self.rec_buf[start + lo * width:start + hi * width].reshape(hi - lo, *shape))
                self._rec_taken[k] = hi

    def _flush_spikes(self):
        n = int(self.sp_n[0])
        steps, gids = self.sp_step[:n], self.sp_gid[:n]
        for name in self.built.spike_monitors:
            o, size = self.offset[name], self.built.populations[name].size
            sel = (gids >= o) & (gids < o + size)
            self._spikes[name][0].append(steps[sel].copy())
            self._spikes[name][1].append(gids[sel] - o)
        self.sp_n[0] = 0

    def _recorded(self, **which):
        return self._spike_trains(self._spikes), self._traces(self._states)

    def _result_meta(self, **which):
        return {"target": "spinnaker", "arithmetic": self.arithmetic,
                "ring_buffer_shifts": {f"{post}.{rec}": e["shift"] for (post, rec), e in self.scaling.items()}}

    # --- state between runs (checked by Simulation)
    def _get(self, owner, var):
        if isinstance(owner, BuiltPopulation):
            if var in STATE:
                return self.X[STATE[var], self._slice(owner.name)] / self._unit / FACTOR[var]
            factor = PARAM_FACTOR[var]
            return self._state(np.asarray(self.params[owner.name][var], float) * factor, var) / self._unit / factor
        pos, sign, res, _ = self._proj_index[owner.name]
        if var == owner.switch:         # 1 where the rule runs, 0 where the weights are frozen
            return self.syn_learns[pos].astype(float)
        if var != "w":
            raise ModelError(f"projection '{owner.name}': the SpiNNaker emulator keeps only the weight 'w' "
                             f"(sPyNNaker's STDP traces live per neuron, not as '{var}')")
        return sign * self.syn_w[pos] * res

    def _set(self, owner, var, values):
        if isinstance(owner, BuiltPopulation):
            if var in STATE:
                self.X[STATE[var], self._slice(owner.name)] = self._state(
                    np.asarray(values) * FACTOR[var], f"'{owner.name}'.{var}")
                return
            old = self.params[owner.name][var]
            self.params[owner.name][var] = values
            try:
                self._derive(owner)
            except ModelError:
                self.params[owner.name][var] = old
                raise
            return
        if var == owner.switch:
            values = np.asarray(values, float)
            if not np.isin(values, (0.0, 1.0)).all():
                raise ModelError(f"'{owner.name}'.{var}: the SpiNNaker emulator runs sPyNNaker's rule (1) or keeps "
                                 f"the weights (0), got {np.unique(values).tolist()}")
            self.syn_learns[self._proj_index[owner.name][0]] = values != 0
            return
        if var != "w":
            raise ModelError(f"projection '{owner.name}': only 'w' (and a plastic projection's switch) can be set "
                             f"on the SpiNNaker emulator")
        pos, sign, res, w_max = self._proj_index[owner.name]
        w = np.asarray(values, float)       # Simulation.set has held it to the synapse type's sign
        if np.any(np.abs(w) > w_max * (1 + 1e-12)):
            raise ModelError(f"'{owner.name}'.w: {np.abs(w).max()} A exceeds the largest weight the "
                             f"ring-buffer shift chosen at build time can hold ({w_max} A)")
        if self.arithmetic == "fixed":
            self.syn_w[pos] = np.rint(np.abs(w) / res).astype(np.int64) if res else 0
        else:
            self.syn_w[pos] = np.abs(w) / res

    def _set_spikes(self, pop, steps, ids):
        self._source_spikes[pop.name] = (np.asarray(steps, np.int64), np.asarray(ids, np.int64))
        self._merge_sources()

    def _set_rates(self, pop, rates):
        # between runs nothing is drawn ahead (a run draws up to its end), so the
        # next draw, of the next step, is the first at the new rates
        assert self._drawn_until == self.step, (self._drawn_until, self.step)
        first = sum(p.size for p in self._poisson[:self._poisson.index(pop)])
        self._rates_dt[first:first + pop.size] = rates * self.built.dt


def emulate(network, duration, **options) -> Emulation:
    """Run ``network`` for ``duration`` seconds on the emulator and on the
    numba engine (float64) and compare their spikes step for step (alignment
    0: both label a spike with the step its membrane crossed, docs/targets/spinnaker.md).
    ``options`` go to ``SpiNNakerSimulation``."""
    return emulate_with("spinnaker", "spinnaker", network, duration, **options)


def decomposition(network, duration, **options) -> dict:
    """Where the emulator parts from numba, in two steps: ``algorithm``
    compares numba (float64, exact integration) with the emulator's float64
    twin (sPyNNaker's step, refractoriness and threshold, no rounding);
    ``rounding`` compares that twin with the fixed-point emulator. Each is
    ``compare_spikes`` per population; ``total`` is numba against the emulator."""
    em = emulate(network, duration, **options)
    twin = SpiNNakerSimulation(network.build().explicit(who="SpiNNaker"), **{**options, "arithmetic": "float64"})
    twin.run(em.result.meta["duration"], progress=False)
    twin = twin.result()
    dt = em.result.meta["dt"]
    return {"total": em.distance, "algorithm": compare_spikes(em.reference, twin, dt),
            "rounding": compare_spikes(twin, em.result, dt)}
