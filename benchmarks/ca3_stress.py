"""Scaled stress sweep of the CA3 memory and its comparison with ANN memories.

    python benchmarks/ca3_stress.py [--quick] [--backends numba brian2-numpy]

Prints two markdown tables (the docs' CA3 page renders them from --out): per size and content
kind, exact recall by cue, precision / recall of one-bit recall by content
against the set semantics, steps and wall time per operation on each backend;
then CA3 vs classical and modern Hopfield networks.
"""
import argparse

from record import write_run_set

from spikemem.models.ca3_cam.experiments import ann_comparison, scaled_stress


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="sizes 8 and 16 only")
    parser.add_argument("--backends", nargs="+", default=["numba", "brian2-numpy"])
    parser.add_argument("--out", metavar="PREFIX",
                        help="also write the run sets as JSON for the docs: PREFIX-<backend>.json per backend, "
                             "PREFIX-ann.json")
    args = parser.parse_args()
    sizes = ((8, 8), (16, 16)) if args.quick else ((16, 16), (32, 32), (64, 64), (128, 128))
    rows = scaled_stress(sizes, backends=args.backends)
    print("| n | m | contents | backend | exact by cue | content precision | content recall | steps/op | wall ms/op |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['n']} | {r['m']} | {r['contents']} | {r['backend']} | {r['exact_recall_by_cue']:.2f} | "
              f"{r['content_precision']:.2f} | {r['content_recall']:.2f} | {r['steps_per_op']} | "
              f"{r['wall_ms_per_op']:.1f} |")
    table = ann_comparison()
    print()
    print("| memory | exact by cue | content precision | content recall | overwrite: new recalled "
          "| overwrite: others intact | capacity (2/4/8/16 memories) | ops/s |")
    print("|---|---|---|---|---|---|---|---|")
    for name, t in table.items():
        cap = "/".join(f"{v:.2f}" for v in t["capacity"].values())
        print(f"| {name} | {t['exact_recall_by_cue']:.2f} | {t['content_precision']:.2f} | {t['content_recall']:.2f} | "
              f"{t['overwrite_new_content_recalled']} | {t['overwrite_others_intact']:.2f} | {cap} "
              f"| {t['operations_per_second']:.0f} |")
    if args.out:
        for backend in args.backends:
            write_run_set(f"{args.out}-{backend}.json", "ca3_stress", [r for r in rows if r["backend"] == backend])
        write_run_set(f"{args.out}-ann.json", "ca3_stress.ann_comparison",
                      [{"memory": name, **t} for name, t in table.items()])


if __name__ == "__main__":
    main()
