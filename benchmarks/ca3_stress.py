"""Scaled stress sweep of the CA3 memory, long random workloads, and the comparison with ANN memories.

    python benchmarks/ca3_stress.py [--quick] [--backends numba brian2-numpy] [--out PREFIX]

Prints markdown tables (the docs' CA3 page renders them from --out): per size,
content kind, round (first fill, then every cue overwritten), synapses (the
board's circuit or two-state) and backend, exact recall by cue, precision /
recall of one-bit recall by content against the set semantics, steps and wall
time per operation; the wrong answers of long random workloads; then CA3 vs
classical and modern Hopfield networks.
"""
import argparse

from record import write_run_set

from spikemem.models.ca3_cam.experiments import ann_comparison, scaled_stress, workloads


def table(rows, columns):
    print("| " + " | ".join(title for _, title, _ in columns) + " |")
    print("|" + "---|" * len(columns))
    for r in rows:
        print("| " + " | ".join(fmt.format(r[key]) for key, _, fmt in columns) + " |")
    print()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="sizes 8 and 16, short workloads")
    parser.add_argument("--backends", nargs="+", default=["numba", "brian2-numpy"])
    parser.add_argument("--out", metavar="PREFIX",
                        help="also write the run sets as JSON for the docs: PREFIX-<backend>.json per backend, "
                             "PREFIX-workload.json, PREFIX-ann.json")
    args = parser.parse_args()
    sizes = ((8, 8), (16, 16)) if args.quick else ((16, 16), (32, 32), (64, 64), (128, 128))
    rows = scaled_stress(sizes, backends=args.backends)
    table(rows, [("n", "n", "{}"), ("m", "m", "{}"), ("contents", "contents", "{}"), ("round", "round", "{}"),
                 ("synapses", "synapses", "{}"), ("backend", "backend", "{}"),
                 ("exact_recall_by_cue", "exact by cue", "{:.2f}"),
                 ("content_precision", "content precision", "{:.2f}"),
                 ("content_recall", "content recall", "{:.2f}"), ("steps_per_op", "steps/op", "{}"),
                 ("wall_ms_per_op", "wall ms/op", "{:.1f}")])
    load = workloads(((16, 16, 0.2),), n_operations=100) if args.quick else workloads()
    table(load, [("n", "n", "{}"), ("m", "m", "{}"), ("density", "density", "{:.2f}"),
                 ("operations", "operations", "{}"), ("synapses", "synapses", "{}"),
                 ("recall_by_cue_wrong", "wrong by cue", "{}"), ("recall_by_cue", "by cue", "{}"),
                 ("recall_by_content_wrong", "wrong by content", "{}"), ("recall_by_content", "by content", "{}"),
                 ("learn_wrong", "wrong learns", "{}"), ("learn", "learns", "{}")])
    ann = ann_comparison()
    ann_rows = [{"memory": name, **t, "capacity": "/".join(f"{v:.2f}" for v in t["capacity"].values())}
                for name, t in ann.items()]
    table(ann_rows, [("memory", "memory", "{}"), ("exact_recall_by_cue", "exact by cue", "{:.2f}"),
                     ("content_precision", "content precision", "{:.2f}"),
                     ("content_recall", "content recall", "{:.2f}"),
                     ("overwrite_new_content_recalled", "overwrite: new recalled", "{}"),
                     ("overwrite_others_intact", "overwrite: others intact", "{:.2f}"),
                     ("capacity", "capacity (2/4/8/16 memories)", "{}"), ("operations_per_second", "ops/s", "{:.0f}")])
    if args.out:
        for backend in args.backends:
            write_run_set(f"{args.out}-{backend}.json", "ca3_stress", [r for r in rows if r["backend"] == backend])
        write_run_set(f"{args.out}-workload.json", "ca3_stress.workloads", load)
        write_run_set(f"{args.out}-ann.json", "ca3_stress.ann_comparison", [{"memory": n, **t} for n, t in ann.items()])


if __name__ == "__main__":
    main()
