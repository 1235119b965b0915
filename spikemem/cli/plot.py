"""``spikemem plot``: the figures of a saved result (``result.h5``), as ``spikemem run --out`` writes them."""
from __future__ import annotations

import os

from .common import CLIError, check_out_dir, staged_dir


def _load(path: str):
    from ..results import Result
    if os.path.isdir(path):
        raise CLIError(f"'{path}' is a directory, not a result file (it may hold one: {path}/result.h5)")
    try:
        return Result.load(path)
    except FileNotFoundError:
        raise CLIError(f"result file '{path}' not found") from None
    except ValueError as e:          # names the path and what is wrong with it
        raise CLIError(str(e)) from None


def cmd_plot(args) -> int:
    from .. import plot
    if args.out is None and not args.show:
        raise CLIError("give -o DIR to write the figures, or --show to open them in a window")
    if args.out is not None:
        check_out_dir(args.out, args.force)
    result = _load(args.result)
    if not (result.spikes or result.traces):     # what plot.figures() draws from
        raise CLIError(f"'{args.result}' holds no spikes and no traces: nothing to plot")
    drawn = plot.figures(result)        # once, for the files and the windows (a large raster is slow)
    if args.out is not None:
        with staged_dir(args.out, args.force) as tmp:
            names = [os.path.basename(p) for p in plot.save_figures(result, tmp, drawn)]
        print(f"plot: wrote {', '.join(names)} to {args.out}")
    if args.show:
        _show(drawn)
    return 0


def _show(figures: dict) -> None:
    """Open the figures in windows: pyplot adopts each (they are made without it)."""
    import matplotlib.pyplot as plt
    for fig in figures.values():
        plt.figure(fig)
    plt.show()


def add_parser(sub) -> None:
    p = sub.add_parser(
        "plot", help="write the figures of a saved result (result.h5)",
        description="Read a result written by 'spikemem run --out' or Result.save and write its figures "
                    "(raster.png and rate.png where spikes were recorded, traces.png where states were) "
                    "into DIR, as 'spikemem run' does, or open them in windows.")
    p.add_argument("result", metavar="RESULT_FILE", help="an HDF5 result file (result.h5)")
    p.add_argument("-o", "--out", default=None, metavar="DIR", help="the folder to write the figures into")
    p.add_argument("--force", action="store_true", help="replace DIR even if it exists and is not empty")
    p.add_argument("--show", action="store_true", help="open the figures in windows (needs a display)")
    p.set_defaults(func=cmd_plot)
