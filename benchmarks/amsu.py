"""AM-SU, LIF-SNN, LSTM and GRU at equal parameter counts on delayed recall
and character-level language modelling (``spikemem.models.astrocytes``).

    python benchmarks/amsu.py --seeds 0 1 2 --out benchmarks/results/astrocytes/03-amsu.json

One CPU thread. Delayed recall: 3 tokens of 4 symbols, delays D in
``--delays``, each model trained anew at each D and seed (``--seeds``) for
``--recall-iterations`` iterations of 32 fresh sequences (Adam, lr 1e-2), its
accuracy measured on 512 new ones (chance 0.25); about ``--recall-budget``
parameters each. ``--models`` adds ``amsu_shared`` (the AM-SU whose neurons
share astrocytes, ``baselines.SHARED_GROUP`` to each) to the four.
Language modelling: the ``pydoc_data`` topics text (last 10 % held out),
``--lm-iterations`` iterations of 32 windows of 64 characters (Adam, lr 3e-3), about
``--lm-budget`` parameters each, for ``--lm-seeds`` (default: the first
seed); bits per character on the held-out text,
latency per token (batch 1), inference throughput (batch 64 x 128 steps) and
the peak memory one training step adds (batch 32 x 64 steps, a fresh
process). Writes the run set (one row per model, the docs' table: the mean
and standard deviation over seeds of each figure; every run's row beside) and,
next to it, two plots (``-recall.png``, ``-lm.png``).

``--resume FILE ...`` takes the runs that earlier run sets (or JSON lines of
recall rows) hold for the same settings (model, delay, seed, iterations and
budget; for language modelling also the text) instead of running them again:
a long run can be split and joined. Their seconds are those of their own run.
With ``--collect`` nothing is run: the table holds the earlier runs that
match, and says over how many seeds each figure is.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np
import torch

from record import write_run_set
from spikemem.models.astrocytes import baselines, tasks, train

KINDS = baselines.KINDS
MODELS = (*KINDS, baselines.SHARED)
LABELS = {"lif": "LIF-SNN", "amsu": "AM-SU SNN", "lstm": "LSTM", "gru": "GRU",
          baselines.SHARED: f"AM-SU SNN, shared astrocytes (g = {baselines.SHARED_GROUP})"}
LM_FIGURES = ("train_bpc", "val_bpc", "latency_ms", "tokens_per_s", "peak_train_mib", "seconds")


def earlier_runs(paths):
    """(recall rows, language-modelling rows) of earlier run sets or JSON-lines
    files of recall rows, each row with the settings it was run with."""
    recall_rows, lm_rows = [], []
    for path in paths:
        with open(path) as f:
            text = f.read()
        if text.lstrip().startswith("{") and '"benchmark"' in text[:200]:
            data = json.loads(text)
            given = data["settings"]
            seed = given.get("seed", (given.get("seeds") or [0])[0])
            recall_rows += [{"seed": seed, "iterations": given["recall_iterations"],
                             "budget": given["recall_budget"], **r} for r in data["recall"]]
            lm_seed = given.get("seed", (given.get("lm_seeds") or [seed])[0])
            lm_rows += [{"seed": lm_seed, "iterations": given["lm_iterations"], "budget": given["lm_budget"],
                         "max_chars": given["max_chars"], **r} for r in data["lm"]["rows"]]
        else:
            recall_rows += [json.loads(line) for line in text.splitlines() if line.strip()]
    return recall_rows, lm_rows


def _take(earlier, **key):
    """The first earlier row whose settings are ``key``, without those settings."""
    for row in earlier:
        if all(row.get(k) == v for k, v in key.items()):
            return {k: v for k, v in row.items() if k not in ("model", "delay", "seed", "iterations", "budget",
                                                               "max_chars")}
    return None


def recall(models, delays, seeds, iterations, budget, log, earlier=(), collect=False):
    rows = []
    for delay in delays:
        for seed in seeds:
            for kind in models:
                result = _take(earlier, model=kind, delay=delay, seed=seed, iterations=iterations, budget=budget)
                if result is None and collect:
                    continue
                if result is None:
                    model = baselines.build(kind, 4 + 3, 4, budget, seed=seed)
                    result = {"parameters": baselines.count(model),
                              **train.train_recall(model, delay, iterations=iterations, lr=1e-2, seed=seed)}
                rows.append({"model": kind, "delay": delay, "seed": seed, **result})
                log(f"recall D={delay} seed {seed} {kind}: accuracy {result['accuracy']:.3f} "
                    f"({result['seconds']:.0f} s)")
    return rows


def language(models, iterations, budget, seeds, max_chars, log, earlier=(), collect=False):
    corpus = tasks.char_corpus(max_chars=max_chars)
    n = len(corpus.vocab)
    rows = []
    for seed in seeds:
        for kind in models:
            row = _take(earlier, model=kind, seed=seed, iterations=iterations, budget=budget, max_chars=max_chars)
            if row is None and collect:
                continue
            if row is None:
                model = baselines.build(kind, n, n, budget, seed=seed)
                result = train.train_lm(model, corpus, iterations=iterations, seed=seed)
                model.eval()
                row = {"parameters": baselines.count(model), **result,
                       "val_bpc": train.bits_per_char(model, corpus),
                       "latency_ms": 1e3 * train.latency_per_token(model, n),
                       "tokens_per_s": train.throughput(model, n),
                       "peak_train_mib": train.peak_training_memory(kind, n, n, budget)}
            rows.append({"model": kind, "seed": seed, **row})
            log(f"lm seed {seed} {kind}: " + ", ".join(f"{k} {v:.3g}" for k, v in row.items()
                                                      if isinstance(v, float)))
    return {"vocab": n, "train_chars": int(len(corpus.train)), "val_chars": int(len(corpus.val)), "rows": rows}


def _spread(values):
    """Mean, standard deviation (n - 1; 0 for one value) and count."""
    values = np.asarray(values, dtype=float)
    return float(values.mean()), float(values.std(ddof=1)) if values.size > 1 else 0.0, int(values.size)


def rows_by_model(models, recall_rows, lm_rows):
    """One row per model (the docs' table): at each delay D, the mean recall
    accuracy over seeds (``recall.<D>``), its standard deviation
    (``recall_std.<D>``), its seeds (``recall_seeds.<D>``) and both as text
    (``recall_pm.<D>``, "mean ± std"); the mean
    language-modelling figures (``<figure>_std`` beside each, ``lm_seeds``)."""
    rows = []
    for kind in models:
        mine = [r for r in recall_rows if r["model"] == kind]
        spreads = {str(d): _spread([r["accuracy"] for r in mine if r["delay"] == d])
                   for d in sorted({r["delay"] for r in mine})}
        row = {"model": LABELS[kind], "kind": kind, "recall_parameters": mine[0]["parameters"] if mine else None,
               "recall": {d: s[0] for d, s in spreads.items()}, "recall_std": {d: s[1] for d, s in spreads.items()},
               "recall_seeds": {d: s[2] for d, s in spreads.items()},
               "recall_pm": {d: f"{s[0]:.3f} ± {s[1]:.3f}" for d, s in spreads.items()},     # the docs' cells
               "recall_seconds": sum(r["seconds"] for r in mine)}
        lm = [r for r in lm_rows if r["model"] == kind]
        if lm:
            row["lm_parameters"] = lm[0]["parameters"]
            row["lm_seeds"] = len(lm)
            for key in LM_FIGURES:
                row[key], row[key + "_std"], _ = _spread([r[key] for r in lm])
        rows.append(row)
    return rows


def plots(result, stem):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for row in result["rows"]:               # mean over seeds, one standard deviation either side
        delays = [int(d) for d in row["recall"]]
        ax.errorbar(delays, list(row["recall"].values()), yerr=list(row["recall_std"].values()), fmt="o-",
                    capsize=3, label=LABELS[row["kind"]])
    ax.axhline(0.25, color="grey", ls=":", label="chance")
    ax.set(xscale="log", xlabel="delay D (steps)", ylabel="recall accuracy", ylim=(0, 1.02))
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(stem + "-recall.png", dpi=100)
    rows = [r for r in result["rows"] if "val_bpc" in r]
    fig, axes = plt.subplots(1, 3, figsize=(10, 3))
    for ax, key, label in zip(axes, ("val_bpc", "latency_ms", "tokens_per_s"),
                              ("held-out bits/char", "latency/token (ms)", "tokens/s")):
        ax.bar([r["model"].replace(", ", ",\n") for r in rows], [r[key] for r in rows],
               yerr=[r[key + "_std"] for r in rows])
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
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--lm-seeds", type=int, nargs="*", default=None,
                        help="seeds of the language models (default: the first of --seeds; none: no language models)")
    parser.add_argument("--models", nargs="+", default=list(KINDS), choices=MODELS)
    parser.add_argument("--resume", nargs="+", default=[], metavar="FILE",
                        help="earlier run sets (or JSON lines of recall rows) whose runs are taken, not rerun")
    parser.add_argument("--collect", action="store_true", help="run nothing: only the runs of --resume")
    parser.add_argument("--no-plots", action="store_true")
    args = parser.parse_args(argv)
    if args.lm_seeds is None:
        args.lm_seeds = args.seeds[:1]
    torch.set_num_threads(1)
    start = time.perf_counter()

    def log(line):
        print(f"[{time.perf_counter() - start:6.0f} s] {line}", flush=True)
    earlier_recall, earlier_lm = earlier_runs(args.resume)
    result = {"settings": {k: v for k, v in vars(args).items() if k not in ("out", "no_plots", "resume")},
              "threads": 1, "torch": torch.__version__, "python": platform.python_version(),
              "recall": recall(args.models, args.delays, args.seeds, args.recall_iterations, args.recall_budget,
                               log, earlier_recall, args.collect),
              "lm": language(args.models, args.lm_iterations, args.lm_budget, args.lm_seeds, args.max_chars, log,
                             earlier_lm, args.collect)}
    result["seconds"] = time.perf_counter() - start
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    result["rows"] = rows_by_model(args.models, result["recall"], result["lm"]["rows"])
    write_run_set(args.out, "amsu", **result)
    if not args.no_plots:
        plots(result, os.path.splitext(args.out)[0])
    log(f"wrote {args.out}")
    return result


if __name__ == "__main__":
    main()
