"""Continual learning with Hebbian learning based orthogonal projection (HLOP,
Xiao et al., ICLR 2024): a spiking network learns a sequence of tasks, each
layer's weight updates projected off the principal subspace of earlier tasks'
presynaptic activity, which lateral neurons learn by Oja's subspace rule.

- metrics: the accuracy matrix and its ACC, BWT and forgetting;
- network: the spiking network before training;
- continual: a task sequence learnt by one network with fine-tuning, EWC, GPM,
  HLOP or multitask training, spiking or ANN;
- experiments, report: ``spikemem run hlop`` and ``spikemem sweep hlop``.

Importing the package loads none of them; it registers the model."""
from spikemem.zoo import Model, register_model

register_model(Model(
    "hlop", "spikemem.models.hlop.network:hlop_network",
    summary="continual learning: Hebbian orthogonal projection (HLOP) against fine-tuning, EWC, GPM, multitask",
    experiments=("permuted-digits", "split-digits", "permuted-mnist1d"),
    run_experiment="spikemem.models.hlop.experiments:main_job",
    sweep="spikemem.models.hlop.experiments:continual_learning"))
