"""The Loihi target: current-based LIF networks in Loihi 1's fixed-point formats.

One module per concern: ``check`` (what Loihi refuses), ``quantize`` (the
integers; one pass also finds the refusals), ``mapping`` (cores and chips),
``export`` (NIR with the integers), ``kernel`` and ``emulator`` (the
bit-accurate emulator, backend ``"loihi"``), ``brian2_loihi`` (the
cross-check). The derivation and the measurements are in
docs/targets/loihi.md. Registering imports none of them.
"""
from spikemem.backends import Backend, Capabilities, register
from spikemem.targets import Target, register_target

register_target(Target(
    "loihi", backend="loihi", export_format="nir",
    summary="Loihi 1: 24-bit compartments, 8-bit weights, pair STDP; bit-accurate emulator, NIR export",
    checker=f"{__name__}.quantize:check",           # (one pass finds the refusals and the integers)
    quantizer=f"{__name__}.quantize:quantize",
    mapper=f"{__name__}.mapping:map_network",
    exporter=f"{__name__}.export:export",           # a NIR file
    emulator=f"{__name__}.emulator:emulate"))
# integer state (24-bit u and v), read and written in SI floats
register(Backend("loihi", "spikemem.hardware.loihi.emulator:LoihiSimulation",
                 Capabilities(dtypes=("int24",), plasticity=True, spikes_as_numba=False, templates=("IF_curr_exp",),
                              signals=False, emulates="loihi"),
                 summary="Loihi 1's fixed-point arithmetic, bit for bit as brian2-loihi"))
