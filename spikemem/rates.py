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

``neurons.RateUnit`` is the older form: tau dr/dt = -r + gain*relu(I +
i_offset), its rate ``r``, a gain in Hz and no ``drive``.
"""
from __future__ import annotations

from textwrap import dedent

from brian2 import Hz, ms

from .errors import ModelError
from .neurons import RATE_TEMPLATES, NeuronModel

def _model(name: str, drive: str, equations: str, method: str, defaults: dict, params: dict) -> NeuronModel:
    """The template ``name`` (its lines in ``neurons.RATE_TEMPLATES``) with the
    subexpression ``drive`` and the extra ``equations``."""
    if not isinstance(drive, str) or not isinstance(equations, str):
        raise ModelError(f"{name}: drive and equations must be strings, got {drive!r} and {equations!r}")
    core, threshold, reset = RATE_TEMPLATES[name]
    return NeuronModel(name=name, equations=f"{core}drive = {drive.strip() or '0'} : 1\n{dedent(equations).strip()}\n",
                       threshold=threshold, reset=reset, method=method, params={**defaults, **params},
                       receptors={"input": "I"})


def ReLURate(drive: str = "", equations: str = "", method: str = "euler", **params) -> NeuronModel:
    """tau ds/dt = -s + relu(I + drive) (see the module text)."""
    return _model("ReLURate", drive, equations, method, {"tau": 10 * ms}, params)


def PoissonUnit(drive: str = "", equations: str = "", **params) -> NeuronModel:
    """Spikes with probability gain*relu(I + drive)*dt per step (``rand() <
    rate*dt``); s decays with tau and jumps by 1 at each spike (see the module
    text)."""
    return _model("PoissonUnit", drive, equations, "exact", {"tau": 10 * ms, "gain": 100 * Hz}, params)


def is_stochastic(model: NeuronModel) -> bool:
    """Whether the model draws random numbers to decide its spikes (``rand()``
    or ``randn()`` in its threshold)."""
    from brian2.utils.stringtools import get_identifiers
    return bool({"rand", "randn"} & get_identifiers(model.threshold or ""))
