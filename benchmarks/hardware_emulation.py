"""The hardware emulators against spikemem's numba engine (float64).

    python benchmarks/hardware_emulation.py [--n 4000] [--duration 1.0] [--target spinnaker|loihi|both]

SpiNNaker (``spikemem.hardware.spinnaker.emulator``, s16.15): two
measurements, each split by ``decomposition`` into ``total`` (numba vs
the emulator), ``algorithm`` (numba vs the emulator's float64 twin: sPyNNaker's
step, unrounded) and ``rounding`` (the twin vs the emulator):

* CUBA (``spikemem.models.cuba.network.cuba_curr_exp``: ``--n`` neurons, dt 0.1 ms, ``--duration``
  seconds): spikes on each side, shared, the first differing step and the
  rate ratio (emulated / reference) per population;
* the CA3 memory's functional experiment (``spikemem.models.ca3_cam.experiments``): whether
  every decoded answer equals numba's, then spikes shared, missing and extra.

Loihi (``spikemem.hardware.loihi``): CUBA as IF_curr_exp with tau_syn_I = 5 ms
(one current per compartment) at dt = 0.1 ms and 1 ms, coupled and uncoupled
(p = 0): the largest quantisation errors, spikes shared with numba (same step;
within one step), rate ratios, overflows; the CA3 functional experiment's
answers; cores and chips.
"""
from __future__ import annotations

import argparse
import time

from brian2 import ms

from spikemem.analysis import compare_spikes, spike_set
from spikemem.hardware.spinnaker import emulator as se
from spikemem.models.ca3_cam import experiments as experiments
from spikemem.models.cuba.network import cuba_curr_exp
from spikemem.targets import TARGETS, error_table

loihi = TARGETS.get("loihi")


def summary(distance: dict) -> str:
    """One line for a ``compare_spikes`` result: totals over the populations."""
    tot = {k: sum(d[k] for d in distance.values()) for k in ("reference", "emulated", "same", "missing", "extra")}
    first = min((d["first_difference_step"] for d in distance.values()
                 if d["first_difference_step"] is not None), default=None)
    shared = tot["same"] / tot["reference"] if tot["reference"] else 1.0
    ratios = ", ".join(f"{pop} {d['rate_ratio']:.4f}" for pop, d in distance.items() if d["rate_ratio"] is not None)
    return (f"reference {tot['reference']:6d}  emulated {tot['emulated']:6d}  shared {tot['same']:6d} "
            f"({shared:6.1%})  missing {tot['missing']:6d}  extra {tot['extra']:6d}  "
            f"first difference at step {first}  rate ratio {ratios}")


def cuba(n: int, duration: float):
    t0 = time.perf_counter()
    parts = se.decomposition(cuba_curr_exp(n=n), duration)
    print(f"CUBA as IF_curr_exp ({n} neurons, dt 0.1 ms, {duration:g} s; {time.perf_counter() - t0:.1f} s wall):")
    for part, distance in parts.items():
        print(f"  {part:9s}  {summary(distance)}")


def ca3():
    ref_mem, ref_rows, _ = experiments.experiment("functional", "numba")
    reference = [(r["answer_cues"], r["answer_content"]) for r in ref_rows]
    mem, answers = experiments.ca3_functional("spinnaker")
    twin, _ = experiments.ca3_functional("spinnaker", arithmetic="float64")
    differ = [(k, experiments.FUNCTIONAL[k], reference[k], a) for k, a in enumerate(answers) if a != reference[k]]
    print(f"CA3 functional experiment: {len(answers) - len(differ)}/{len(answers)} answers equal numba's"
          + "".join(f"\n  op {k} {op}: numba {r}, emulator {a}" for k, op, r, a in differ))
    dt = mem.sim.built.dt
    for part, (x, y) in {"total": (ref_mem, mem), "algorithm": (ref_mem, twin), "rounding": (twin, mem)}.items():
        print(f"  {part:9s}  {summary(compare_spikes(x.result, y.result, dt))}")


def loihi_cuba(n: int, duration: float):
    for dt in (0.1 * ms, 1 * ms):
        lnet = loihi.quantize(cuba_curr_exp(n=n, tau_syn_I=5 * ms, dt=dt))
        print(f"Loihi: CUBA as IF_curr_exp ({n} neurons, tau_syn 5 ms, dt {float(dt) * 1e3:g} ms, {duration:g} s)")
        print(error_table(sorted(lnet.errors, key=lambda e: -e.rel_error)[:6]))
        for label, p in (("coupled", 0.02), ("uncoupled (p = 0)", 0.0)):
            em = loihi.emulate(cuba_curr_exp(n=n, p=p, tau_syn_I=5 * ms, dt=dt), duration)
            for pop, d in em.distance.items():
                ref = {tuple(x) for x in spike_set(em.reference.spikes[pop], float(dt))}
                near = sum(any((s + k, i) in ref for k in (-1, 0, 1))
                           for s, i in spike_set(em.result.spikes[pop], float(dt)))
                print(f"  {label:17s} {pop}: numba {d['reference']}, loihi {d['emulated']}, same step "
                      f"{d['same'] / d['reference']:.1%}, within one step {near / d['reference']:.1%}, "
                      f"rate ratio {d['rate_ratio']:.4f}; overflows {em.result.meta['overflows']}")
    res = loihi.map(cuba_curr_exp(n=n, tau_syn_I=5 * ms))
    print(f"  map: {res.totals}")


def loihi_ca3():
    c = experiments.compare_backends("functional", "loihi")
    print(f"Loihi: CA3 functional experiment: {c['same_answers']}/{c['operations']} answers equal numba's; "
          f"spikes: {summary(c['spikes'])}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=4000, help="CUBA neurons (default 4000)")
    parser.add_argument("--duration", type=float, default=1.0, help="CUBA duration in seconds (default 1)")
    parser.add_argument("--target", choices=["spinnaker", "loihi", "both"], default="both")
    args = parser.parse_args(argv)
    if args.target in ("spinnaker", "both"):
        cuba(args.n, args.duration)
        ca3()
    if args.target in ("loihi", "both"):
        loihi_cuba(args.n, args.duration)
        loihi_ca3()


if __name__ == "__main__":
    main()
