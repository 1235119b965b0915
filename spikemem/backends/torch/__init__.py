"""PyTorch with snntorch neurons: batched trials, GPU when present, gradients for training."""
from .. import Backend, Capabilities, register

#: snntorch.surrogate's surrogate gradients, by name, with their default settings (``surrogate=``)
SURROGATES = ("atan", "fast_sigmoid", "sigmoid", "triangular", "straight_through_estimator", "spike_rate_escape")

_SIMULATION = "spikemem.backends.torch.simulation:TorchSimulation"

register(Backend("torch", _SIMULATION,
                 Capabilities(dtypes=("float32", "float64"), batching=True, gradients=True,
                              devices=("cpu", "cuda"), spikes_as_numba=False, extra="torch"),
                 summary="PyTorch with snntorch neurons, float32"))
register(Backend("torch-float64", _SIMULATION,
                 Capabilities(dtypes=("float64",), batching=True, gradients=True,
                              devices=("cpu", "cuda"), extra="torch"),
                 {"dtype": "float64"}, summary="PyTorch with snntorch neurons, float64"))
