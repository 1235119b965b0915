"""Training spiking networks (and their ANN counterparts) through PyTorch.

A trainable spiking network is a spikemem ``Network``: a spike source
``input``, then populations of ``Leaky`` neurons joined by all-to-all
projections ``fc1``, ``fc2``, ... (one step of delay), optionally a recurrent
projection per hidden layer. ``mlp`` builds one; ``compile`` turns it into a
``SpikingModel`` (an ``nn.Module``) that trains with BPTT or OTTT through
surrogate spikes; ``to_network`` and ``predict`` take the trained network back
to any backend. ``encode`` makes spike trains of static data, ``Trainer`` fits
any ``Trainable`` model, ``ann_mlp`` is the ReLU network of the same shape.
Datasets and continual-learning task sequences (numpy only) are in
``datasets`` and ``tasks``.
"""
from .ann import ann_mlp, ANN
from .checkpoint import load_checkpoint, save_checkpoint
from .datasets import Dataset, check_inputs, check_labels, digits, idx, mnist1d, mnist_files
from .encoding import encode
from .inference import predict
from .modules import SpikingModel, Trainable, compile
from .network import mlp
from .tasks import Task, check_tasks, load_tasks, permutations, permute, permuted, save_tasks, split
from .trainer import Trainer

__all__ = ["ANN", "SpikingModel", "Trainable", "Trainer", "ann_mlp", "compile", "encode", "load_checkpoint",
           "mlp", "predict", "save_checkpoint",
           "Dataset", "check_inputs", "check_labels", "digits", "idx", "mnist1d", "mnist_files",
           "Task", "check_tasks", "load_tasks", "permutations", "permute", "permuted", "save_tasks", "split"]
