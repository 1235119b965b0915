"""Visual place recognition with modular ensembles of Diehl-Cook STDP networks
(Hussaini, Milford and Fischer), against SAD and a VPRTempo-style network."""
from spikemem.zoo import Model, register_model

register_model(Model(
    "place-recognition", "spikemem.models.place_recognition.network:module_network",
    summary="place recognition: regularised modular ensembles of STDP modules, against SAD and VPRTempo",
    experiments=("route", "hardware"),
    run_experiment="spikemem.models.place_recognition.experiments:main_job",
    sweep="spikemem.models.place_recognition.experiments:recognition"))
