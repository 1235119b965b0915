"""CA3 spike-based content-addressable memory (Casanueva-Morato et al. 2024) and its
ANN counterparts (classical and modern Hopfield networks)."""
from spikemem.zoo import Model, register_model

register_model(Model(
    "ca3-cam", "spikemem.models.ca3_cam.network:ca3_network",
    summary="CA3 content-addressable memory: one-shot STDP learning, recall by cue or by content",
    experiments=("functional", "stress", "map"),
    run_experiment="spikemem.models.ca3_cam.experiments:main_job",
    compare_backends="spikemem.models.ca3_cam.experiments:compare_backends"))
