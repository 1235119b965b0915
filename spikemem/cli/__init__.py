"""Command-line interface: ``spikemem run``, ``spikemem bench`` and the hardware commands.

``spikemem run <model|network.json> --out DIR`` builds the network on a backend
(all validation first), simulates it and writes ``result.h5``, plots and
``metrics.json`` into DIR -- atomically: everything goes into a temporary
sibling directory that is renamed onto DIR at the very end, so a failed or
interrupted run leaves DIR as it was.

``spikemem export nir|pynn``, ``spikemem check|quantize|map|emulate --target
spinnaker|loihi``: the hardware commands (``spikemem.cli.hardware``).

``spikemem plot result.h5 -o DIR``: the figures of a saved result
(``spikemem.cli.plot``).

Progress (compilation, simulation steps, experiments, emulation, mapping) is
shown on a terminal or in a notebook, never in a pipe; ``--no-progress`` turns
it off. A network or recording that cannot fit in the memory available is
refused before any work (``spikemem.sizing``).

``spikemem sweep MODEL --set NAME=V1,V2 --seeds 0-9 --out DIR`` runs the
model's experiment at every combination of values, seeds and backends on Dask
(each point cached) and writes the metrics as a dataset, their provenance and
figures into DIR, atomically (``spikemem.cli.sweep``).

``spikemem bench cuba --backend B`` runs Brian2's CUBA benchmark network once
and prints one row of timings (``--json`` for machine-readable output).

Mistakes in the request (unknown model, backend, bad option values, a model
error) end with ``spikemem: error: <message>`` on stderr and exit status 2.
Heavy imports (brian2, numba, matplotlib) happen only inside the commands, so
``--help`` is fast.
"""
from __future__ import annotations

import argparse
import sys

from . import bench, hardware, plot, run, sweep
from .common import PROG, CLIError, Parser, catalogue


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__
    parser = Parser(prog=PROG, description="Spiking networks defined once, simulated by several backends.",
                    epilog=catalogue())
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    run.add_parser(sub)
    plot.add_parser(sub)
    sweep.add_parser(sub)
    bench.add_parser(sub)
    hardware.add_parsers(sub)             # check, quantize, map, emulate, export
    return parser


def _error(msg) -> int:
    print(f"{PROG}: error: {msg}", file=sys.stderr)
    return 2


def main(argv=None) -> int:
    """Entry point; returns the exit status (argparse's own errors included)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:             # --help, --version, usage errors
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    from ..errors import ModelError
    from ..progress import default
    try:
        with default(False if getattr(args, "no_progress", False) else None):
            return args.func(args)
    except (ModelError, CLIError, FileNotFoundError) as e:
        return _error(e)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
