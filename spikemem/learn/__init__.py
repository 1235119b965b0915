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
from .datasets import Dataset, check_inputs, check_labels, digits, idx, mnist1d, mnist_files
from .tasks import Task, check_tasks, load_tasks, permutations, permute, permuted, save_tasks, split
from .ann import ann_mlp, ANN
from .checkpoint import load_checkpoint, save_checkpoint
from .encoding import encode
from .inference import predict
from .modules import SpikingModel, Trainable, compile
from .network import mlp
from .subspace import Subspace, principal_angles
from .trainer import Trainer
from .transforms import EWC, GPM, HLOP, GradientTransform

__all__ = ["Dataset", "check_inputs", "check_labels", "digits", "idx", "mnist1d", "mnist_files",
           "Task", "check_tasks", "load_tasks", "permutations", "permute", "permuted", "save_tasks", "split",
           "ANN", "EWC", "GPM", "GradientTransform", "HLOP", "SpikingModel", "Subspace", "Trainable", "Trainer",
           "ann_mlp", "compile", "encode", "load_checkpoint", "mlp", "predict", "principal_angles", "save_checkpoint"]
