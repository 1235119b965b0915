"""Hardware commands of the CLI: ``check``, ``quantize``, ``map``, ``emulate`` on a
registered target (``--target``, ``spikemem.targets.TARGETS``) and ``export pynn|nir``
(``--target``: the targets whose ``export_format`` is that format).

``check`` exits with status 1 when the network breaks a constraint (each one is
printed), 0 when it passes; request errors exit with 2 as everywhere else.
``--json`` prints one JSON object instead of text.
"""
from __future__ import annotations

import json
import os

from .common import (CLIError, _check_duration, check_out_dir, check_output, experiment_model, load_target,
                     staged_dir)


def _network(args):
    return load_target(args.model, n=args.n, seed=args.seed)


def _target(args):
    from ..targets import TARGETS
    return TARGETS.get(args.target)


def _print(args, data: dict, text: str) -> None:
    print(json.dumps(data, indent=1) if args.json else text)


def cmd_check(args) -> int:
    violations = _target(args).check(_network(args))
    lines = [f"{args.target}: '{args.model}' passes every check"] if not violations else \
        [f"{args.target}: '{args.model}' breaks {len(violations)} constraint(s):"] + [f"  - {v}" for v in violations]
    _print(args, {"target": args.target, "model": args.model, "ok": not violations,
                  "violations": [v.to_dict() for v in violations]}, "\n".join(lines))
    return 1 if violations else 0


def cmd_quantize(args) -> int:
    from ..targets import error_table
    q = _target(args).quantize(_network(args))
    _print(args, {"target": args.target, "model": args.model, "errors": [e.to_dict() for e in q.errors]},
           error_table(q.errors))
    return 0


def cmd_map(args) -> int:
    res = _target(args).map(_network(args))
    text = "\n".join([res.table(), "", "totals: " + ", ".join(f"{k} {v}" for k, v in res.totals.items())]
                     + [f"assumption: {a}" for a in res.assumptions])
    _print(args, res.to_dict(), text)
    return 0


def cmd_emulate(args) -> int:
    target = _target(args)
    model = experiment_model(args.model)
    if args.out is not None:
        if model is not None and model.compare_backends:
            raise CLIError(f"--out applies to network emulations; '{args.model}' compares its experiment's "
                           f"answers, which it prints")
        check_out_dir(args.out, args.force)
    if model is not None and model.compare_backends:   # the model's own experiment, answer by answer
        from ..registry import load_object
        if args.duration is not None:
            raise CLIError(f"--duration does not apply to '{args.model}' (its experiment sets its own)")
        experiment = model.experiments[0]
        data = load_object(model.compare_backends)(experiment, target.backend)
        lines = [f"{args.target}: {experiment} experiment: {data['same_answers']}/{data['operations']} "
                 f"decoded answers as on numba"] + [f"  op {d['op']} {d['kind']} {d['input']}: numba {d['numba']}, "
                                                    f"{args.target} {d[target.backend]}" for d in data["differ"]]
        distance = data["spikes"]
    else:
        network = _network(args)
        emu = target.emulate(network, _check_duration(args.duration if args.duration is not None else 1.0,
                                                      network.dt))
        data, distance = emu.to_dict(), emu.distance
        lines = [f"{args.target}: {'identical spikes' if emu.identical else 'spikes differ'} from float64"]
        if args.out is not None:
            _write_emulation(args, emu, data)
    for pop, d in distance.items():
        lines.append(f"  {pop:12s} float64 {d['reference']:7d}  {args.target} {d['emulated']:7d}  same {d['same']:7d}"
                     f"  first difference at step {d['first_difference_step']}")
    if args.out is not None:
        lines.append(f"wrote {args.out}")
    _print(args, data, "\n".join(lines))
    return 0


def _write_emulation(args, emu, data: dict) -> None:
    """``emulate --out``: both results, the difference raster and the report, atomically."""
    from .. import plot
    with staged_dir(args.out, args.force) as tmp:
        emu.reference.save(os.path.join(tmp, "reference.h5"))
        emu.result.save(os.path.join(tmp, "result.h5"))
        ax = plot.difference_raster(emu.reference, emu.result, labels=("float64", args.target))
        plot.save_figure(ax.figure, os.path.join(tmp, "difference.png"))
        with open(os.path.join(tmp, "emulation.json"), "w") as f:
            json.dump(data, f, indent=1)
            f.write("\n")


def cmd_export(args) -> int:
    """``export nir|pynn``, written by the format's writer or, with ``--target``, by
    the target's ``export``: refusals (ModelError) come before any file work."""
    out = args.output
    if args.format == "nir":
        check_output(out, "-o", folder=False, force=args.force)
        network = _network(args)
        if args.target:
            _target(args).export(network, out)
            print(f"nir: wrote {out} with {args.target}'s quantised parameters")
            return 0
        from ..interop.nir import write_nir
        graph = write_nir(network, out)
        print(f"nir: wrote {out}: {len(graph.nodes)} nodes, {len(graph.edges)} edges, dt = {network.dt:g} s")
        return 0
    from ..interop.pynn import export_pynn
    network = _network(args)
    duration = _check_duration(args.duration, network.dt)
    if args.target:
        folder = _target(args).export(network, out, duration=duration, force=args.force)
    else:
        folder = export_pynn(network, out, duration, force=args.force)
    print(f"pynn: wrote {folder}; run it with: python {os.path.join(folder, 'run.py')} --simulator nest|spinnaker")
    return 0


def _model_options(p, models: list, what="network size, for models that take one"):
    p.add_argument("model", metavar="MODEL|NETWORK_FILE",
                   help=f"model name ({', '.join(m.name for m in models)}) or a network JSON file")
    p.add_argument("--seed", type=int, default=None, metavar="N", help="random seed (default: the model's / file's)")
    p.add_argument("--n", type=int, default=None, metavar="N", help=what)


def add_parsers(sub) -> None:
    """The hardware subcommands, added to ``spikemem``'s parser; ``--target`` lists the
    registered targets and the help names the registered models (registering imports
    no engine, so ``--help`` stays fast)."""
    from ..targets import TARGETS
    from ..zoo import MODELS
    targets, models = TARGETS.entries(), MODELS.entries()
    target_help = "hardware target: " + "; ".join(f"{t.name}: {t.summary}" for t in targets)
    own = "".join(f" For {m.name}: its {m.experiments[0]} experiment, answer by answer." for m in models
                  if m.compare_backends and m.experiments)
    verbs = {
        "check": (cmd_check, "list every constraint of a hardware target the network breaks",
                  "Check the network against a target's limits (cell and synapse types, time step, "
                  "neurons per core, delays, weight ranges); exit status 1 if any is broken."),
        "quantize": (cmd_quantize, "show every parameter in the target's number formats",
                     "Quantise the network to the target's fixed-point formats and print each "
                     "parameter's float value, its quantised value and the relative error."),
        "map": (cmd_map, "cores and chips the network occupies on a target",
                "spinnaker: sPyNNaker's own mapping on a virtual board (in a temporary folder; "
                "~/.spynnaker.cfg is not read or written); loihi: cores and chips from compartments, "
                "fan-in, fan-out and synapse memory."),
        "emulate": (cmd_emulate, "run with the target's arithmetic and compare with float64",
                    "Run the network with the target's fixed-point arithmetic and report how far its spikes "
                    "are from the float64 numba run." + own),
    }
    for name, (func, help_, desc) in verbs.items():
        p = sub.add_parser(name, help=help_, description=desc)
        _model_options(p, models)
        p.add_argument("--target", required=True, choices=[t.name for t in targets], help=target_help)
        p.add_argument("--json", action="store_true", help="print one JSON object")
        p.add_argument("--no-progress", action="store_true",
                       help="never show progress (default: on a terminal or in a notebook)")
        if name == "emulate":
            p.add_argument("--duration", type=float, default=None, metavar="S",
                           help="simulated time in seconds (default: 1.0)")
            p.add_argument("--out", default=None, metavar="DIR",
                           help="also write both results (reference.h5, result.h5), difference.png (spikes "
                                "in both runs, only in float64, only on the target) and emulation.json")
            p.add_argument("--force", action="store_true", help="replace DIR even if it exists and is not empty")
        p.set_defaults(func=func)

    export = sub.add_parser("export", help="write a model or network file for another tool",
                            description="Write a model or network file in an exchange format.")
    formats = export.add_subparsers(dest="format", metavar="FORMAT")
    formats.required = True
    exporting = {f: [t.name for t in targets if t.export_format == f] for f in ("nir", "pynn")}
    nir_cmd = formats.add_parser(
        "nir", help="a NIR graph (HDF5) for norse, snntorch, Lava and other NIR tools",
        description="Write the network as a NIR graph (HDF5), atomically. Networks with parts NIR "
                    "cannot carry (plasticity, conductance synapses, non-NIR neuron models, "
                    "refractoriness, per-synapse delays, Poisson sources, current inputs) are "
                    "refused with every offender listed. The discretisation convention is in the "
                    "graph's metadata and in spikemem.interop.nir."
                    + _target_export_note(exporting["nir"], "quantised parameters instead"))
    _model_options(nir_cmd, models)
    nir_cmd.add_argument("-o", "--output", required=True, metavar="FILE", help="the NIR file to write")
    _export_target(nir_cmd, exporting["nir"], "quantise for this target first")
    nir_cmd.add_argument("--force", action="store_true", help="replace FILE if it exists")
    nir_cmd.set_defaults(func=cmd_export)
    pynn_cmd = formats.add_parser(
        "pynn", help="a standalone PyNN script (NEST or SpiNNaker)",
        description="Write a folder with run.py, model.json and network.npz; 'python run.py --simulator "
                    "nest|spinnaker' runs it and writes spikes.npz. Atomic; see spikemem.interop.pynn."
                    + _target_export_note(exporting["pynn"], "script, once the network passes its checks"))
    _model_options(pynn_cmd, models)
    pynn_cmd.add_argument("-o", "--output", required=True, metavar="DIR", help="the folder to write")
    pynn_cmd.add_argument("--duration", type=float, required=True, metavar="S", help="simulated time in seconds")
    _export_target(pynn_cmd, exporting["pynn"], "refuse what this target cannot run (its check) first")
    pynn_cmd.add_argument("--force", action="store_true", help="replace DIR if it is not empty")
    pynn_cmd.set_defaults(func=cmd_export)


def _target_export_note(names: list, what: str) -> str:
    """The sentence of an export format's description that names the targets exporting to it."""
    return f" --target {'|'.join(names)} writes that target's {what}." if names else ""


def _export_target(parser, names: list, help_: str) -> None:
    """``--target`` for an export format: the registered targets whose ``export_format`` it is."""
    if names:
        parser.add_argument("--target", default=None, choices=names, help=help_)
    else:
        parser.set_defaults(target=None)
