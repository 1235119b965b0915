"""HLOP continual learning: ACC, BWT and forgetting of every method, spiking
and ANN, over seeds, on the three task sequences of ``models/hlop``.

    python benchmarks/hlop.py permuted-digits  [--seeds 0,1,2] [--methods ...] [--variants snn,ann] [--epochs 5]
    python benchmarks/hlop.py split-digits     [...] [--tasks N] [--hidden N] [--rows-first 20,80 --rows 5,30]
    python benchmarks/hlop.py permuted-mnist1d [...]

Each run is ``experiments.evaluate`` on the experiment's setting (the options
replace its seeds, methods, variants and training); one row per variant and
method: ACC, BWT, forgetting and the accuracy just after each task was learnt
(percent, mean and standard deviation over the seeds), ACC's gap to multitask
training of the same variant, and seconds per sequence. The mean accuracy
matrices go beside the rows (``matrices``). Goals on permuted digits: HLOP's
BWT >= -2 points with ACC within 3 points of multitask, while fine-tuning
forgets by tens of points.

``--json FILE`` writes the rows as the documentation reads them (``record.py``).
"""
from __future__ import annotations

import argparse
import dataclasses
import sys

import torch
from record import label, write_run_set


def rows_of(summary: dict) -> list:
    from spikemem.models.hlop.report import rows
    out = rows(summary)
    for row in out:
        upper = summary[row["variant"]].get("multitask")
        row["gap_to_multitask"] = None if upper is None else row["acc"] - 100 * upper["acc"]["mean"]
    return out


def main(argv=None):
    from spikemem.models.hlop import experiments
    from spikemem.models.hlop.continual import METHODS, VARIANTS
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("experiment", choices=experiments.EXPERIMENTS)
    ap.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default: 0,1,2)")
    ap.add_argument("--methods", default=",".join(METHODS), help=f"some of {list(METHODS)}")
    ap.add_argument("--variants", default=",".join(VARIANTS), help=f"some of {list(VARIANTS)}")
    ap.add_argument("--tasks", type=int, default=None, help="tasks in the sequence (default: the experiment's)")
    ap.add_argument("--epochs", type=int, default=None, help="epochs per task (default: the experiment's)")
    ap.add_argument("--hidden", type=int, default=None, help="hidden neurons (default: the experiment's)")
    ap.add_argument("--rows-first", default=None, metavar="N,N",
                    help="hlop: subspace neurons per layer for the first task (default: the experiment's)")
    ap.add_argument("--rows", default=None, metavar="N,N",
                    help="hlop: subspace neurons per layer for each later task (default: the experiment's)")
    ap.add_argument("--ewc-lambda", type=float, default=None, help="ewc: the penalty's weight, both variants "
                    "(default: the experiment's)")
    ap.add_argument("--json", default=None, metavar="FILE")
    args = ap.parse_args(argv)
    for name, allowed in (("methods", METHODS), ("variants", VARIANTS)):
        unknown = set(getattr(args, name).split(",")) - set(allowed)
        if unknown:
            ap.error(f"--{name}: unknown {sorted(unknown)}; known: {list(allowed)}")
    torch.set_num_threads(1)

    base = experiments.SETTINGS[args.experiment]
    training = base.training
    if args.epochs is not None:
        training = dataclasses.replace(training, epochs=args.epochs)
    if args.hidden is not None:
        training = dataclasses.replace(training, hidden=(args.hidden,))
    if args.ewc_lambda is not None:
        training = dataclasses.replace(training, ewc_lambda=args.ewc_lambda, ewc_lambda_snn=args.ewc_lambda)
    if args.rows_first is not None:
        training = dataclasses.replace(training, rows_first_task=tuple(int(r) for r in args.rows_first.split(",")))
    if args.rows is not None:
        training = dataclasses.replace(training, rows_per_task=tuple(int(r) for r in args.rows.split(",")))
    setting = dataclasses.replace(base, seeds=tuple(int(s) for s in args.seeds.split(",")),
                                  methods=tuple(args.methods.split(",")), variants=tuple(args.variants.split(",")),
                                  n_tasks=args.tasks or base.n_tasks, training=training)
    evaluation = experiments.evaluate(setting)
    rows = rows_of(evaluation["summary"])
    for row in rows:
        print(f"{row['variant']:4s} {row['method']:10s} ACC {row['acc']:5.1f} +- {row['acc_std']:4.1f}  "
              f"BWT {row['bwt']:+6.1f} +- {row['bwt_std']:4.1f}  {row['seconds']:6.1f} s", flush=True)
    if args.json:
        matrices = {variant: {method: s["matrix"] for method, s in by_method.items()}
                    for variant, by_method in evaluation["summary"].items()}
        write_run_set(args.json, f"hlop_{args.experiment}", rows, label=label(argv, "--json"),
                      experiment=args.experiment, setting=evaluation["setting"], tasks=evaluation["tasks"],
                      matrices=matrices, seconds=evaluation["seconds"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
