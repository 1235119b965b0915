"""spikemem's own engine: Brian2's abstract code compiled by numba (the default backend)."""
from .. import Backend, Capabilities, register

register(Backend(
    "numba", "spikemem.backends.numba.simulation:NumbaSimulation",
    Capabilities(dtypes=("float64", "float32"), threads=True, fast_math=True, synapse_memory=True),
    summary="spikemem's engine: Brian2's update code compiled by numba (default)"))
