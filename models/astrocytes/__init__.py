"""Astrocytes in the zoo: the Li-Rinzel astrocyte against NEST, Stimberg et
al.'s calcium wave in a ring of astrocytes, and the astrocyte-modulated
spiking unit (AM-SU) trained on sequence tasks against LIF-SNNs, LSTMs and GRUs.

- nest_drive: a Li-Rinzel astrocyte driven by fixed spikes, spikemem against NEST;
- ring: the ring of G-ChI astrocytes (Stimberg et al. 2019, figure 5), the
  model's network, and its calcium wave;
- amsu: the AM-SU as a trainable torch layer (the template is ``spikemem.glia.amsu``);
- baselines: LSTM and GRU models, and hidden sizes at equal parameter counts;
- tasks: delayed recall and character-level language modelling on ``pydoc_data``;
- train: training loops and the measurements (accuracy, bits per character,
  latency, throughput, peak memory);
- experiments, report: ``spikemem run astrocytes`` and ``spikemem sweep astrocytes``.

Importing the package loads none of them; it registers the model."""
from spikemem.zoo import Model, register_model

register_model(Model(
    "astrocytes", "spikemem.models.astrocytes.ring:ring_network",
    summary="astrocytes: Li-Rinzel against NEST, the calcium wave in a ring, AM-SU against LIF/LSTM/GRU recall",
    experiments=("quick", "nest", "ring", "memory"),
    run_experiment="spikemem.models.astrocytes.experiments:main_job",
    sweep="spikemem.models.astrocytes.experiments:recall_at_delay"))
