"""Grid cells: continuous-attractor networks and trained RNN path integrators."""
