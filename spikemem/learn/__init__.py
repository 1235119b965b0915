"""Training spiking networks (and their ANN counterparts) through PyTorch.

A trainable spiking network is a spikemem ``Network``: a spike source
``input``, then populations of ``Leaky`` neurons joined by all-to-all
projections ``fc1``, ``fc2``, ... (one step of delay), optionally a recurrent
projection per hidden layer. ``mlp`` builds one; ``compile`` turns it into a
``SpikingModel`` (an ``nn.Module``) that trains with BPTT or OTTT through
surrogate spikes; ``to_network`` and ``predict`` take the trained network back
to any backend. ``encode`` makes spike trains of static data, ``Trainer`` fits
any ``Trainable`` model, ``ann_mlp`` is the ReLU network of the same shape.
``transforms`` edit the gradients for continual learning (HLOP, EWC, GPM);
``subspace`` is HLOP's Oja subspace learner; ``hebbian`` runs those subspace
neurons as a spikemem network on spike trains (``plasticity.oja_subspace``).
Datasets and continual-learning task sequences (``datasets``, ``tasks``) need
numpy only.
"""
import importlib

from ..errors import ModelError
from .datasets import Dataset, check_inputs, check_labels, digits, idx, mnist1d, mnist_files
from .tasks import Task, check_tasks, load_tasks, permutations, permute, permuted, save_tasks, split

#: public name -> the submodule that defines it, imported on first use (these need torch)
_LAZY = {"ANN": "ann", "ann_mlp": "ann", "load_checkpoint": "checkpoint", "save_checkpoint": "checkpoint",
         "encode": "encoding", "predict": "inference", "SpikingModel": "modules", "Trainable": "modules",
         "compile": "modules", "mlp": "network", "Subspace": "subspace", "principal_angles": "subspace",
         "Trainer": "trainer", "EWC": "transforms", "GPM": "transforms", "HLOP": "transforms",
         "GradientTransform": "transforms"}

__all__ = ["Dataset", "check_inputs", "check_labels", "digits", "idx", "mnist1d", "mnist_files",
           "Task", "check_tasks", "load_tasks", "permutations", "permute", "permuted", "save_tasks", "split",
           *sorted(_LAZY)]


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        module = importlib.import_module(f"{__name__}.{_LAZY[name]}")
    except ModuleNotFoundError as error:
        if error.name not in ("torch", "numba"):
            raise
        raise ModelError(f"spikemem.learn.{name} needs {error.name}; install the torch extra "
                         f"(pip install 'spikemem[torch]')") from error
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
