"""What the CLI's commands share: request checks, model and network loading, output folders."""
from __future__ import annotations

import argparse
import inspect
import math
import os
import textwrap


PROG = "spikemem"


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions as written; option help wrapped without breaking a name at
    its hyphens (``place-recognition`` stays one word)."""

    def _split_lines(self, text, width):
        return textwrap.wrap(self._whitespace_matcher.sub(" ", text).strip(), width, break_on_hyphens=False)


class Parser(argparse.ArgumentParser):
    """The CLI's parsers, subcommands' included: ``HelpFormatter`` unless told otherwise."""

    def __init__(self, *args, formatter_class=HelpFormatter, **kwargs):
        super().__init__(*args, formatter_class=formatter_class, **kwargs)


class CLIError(Exception):
    """A request the CLI refuses (reported like a ModelError, exit status 2)."""


# ----------------------------------------------------------------- helpers
def _finite(x):
    """JSON has no NaN/inf: report undefined statistics as null."""
    x = float(x)
    return x if math.isfinite(x) else None


def _check_duration(duration: float, dt: float | None = None) -> float:
    if not (math.isfinite(duration) and duration > 0):
        raise CLIError(f"--duration must be a positive number of seconds, got {duration}")
    if dt is not None and round(duration / dt) < 1:
        raise CLIError(f"--duration {duration} s is shorter than one time step (dt = {dt} s)")
    return duration


def experiment_model(name: str):
    """The registered model ``name`` if its main job is a scripted experiment, else None."""
    from ..zoo import MODELS
    model = MODELS.get(name) if name in MODELS else None
    return model if model is not None and model.run_experiment else None


def experiment_models() -> list:
    from ..zoo import MODELS
    return [m.name for m in MODELS.entries() if m.run_experiment]


def _model_network(name: str, n=None, seed=None, **extra):
    """Instantiate model ``name`` from the zoo, passing only the options it takes."""
    from ..errors import ModelError
    from ..zoo import MODELS
    factory = MODELS.get(name).factory()
    params = inspect.signature(factory).parameters
    kwargs = dict(extra)
    for opt, value in (("n", n), ("seed", seed)):
        if value is None:
            continue
        if opt not in params:
            raise CLIError(f"model '{name}' has no option '--{opt}'")
        kwargs[opt] = value
    try:
        return factory(**kwargs)
    except TypeError as e:          # e.g. a wrong keyword for this model
        raise ModelError(f"model '{name}': {e}") from None


def load_target(target: str, n=None, seed=None):
    """A ``Network`` from a registered model's name or a network JSON file."""
    from ..zoo import MODELS
    from ..network import Network
    if target in MODELS:
        return _model_network(target, n=n, seed=seed)
    if os.path.isfile(target):
        if n is not None:
            raise CLIError(f"--n applies to models only, not to the network file '{target}'")
        net = Network.load(target)
        if seed is not None:
            net.seed = int(seed)
        return net
    if os.path.isdir(target):
        raise CLIError(f"'{target}' is a directory, not a network file")
    looks_like_path = target.endswith(".json") or os.sep in target
    if looks_like_path:
        raise FileNotFoundError(f"network file '{target}' not found")
    raise CLIError(f"unknown model '{target}' (and no such network file); "
                   f"models: {', '.join(MODELS.names())}")


def check_output(path: str, option: str, folder: bool, force: bool) -> None:
    """Refuse, before any work, an output ``path`` (given as ``option``) that is
    taken or cannot be made (``results.output_problem``)."""
    from ..results import output_problem
    problem = output_problem(path, folder, force, "--force")
    if problem:
        raise CLIError(f"{option} '{path}': {problem}")


def check_out_dir(out: str, force: bool) -> None:
    check_output(out, "--out", folder=True, force=force)


def staged_dir(out: str, force: bool):
    """``results.staged_dir`` for an output folder given on the command line."""
    from ..results import staged_dir as _staged
    return _staged(out, lambda path: check_out_dir(path, force))



def _threads(text: str):
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number or 'auto', got {text!r}") from None


def simulators_first() -> list:
    """The registered backends, the hardware emulators last."""
    from ..backends import BACKENDS
    return sorted(BACKENDS.entries(), key=lambda b: b.capabilities.emulates is not None)


def dtype_choices() -> list:
    """Every state type some registered backend offers (``--dtype``'s choices)."""
    return list(dict.fromkeys(d for b in simulators_first() for d in b.capabilities.dtypes))


def catalogue() -> str:
    """The registered models and backends, for the commands' help."""
    from ..zoo import MODELS
    lines = ["models:"]
    for m in MODELS.entries():
        experiments = f" (experiments: {', '.join(m.experiments)})" if m.experiments else ""
        lines.append(f"  {m.name:15s} {m.summary}{experiments}")
    lines += ["", "backends:"] + [f"  {b.name:15s} {b.summary}" for b in simulators_first()]
    return "\n".join(lines)


def add_backend_options(parser) -> None:
    """--backend and --dtype, as run and bench take them."""
    parser.add_argument("--backend", default="numba", metavar="NAME",
                        help="the backend that simulates (listed below; default: numba)")
    parser.add_argument("--dtype", choices=dtype_choices(), default=None,
                        help="type of the state, where the backend offers it (default: the backend's)")


def backends_with(capability: str) -> list:
    """The registered backends whose capabilities record has ``capability`` set."""
    from ..backends import BACKENDS
    return [b.name for b in BACKENDS.entries() if getattr(b.capabilities, capability)]


def require_capability(backend: str, capability: str, option: str) -> None:
    """A CLIError naming the backends that offer ``option`` when ``backend`` does not."""
    from ..backends import BACKENDS
    if not getattr(BACKENDS.get(backend).capabilities, capability):
        raise CLIError(f"{option} is available for the backends {', '.join(backends_with(capability))} "
                       f"only, not {backend!r}")


def _dtype_option(backend: str, dtype) -> dict:
    """The simulation option for ``--dtype`` (none: the backend's default)."""
    from ..backends import BACKENDS
    if dtype is None:
        return {}
    offered = BACKENDS.get(backend).capabilities.dtypes
    if dtype not in offered:
        raise CLIError(f"--dtype {dtype} is not available for the backend {backend!r} (it offers "
                       f"{', '.join(offered)})")
    return {"dtype": dtype}


