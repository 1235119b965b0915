"""The CA3 memory's experiments (the paper's three, a scaled stress sweep, and
the comparison with ANN associative memories) and the report they write.

The scaled stress sweep (``scaled_stress``) fills every cue with random
contents, recalls by cue and by one-bit fragments, then overwrites every cue
with new contents and recalls again (rounds "fill" and "overwrite");
``workloads`` runs long random workloads (``compare.random_workload``: learns
of random cues, about half of them overwrites, recalls by cue and by
fragments of 1-3 bits). Both run the board's circuit and two-state synapses
(``binary_threshold``) side by side.

Each experiment returns plain data; ``write_report`` turns a functional,
stress or map run into a report folder: raster with the operations marked,
the two plastic weight matrices after every learn, a table of operations
(``operations.csv``) and ``metrics.json``.
"""
from __future__ import annotations

import csv
import json
import os
import time

import numpy as np

from spikemem.analysis import compare_spikes
from spikemem.progress import progress

from .network import DT, CA3Memory
from .hopfield import ClassicalHopfield, ModernHopfield
from .compare import expected_answer, fragment_scores, random_contents, random_workload, recalls_exactly

EXPERIMENTS = ("functional", "stress", "map")

# --------------------------------------------------------------- op scripts
# (kind, argument): "learn" takes (cue, bits), recalls take a cue or a bit set.
FUNCTIONAL = [
    ("learn", (0, {0, 3, 7})), ("learn", (1, {1, 3, 8})),
    ("recall_by_cue", 0), ("learn", (2, {2, 5, 9})),
    ("recall_by_cue", 1), ("recall_by_cue", 2),
    ("recall_by_content", {3}), ("recall_by_content", {5}), ("recall_by_content", {7, 9}),
    ("learn", (1, {4, 6})),                      # overwrite cue 1
    ("recall_by_cue", 1), ("recall_by_content", {4}), ("recall_by_content", {8}),
]

MAP_STATES = ("unknown", "start", "goal", "free", "path", "obstacle")
#: the paper's 4x4 map (the authors' script), one state index per cell, row by row
MAP_GRID = [[0, 5, 1, 3],
            [0, 3, 4, 5],
            [0, 5, 4, 3],
            [2, 4, 4, 3]]
#: its queries: the route (start, goal and path at once), the free cells, the obstacles, the unknown
MAP_QUERIES = [{1, 2, 4}, {3}, {5}, {0}]
MAP_OPERATION_STEPS = 7       # the paper's map stores a cell every 7 ms


def stress_script(n_cues=5, n_content=10):
    """Fill every cue with the binary code of i+1, recall everything, overwrite
    with the complements, recall everything again."""
    def code(i, complement=False):
        bits = {b for b in range(n_content) if (i + 1) >> b & 1}
        return set(range(n_content)) - bits if complement else bits
    ops = []
    for complement in (False, True):
        ops += [("learn", (c, code(c, complement))) for c in range(n_cues)]
        ops += [("recall_by_cue", c) for c in range(n_cues)]
        ops += [("recall_by_content", {b}) for b in range(n_content)]
    return ops


def map_script():
    """The paper's 4x4 grid map: 16 cells, each storing its state flag; then the
    queries by content, each returning every cell in one of the queried states."""
    cells = [state for row in MAP_GRID for state in row]
    return [("learn", (c, {s})) for c, s in enumerate(cells)] + [("recall_by_content", q) for q in MAP_QUERIES]


# --------------------------------------------------------------- running
def run_script(ops, n_cues, n_content, backend="numba", memory: dict | None = None, **options):
    """Run ``ops`` on a fresh memory (``CA3Memory`` with the fields in ``memory``,
    e.g. operation_steps; its simulation built with ``options``, if any);
    returns (memory, rows, weights after each learn).

    A recall is correct when it answers exactly as the set semantics expect
    (``compare.expected_answer``). A learn is correct when the output shows its
    cue and new content, and nothing else but the content it overwrites: on
    the board, as here, the old content fires once while it is forgotten
    (``forgotten`` in the row)."""
    mem = CA3Memory(n_cues, n_content, backend=backend, options=options, **(memory or {}))
    stored: dict = {}
    rows, snapshots = [], []
    with progress(len(ops), f"CA3 memory on {backend}", unit="op") as bar:
        for kind, arg in ops:
            _run_op(mem, stored, rows, snapshots, kind, arg)
            bar.update()
    return mem, rows, snapshots


def _run_op(mem, stored: dict, rows: list, snapshots: list, kind: str, arg) -> None:
    """One operation of ``run_script``: its row (and weights after a learn) appended."""
    expected = expected_answer(stored, kind, arg)
    answer = getattr(mem, kind)(*arg) if kind == "learn" else getattr(mem, kind)(arg)
    got = (answer.cues, answer.content)
    forgotten = frozenset()
    if kind == "learn":
        cue, bits = arg
        forgotten = answer.content - frozenset(bits)
        correct = (got[0] == expected[0] and expected[1] <= got[1]
                   and forgotten <= stored.get(cue, frozenset()))
        stored[cue] = frozenset(bits)
        snapshots.append((len(rows), mem.weights()))
    else:
        correct = got == expected
    op = mem.operations[-1]
    rows.append({"op": len(rows), "kind": kind, "input": _fmt(arg), "start_step": op.start,
                 "answer_cues": sorted(answer.cues), "answer_content": sorted(answer.content),
                 "expected_cues": sorted(expected[0]), "expected_content": sorted(expected[1]),
                 "forgotten": sorted(forgotten), "correct": correct,
                 "latency_steps": answer.latency, "wall_s": op.wall_s})


def ca3_functional(backend: str, **options):
    """The functional experiment on ``backend``, its simulation built with
    ``options`` (an emulator's ``arithmetic="float64"`` twin, say); returns
    (memory, [(cues, content) per operation])."""
    mem, rows, _ = run_script(FUNCTIONAL, 5, 10, backend, **options)
    return mem, [(r["answer_cues"], r["answer_content"]) for r in rows]


def _fmt(arg):
    if isinstance(arg, tuple):
        return f"cue {arg[0]} <- {sorted(arg[1])}"
    return f"cue {arg}" if isinstance(arg, int) else f"bits {sorted(arg)}"


def experiment(name: str, backend="numba"):
    if name == "functional":
        return run_script(FUNCTIONAL, 5, 10, backend)
    if name == "stress":
        return run_script(stress_script(5, 10), 5, 10, backend)
    if name == "map":
        return run_script(map_script(), 16, len(MAP_STATES), backend,
                          memory={"operation_steps": MAP_OPERATION_STEPS})
    raise ValueError(f"unknown experiment {name!r}; choose one of {EXPERIMENTS}")


def main_job(name: str, backend: str, folder: str) -> list:
    """``spikemem run ca3-cam``: experiment ``name`` on ``backend``, its report
    written into ``folder``; the lines to print, one per operation and a summary."""
    mem, rows, snapshots = experiment(name, backend=backend)
    data = write_report(folder, mem, rows, snapshots, {"experiment": name})
    width = max(len(r["input"]) for r in rows)
    lines = [f"{r['op']:3d} {r['kind']:18s} {r['input']:{width}s} -> cues {r['answer_cues']} "
             f"content {r['answer_content']} ({r['latency_steps']} steps)"
             + (f"   forgets {r['forgotten']}" if r["forgotten"] else "")
             + ("" if r["correct"] else f"   expected cues {r['expected_cues']} content {r['expected_content']}")
             for r in rows]
    return lines + [f"{backend}: {name}: {data['correct']}/{data['operations']} operations as the set "
                    f"semantics expect, {mem.operation_steps} steps each; {data['forgotten_bits']} overwritten "
                    f"bits forgotten"]


def compare_backends(name: str, backend: str, reference: str = "numba") -> dict:
    """Experiment ``name`` on ``backend`` beside ``reference``: the operations whose
    decoded answers differ, and how far the output rasters are apart."""
    ref_mem, ref_rows, _ = experiment(name, reference)
    mem, rows, _ = experiment(name, backend)
    differ = [{"op": a["op"], "kind": a["kind"], "input": a["input"],
               reference: [a["answer_cues"], a["answer_content"]], backend: [b["answer_cues"], b["answer_content"]]}
              for a, b in zip(ref_rows, rows)
              if (a["answer_cues"], a["answer_content"]) != (b["answer_cues"], b["answer_content"])]
    return {"experiment": name, "backend": backend, "reference": reference, "operations": len(rows),
            "same_answers": len(rows) - len(differ), "differ": differ,
            "correct": {reference: sum(r["correct"] for r in ref_rows), backend: sum(r["correct"] for r in rows)},
            "spikes": compare_spikes(ref_mem.result, mem.result, float(DT))}


def metrics(rows, mem) -> dict:
    by_kind = {}
    for kind in ("learn", "recall_by_cue", "recall_by_content"):
        sel = [r for r in rows if r["kind"] == kind]
        if sel:
            by_kind[kind] = {"operations": len(sel), "correct": sum(r["correct"] for r in sel),
                             "mean_latency_steps": float(np.mean([r["latency_steps"] for r in sel])),
                             "mean_wall_s": float(np.mean([r["wall_s"] for r in sel]))}
    return {"n_cues": mem.n_cues, "n_content": mem.n_content, "backend": mem.backend,
            "operations": len(rows), "correct": sum(r["correct"] for r in rows),
            "steps_per_operation": mem.operation_steps, "by_kind": by_kind,
            "forgotten_bits": sum(len(r["forgotten"]) for r in rows),
            "simulated_steps": int(mem.sim.step)}


# --------------------------------------------------------------- report
def write_report(out_dir, mem, rows, snapshots, extra: dict | None = None):
    """Raster with operations marked, weight matrices after each learn, the
    operation table and metrics.json, written into ``out_dir``."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from spikemem.plot import raster, save_figure

    os.makedirs(out_dir, exist_ok=True)
    result = mem.result
    fig, ax = plt.subplots(figsize=(12, 7))
    order = ["IL", "CueCue", "ContCue", "ContCond", "ContCondInt", "ContCont", "CueCont",
             "MergeCue", "MergeCont", "OL"]
    raster(result, ax=ax, populations=order)
    for r in rows:
        t = r["start_step"] * 1e-3
        ax.axvline(t, color="0.6", lw=0.6, ls="--")
        ax.text(t, ax.get_ylim()[1], f"{r['op']}", fontsize=7, va="bottom")
    ax.set_title("CA3 memory: every population, operations marked (number = row of operations.csv)")
    save_figure(fig, os.path.join(out_dir, "raster.png"))
    plt.close(fig)

    if snapshots:
        # pre x post matrices in nA: rows = presynaptic neuron, columns = postsynaptic
        from brian2 import nA
        from .network import CA3_STDP
        w_max = float(CA3_STDP["w_max"] / nA)
        fig, axes = plt.subplots(2, len(snapshots), figsize=(2.2 * len(snapshots) + 2, 5.5),
                                 squeeze=False, layout="constrained")
        axis_names = {"cue_to_content": ("cue", "content bit"), "content_to_cue": ("content bit", "cue")}
        for k, (op, w) in enumerate(snapshots):
            for row, name in enumerate(("cue_to_content", "content_to_cue")):
                ax = axes[row][k]
                image = ax.imshow(w[name], vmin=0, vmax=w_max, cmap="viridis", aspect="auto",
                                  interpolation="nearest")
                ax.set_title(f"after op {op}" if row == 0 else "", fontsize=8)
                ax.set_xticks([]), ax.set_yticks([])
                pre, post = axis_names[name]
                ax.set_xlabel(f"post: {post}", fontsize=7)
                if k == 0:
                    ax.set_ylabel(f"{pre} -> {post}\npre: {pre}", fontsize=8)
        fig.colorbar(image, ax=axes, label="weight (nA)", shrink=0.9)
        meta = result.meta
        fig.suptitle(f"CA3 plastic weights after each learn ({meta.get('backend', mem.backend)}, "
                     f"{mem.n_cues} cues x {mem.n_content} content bits)", fontsize=10)
        save_figure(fig, os.path.join(out_dir, "weights.png"))
        plt.close(fig)

    with open(os.path.join(out_dir, "operations.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    data = metrics(rows, mem)
    data.update(extra or {})
    with open(os.path.join(out_dir, "metrics.json"), "w") as f:
        json.dump(data, f, indent=1)
    return data


# --------------------------------------------------------------- scaled stress
#: the two-state synapses' threshold the stress sweep and the workloads compare with the board's circuit
BINARY_THRESHOLD = 0.8


def scaled_stress(sizes=((16, 16), (32, 32), (64, 64), (128, 128)), backends=("numba",),
                  k_overlap=3, n_fragments=16, binary_thresholds=(None, BINARY_THRESHOLD), seed=0):
    """Random contents, orthogonal (one private bit per cue, so n <= m) and
    overlapping (``k_overlap`` random bits per cue), on the board's circuit
    (``binary_threshold`` None) and with two-state synapses. Per configuration
    and round (the first fill, then an overwrite of every cue with new
    contents of the same kind): exact recall by cue, precision / recall of
    single-bit recall by content against the set semantics, steps and wall
    time per operation."""
    rng = np.random.default_rng(seed)
    rows = []
    with progress(len(sizes) * 2 * len(backends) * len(binary_thresholds) * 2, "CA3 scaled stress",
                  unit="round") as bar:
        for n, m in sizes:
            _stress_size(n, m, rng, rows, bar, backends, k_overlap, n_fragments, binary_thresholds)
    return rows


def _stress_size(n, m, rng, rows, bar, backends, k_overlap, n_fragments, binary_thresholds) -> None:
    """``scaled_stress`` for one size: each round's row appended, ``bar`` moved on."""
    for kind in ("orthogonal", "overlapping"):
        k = 1 if kind == "orthogonal" else k_overlap
        rounds = [random_contents(n, m, k, rng, orthogonal=(kind == "orthogonal")) for _ in range(2)]
        fragments = [{int(b)} for b in rng.choice(m, size=min(n_fragments, m), replace=False)]
        for backend in backends:
            for threshold in binary_thresholds:
                mem = CA3Memory(n, m, backend=backend, binary_threshold=threshold)
                for name, contents in zip(("fill", "overwrite"), rounds):
                    for c, bits in enumerate(contents):
                        mem.learn(c, bits)
                    exact = np.mean([recalls_exactly(mem, c, bits) for c, bits in enumerate(contents)])
                    precision, recall = fragment_scores(mem, contents, fragments)
                    walls = [op.wall_s for op in mem.operations]
                    rows.append({"n": n, "m": m, "contents": kind, "round": name, "backend": backend,
                                 "synapses": _synapses(threshold), "exact_recall_by_cue": float(exact),
                                 "content_precision": precision, "content_recall": recall,
                                 "steps_per_op": mem.operation_steps,
                                 "wall_ms_per_op": 1e3 * float(np.mean(walls))})
                    bar.update()


def workloads(sizes=((48, 48, 0.15), (128, 128, 0.2)), n_operations=400, backend="numba",
              binary_thresholds=(None, BINARY_THRESHOLD), seed=0):
    """Long random workloads (``compare.random_workload``: interleaved learns,
    overwrites, recalls by cue and by fragments of 1-3 bits) on the board's
    circuit and with two-state synapses: per configuration, the recalls that
    break the set semantics."""
    rows = []
    for n, m, density in sizes:
        ops = random_workload(n, m, density, n_operations, np.random.default_rng(seed))
        for threshold in binary_thresholds:
            mem, results, _ = run_script(ops, n, m, backend, memory={"binary_threshold": threshold})
            row = {"n": n, "m": m, "density": density, "operations": len(results), "backend": backend,
                   "synapses": _synapses(threshold), "steps_per_op": mem.operation_steps}
            for kind in ("learn", "recall_by_cue", "recall_by_content"):
                sel = [r for r in results if r["kind"] == kind]
                row[kind] = len(sel)
                row[f"{kind}_wrong"] = sum(not r["correct"] for r in sel)
            rows.append(row)
    return rows


def _synapses(threshold) -> str:
    return "board" if threshold is None else f"two-state {threshold:g}"


# --------------------------------------------------------------- vs ANN
def ann_comparison(n_cues=8, n_content=16, k_bits=3, capacity_counts=(2, 4, 8, 16), seed=0,
                   backend="numba"):
    """CA3 vs a classical and a modern Hopfield network storing the same cue +
    content patterns: exact recall from a cue, recall from a one-bit content
    fragment (precision / recall against the OR semantics), capacity, overwrite,
    operations per second."""
    rng = np.random.default_rng(seed)
    factories = {"ca3": lambda n_cues, n_content: CA3Memory(n_cues, n_content, backend=backend),
                 "ca3_two_state": lambda n_cues, n_content: CA3Memory(n_cues, n_content, backend=backend,
                                                                      binary_threshold=BINARY_THRESHOLD),
                 "classical_hopfield": ClassicalHopfield, "modern_hopfield": ModernHopfield}
    contents = random_contents(n_cues, n_content, k_bits, rng)
    fragments = [{b} for b in range(n_content)]
    table = {}
    for name, make in factories.items():
        mem = make(n_cues=n_cues, n_content=n_content)
        t0 = time.perf_counter()
        for c, bits in enumerate(contents):
            mem.learn(c, bits)
        exact = np.mean([recalls_exactly(mem, c, bits) for c, bits in enumerate(contents)])
        precision, recall = fragment_scores(mem, contents, fragments)
        n_ops = len(contents) * 2 + len(fragments)
        ops = n_ops / (time.perf_counter() - t0)
        new = set(range(n_content)) - set(contents[0])
        new = set(sorted(new)[:k_bits])
        mem.learn(0, new)
        after = mem.recall_by_cue(0)
        others = np.mean([recalls_exactly(mem, c, bits) for c, bits in enumerate(contents) if c != 0])
        capacity = []
        for count in capacity_counts:
            cap_contents = random_contents(count, n_content, k_bits, rng)
            fresh = make(n_cues=count, n_content=n_content)
            for c, bits in enumerate(cap_contents):
                fresh.learn(c, bits)
            capacity.append(float(np.mean([recalls_exactly(fresh, c, bits)
                                           for c, bits in enumerate(cap_contents)])))
        table[name] = {"exact_recall_by_cue": float(exact), "content_precision": precision,
                       "content_recall": recall,
                       "overwrite_new_content_recalled": after.content == frozenset(new),
                       "overwrite_others_intact": float(others),
                       "capacity": dict(zip(map(str, capacity_counts), capacity)),
                       "operations_per_second": float(ops)}
    return table
