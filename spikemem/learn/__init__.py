"""Training through the torch backend: loops, surrogate gradients, gradient
transforms, checkpoints, datasets and encoders."""

# Datasets and continual-learning task sequences (numpy only).
from .datasets import Dataset, check_inputs, check_labels, digits, idx, mnist1d, mnist_files
from .tasks import Task, check_tasks, load_tasks, permutations, permute, permuted, save_tasks, split

__all__ = ["Dataset", "check_inputs", "check_labels", "digits", "idx", "mnist1d", "mnist_files",
           "Task", "check_tasks", "load_tasks", "permutations", "permute", "permuted", "save_tasks", "split"]
