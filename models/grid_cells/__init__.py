"""Grid cells as path integrators: a continuous attractor network (Burak and
Fiete 2009) and a trained recurrent network.

- trajectory: animal paths (recorded, random, from files), their velocities;
- kernels: the attractor's recurrent weights as convolution kernels;
- readout: the position read from the phase of the sheet's pattern;
- gridscore: rate maps, autocorrelograms and grid scores;
- network, integrator: the attractor network on spikemem's core and the path-integration task;
- rnn: the trained RNN path integrator (the ANN variant);
- experiments, report: ``spikemem run grid-cells`` and ``spikemem sweep grid-cells``.

Importing the package loads none of them; it registers the model."""
from spikemem.zoo import Model, register_model

register_model(Model(
    "grid-cells", "spikemem.models.grid_cells.network:grid_network",
    summary="grid cells: the Burak-Fiete continuous attractor integrating a rat's path, and a trained RNN",
    experiments=("sargolini", "rnn"),
    run_experiment="spikemem.models.grid_cells.experiments:main_job",
    sweep="spikemem.models.grid_cells.experiments:path_integration"))
