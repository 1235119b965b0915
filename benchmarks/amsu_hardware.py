"""A trained AM-SU network on the hardware targets: what holding its
astrocytic state fixed costs, and what the boards' arithmetic costs after it.

    python benchmarks/amsu_hardware.py --out benchmarks/results/astrocytes/05-amsu-hardware.json

One CPU thread, ``--seeds`` (each row: the mean over them). An AM-SU sequence model (``spikemem.models.astrocytes``,
about ``--budget`` parameters) is trained on delayed recall at delay
``--delay`` (3 tokens of 4 symbols, ``--iterations`` iterations of 32
sequences, Adam, lr 1e-2), as is a LIF-SNN of the same size (the model
without astrocytes, for reference). Neither board holds an AM-SU (``check``
names why), so its astrocytic state is held at its mean over ``--calibration``
training sequences, one value per neuron (``spikemem.glia.freeze_modulation``).
Accuracies on the same ``--test`` new sequences (chance 0.25), each the
readout of the model's spikes:

* the trained AM-SU in torch (float32), and its template network on numba (float64);
* the frozen model in torch with the AM-SU's reset (subtracting v_th): what freezing costs;
* the same with a board neuron's reset (to v_reset): what the board's neuron costs;
* the frozen IF_curr_exp network on numba (float64), before and after setting to 0 the
  weights the boards' formats round to 0 (those below the smallest fraction of their
  projection's largest, 0, 1/1024, ..., 1/32, for which both targets' ``check`` pass);
* that network on each target's emulator (SpiNNaker s16.15, Loihi 1's integers),
  after both targets' ``check`` pass and both export it;
* a = 0 (the astrocytes removed, nothing retrained), a held at its mean over the
  token steps or the recall steps only, and the LIF-SNN, for scale.

The test sequences run side by side as one network (``recall_network``).
"""
from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time

import numpy as np
import torch

from record import write_run_set
from spikemem.backends import simulate
from spikemem.glia import freeze_modulation
from spikemem.models.astrocytes import baselines, hardware, tasks, train
from spikemem.targets import TARGETS

TARGET_NAMES = ("spinnaker", "loihi")
#: the fractions of a projection's largest weight tried, in turn, as the least weight kept
PRUNE = (0.0, 1 / 1024, 1 / 512, 1 / 256, 1 / 128, 1 / 64, 1 / 32)


def frozen_network(model, test, a):
    """The test sequences' AM-SU network, the network with a held, and a copy in
    which the weights the boards round to 0 are 0 (below the smallest fraction
    in ``PRUNE`` of their projection's largest for which both checks pass)."""
    net = hardware.recall_network(model.layer, test.x)
    held = np.tile(a, test.x.shape[1])
    exact = freeze_modulation(net, held)
    for ratio in PRUNE:
        frozen = freeze_modulation(net, held)
        pruned = hardware.prune_weights(frozen, ratio)
        if not any(TARGETS.get(name).check(frozen) for name in TARGET_NAMES):
            return net, exact, frozen, ratio, pruned
    raise SystemExit(f"the boards refuse the frozen network with weights below {PRUNE[-1]:g} of the largest at 0")


def accuracy_of(model, result, test, steps):
    n = model.layer.input.shape[0]
    spikes = hardware.spike_matrix(result.spikes["hidden"], steps, test.x.shape[1], n, 1e-3)
    return hardware.spike_accuracy(model, spikes, test), spikes


def run(args, seed, log) -> dict:
    """Every row's accuracy for one seed, and the seed's details."""
    rng = np.random.default_rng(seed)
    n_in, n_out = 4 + 3, 4
    t0 = time.perf_counter()
    model = baselines.build("amsu", n_in, n_out, args.budget, seed=seed)
    trained = train.train_recall(model, args.delay, iterations=args.iterations, lr=1e-2, seed=seed)
    lif = baselines.build("lif", n_in, n_out, args.budget, seed=seed)
    lif_trained = train.train_recall(lif, args.delay, iterations=args.iterations, lr=1e-2, seed=seed)
    log(f"seed {seed}: trained in {time.perf_counter() - t0:.0f} s")
    calibration = tasks.delayed_recall(args.calibration, args.delay, seed=rng)
    a = hardware.mean_astrocytic_state(model.layer, calibration.x)
    test = tasks.delayed_recall(args.test, args.delay, seed=rng)
    steps = test.x.shape[0]
    duration = (steps + 1) * 1e-3
    rows = []

    def row(label, accuracy, **extra):
        rows.append({"model": label, "accuracy": accuracy, **extra})
        log(f"seed {seed}: {label}: accuracy {accuracy:.3f}")

    row("AM-SU, trained (torch, float32)", train.recall_accuracy(model, test))
    net, exact, frozen, ratio, pruned = frozen_network(model, test, a)
    with torch.no_grad():
        torch_spikes, _ = model.layer(torch.from_numpy(test.x))
    acc, spikes = accuracy_of(model, simulate(net, duration, "numba"), test, steps)
    row("AM-SU template network (numba, float64)", acc,
        spikes_as_torch=float((spikes == torch_spikes.numpy()).mean()))
    row("frozen a, AM-SU reset (torch)", train.recall_accuracy(hardware.FrozenModel(model, a), test))
    row("frozen a, board reset (torch)", train.recall_accuracy(hardware.FrozenModel(model, a, reset="zero"), test))
    row("frozen IF_curr_exp network (numba, float64)", accuracy_of(model, simulate(exact, duration, "numba"),
                                                                  test, steps)[0])
    acc, _ = accuracy_of(model, simulate(frozen, duration, "numba"), test, steps)
    row("frozen IF_curr_exp network, small weights 0 (numba, float64)", acc, pruned_below=ratio,
        pruned_per_sample=pruned / args.test)
    targets = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in TARGET_NAMES:
            target = TARGETS.get(name)
            t1 = time.perf_counter()
            before = [str(v) for v in target.check(exact)]
            after = [str(v) for v in target.check(frozen)]
            if after:
                raise SystemExit(f"{name} refuses the frozen network:\n  " + "\n  ".join(after))
            options = {"duration": duration} if target.export_format == "pynn" else {}
            path = target.export(frozen, os.path.join(tmp, name), **options)
            emulation = target.emulate(frozen, duration)
            acc, spikes = accuracy_of(model, emulation.result, test, steps)
            d = emulation.distance["hidden"]
            targets[name] = {"violations_before_pruning": len(before), "violations_of_am_su": len(
                             target.check(net)), "exported": os.path.basename(path),
                             "spikes_as_numba": d["same"] / max(d["reference"], 1), "distance": d,
                             "seconds": time.perf_counter() - t1}
            row(f"frozen, {name} emulator", acc, spikes_as_numba=targets[name]["spikes_as_numba"])
    row("a = 0, astrocytes removed (torch)", train.recall_accuracy(hardware.FrozenModel(model, 0.0), test))
    for label, at in (("token", slice(0, calibration.at[0] - args.delay)), ("recall", calibration.at)):
        held = hardware.mean_astrocytic_state(model.layer, calibration.x, at)
        row(f"frozen a, mean over the {label} steps (torch)",
            train.recall_accuracy(hardware.FrozenModel(model, held), test))
    row("LIF-SNN, trained (torch), for scale", train.recall_accuracy(lif, test))
    return {"seed": seed, "rows": rows, "targets": targets, "trained": trained, "lif_trained": lif_trained,
            "held_a": {"mean": float(a.mean()), "min": float(a.min()), "max": float(a.max())},
            "a_by_step": [float(hardware.mean_astrocytic_state(model.layer, calibration.x, [t]).mean())
                          for t in range(steps)],
            "gains": {"k": _range(model.layer.k), "b": _range(model.layer.b)},
            "hidden": int(model.layer.input.shape[0]), "parameters": baselines.count(model),
            "seconds": time.perf_counter() - t0}


def combine(runs: list) -> list:
    """One row per stage: the accuracy of each seed, their mean and its change
    from the trained AM-SU's mean; other numbers averaged over the seeds."""
    rows = []
    for stage in zip(*(r["rows"] for r in runs)):
        per_seed = [r["accuracy"] for r in stage]
        row = {"model": stage[0]["model"], "accuracy": float(np.mean(per_seed)), "per_seed": per_seed}
        for key in stage[0]:
            if key not in ("model", "accuracy"):
                row[key] = float(np.mean([r[key] for r in stage]))
        rows.append(row)
    for row in rows:
        row["change"] = row["accuracy"] - rows[0]["accuracy"]
    return rows


def _range(t) -> dict:
    t = t.detach().double().numpy()
    return {"min": float(t.min()), "mean": float(t.mean()), "max": float(t.max())}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--delay", type=int, default=5, help="the recall delay D in steps (default 5)")
    parser.add_argument("--budget", type=int, default=2000, help="parameters of each model (default 2000)")
    parser.add_argument("--iterations", type=int, default=400, help="training iterations (default 400)")
    parser.add_argument("--calibration", type=int, default=256, help="sequences the mean a is taken over")
    parser.add_argument("--test", type=int, default=128, help="test sequences (default 128)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds (default 0 1 2)")
    parser.add_argument("--out", default="benchmarks/results/astrocytes/05-amsu-hardware.json")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    runs = [run(args, seed, print) for seed in args.seeds]
    write_run_set(args.out, "amsu_hardware", combine(runs), threads=1, torch=torch.__version__,
                  python=platform.python_version(), chance=0.25,
                  settings={k: v for k, v in vars(args).items() if k != "out"}, seeds=runs)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
