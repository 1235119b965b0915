"""Place recognition with spiking networks: routes, baselines and ensembles of spiking modules."""
