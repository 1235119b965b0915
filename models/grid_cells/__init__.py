"""Grid cells as path integrators: a continuous attractor network (Burak and
Fiete 2009) and a trained recurrent network.

- trajectory: animal paths (recorded, random, from files), their velocities;
- kernels: the attractor's recurrent weights as convolution kernels;
- readout: the position read from the phase of the sheet's pattern;
- gridscore: rate maps, autocorrelograms and grid scores.

Importing the package loads none of them."""
