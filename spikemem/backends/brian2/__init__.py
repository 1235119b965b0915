"""Brian2 itself, the reference simulator, on its numpy, cython or C++ standalone target."""
from .. import Backend, Capabilities, register

_CAPABILITIES = Capabilities(dtypes=("float64", "float32"), fast_math=True)
_SIMULATION = "spikemem.backends.brian2.simulation:Brian2Simulation"

register(Backend("brian2", _SIMULATION, _CAPABILITIES, summary="Brian2, numpy target"))
register(Backend("brian2-numpy", _SIMULATION, _CAPABILITIES, {"target": "numpy"},
                 summary="Brian2, numpy target"))
register(Backend("brian2-cython", _SIMULATION, _CAPABILITIES, {"target": "cython"},
                 summary="Brian2, cython target"))
register(Backend("brian2-cpp", _SIMULATION, Capabilities(dtypes=("float64", "float32"), fast_math=True,
                                                        continues=False),
                 {"target": "cpp_standalone"}, summary="Brian2, C++ standalone (one run per simulation)"))
