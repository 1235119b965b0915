"""Grid cells as path integrators: a continuous attractor network (Burak and
Fiete 2009) and a trained recurrent network, with trajectories, the readout
of the population pattern's phase and the grid score."""
