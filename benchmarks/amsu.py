"""AM-SU, LIF-SNN, LSTM and GRU at equal parameter counts on delayed recall
and character-level language modelling (``spikemem.models.astrocytes``).

    python benchmarks/amsu.py --out benchmarks/results/astrocytes/03-amsu.json

One CPU thread, one seed. Delayed recall: 3 tokens of 4 symbols, delays D in
``--delays``, each model trained anew at each D for ``--recall-iterations``
iterations of 32 fresh sequences (Adam, lr 1e-2), its accuracy measured on
512 new ones (chance 0.25); about ``--recall-budget`` parameters each.
Language modelling: the ``pydoc_data`` topics text (last 10 % held out),
``--lm-iterations`` iterations of 32 windows of 64 characters (Adam, lr 3e-3), about
``--lm-budget`` parameters each; bits per character on the held-out text,
latency per token (batch 1), inference throughput (batch 64 x 128 steps) and
the peak memory one training step adds (batch 32 x 64 steps, a fresh
process). Writes the run set (one row per model, the docs' table; the
per-delay and language-modelling details beside) and, next to it, two plots
(``-recall.png``, ``-lm.png``).
"""
from __future__ import annotations

import argparse
import os
import platform
import time

import torch

from record import write_run_set
from spikemem.models.astrocytes import baselines, tasks, train

KINDS = baselines.KINDS
LABELS = {"lif": "LIF-SNN", "amsu": "AM-SU SNN", "lstm": "LSTM", "gru": "GRU"}


def recall(delays, iterations, budget, seed, log):
    rows = []
    for delay in delays:
        for kind in KINDS:
            model = baselines.build(kind, 4 + 3, 4, budget, seed=seed)
            result = train.train_recall(model, delay, iterations=iterations, lr=1e-2, seed=seed)
            rows.append({"model": kind, "delay": delay, "parameters": baselines.count(model), **result})
            log(f"recall D={delay} {kind}: accuracy {result['accuracy']:.3f} ({result['seconds']:.0f} s)")
    return rows


def language(iterations, budget, seed, max_chars, log):
    corpus = tasks.char_corpus(max_chars=max_chars)
    n = len(corpus.vocab)
    rows = []
    for kind in KINDS:
        model = baselines.build(kind, n, n, budget, seed=seed)
        result = train.train_lm(model, corpus, iterations=iterations, seed=seed)
        model.eval()
        rows.append({"model": kind, "parameters": baselines.count(model), **result,
                     "val_bpc": train.bits_per_char(model, corpus),
                     "latency_ms": 1e3 * train.latency_per_token(model, n),
                     "tokens_per_s": train.throughput(model, n),
                     "peak_train_mib": train.peak_training_memory(kind, n, n, budget)})
        log(f"lm {kind}: " + ", ".join(f"{k} {v:.3g}" for k, v in rows[-1].items() if isinstance(v, float)))
    return {"vocab": n, "train_chars": int(len(corpus.train)), "val_chars": int(len(corpus.val)), "rows": rows}


def rows_by_model(recall_rows, lm_rows):
    """One row per model: its recall accuracy at each delay (``recall.<D>``)
    and its language-modelling figures (the docs' table)."""
    rows = []
    for kind in KINDS:
        mine = [r for r in recall_rows if r["model"] == kind]
        lm = next(r for r in lm_rows if r["model"] == kind)
        rows.append({"model": LABELS[kind], "kind": kind,
                     "recall_parameters": mine[0]["parameters"] if mine else None,
                     "recall": {str(r["delay"]): r["accuracy"] for r in mine},
                     "recall_seconds": sum(r["seconds"] for r in mine),
                     **{("lm_parameters" if k == "parameters" else k): v for k, v in lm.items() if k != "model"}})
    return rows


def plots(result, stem):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for kind in KINDS:
        rows = [r for r in result["recall"] if r["model"] == kind]
        ax.plot([r["delay"] for r in rows], [r["accuracy"] for r in rows], "o-", label=LABELS[kind])
    ax.axhline(0.25, color="grey", ls=":", label="chance")
    ax.set(xscale="log", xlabel="delay D (steps)", ylabel="recall accuracy", ylim=(0, 1.02))
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(stem + "-recall.png", dpi=100)
    rows = result["lm"]["rows"]
    fig, axes = plt.subplots(1, 3, figsize=(10, 3))
    for ax, key, label in zip(axes, ("val_bpc", "latency_ms", "tokens_per_s"),
                              ("held-out bits/char", "latency/token (ms)", "tokens/s")):
        ax.bar([LABELS[r["model"]] for r in rows], [r[key] for r in rows])
        ax.set_title(label, fontsize=9)
        ax.tick_params(labelsize=7)
    fig.tight_layout()
    fig.savefig(stem + "-lm.png", dpi=100)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="benchmarks/results/astrocytes/03-amsu.json")
    parser.add_argument("--delays", type=int, nargs="+", default=[10, 50, 500])
    parser.add_argument("--recall-iterations", type=int, default=400)
    parser.add_argument("--recall-budget", type=int, default=6000)
    parser.add_argument("--lm-iterations", type=int, default=600)
    parser.add_argument("--lm-budget", type=int, default=25000)
    parser.add_argument("--max-chars", type=int, default=None, help="the first characters of the text only")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-plots", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    start = time.perf_counter()

    def log(line):
        print(f"[{time.perf_counter() - start:6.0f} s] {line}", flush=True)
    result = {"settings": {k: v for k, v in vars(args).items() if k not in ("out", "no_plots")},
              "threads": 1, "torch": torch.__version__, "python": platform.python_version(),
              "recall": recall(args.delays, args.recall_iterations, args.recall_budget, args.seed, log),
              "lm": language(args.lm_iterations, args.lm_budget, args.seed, args.max_chars, log)}
    result["seconds"] = time.perf_counter() - start
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    write_run_set(args.out, "amsu", rows_by_model(result["recall"], result["lm"]["rows"]), **result)
    if not args.no_plots:
        plots(result, os.path.splitext(args.out)[0])
    log(f"wrote {args.out}")
    return result


if __name__ == "__main__":
    main()
