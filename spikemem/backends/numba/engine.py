"""spikemem's default CPU engine: one generated numba kernel runs the whole network.

The kernel source is assembled from Brian2's statements (see abstract_code.py)
in the shared step order: inputs, synaptic delivery, summed variables, state
update + threshold + reset, spike sources, then the synapse models
(clock-driven equations, on_pre, on_post for this step's spikes), recording
of spikes (states are recorded at the step's start, after the inputs).
Synapses are CSR by presynaptic neuron: a 2-byte target (4-byte above 65536
neurons), an 8-byte weight (4-byte in float32; one number for all where
the weights are all the same and nothing changes them, see ``one_value``),
plus, where delays differ, either a table of where each delay's synapses
start in each row (the row's synapses grouped by delay, ``Assembler.by_delay``)
or a 2-byte delay per synapse; spikes wait in a per-population ring of the
last ``max_delay + 1`` steps' spike lists, and each projection reads the
spikes that are exactly ``delay`` steps old. Events are applied one synapse
at a time in Brian2's order, so sums round the same way; a synapse's
event-driven trace decays are reused from the synapse before it where they
are the same ``exp`` of the same number (``shared_decays``).
A population with its own dt steps on its ticks only, and sums that only it
reads, or that read only it, run on its clock; clock-driven synaptic equations
that nothing reads every step are integrated exactly when read
(``schedule``).
A convolution projection (``connectors.Convolution``) keeps its kernel: its
spikes or summed variable are convolved in the step (``convolution``), on one
thread, where the other projections deliver or sum.
``dtype="float32"`` holds every float of the network in float32 (time
stays float64).

``shared_traces=True``: an event-driven trace that only on_post sets, from
constants and the postsynaptic neuron (``post1 = 1``, ``apost += 1``), has one
value on all synapses of that neuron; likewise one that only the model's
on_pre sets (it runs when the presynaptic neuron fires, before any delay, so
one value serves all delays). The kernel holds such traces once per neuron,
with that neuron's last update, sets them once per spike and decays the other
side's once per step (``find_shared_traces``, ``split_shared``); where every
trace is shared, no synapse keeps a last update either (Diehl and Cook's rule:
about 16.5 instead of 54.5 bytes per synapse). Brian2 decays a synapse's
traces at each of its events, a product of exponentials that rounds otherwise
than one ``exp`` per neuron: the same spikes for a long while, not the same
bits, so it is not the default.

Threads: the kernel runs as ``threads`` copies (argument ``_tid``), each owning a
contiguous range of every neuron population (whole ``BLOCK``s) and the
synapses onto it, and all meet at a barrier at the end of each step. Each
thread writes its spikes into its own part of the ring, in neuron order, so the
spike lists read in thread order are the single-thread lists and every sum
adds the same terms in the same order: the result does not depend on the
number of threads. Spike sources (and their random numbers) belong to thread
0, which runs in the calling thread, as the single-thread kernel does.
Networks whose step has work that does not split this way (plasticity,
summed variables, random numbers in neuron updates, presynaptic variables read
at delivery) run on one thread (``Assembler.serial_reasons``).

Sizes, weights and parameter values are arguments, not part of the source, so
the compiled kernel (cached on disk by numba) serves every network of the same
shape.
"""
from __future__ import annotations

import copy
import hashlib
import importlib.util
import inspect
import os
import re
import string
import sys
import tempfile
from importlib import resources

import numpy as np
from brian2.core.functions import Function
from brian2.core.variables import ArrayVariable, Constant

from .. import abstract_code as codegen
from ...errors import ModelError
from ...lowering import INTEGRATED_UNTIL, catch_ups, neuron_runners, summed_updaters
from . import convolution as _convolution, sync
from .schedule import summed_gate

CACHE_DIR = os.environ.get("SPIKEMEM_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "spikemem", "kernels"))

#: the kernel module around the assembled step code (``Kernel.source``)
KERNEL_TEMPLATE = string.Template(resources.files(__package__).joinpath("templates/kernel.tmpl").read_text())


#: numba's fast-math flags for ``strict_float=False``, close to Brian2's default
#: C++ flags (-ffast-math -fno-finite-math-only): reciprocals, contraction into
#: FMA, approximate functions, no signed zeros; inf and nan keep their
#: meaning. Not LLVM's reassociation: the engine folds linear updates itself
#: (``codegen.render_affine``), and with reassoc the CUBA kernel ran 10-25 %
#: slower.
FAST_MATH = {"arcp", "contract", "afn", "nsz"}


class Kernel:
    """Source and argument list of one network's kernel."""

    def __init__(self, threads: int, strict_float: bool = True, dtype=np.float64):
        self.threads = threads
        self.strict_float = strict_float
        self.dtype = dtype
        # float32 values: every computed float is rounded to float32 where it
        # is stored (Brian2's float32 statements), so the loops stay in float32
        self.cast = "np.float32" if dtype is np.float32 else None
        self.args: list[str] = []          # kernel argument names (after s0, s1, _tid)
        self.values: dict = {}             # argument name -> array / scalar
        self.body: list[str] = []
        self.after: list[str] = []         # after the last step (t: the time the run ends)

    def scalar(self, value):
        """A parameter as the kernel holds it: a float in ``dtype``."""
        if isinstance(value, (float, np.floating)):
            return self.dtype(value)
        return value

    def arg(self, name, value):
        if name not in self.values:
            self.args.append(name)
        self.values[name] = aligned(value)
        return name

    def source(self) -> str:
        sig = ", ".join(["s0", "s1", "_tid"] + self.args)
        # numba's cache does not see changes to the barrier's module: its
        # source hash is part of the kernel's, so a change recompiles
        barrier = hashlib.sha256(inspect.getsource(sync).encode()).hexdigest()[:12]
        # error_model="numpy": division by zero gives inf/nan as in Brian2's
        # generated code instead of a Python exception, whose per-division
        # check would keep LLVM from vectorising the neuron loops.
        flags = "" if self.strict_float else ", fastmath={" + ", ".join(map(repr, sorted(FAST_MATH))) + "}"
        return KERNEL_TEMPLATE.substitute(barrier=barrier, flags=flags, signature=sig, threads=self.threads,
                                          body="".join(line + "\n" for line in self.body),
                                          after="".join(line[4:] + "\n" for line in self.after))


def load(source: str):
    """Import the kernel module from a file named by the source's hash (numba's
    on-disk cache needs a real file; the hash makes it stable across runs)."""
    digest = hashlib.sha256(source.encode()).hexdigest()[:20]
    name = f"spikemem_kernel_{digest}"
    if name in sys.modules:
        return sys.modules[name]
    os.makedirs(CACHE_DIR, exist_ok=True)
    path = os.path.join(CACHE_DIR, name + ".py")
    if not os.path.exists(path):
        fd, tmp = tempfile.mkstemp(dir=CACHE_DIR, suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            f.write(source)
        os.replace(tmp, path)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module



CLOCK_NAMES = {"t": "t", "dt": "dt", "t_in_timesteps": "step"}

#: automatic thread count: one thread per this many neurons (below it the
#: barrier costs more than the split saves), at most one per core
NEURONS_PER_THREAD = 1024


#: neurons per block of the spike-flag scan: 64 one-byte flags, one cache line
BLOCK = 64

#: ends the kernel lines that load or store a recomputed flag array (see
#: ``Assembler._drop_unread_flags``)
RECOMPUTED = "  # recomputed"


def thread_ranges(size: int, threads: int) -> np.ndarray:
    """First neuron of each thread, then ``size``: whole ``BLOCK``s, so that each
    thread scans whole blocks of spike flags and writes whole cache lines."""
    return np.array([min(size, -(-(size * k // threads) // BLOCK) * BLOCK) for k in range(threads)] + [size],
                    np.int64)


def last_spike_steps(lastspike: np.ndarray, dt: float) -> np.ndarray:
    """The refractory test's integer twin of ``lastspike``: the step of each
    neuron's last spike, as int32 (half the bytes the neuron loop reads; the
    run widens it to int64 before steps outgrow int32, see
    ``NumbaSimulation.run``). Brian2's "never" (-1e4 s) is clipped to the
    smallest int32, which is just as far in the past for the test."""
    steps = np.rint(np.asarray(lastspike, np.float64) / dt)
    return np.clip(steps, np.iinfo(np.int32).min, np.iinfo(np.int32).max).astype(np.int32)


def owners(bounds: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """The thread that owns each neuron in ``ids``."""
    return np.searchsorted(bounds, ids, side="right") - 1


def one_value(values: np.ndarray):
    """``values`` (floats) as their one value broadcast over them, if every
    element has the same bits, else None. A read-only, zero-stride array of
    one element: numba compiles the kernel for it separately, and the kernel
    reads the same number for every synapse instead of a stream of copies."""
    bits = values.view(f"u{values.itemsize}")
    if values.size > 1 and (bits == bits[0]).all():
        return np.broadcast_to(values[:1].copy(), values.shape)
    return None


#: bytes: a cache line, one AVX-512 vector
ALIGN = 64


def aligned(array):
    """``array`` with its data starting on a cache line (copied there if it
    does not): a vector load or store that straddles two lines costs about
    twice one that does not, and the neuron loops stream their arrays from L2
    every step (CUBA's kernel: up to 1.7x faster aligned)."""
    if (not isinstance(array, np.ndarray) or is_one_value(array)
            or (array.flags.c_contiguous and array.ctypes.data % ALIGN == 0)):
        return array
    buf = np.empty(array.nbytes + ALIGN, np.uint8)
    start = -buf.ctypes.data % ALIGN
    out = buf[start:start + array.nbytes].view(array.dtype).reshape(array.shape)
    out[...] = array
    return out


def is_one_value(array) -> bool:
    return isinstance(array, np.ndarray) and array.ndim == 1 and array.strides == (0,)


def held_bytes(array: np.ndarray) -> int:
    """Memory ``array`` holds: a ``one_value`` array holds one element."""
    return array.itemsize if is_one_value(array) else int(array.nbytes)


def index_type(size: int):
    """The narrowest index dtype for a population of ``size`` neurons."""
    return np.uint16 if size <= 1 << 16 else np.int32


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:      # not on Linux
        return os.cpu_count() or 1


def auto_threads(built) -> int:
    neurons = sum(p.size for p in built.populations.values() if p.kind == "neuron")
    return max(1, min(available_cores(), neurons // NEURONS_PER_THREAD))


def assemble(built, objects, threads=1, strict_float=True, dtype=np.float64, shared_traces=False) -> "Assembler":
    """The assembled kernel for ``threads`` threads ("auto": ``auto_threads``
    where the network splits, else one); ``strict_float=False``: with
    ``FAST_MATH``; ``dtype``: the type of floating-point state and parameters;
    ``shared_traces``: event-driven traces once per neuron where they can be
    (``Assembler.find_shared_traces``)."""
    one = Assembler(built, objects, 1, strict_float, dtype, shared_traces)
    one.assemble()
    if threads == "auto":
        threads = 1 if one.serial_reasons else auto_threads(built)
    elif threads > 1 and one.serial_reasons:
        raise ModelError(f"numba backend: threads={threads} is not possible for this network, it runs "
                         f"on one thread: {one.serial_reasons[0]}")
    if threads == 1:
        return one
    many = Assembler(built, objects, threads, strict_float, dtype, shared_traces)
    many.assemble()
    return many


#: ``exp(<loop invariant> * (- (t - <array>[_s])))``: an event-driven trace's decay since the
#: synapse's last update, as Brian2's statements write it in every pathway
_DECAY = re.compile(r"exp\((_b\d+_lio_\d+) \* (\(- \(t - (\w+\[_[sij]\])\)\))\)")


def shared_decays(body: list[str], ind: str) -> tuple[list[str], list[str]]:
    """``body`` with its trace decays computed only where they can differ, and
    the lines (before the loop, once per step) that set them up.

    Every decay of a synapse's traces depends on the step's time and the
    synapse's last update only, so the decays of the previous synapse are
    reused while the last update is the same (the synapses of a row that one
    spike reached through one delay were last updated together, most of the
    time). Traces of equal time constants (Diehl and Cook's tau_pre and
    tau_post1) decay by the same ``exp``: where the factors are equal at run
    time the first decay serves both. Either way the very same ``exp`` of the
    very same argument is reused: bit for bit what computing it again gives.
    Only decays read before any line writes the time they decay from."""
    found = [(k, m) for k, line in enumerate(body) for m in _DECAY.finditer(line)]
    if not found:
        return body, []
    args = {m.group(2) for _, m in found}
    first, last = found[0][0], found[-1][0]
    writes = any(re.match(rf"\s*{re.escape(m.group(3))} =", body[k])
                 for k in range(first, last + 1) for _, m in found)
    if len(args) != 1 or writes:
        return body, []
    arg, since = args.pop(), found[0][1].group(3)
    factors = list(dict.fromkeys(m.group(1) for _, m in found))
    lead, rest = factors[0], factors[1:]
    # the decays of the last update seen this step (NaN: none yet, never equal)
    setup = [f"        {lead}_since = np.nan"] + [f"        {f}_e = 0.0" for f in factors]
    setup += [f"        {f}_same = {f} == {lead}" for f in rest]
    decays = [f"{ind}if {since} != {lead}_since:", f"{ind}    {lead}_since = {since}",
              f"{ind}    {lead}_e = exp({lead} * {arg})"]
    decays += [f"{ind}    {f}_e = {lead}_e if {f}_same else exp({f} * {arg})" for f in rest]
    out = [_DECAY.sub(lambda m: f"{m.group(1)}_e", line) for line in body]
    return out[:first] + decays + out[first:], setup


class Assembler:
    """Builds the kernel for one network from its lowered Brian2 objects."""

    def __init__(self, built, objects, threads: int = 1, strict_float: bool = True, dtype=np.float64,
                 shared_traces: bool = False):
        self.built, self.objects, self.threads = built, objects, threads
        self.shared_traces = shared_traces
        self.shared: dict = {}                  # projection index -> {trace: "pre" or "post"} held per neuron
        self.k = Kernel(threads, strict_float, dtype)
        self.serial_reasons: list[str] = []     # why the network cannot be split between threads
        self.synapse_writes: dict = {}          # projection index -> per-synapse variables written
        self.synapse_order: dict = {}           # projection index -> kernel order of its synapses
        self._statements: dict = {}             # code runner -> its Brian2 statements
        self.recomputed: set = set()            # flag arrays each update computes afresh
        # signal component name -> the kernel local that holds its value this step
        self.signal_locals = {n: f"_sg{k}_{c}" for k, sig in enumerate(built.signals)
                              for c, n in enumerate(sig.names)}
        self.k.arg("dt", float(built.dt))
        self.now = "t"        # what the statements' t is in the kernel (see ``_catch_up_code``)
        # projection index -> the runners that integrate its clock-driven equations when read
        self.catch_ups = {kp: runners for kp, syn in enumerate(objects.synapses) if (runners := catch_ups(syn))}
        self.history = {}     # population -> ring length
        # projection name -> index, for the projections whose synapses another projection
        # sums into or reads (kept in Brian2's order, as that projection indexes them)
        self.linked_to = {built.projections[k].name: k for k in
                          (built.linked_index(p) for p in built.projections if p.linked)}
        for proj in built.projections:
            if proj.linked == "pre":
                continue          # its pre side is synapses, which have no spikes
            need = int(proj.delay.max()) + 1 if proj.delay.size else 2
            if proj.conv is not None:
                need = proj.conv.delay + 1
            self.history[proj.pre] = max(self.history.get(proj.pre, 2), need)
        for name, pop in built.populations.items():
            bounds = thread_ranges(pop.size, threads) if pop.kind == "neuron" else \
                np.array([0] + [pop.size] * threads, np.int64)      # a source belongs to thread 0
            self.k.arg(f"{name}___range", bounds)

    def serial(self, reason: str):
        assert self.threads == 1, reason
        self.serial_reasons.append(reason)

    # --- naming
    def render(self, stmts, names, ind) -> list[str]:
        return codegen.render(stmts, names, ind, cast=self.k.cast)

    def array(self, var, index: str) -> str:
        """Kernel expression for a neuron-group array variable at ``index``; a
        variable of synapses that another projection sums into or reads is the
        array of their own projection."""
        kq = self.linked_to.get(var.owner.name)
        if kq is not None:
            name = f"p{kq}__{var.name}"
            if name not in self.k.values:
                self.k.arg(name, self.synapse_values(kq, var.name, var.get_value()))
            return f"{name}[{index}]"
        name = f"{var.owner.name}__{var.name}"
        self.k.arg(name, np.array(var.get_value(), copy=True))
        return f"{name}[{index}]"

    def names(self, variables, indices, index_for, owner_prefix, stmts=()):
        # Brian2 numbers loop invariants per code object; keep them apart here.
        self._block = getattr(self, "_block", 0) + 1
        out = {s.var: f"_b{self._block}{s.var}" for s in stmts if s.var.startswith("_lio_")}
        for name, var in variables.items():
            if name in CLOCK_NAMES:
                out[name] = self.now if name == "t" else CLOCK_NAMES[name]
            elif isinstance(var, Constant):
                out[name] = self.k.arg(f"{owner_prefix}__{name}", self.k.scalar(var.get_value()))
            elif isinstance(var, ArrayVariable) and var.scalar and name in self.signal_locals:
                out[name] = self.signal_locals[name]     # set at the step's start (``signals``)
            elif isinstance(var, ArrayVariable) and not var.scalar:
                expr = index_for(name, var, indices.get(name, "_idx"))
                if expr is not None:
                    out[name] = expr
        return out

    # --- pieces of the step
    def inputs(self):
        """Each thread sets its own neurons' values (a row per change: (K, n))."""
        for k, inp in enumerate(self.built.inputs):
            var = self.objects.groups[inp.population].variables[inp.variable]
            target = self.array(var, "_lo:_hi")
            steps = self.k.arg(f"in{k}__steps", inp.steps.astype(np.int64))
            values = self.k.arg(f"in{k}__values", inp.values.astype(var.dtype))
            ptr = self.k.arg(f"in{k}__ptr", np.zeros(self.threads, np.int64))
            lines = [f"        _lo = {inp.population}___range[_tid]",
                     f"        _hi = {inp.population}___range[_tid + 1]"]
            every = self.built.populations[inp.population].every
            if every == 1:
                self.k.body += lines + [
                    f"        if {ptr}[_tid] < {steps}.shape[0] and {steps}[{ptr}[_tid]] == step:",
                    f"            {target} = {values}[{ptr}[_tid], _lo:_hi]",
                    f"            {ptr}[_tid] += 1"]
                continue
            # a population with its own dt takes, on its ticks, the last value due by then
            self.k.body += self.gated(lines + [
                f"        while {ptr}[_tid] < {steps}.shape[0] and {steps}[{ptr}[_tid]] <= step:",
                f"            {target} = {values}[{ptr}[_tid], _lo:_hi]",
                f"            {ptr}[_tid] += 1"], every, 0)

    def signals(self):
        """Each signal's sample for this step, as Brian2's TimedArray picks it
        (``network.sample_index``), clipped to the last sample, into one local
        per component; the samples are an argument, so ``set_signal`` needs no
        new kernel."""
        from ...network import signal_oversampling
        for k, sig in enumerate(self.built.signals):
            over = signal_oversampling(self.built.dt, sig.dt)
            values = self.k.arg(f"sg{k}__values", sig.values.astype(self.k.dtype))
            eps = self.k.arg(f"sg{k}__eps", float(sig.dt / over))
            self.k.body += [f"        _sk = np.int64((t / {eps} + 0.5) / {over})",
                            f"        _sk = min(max(_sk, 0), {values}.shape[0] - 1)"]
            self.k.body += [f"        _sg{k}_{c} = {values}[_sk, {c}]" for c in range(sig.values.shape[1])]

    # --- synapses
    def synapse_arrays(self, kp, proj):
        """CSR by presynaptic neuron (the connectors' (pre, post) order is Brian2's
        synapse order too), one row-pointer table per thread over that thread's
        synapses (those onto its neurons, kept in Brian2's order), plus the
        per-synapse pre index and a post -> synapse index where postsynaptic
        events or per-synapse loops need them."""
        p = f"p{kp}"
        if f"{p}___indptr" in self.k.values:
            return p
        n_pre = self.built.populations[proj.pre].size
        owner = owners(self.k.values[f"{proj.post}___range"], proj.j)
        if self.by_delay(proj):
            # each row's synapses grouped by delay (Brian2's order kept within a delay), so
            # that a spike of ``lag`` steps ago visits its own synapses only: the same ones,
            # in the same order, as skipping the others (``delivery``)
            self.synapse_order[kp] = np.lexsort((np.arange(proj.i.size), proj.delay, proj.i, owner))
        elif self.threads > 1:
            self.synapse_order[kp] = np.argsort(owner, kind="stable")
        indptr = np.zeros((self.threads, n_pre + 1), np.int64)
        start = 0
        for tid in range(self.threads):
            indptr[tid, 0] = start
            np.cumsum(np.bincount(proj.i[owner == tid], minlength=n_pre), out=indptr[tid, 1:])
            indptr[tid, 1:] += start
            start = indptr[tid, -1]
        self.k.arg(f"{p}___indptr", indptr)
        post_index = index_type(self.built.populations[proj.post].size)
        self.k.arg(f"{p}___post", self.in_kernel_order(kp, proj.j.astype(post_index)))
        self.k.arg(f"{p}__w", self.synapse_values(kp, "w", proj.w))
        return p

    def by_delay(self, proj) -> bool:
        """Whether the kernel keeps ``proj``'s synapses grouped by delay within each row:
        where delays differ, unless a summed variable adds every synapse's term in
        synapse order (Brian2's), or the table of where each delay starts
        (``delay_table``) would take more than one number per synapse."""
        if not proj.delay.size or proj.delay.min() == proj.delay.max() or "(summed)" in proj.equations \
                or proj.name in self.linked_to:
            return False
        span = int(proj.delay.max() - proj.delay.min()) + 1
        return self.threads * self.built.populations[proj.pre].size * (span + 1) <= proj.i.size

    def delay_table(self, kp, proj) -> np.ndarray:
        """``table[tid, i, lag - dmin]``: where thread ``tid``'s synapses of
        presynaptic neuron ``i`` with a delay of ``lag`` steps start in kernel
        order (``table[tid, i, span]``, where the row ends)."""
        n_pre = self.built.populations[proj.pre].size
        dmin = int(proj.delay.min())
        span = int(proj.delay.max()) - dmin + 1
        owner = owners(self.k.values[f"{proj.post}___range"], proj.j)
        group = (owner * n_pre + proj.i) * span + (proj.delay - dmin)
        starts = np.zeros(self.threads * n_pre * span + 1, np.int64)
        np.cumsum(np.bincount(group, minlength=starts.size - 1), out=starts[1:])
        rows = np.arange(self.threads * n_pre).reshape(self.threads, n_pre, 1) * span
        return starts[rows + np.arange(span + 1)]

    def in_kernel_order(self, kp, per_synapse: np.ndarray) -> np.ndarray:
        order = self.synapse_order.get(kp)
        return per_synapse if order is None else per_synapse[order]

    def synapse_values(self, kp, name, values) -> np.ndarray:
        """A per-synapse variable in kernel order; one that no statement writes
        and that is the same for every synapse (a weight given as one number)
        as ``one_value``."""
        # the times up to which synapses are integrated stay float64 (see ``lowering``)
        dtype = np.float64 if name.startswith(INTEGRATED_UNTIL) else self.k.dtype
        values = np.array(values, dtype=dtype, copy=True)
        if name not in self.synapse_writes.get(kp, ()):
            one = one_value(values)
            if one is not None:
                return one
        return self.in_kernel_order(kp, values)

    def statements(self, runner):
        """Brian2's (scalar, vector) statements of ``runner``, made once per kernel
        (``written`` and ``synaptic_code`` both read a projection's)."""
        if runner not in self._statements:
            self._statements[runner] = codegen.statements(runner.abstract_code, runner.codeobj.variables,
                                                          self.k.dtype)
        return self._statements[runner]

    def written(self, proj, syn) -> set:
        """The per-synapse variables some statement of ``syn`` writes."""
        runners = [getattr(syn, name) for name, used in (("pre", proj.on_pre), ("plastic", proj.plastic_pre),
                                                         ("post", proj.on_post)) if used]
        runners += [syn.state_updater] + catch_ups(syn) + list(syn.summed_updaters.values())
        out = set()
        for runner in runners:
            if runner is None or not runner.abstract_code.strip():
                continue
            for stmt in self.statements(runner)[1]:
                var = runner.codeobj.variables.get(stmt.var)
                if var is not None and getattr(var, "owner", None) is not None and var.owner.name == syn.name:
                    out.add(var.name)
        return out

    def synapse_index(self, kp, proj):
        p = f"p{kp}"
        if f"{p}___pre" not in self.k.values:
            pre_index = index_type(self.built.populations[proj.pre].size)
            self.k.arg(f"{p}___pre", self.in_kernel_order(kp, proj.i.astype(pre_index)))
            by_post = np.argsort(proj.j, kind="stable")     # Brian2's order of a post neuron's synapses
            order = self.synapse_order.get(kp)
            if order is not None:          # ... by their places in kernel order
                where = np.empty_like(order)
                where[order] = np.arange(order.size)
                by_post = where[by_post]
            indptr = np.zeros(self.built.populations[proj.post].size + 1, np.int64)
            np.cumsum(np.bincount(proj.j, minlength=indptr.size - 1), out=indptr[1:])
            self.k.arg(f"{p}___pindptr", indptr)
            # a synapse's place: 4 bytes (the kernel's other tables are int64, a copy each)
            self.k.arg(f"{p}___psyn", by_post.astype(np.int32 if proj.i.size < 1 << 31 else np.int64))

    def synaptic_code(self, kp, syn, runner, ind, side=None):
        """(lines before the loop, lines per synapse, presynaptic variables read,
        lines per spike) for one of ``syn``'s code objects; synapse ``_s`` joins
        presynaptic ``_i`` and postsynaptic ``_j``. ``side``: "pre" (on_pre) or
        "post" (on_post), the neuron whose spike runs the code: its shared
        traces are updated once per spike, in the lines per spike."""
        p = f"p{kp}"
        codeobj = runner.codeobj
        scalar, vector = self.statements(runner)
        shared = self.shared.get(kp, {})
        per_spike, per_step, overrides, stores = [], [], {}, []
        if shared:
            vector, per_spike, per_step, overrides, stores = self.split_shared(kp, syn, codeobj, vector, side)
        # names a statement's own map overrides are not read from the synapse's arrays
        used = codegen.names_in(scalar) | {n for st in vector + per_spike + per_step
                                           for n in codegen.names_in([st]) - set(overrides.get(id(st), ()))}
        presynaptic = set()

        def index_for(name, var, index):
            if name not in used:
                return None
            if var.owner.name == syn.name and name in shared:
                return None          # held per neuron: each statement names its array (``split_shared``)
            if var.owner.name == syn.name:
                if f"{p}__{var.name}" not in self.k.values:     # w is there from synapse_arrays
                    self.k.arg(f"{p}__{var.name}", self.synapse_values(kp, var.name, var.get_value()))
                return f"{p}__{var.name}[_s]"
            if index == "_postsynaptic_idx":
                return self.array(var, "_j")
            if index == "_presynaptic_idx":
                presynaptic.add(name)
                return self.array(var, "_i")
            return None

        names = self.names(codeobj.variables, codeobj.variable_indices, index_for, p, scalar)
        spike_lines = []
        for stmt in per_spike:
            spike_lines += self.render([stmt], {**names, **overrides.get(id(stmt), {})}, ind[:-4])
        body = []
        for stmt in vector:
            body += self.render([stmt], {**names, **overrides.get(id(stmt), {})}, ind)
        body, same = shared_decays(body, ind)
        if per_step:
            same += self.decayed_now(kp, syn, side, per_step, names, overrides)
        # Brian2 skips writes to variables flagged "(unless refractory)" of a
        # refractory postsynaptic neuron; so does the engine.
        guards = {codeobj.variables[s.var].conditional_write for s in vector
                  if s.var in codeobj.variables
                  and getattr(codeobj.variables[s.var], "conditional_write", None) is not None}
        if guards:
            cond = " and ".join(self.array(g, "_j") for g in guards)
            body = [f"{ind}if {cond}:"] + ["    " + b for b in body]
        if any(not s.var.startswith("_lio_") for s in scalar):
            presynaptic.add("shared variables")
        if guards and per_spike:
            raise AssertionError("find_shared_traces keeps guarded pathways per synapse")
        if per_spike and side is not None:
            spike_lines += self.store_shared(kp, side, stores, ind[:-4])
        return self.render(scalar, names, "        ") + same, body, presynaptic, spike_lines

    # --- event-driven traces held once per neuron
    @staticmethod
    def traces_of(syn) -> list[str]:
        """The synapse model's event-driven variables."""
        return sorted(syn.event_driven.diff_eq_names) if syn.event_driven is not None else []

    @staticmethod
    def decayed(stmt, traces):
        """The trace whose decay since the last update ``stmt`` is (Brian2's
        ``_x := x * exp(... (- (t - lastupdate)))``, put in front of every
        pathway), else None."""
        x = stmt.var[1:]
        if stmt.op == ":=" and x in traces and re.fullmatch(rf"{x} \* exp\(.*\(- \(t - lastupdate\)\)\)", stmt.expr):
            return x
        return None

    def user_statements(self, runner, traces) -> list:
        """``runner``'s vector statements less Brian2's own bookkeeping of the
        traces (their decays, the decayed values stored back, ``lastupdate = t``)."""
        if runner is None or not runner.abstract_code.strip():
            return []
        return self.user_statements_of(self.statements(runner)[1], traces)

    def user_statements_of(self, vector, traces):
        return [st for st in vector
                if not (self.decayed(st, traces) or (st.var in traces and st.expr == f"_{st.var}")
                        or (st.var == "lastupdate" and st.expr == "t"))]

    def find_shared_traces(self, proj, syn) -> dict:
        """{trace: "pre" or "post"}: the event-driven variables that have the same
        value on every synapse of a presynaptic ("pre") or postsynaptic ("post")
        neuron at all times, so that the kernel holds them once per neuron.

        A trace qualifies where the statements that set it all run in one
        pathway (on_pre, which runs when the presynaptic neuron fires, or
        on_post) and read only that pathway's neuron, constants and the
        neuron's other such traces; where no other code (the delivery of
        spikes, clock-driven equations, summed variables) reads it; where no
        "(unless refractory)" guard skips a synapse; and where it starts with one
        value on the synapses of each neuron. Between two spikes of its neuron
        such a trace decays alike on all of its synapses (up to the rounding of
        Brian2's per-synapse updates, which this storage does not repeat)."""
        traces = self.traces_of(syn)
        if not traces:
            return {}
        pathways = {}
        if proj.plastic_pre:
            pathways["pre"] = syn.plastic
        if proj.on_post:
            pathways["post"] = syn.post
        others = ([syn.pre] if proj.on_pre else []) + [syn.state_updater] + list(syn.summed_updaters.values())
        user = {side: self.user_statements(r, traces) for side, r in pathways.items()}
        for runner in list(pathways.values()) + others:
            if runner is None or not runner.abstract_code.strip():
                continue
            variables = runner.codeobj.variables
            if any(getattr(variables.get(st.var), "conditional_write", None) is not None
                   for st in self.statements(runner)[1]):
                return {}
        elsewhere = codegen.names_in([st for r in others for st in self.user_statements(r, traces)])
        # a trace whose decay is not the plain exponential (``dx/dt = (1 - x)/tau``) stays per synapse
        other_form = {st.var[1:] for stmts in user.values() for st in stmts if st.var.startswith("_")}
        found = {}
        for x in traces:
            sides = {side for side, stmts in user.items() if any(st.var == x for st in stmts)}
            if len(sides) == 1 and x not in elsewhere and x not in other_form:
                found[x] = sides.pop()

        def reads_its_side(x, side):
            codeobj = pathways[side].codeobj
            own = "_presynaptic_idx" if side == "pre" else "_postsynaptic_idx"
            for st in user[side]:
                if st.var != x:
                    continue
                for name in codegen.names_in([st]) - {x}:
                    var = codeobj.variables.get(name)
                    if not (name in CLOCK_NAMES or name.startswith("_lio_") or found.get(name) == side
                            or isinstance(var, Constant)
                            or (isinstance(var, Function) and name not in codegen.RANDOM_CALLS)
                            or (isinstance(var, ArrayVariable) and var.owner.name != syn.name
                                and codeobj.variable_indices.get(name) == own)):
                        return False
            return True

        changed = True
        while changed:        # a trace read by one that cannot be shared cannot be either
            changed = False
            for x, side in list(found.items()):
                if not reads_its_side(x, side):
                    del found[x]
                    changed = True
        for x, side in list(found.items()):
            if self.neuron_values(proj, syn.variables[x].get_value(), side) is None:
                del found[x]
        return found

    def neuron_values(self, proj, per_synapse, side):
        """One value per ``side`` neuron from ``per_synapse`` (Brian2's order),
        None where a neuron's synapses hold different values; 0 for neurons
        without synapses."""
        index = proj.i if side == "pre" else proj.j
        size = self.built.populations[proj.pre if side == "pre" else proj.post].size
        per_synapse = np.asarray(per_synapse, self.k.dtype)
        values = np.zeros(size, self.k.dtype)
        values[index] = per_synapse
        if (values[index].view(f"u{values.itemsize}") != per_synapse.view(f"u{values.itemsize}")).any():
            return None
        return values

    def keeps_lastupdate(self, kp, syn) -> bool:
        """Whether a synapse's last update is still needed: by a trace held per
        synapse, or by a statement that reads it."""
        traces = self.traces_of(syn)
        runners = [getattr(syn, name, None) for name in ("pre", "plastic", "post")] + [syn.state_updater]
        return (any(x not in self.shared.get(kp, {}) for x in traces)
                or "lastupdate" in codegen.names_in([st for r in runners for st in self.user_statements(r, traces)]))

    def shared_array(self, kp, syn, x) -> str:
        """The kernel array of trace ``x``, one value per neuron, and its
        neurons' last update ``p{kp}___lu_{side}`` (Brian2's lastupdate starts at 0)."""
        p, side = f"p{kp}", self.shared[kp][x]
        proj = self.built.projections[kp]
        if f"{p}__{x}" not in self.k.values:
            self.k.arg(f"{p}__{x}", self.neuron_values(proj, syn.variables[x].get_value(), side))
        if f"{p}___lu_{side}" not in self.k.values:
            size = self.built.populations[proj.pre if side == "pre" else proj.post].size
            self.k.arg(f"{p}___lu_{side}", np.zeros(size, np.float64))
        return f"{p}__{x}"

    def split_shared(self, kp, syn, codeobj, vector, side):
        """(statements per synapse, statements per spike, the other side's
        decays once per step, name overrides by statement, the spike's traces
        to store) for a pathway run by ``side``'s spikes (None: the delivery
        and other per-synapse code).

        The pathway's own shared traces are decayed and set once per spike;
        each value a per-synapse statement reads is a local of its own
        (``_svN_x``), so that it sees the value Brian2's order gives it (on_post
        reads post2 before setting it). The other side's shared traces are
        decayed once per step with spikes, for all their neurons (into
        ``p{kp}___decayed_{x}``, where a statement reads them; not stored back,
        and unread they are not touched): a row's synapses reach every target,
        and the targets' last updates alternate too often for a decay per
        synapse to be reused. ``lastupdate = t`` goes where no trace needs it."""
        p, shared = f"p{kp}", self.shared[kp]
        traces = self.traces_of(syn)
        index = {"pre": "_i", "post": "_j"}

        def at_neuron(x):
            return {x: f"{self.shared_array(kp, syn, x)}[{index[shared[x]]}]",
                    "lastupdate": f"{p}___lu_{shared[x]}[{index[shared[x]]}]"}

        read = codegen.names_in(self.user_statements_of(vector, traces))
        keep_lastupdate = self.keeps_lastupdate(kp, syn)
        current = {x: at_neuron(x)[x] for x in shared if shared[x] == side}
        decayed = {x: f"{p}___decayed_{x}[{index[shared[x]]}]" for x in shared if shared[x] != side}
        per_spike, per_synapse, per_step, overrides = [], [], [], {}
        for st in vector:
            x = self.decayed(st, traces)
            if x in shared:
                if shared[x] == side:
                    per_spike.append(st)
                elif x in read:
                    per_step.append(st)
                overrides[id(st)] = at_neuron(x)
            elif st.var == "lastupdate" and st.expr == "t":
                if keep_lastupdate:
                    per_synapse.append(st)
            elif st.var in shared:
                if shared[st.var] != side:
                    continue          # the other side's decayed value stored back: read as _x instead
                self._shared_local = getattr(self, "_shared_local", 0) + 1     # unique in the kernel
                new = copy.copy(st)
                new.var, new.op = f"_sv{self._shared_local}_{st.var}", "="
                if st.op not in ("=", ":="):
                    new.expr = f"{st.var} {st.op[:-1]} ({st.expr})"
                per_spike.append(new)
                overrides[id(new)] = dict(current)
                current[st.var] = new.var
            else:
                per_synapse.append(st)
                overrides[id(st)] = {**current, **decayed}
        stores = [(at_neuron(x)[x], local) for x, local in current.items() if local != at_neuron(x)[x]]
        return per_synapse, per_spike, per_step, overrides, stores

    def decayed_now(self, kp, syn, side, per_step, names, overrides) -> list[str]:
        """Lines before ``side``'s spike loop: where it fired this step, the
        other side's shared traces this pathway reads, decayed to now for every
        neuron of that side (their decays reused from the neuron before, where
        its last update is the same: ``shared_decays``)."""
        proj = self.built.projections[kp]
        mine, other = (proj.pre, proj.post) if side == "pre" else (proj.post, proj.pre)
        index = "_j" if side == "pre" else "_i"
        ind = " " * 16
        body = []
        for st in per_step:
            x = st.var[1:]
            self.k.arg(f"p{kp}___decayed_{x}", np.zeros(self.built.populations[other].size, self.k.dtype))
            body += self.render([st], {**names, **overrides[id(st)]}, ind)
            body.append(f"{ind}p{kp}___decayed_{x}[{index}] = _{x}")
        body, same = shared_decays(body, ind)
        return ["        _slot = _now_" + mine, "        _any = 0", "        for _u in range(_T):",
                f"            _any += {mine}__hcount[_slot, _u]", "        if _any > 0:"] + \
            ["    " + line for line in same] + \
            [f"            for {index} in range(p{kp}___decayed_{per_step[0].var[1:]}.shape[0]):"] + body

    def store_shared(self, kp, side, stores, ind) -> list[str]:
        """After a spike's own shared traces are computed: store them (``stores``:
        (array element, local) pairs) and the time."""
        lines = [f"{ind}{array} = {local}" for array, local in stores]
        index = {"pre": "_i", "post": "_j"}[side]
        if f"p{kp}___lu_{side}" in self.k.values:
            lines.append(f"{ind}p{kp}___lu_{side}[{index}] = t")
        return lines

    def delivery(self, kp, proj, syn):
        """Presynaptic events: the spikes of ``delay`` steps ago, through their synapses."""
        pre = proj.pre
        hist = f"{pre}__hist"
        p = self.synapse_arrays(kp, proj)
        dmin = int(proj.delay.min())
        dmax = int(proj.delay.max())
        self.k.arg(f"{p}___dmin", dmin)
        self.k.arg(f"{p}___dmax", dmax)
        hetero = dmin != dmax
        grouped = hetero and self.by_delay(proj)
        if grouped:
            self.k.arg(f"{p}___dptr", self.delay_table(kp, proj))
        elif hetero:
            self.k.arg(f"{p}___delay", self.in_kernel_order(kp, proj.delay.astype(np.int16)))
        ind = " " * 24
        lines, body, shared, _ = self.synaptic_code(kp, syn, syn.pre, ind)
        lines, body = self.caught_up(kp, "t", lines, body, ind)     # before the groups' update
        if shared:
            self.serial(f"projection '{proj.name}' reads or writes {', '.join(sorted(shared))} "
                        f"of other threads' neurons when spikes arrive")
        lines += [
            f"        for _lag in range({p}___dmax, {p}___dmin - 1, -1):",
            "            if step - _lag < 0:",
            "                continue",
            f"            _slot = _now_{pre} - _lag",
            "            if _slot < 0:",
            f"                _slot += {hist}.shape[0]",
        ] + self._spike_list(pre, "_i", " " * 12)
        if grouped:
            lines += [f"                    for _s in range({p}___dptr[_tid, _i, _lag - {p}___dmin], "
                      f"{p}___dptr[_tid, _i, _lag - {p}___dmin + 1]):"]
        else:
            lines += [f"                    for _s in range({p}___indptr[_tid, _i], {p}___indptr[_tid, _i + 1]):"]
        if hetero and not grouped:
            lines += [f"{ind}if {p}___delay[_s] != _lag:", f"{ind}    continue"]
        lines += [f"{ind}_j = {p}___post[_s]"] + body
        self.k.body += lines

    @staticmethod
    def _spike_list(pop, index, ind):
        """Kernel lines looping over ``pop``'s spikes in ring slot ``_slot``
        (neuron index in ``index``), every thread's part in thread order."""
        hist, count = f"{pop}__hist", f"{pop}__hcount"
        return [f"{ind}for _u in range(_T):",
                f"{ind}    _base = {pop}___range[_u]",
                f"{ind}    for _q in range({count}[_slot, _u]):",
                f"{ind}        {index} = {hist}[_slot, _base + _q]"]

    def _spikes_now(self, pop, index, inner):
        """The spikes ``pop`` fired this step, with ``inner`` inside the loop."""
        return [f"        _slot = _now_{pop}"] + self._spike_list(pop, index, " " * 8) + inner

    def presynaptic(self, kp, proj, syn):
        """The synapse model's on_pre: the spikes the presynaptic population fired this step."""
        self.serial(f"projection '{proj.name}' is plastic (on_pre updates synapses)")
        p = self.synapse_arrays(kp, proj)
        ind = " " * 20
        lines, body, _, spike = self.synaptic_code(kp, syn, syn.plastic, ind, side="pre")
        lines, body = self.caught_up(kp, "t + dt", lines, body, ind)   # after this step's synaptic update
        self.k.body += lines + self._spikes_now(proj.pre, "_i", spike + [
            f"                for _s in range({p}___indptr[0, _i], {p}___indptr[0, _i + 1]):",
            f"{ind}_j = {p}___post[_s]"]) + body

    def postsynaptic(self, kp, proj, syn):
        """on_post: the spikes the postsynaptic population fired this step."""
        self.serial(f"projection '{proj.name}' is plastic (on_post)")
        p = self.synapse_arrays(kp, proj)
        self.synapse_index(kp, proj)
        ind = " " * 20
        lines, body, _, spike = self.synaptic_code(kp, syn, syn.post, ind, side="post")
        lines, body = self.caught_up(kp, "t + dt", lines, body, ind)
        self.k.body += lines + self._spikes_now(proj.post, "_j", spike + [
            f"                for _k in range({p}___pindptr[_j], {p}___pindptr[_j + 1]):",
            f"{ind}_s = {p}___psyn[_k]",
            f"{ind}_i = {p}___pre[_s]"]) + body

    def _every_synapse(self, p, lines, body, after=()):
        ind = " " * 12
        return lines + [f"        for _s in range({p}___post.shape[0]):",
                        f"{ind}_i = {p}___pre[_s]", f"{ind}_j = {p}___post[_s]"] + body + list(after)

    # --- clock-driven synaptic equations integrated when read (``schedule.integrated_when_read``)
    def _catch_up_code(self, kp, runners, until, ind):
        """(lines before the loop, lines per synapse) that bring synapse ``_s``'s
        clock-driven equations of ``runners`` up to the time ``until`` (a kernel
        expression): the time their values hold in the stepwise schedule where
        they are read."""
        lines, body = [f"        _until = {until}"], []
        self.now = "_until"
        try:
            for runner in runners:
                before, update, _, _ = self.synaptic_code(kp, self.objects.synapses[kp], runner, ind)
                lines, body = lines + before, body + update
        finally:
            self.now = "t"
        return lines, body

    def caught_up(self, kp, until, lines, body, ind):
        """A pathway's (lines, body) with its synapse brought up to ``until`` first."""
        if kp not in self.catch_ups:
            return lines, body
        before, update = self._catch_up_code(kp, self.catch_ups[kp], until, ind)
        return before + lines, update + body

    def touching(self, kq, names: set) -> list:
        """The catch-up runners of projection ``kq`` that write or read any of ``names``."""
        return [r for r in self.catch_ups[kq] if codegen.names_in(self.statements(r)[1]) & names]

    def catch_up_all(self, kp, runners, until) -> list[str]:
        """Every synapse of projection ``kp`` brought up to ``until`` (each of ``runners``
        in a loop of its own), but those already there."""
        proj = self.built.projections[kp]
        p = self.synapse_arrays(kp, proj)
        self.synapse_index(kp, proj)
        out = []
        for runner in runners:
            lines, body = self._catch_up_code(kp, [runner], until, " " * 12)
            since = next(st.var for st in self.statements(runner)[1] if st.var.startswith(INTEGRATED_UNTIL))
            out += self._every_synapse(p, lines, [f"            if {p}__{since}[_s] == _until:",
                                                  "                continue"] + body)
        return out

    @staticmethod
    def gated(lines, every, phase) -> list[str]:
        """``lines`` (of the step) run only on the steps where ``step % every == phase``;
        phase 1 also on a run's first step (a sum that follows a population's tick)."""
        first = "step == s0 or " if phase else ""
        return [f"        if {first}step % {every} == {phase}:"] + ["    " + line for line in lines]

    def synapse_update(self, kp, proj, syn):
        """Clock-driven synaptic equations, every synapse every step."""
        self.serial(f"projection '{proj.name}' has synaptic equations")
        p = self.synapse_arrays(kp, proj)
        self.synapse_index(kp, proj)
        lines, body, _, _ = self.synaptic_code(kp, syn, syn.state_updater, " " * 12)
        self.k.body += self._every_synapse(p, lines, body)

    def summed(self, kp, proj, syn, side):
        """``x_post = expr : (summed)`` (``side`` "post") or ``x_pre = ...`` ("pre"):
        zero the target, then add every synapse's term in synapse order (Brian2's
        order, so the sums round alike)."""
        self.serial(f"projection '{proj.name}' has summed variables")
        start = len(self.k.body)
        kq = self.built.linked_index(proj)
        runners = []         # of the synapses it reads or writes, where integrated when read
        if kq in self.catch_ups:
            linked = self.objects.synapses[kq]
            runners = self.touching(kq, {v.name for u in summed_updaters(syn, side) for v in
                                         u.codeobj.variables.values()
                                         if getattr(getattr(v, "owner", None), "name", None) == linked.name})
        self._summed(kp, proj, syn, side, kq, runners)
        gate = summed_gate(self.built, proj, side)
        if gate is not None:
            self.k.body[start:] = self.gated(self.k.body[start:], *gate)

    def _summed(self, kp, proj, syn, side, kq, runners):
        if proj.linked:      # one side is synapses: the plain (pre, post) lists
            p = f"p{kp}"
            self.k.arg(f"{p}___pre", proj.i.astype(np.int64))
            self.k.arg(f"{p}___post", proj.j.astype(np.int64))
        else:
            p = self.synapse_arrays(kp, proj)
            self.synapse_index(kp, proj)
        targets = proj.i if side == "pre" else proj.j
        one_each = proj.summed_delay <= 1 and (targets.size == 0 or np.bincount(targets).max() <= 1)
        if runners and not (one_each and proj.linked == side):
            self.k.body += self.catch_up_all(kq, runners, "t")
        for n, updater in enumerate(summed_updaters(syn, side)):
            index = "_i" if side == "pre" else "_j"
            target = self.array(updater.target_var, index)
            if one_each:
                # no element sums two synapses: copy each one's term, in the targets' order
                self.k.body += self._gather(kp, p, proj, syn, updater, side, target, index,
                                            (kq, runners) if proj.linked == side else None)
                continue
            lines, body, _, _ = self.synaptic_code(kp, syn, updater, " " * 12)
            if proj.summed_delay > 1:
                self.k.body += self.delayed_sum(kp, proj, side, n, target, index, lines, body)
                continue
            self.k.body += [f"        {target.replace(f'[{index}]', '[:]')} = 0.0"]
            self.k.body += self._every_synapse(p, lines, body, [f"            {target} += _synaptic_var"])

    def delayed_sum(self, kp, proj, side, n, target, index, lines, body) -> list[str]:
        """A summed variable delayed by ``connect(delay=...)``: a ring of the target's
        next values, one row per step ahead. Each synapse adds its term, in synapse
        order, to the row its delay reaches (the rows start at zero, so a delay of
        one step rounds as the plain sum does); then the target takes the row of
        this step, which starts again from zero."""
        p = f"p{kp}"
        size = self.built.size_of(proj, side)
        ring = self.k.arg(f"{p}___sum_{side}{n}_ring", np.zeros((proj.summed_delay, size), self.k.dtype))
        if proj.delay.min() == proj.delay.max():
            ahead = f"{int(proj.delay[0]) - 1}"
        else:
            ahead = f"{self.k.arg(f'{p}___sum_delay', self.in_kernel_order(kp, proj.delay.astype(np.int64)))}[_s] - 1"
        add = [f"            {ring}[(step + {ahead}) % {ring}.shape[0], {index}] += _synaptic_var"]
        return self._every_synapse(p, lines, body, add) + [
            f"        _slot = step % {ring}.shape[0]",
            f"        {target.replace(f'[{index}]', '[:]')} = {ring}[_slot]",
            f"        {ring}[_slot] = 0.0"]

    def _gather(self, kp, p, proj, syn, updater, side, target, index, catch_up=None) -> list[str]:
        """A summed variable whose elements each receive at most one synapse: a
        loop over the elements that sets each to its synapse's term (0 without
        one). The same values as the sum (0 + x is x), without a pass that zeroes
        the target, and with the writes and the other side's indices in the
        elements' order: a sum over synapses sorted by the other side (astrocytes
        onto the synapses they cover) scatters its writes all over the target."""
        n = self.built.size_of(proj, side)
        synapse_of = np.full(n, -1, np.int64)
        targets, sources = (proj.i, proj.j) if side == "pre" else (proj.j, proj.i)
        order = self.synapse_order.get(kp)          # synapse _s is built synapse order[_s]
        if order is not None:
            targets, sources = targets[order], sources[order]
        synapse_of[targets] = np.arange(targets.size)
        # the other side's element of each element's synapse, held in the elements'
        # order: read in sequence where the synapses' own table would be read at random
        other_of = np.zeros(n, np.int64)
        other_of[targets] = sources
        where = f"{p}___gather_{side}"
        if where not in self.k.values:
            self.k.arg(where, synapse_of)
            self.k.arg(f"{where}_other", other_of)
        other = "_j" if side == "pre" else "_i"
        lines, body, _, _ = self.synaptic_code(kp, syn, updater, " " * 16)
        ind = " " * 12
        lines += [f"        for {index} in range({n}):",
                  f"{ind}_s = {where}[{index}]",
                  f"{ind}if _s < 0:",
                  f"{ind}    _synaptic_var = 0.0",
                  f"{ind}else:",
                  f"{ind}    {other} = {where}_other[{index}]"] + body
        if catch_up is not None and catch_up[1]:
            # the target elements are synapses integrated when read: one whose value changes
            # is brought up to now with its old value first
            kq, runners = catch_up
            before, update = self._catch_up_code(kq, runners, "t", ind + "    ")
            lines = before + lines + [f"{ind}if {target} != _synaptic_var:"]
            lines += [line.replace("[_s]", f"[{index}]") for line in update]
        return lines + [f"{ind}{target} = _synaptic_var"]

    def convolution(self, kp, proj):
        """A convolution's spike events or summed variable (``convolution``)."""
        self.serial(f"projection '{proj.name}' is a convolution")
        var = self.objects.groups[proj.post].variables[proj.target]
        target = self.array(var, "_j").replace("[_j]", "")
        if proj.conv.source is None:
            # as Brian2's synapses, no delivery onto a neuron whose variable is held while refractory
            guard = var.conditional_write
            guard = None if guard is None else self.array(guard, "_j").replace("[_j]", "")
            self.k.body += _convolution.events(self, kp, proj, target, guard)
        else:
            source = self.array(self.objects.groups[proj.pre].variables[proj.conv.source], "_i")
            self.k.body += _convolution.summed(self, kp, proj, target, source.replace("[_i]", ""))

    def ring(self, name, size):
        """The last steps' spikes: thread ``u`` lists its neurons' spikes of a step
        from column ``range[u]`` on, ``hcount[slot, u]`` of them."""
        h = self.history.get(name, 2)
        self.k.arg(f"{name}__hist", np.zeros((h, size), np.int32))
        self.k.arg(f"{name}__hcount", np.zeros((h, self.threads), np.int64))
        return f"{name}__hist", f"{name}__hcount"

    def neuron_group(self, pop, group):
        """The population's step (``_neuron_step``); one with its own dt steps on its
        ticks only, and its ring slot of every other step holds no spikes."""
        lines = self._neuron_step(pop, group)
        if pop.every > 1:
            lines = lines[:2] + self.gated(lines[2:], pop.every, 0)
        self.k.body += lines

    def _neuron_step(self, pop, group):
        """Two passes per step over the thread's neurons: a branch-free loop (state
        update and threshold test into a flag array; LLVM vectorises it), then a
        scan of the flags a block at a time for the few that spiked (record,
        refractoriness, reset). Both index with unsigned integers, which spares
        every access numba's negative-index check (CUBA's kernel: about 9 %
        faster for the scan)."""
        hist, count = self.ring(pop.name, pop.size)
        local = {}   # brian2 name -> array element, for the group's own variables

        def index_for(name, var, index):
            if var.owner.name == group.name:
                local.setdefault(name, self.array(var, "_i"))
                return name
            return None

        blocks = []
        for runner in neuron_runners(group):
            cobj = runner.codeobj
            if cobj is None:     # nothing to integrate (parameters only): Brian2 made no code
                blocks.append((([], []), {}))
                continue
            stmts = self.statements(runner)
            names = self.names(cobj.variables, cobj.variable_indices, index_for, pop.name, stmts[0])
            if pop.every > 1:         # its own clock: its dt and its step count
                if "dt" in names:
                    names["dt"] = self.k.arg(f"{pop.name}___dt", float(pop.every * self.built.dt))
                if "t_in_timesteps" in names:
                    names["t_in_timesteps"] = f"(step // {pop.every})"

            blocks.append((stmts, names))
            if codegen.names_in(stmts[1]) & set(codegen.RANDOM_CALLS):
                # numba's random state is per thread: only thread 0 draws as one thread would
                self.serial(f"population '{pop.name}' draws random numbers in its update")
            if any(not st.var.startswith("_lio_") for st in stmts[0]):
                self.serial(f"population '{pop.name}' writes shared variables")
        refractory = "lastspike" in local
        if refractory:   # integer twin of lastspike for the refractory test
            self.k.arg(f"{pop.name}___lsstep", last_spike_steps(group.variables["lastspike"].get_value(),
                                                                self.built.dt))
        ind = " " * 12
        loop = "        for _i in range(np.uint64(_lo), np.uint64(_hi)):"
        lines = [f"        _slot = _now_{pop.name}", f"        {count}[_slot, _tid] = 0",
                 f"        _lo = {pop.name}___range[_tid]", f"        _hi = {pop.name}___range[_tid + 1]"]
        for (scalar, _), names in blocks:
            lines += self.render(scalar, names, "        ")

        (_, vector), names = blocks[0]
        if len(blocks) == 1 and not vector:      # no dynamics, no threshold: nothing per neuron
            return lines
        self._per_item = set(local)
        before, body = self._specialised(vector, names, ind, pop.name)
        lines += before + [loop]
        if len(blocks) == 1:
            return lines + self._loop_body(vector, local, ind, body)

        (_, th_vector), th_names = blocks[1]
        # a flag per neuron, padded to whole blocks for the scan
        flags = self.k.arg(f"{pop.name}___spiked", np.zeros(-(-pop.size // BLOCK) * BLOCK, np.bool_))
        threshold = self.render(th_vector, th_names, ind) + [f"{ind}{flags}[_i] = _cond"]
        fresh = set()      # flags the loop computes afresh before any use
        if codegen.names_in(th_vector) & set(codegen.RANDOM_CALLS):
            # random draws stay in their own loop, in the order they always had
            lines += self._loop_body(vector, local, ind, body)
            lines += [loop]
            lines += self._loop_body(th_vector, local, ind, threshold)
        else:
            # a refractory period computes the flag afresh; a condition keeps it
            # (Brian2's "not_refractory or not (condition)") and must load it
            if any(s.var == "not_refractory" and not re.search(r"\bnot_refractory\b", s.expr) for s in vector):
                fresh.add("not_refractory")
                self.recomputed.add(f"{pop.name}__not_refractory")
            lines += self._loop_body(vector + th_vector, local, ind, body + threshold, fresh=fresh)

        # a block's eight words at once, then a non-zero block's words, then
        # a non-zero word's bytes (CUBA: about 2 spikes per 4000 neurons and step)
        inner = ind + "        "
        any_word = " | ".join(f"_words[_w0 + np.uint64({k})]" for k in range(BLOCK // 8))
        # A range starts on a block boundary, or at the population's end where a
        # thread has no neurons: rounding its start up keeps that thread out of
        # the last block, which another thread owns.
        lines += [f"        _words = {flags}.view(np.uint64)",
                  f"        for _b in range(np.uint64((_lo + {BLOCK - 1}) // {BLOCK}), "
                  f"np.uint64((_hi + {BLOCK - 1}) // {BLOCK})):",
                  f"            _w0 = _b * np.uint64({BLOCK // 8})",
                  f"            if ({any_word}) == 0:",
                  "                continue",
                  f"            for _w in range(_w0, _w0 + np.uint64({BLOCK // 8})):",
                  "                if _words[_w] == 0:",
                  "                    continue",
                  "                for _i in range(np.uint64(8 * _w), np.uint64(8 * _w + 8)):",
                  f"                    if not {flags}[_i]:",
                  "                        continue",
                  f"{inner}{hist}[_slot, _lo + {count}[_slot, _tid]] = _i",
                  f"{inner}{count}[_slot, _tid] += 1"]
        if refractory:
            lines += [f"{inner}{local['lastspike']} = t",
                      f"{inner}{local['not_refractory']} = False{RECOMPUTED if fresh else ''}",
                      f"{inner}{pop.name}___lsstep[_i] = step"]
        if len(blocks) > 2:
            (_, re_vector), re_names = blocks[2]
            lines += self._loop_body(re_vector, local, inner, self.render(re_vector, re_names, inner))
        return lines

    @staticmethod
    def _loop_body(vector, local, ind, code, fresh=()):
        """Load the group variables ``code`` uses into locals, run it, store back
        what it wrote; the loads and stores of ``fresh`` names are tagged
        ``RECOMPUTED``."""
        used = codegen.names_in(vector)
        written = {s.var for s in vector}
        tag = {n: RECOMPUTED if n in fresh else "" for n in local}
        loads = [f"{ind}{n} = {local[n]}{tag[n]}" for n in local if n in used]
        stores = [f"{ind}{local[n]} = {n}{tag[n]}" for n in local if n in written]
        return loads + code + stores

    def _drop_unread_flags(self):
        """Each update computes not_refractory afresh from the last-spike
        steps, so its array is needed only where other code reads it (a
        synaptic "(unless refractory)" guard, a monitor, the reset). Where
        none does, the update's and the scan's loads and stores of it
        (tagged ``RECOMPUTED``) are dropped: a store fewer per neuron and step
        (CUBA: about 8 % faster); elsewhere the tags are removed."""
        body = self.k.body
        for array in self.recomputed:
            use = re.compile(rf"\b{array}\[")
            mine = [line.endswith(RECOMPUTED) and bool(use.search(line)) for line in body]
            if any(use.search(line) and not tag for line, tag in zip(body, mine)):
                body[:] = [line[:-len(RECOMPUTED)] if tag else line for line, tag in zip(body, mine)]
            else:
                body[:] = [line for line, tag in zip(body, mine) if not tag]

    def _specialised(self, vector, names, ind, pop):
        """Brian2 writes the refractory clamp as int(not_refractory) inside
        exponentials; with the flag a literal, the exponentials become loop
        invariants computed once per step for each value of the flag, and each
        neuron selects its set (branch-free, so the loop vectorises), keeping
        the arithmetic per neuron exactly Brian2's. Where the flag is used
        outside such invariants, the update branches on it instead."""
        cut = next((k for k, s in enumerate(vector) if s.var == "not_refractory"), None)
        if cut is None:
            return self._folded(vector, names, ind, None) or ([], self.render(vector, names, ind))
        lines = self.render(vector[:cut], names, ind)
        early = []       # lines before the loop
        test = vector[cut].expr.replace(" ", "")
        if test.startswith("timestep(t-lastspike,dt)>="):
            # Brian2's float test in integers: (t - lastspike)/dt is a whole
            # number of steps up to rounding far below its 1e-3 step margin;
            # step - lsstep >= bound is lsstep <= step - bound, one compare
            # in lsstep's own type per neuron.
            bound = codegen.render_expr(vector[cut].expr.split(">=", 1)[1], names)
            self._block += 1
            latest = f"_r{self._block}_latest"
            lines += [f"{ind}not_refractory = {pop}___lsstep[_i] <= {latest}"]
            early.append(f"        {latest} = {pop}___lsstep.dtype.type(step - {bound})")
        else:
            lines += self.render(vector[cut:cut + 1], names, ind)
        rest = vector[cut + 1:]
        folded = self._folded(rest, names, ind, "not_refractory")
        if folded is not None:
            return early + folded[0], lines + folded[1]
        self._block += 1
        selected = codegen.render_selected(rest, names, set(self._per_item), "not_refractory",
                                           f"_h{self._block}_", "        ", ind, cast=self.k.cast)
        if selected is not None:
            before, body = selected
            return early + before, lines + body
        before = early
        for flag in (True, False):
            self._block += 1
            pre, body = codegen.render_hoisted(rest, names, set(self._per_item), {"not_refractory": flag},
                                               f"_h{self._block}_", "        ", ind + "    ", cast=self.k.cast)
            before += pre
            lines += [f"{ind}if not_refractory:" if flag else f"{ind}else:"] + body
        return before, lines

    def _folded(self, vector, names, ind, flag):
        """Fast-math only: a linear update as fused multiply-adds with
        coefficients computed once per step (``codegen.render_affine``)."""
        if self.k.strict_float:
            return None
        self._block += 1
        return codegen.render_affine(vector, names, set(self._per_item), flag, f"_a{self._block}_", "        ", ind,
                                     cast=self.k.cast)

    def spike_source(self, pop):
        """Thread 0's: its part of the ring is the whole population."""
        hist, count = self.ring(pop.name, pop.size)
        n = pop.name
        lines = ["        if _tid == 0:",
                 f"            _slot = _now_{n}", f"            {count}[_slot, 0] = 0"]
        if pop.kind == "spikes":
            self.k.arg(f"{n}__sstep", pop.spike_steps.astype(np.int64))
            self.k.arg(f"{n}__sid", pop.spike_ids.astype(np.int32))
            self.k.arg(f"{n}__sptr", np.zeros(1, np.int64))
            lines += [
                f"            while {n}__sptr[0] < {n}__sstep.shape[0] and {n}__sstep[{n}__sptr[0]] <= step:",
                f"                if {n}__sstep[{n}__sptr[0]] == step:",
                f"                    {hist}[_slot, {count}[_slot, 0]] = {n}__sid[{n}__sptr[0]]",
                f"                    {count}[_slot, 0] += 1",
                f"                {n}__sptr[0] += 1"]
        else:
            self.k.arg(f"{n}__rate", pop.rate.astype(np.float64))
            lines += [
                f"            for _i in range({n}__rate.shape[0]):",
                f"                if np.random.random() < {n}__rate[_i] * dt:",
                f"                    {hist}[_slot, {count}[_slot, 0]] = _i",
                f"                    {count}[_slot, 0] += 1"]
        self.k.body += lines

    def spike_monitors(self):
        """Each thread records its own neurons' spikes into its own buffer (row
        ``_tid``). A thread whose spike buffer might not hold another step asks
        for a stop (``_stop``); the caller empties the buffers and calls again."""
        lines = ["        _stop = False"]
        for name in self.built.spike_monitors:
            hist, count, bounds = f"{name}__hist", f"{name}__hcount", f"{name}___range"
            m = f"sm_{name}"
            self.k.arg(f"{m}__step", np.zeros((self.threads, 0), np.int64))
            self.k.arg(f"{m}__id", np.zeros((self.threads, 0), np.int32))
            self.k.arg(f"{m}__n", np.zeros((self.threads, 8), np.int64))   # a cache line each
            lines += [
                f"        _slot = _now_{name}",
                f"        _base = {bounds}[_tid]",
                f"        _n = {m}__n[_tid, 0]",
                f"        for _q in range({count}[_slot, _tid]):",
                f"            {m}__step[_tid, _n] = step",
                f"            {m}__id[_tid, _n] = {hist}[_slot, _base + _q]",
                "            _n += 1",
                f"        {m}__n[_tid, 0] = _n",
                f"        if _n + {bounds}[_tid + 1] - _base > {m}__step.shape[1]:",
                "            _stop = True"]
        self.k.body += lines

    def state_monitors(self):
        """Each thread records its own neurons' states into its own columns, at
        the start of the step (after its inputs), as Brian2's StateMonitor: the
        record of step k is the state at t = k * dt."""
        lines = []
        for k, mon in enumerate(self.built.state_monitors):
            group = self.objects.groups[mon.population]
            v = f"st{k}"
            ids = np.asarray(mon.ids, np.int64)
            owner = owners(self.k.values[f"{mon.population}___range"], ids)
            self.k.arg(f"{v}__ids", ids)
            self.k.arg(f"{v}__cols", np.argsort(owner, kind="stable"))    # columns by thread
            self.k.arg(f"{v}__cr", np.concatenate([[0], np.cumsum(np.bincount(owner, minlength=self.threads))]))
            self.k.arg(f"{v}__buf", np.zeros((0, len(mon.variables), len(mon.ids))))
            self.k.arg(f"{v}__n", np.zeros((self.threads, 8), np.int64))
            lines += [f"        if step % {mon.every} == 0:",
                      f"            _n = {v}__n[_tid, 0]",
                      f"            for _c in range({v}__cr[_tid], {v}__cr[_tid + 1]):",
                      f"                _k = {v}__cols[_c]"]
            for c, var in enumerate(mon.variables):
                arr = self.array(group.variables[var], f"{v}__ids[_k]")
                lines += [f"                {v}__buf[_n, {c}, _k] = {arr}"]
            lines += [f"            {v}__n[_tid, 0] = _n + 1"]
        self.k.body += lines

    def step_end(self):
        """Every thread waits for the others; all stop together if one asked to.
        The stop flags alternate between two rows, so that a thread already
        writing the next step's flag cannot change one still being read."""
        if self.threads > 1:
            stride = sync.STRIDE
            self.k.arg("_need", np.zeros((2, self.threads * stride), np.int64))
            self.k.arg("_arrive", np.zeros(self.threads * stride, np.int64))
            self.k.body += [
                f"        _need[step % 2, _tid * {stride}] = _stop",
                "        barrier(_arrive, _tid, _T, step + 1)",
                "        for _u in range(_T):",
                f"            if _need[step % 2, _u * {stride}]:",
                "                _stop = True"]
        self.k.body += ["        if _stop:", "            _end = step + 1", "            break"]

    def assemble(self) -> Kernel:
        """The step in the shared order (see ``spikemem.lowering``)."""
        pairs = [(kp, proj, syn) for kp, (proj, syn) in enumerate(zip(self.built.projections, self.objects.synapses))
                 if proj.i.size]       # an empty projection does nothing
        self.synapse_writes = {kp: self.written(proj, syn) for kp, proj, syn in pairs}
        for kp, proj, syn in pairs:       # what a projection sums into another's synapses
            if proj.linked == "post":
                self.synapse_writes.setdefault(self.built.linked_index(proj), set()).update(
                    u.target_var.name for u in syn.summed_updaters.values())
        if self.shared_traces:
            self.shared = {kp: found for kp, proj, syn in pairs if (found := self.find_shared_traces(proj, syn))}
        # each ring's slot of this step, once per step (a modulo costs tens of cycles)
        self.k.body += [f"        _now_{name} = step % {name}__hist.shape[0]" for name in self.built.populations]
        self.inputs()
        self.signals()
        self.state_monitors()
        convolutions = {kp: proj for kp, proj in enumerate(self.built.projections) if proj.conv is not None}
        for kp, proj in sorted([(kp, proj) for kp, proj, _ in pairs if proj.on_pre]
                               + [(kp, proj) for kp, proj in convolutions.items() if proj.conv.source is None],
                               key=lambda x: x[0]):
            if kp in convolutions:
                self.convolution(kp, proj)
            else:
                self.delivery(kp, proj, self.objects.synapses[kp])
        for kp, proj in sorted([(kp, proj) for kp, proj, syn in pairs if summed_updaters(syn, "post")]
                               + [(kp, proj) for kp, proj in convolutions.items() if proj.conv.source],
                               key=lambda x: x[0]):
            if kp in convolutions:
                self.convolution(kp, proj)
            else:
                self.summed(kp, proj, self.objects.synapses[kp], "post")
        for kp, proj, syn in pairs:          # sums onto the presynaptic side may read those onto the post side
            if summed_updaters(syn, "pre"):
                self.summed(kp, proj, syn, "pre")
        for name, pop in self.built.populations.items():
            if pop.kind == "neuron":
                self.neuron_group(pop, self.objects.groups[name])
        for name, pop in self.built.populations.items():
            if pop.kind != "neuron":
                self.spike_source(pop)
        for kp, proj, syn in pairs:
            if kp in self.catch_ups:
                self.serial(f"projection '{proj.name}' integrates its synaptic equations when read")
            elif syn.state_updater is not None and syn.state_updater.abstract_code.strip():
                self.synapse_update(kp, proj, syn)
        for kp, proj, syn in pairs:
            if proj.plastic_pre:
                self.presynaptic(kp, proj, syn)
        for kp, proj, syn in pairs:
            if proj.on_post:
                self.postsynaptic(kp, proj, syn)
        self.spike_monitors()
        self.step_end()
        for kp, _, _ in pairs:      # a run ends with every synapse's values those of its end
            if kp in self.catch_ups:
                self.k.after += self.catch_up_all(kp, self.catch_ups[kp], "t")
        self._drop_unread_flags()
        return self.k
