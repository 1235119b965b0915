"""The SpiNNaker target's artefact: the standalone PyNN script (``spikemem.interop.pynn``),
written only for a network that passes every check."""
from __future__ import annotations

from spikemem.interop.pynn import export_pynn
from spikemem.network import Network
from spikemem.targets import violations_error

from .check import check


def export(network: Network, directory, *, duration, force: bool = False) -> str:
    """The standalone PyNN script (runs with ``--simulator spinnaker`` or ``nest``)
    for ``duration`` seconds, written into the folder ``directory`` (a non-empty
    one is refused unless ``force``); returns its path."""
    violations = check(network)
    if violations:
        raise violations_error("spinnaker", violations)
    return export_pynn(network, directory, duration, force=force)
