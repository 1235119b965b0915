"""Astrocytes in the zoo: the astrocyte-modulated spiking unit (AM-SU)
trained on sequence tasks against LIF-SNNs, LSTMs and GRUs.

- amsu: the AM-SU as a trainable torch layer (the template is ``spikemem.glia.amsu``);
- baselines: LSTM and GRU models, and hidden sizes at equal parameter counts;
- tasks: delayed recall and character-level language modelling on ``pydoc_data``;
- train: training loops and the measurements (accuracy, bits per character,
  latency, throughput, peak memory).

Importing the package loads none of them."""
