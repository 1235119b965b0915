"""The SpiNNaker target: IF_curr_exp networks as sPyNNaker 1!7.4.1 runs them.

One module per concern: ``check`` (the installed sPyNNaker's limits),
``supported`` (what the emulator implements), ``formats`` and ``quantize``
(s16.15 constants), ``weights`` (the ring-buffer weight scaling), ``mapping``
(sPyNNaker's own placement on a virtual board), ``export`` (the PyNN script),
``kernel`` and ``emulator`` (the neuron core in integers, backend
``"spinnaker"``). The arithmetic and the measurements are in
docs/targets/spinnaker.md. Registering imports none of them.
"""
from spikemem.backends import Backend, Capabilities, register
from spikemem.targets import Target, register_target


class SpiNNaker(Target):
    name = "spinnaker"
    backend = "spinnaker"
    summary = "SpiNNaker (sPyNNaker 7): PyNN export, mapping on a virtual board, s16.15 emulator"

    def check(self, network, **options) -> list:
        from .check import check
        return check(network, **options)

    def quantize(self, network, **options):
        from .quantize import quantize
        return quantize(network, **options)

    def map(self, network, **options):
        from .mapping import map_network
        return map_network(network, **options)

    def export(self, network, path, **options) -> str:
        from .export import export
        return export(network, path, **options)

    def emulate(self, network, duration, **options):
        from .emulator import emulate
        return emulate(network, duration, **options)


register_target(SpiNNaker())
# s16.15 state (arithmetic="float64" runs the same algorithm unrounded)
register(Backend("spinnaker", "spikemem.hardware.spinnaker.emulator:SpiNNakerSimulation",
                 Capabilities(dtypes=("s16.15",), plasticity=True, spikes_as_numba=False, templates=("IF_curr_exp",),
                              emulates="spinnaker"),
                 summary="sPyNNaker 7's neuron core in its s16.15 arithmetic"))
