"""Spiking place recognition: ensembles of compact, region-specific, regularised SNN modules."""
