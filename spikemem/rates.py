"""Rate units and their stochastic spiking counterpart, as neuron templates.

Both hold ``s``, the variable projections read (a summed rate synapse such as
``SynapseModel("w : 1\\nI_post = w*s_pre : 1 (summed)")``), and ``I``, the
summed input they write (receptor ``"input"``). ``drive`` is an expression
added to ``I`` (the subexpression ``drive``), e.g. ``"B"``; ``equations`` are
extra lines declaring what it uses, e.g. a signal's components
(``Network.signal``) and per-neuron parameters::

    ReLURate(drive="B", equations='''
        B = A*(1 + alpha*(ex*v_x + ey*v_y)) : 1
        A : 1 (constant)
        alpha : 1 (constant)
        ex : 1 (constant)
        ey : 1 (constant)
        ''')

Templates (defaults in SI; the parameters the extra equations declare come
from the population's ``params``):

=================  ==========================================================
``ReLURate``       tau ds/dt = -s + relu(I + drive); no spikes. ``tau``
                   10 ms. Integrated with Euler's method (``method=`` to
                   change it).
``PoissonUnit``    fires with probability rate*dt in each step, rate =
                   gain * relu(I + drive) (the subexpression ``rate``, in
                   Hz; the threshold is ``rand() < rate*dt``, so a rate
                   above 1/dt fires every step); ``s`` decays with tau and
                   jumps by 1 at each spike. ``tau`` 10 ms, ``gain`` 100 Hz
                   (1/tau: the mean of ``s`` is then relu(I + drive), the
                   ReLURate's fixed point).
=================  ==========================================================

``tau`` and ``gain`` must be > 0 (``neurons.POSITIVE``). The random numbers
of ``PoissonUnit`` come from the simulation's stream, seeded by the network's
seed: the same seed gives the same spikes on one backend (the backends draw
from different generators, so they agree in statistics, not spike for spike).

``neurons.RateUnit`` (tau dr/dt = -r + gain*relu(I + i_offset), rate ``r``)
stays as it was for the networks written with it.
"""
from __future__ import annotations

from textwrap import dedent

from brian2 import Hz, ms

from .errors import ModelError
from .neurons import NeuronModel

#: the lines every ReLURate / PoissonUnit starts with (how a template is recognised)
_RELU_CORE = """
ds/dt = (-s + clip(I + drive, 0, inf))/tau : 1
I : 1
tau : second (constant)
"""
_POISSON_CORE = """
ds/dt = -s/tau : 1
rate = gain*clip(I + drive, 0, inf) : hertz
I : 1
tau : second (constant)
gain : hertz (constant)
"""
POISSON_THRESHOLD = "rand() < rate*dt"


def _equations(core: str, drive: str, equations: str, name: str) -> str:
    if not isinstance(drive, str) or not isinstance(equations, str):
        raise ModelError(f"{name}: drive and equations must be strings, got {drive!r} and {equations!r}")
    return f"{core}drive = {drive.strip() or '0'} : 1\n{dedent(equations).strip()}\n"


def ReLURate(drive: str = "", equations: str = "", method: str = "euler", **params) -> NeuronModel:
    """tau ds/dt = -s + relu(I + drive) (see the module text)."""
    return NeuronModel(name="ReLURate", equations=_equations(_RELU_CORE, drive, equations, "ReLURate"),
                       method=method, params={"tau": 10 * ms, **params}, receptors={"input": "I"})


def PoissonUnit(drive: str = "", equations: str = "", **params) -> NeuronModel:
    """Spikes with probability gain*relu(I + drive)*dt per step; s decays with
    tau and jumps by 1 at each spike (see the module text)."""
    return NeuronModel(name="PoissonUnit", equations=_equations(_POISSON_CORE, drive, equations, "PoissonUnit"),
                       threshold=POISSON_THRESHOLD, reset="s += 1", method="exact",
                       params={"tau": 10 * ms, "gain": 100 * Hz, **params}, receptors={"input": "I"})


_CORES = {"ReLURate": _RELU_CORE, "PoissonUnit": _POISSON_CORE}


def is_rate_template(model: NeuronModel) -> bool:
    """Whether ``model`` is ``ReLURate`` or ``PoissonUnit`` with any drive,
    extra equations and parameters."""
    core = _CORES.get(model.name)
    if core is None:
        return False
    plain = PoissonUnit() if model.name == "PoissonUnit" else ReLURate(method=model.method)
    return (model.equations.startswith(core) and model.threshold == plain.threshold
            and model.reset == plain.reset and dict(model.receptors) == dict(plain.receptors))


def is_stochastic(model: NeuronModel) -> bool:
    """Whether the model draws random numbers to decide its spikes (``rand()``
    or ``randn()`` in its threshold)."""
    from brian2.utils.stringtools import get_identifiers
    return bool({"rand", "randn"} & get_identifiers(model.threshold or ""))
