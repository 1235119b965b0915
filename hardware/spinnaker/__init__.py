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

register_target(Target(
    "spinnaker", backend="spinnaker", export_format="pynn",
    summary="SpiNNaker (sPyNNaker 7): PyNN export, mapping on a virtual board, s16.15 emulator",
    checker=f"{__name__}.check:check",
    quantizer=f"{__name__}.quantize:quantize",
    mapper=f"{__name__}.mapping:map_network",
    exporter=f"{__name__}.export:export",           # a PyNN script folder; takes duration=
    emulator=f"{__name__}.emulator:emulate"))
# s16.15 state (arithmetic="float64" runs the same algorithm unrounded)
register(Backend("spinnaker", "spikemem.hardware.spinnaker.emulator:SpiNNakerSimulation",
                 Capabilities(dtypes=("s16.15",), plasticity=True, spikes_as_numba=False, templates=("IF_curr_exp",),
                              signals=False, emulates="spinnaker"),
                 summary="sPyNNaker 7's neuron core in its s16.15 arithmetic"))
