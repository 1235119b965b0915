"""Visual place recognition with ensembles of modular, regularised spiking networks."""
