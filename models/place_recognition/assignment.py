"""From excitatory responses to place scores: which neuron stands for which place.

Standard assignment (Diehl and Cook): each neuron stands for the place whose
images make it fire most on average; a place's score for a query is the mean
spike count of its neurons. Weighted assignment (Hussaini et al., RA-L 2022,
as their code computes it): a neuron keeps, for every place, its total spike
count over that place's images; it counts for a place where that place has
more than 10 % of its spikes, weighted by that share, divided by the number of
places it fired for where those are at least 2 % of all places (regularisation
by involvement), and a place's summed score is scaled by the share of its
neurons' training spikes whose neurons fire for the query (neurons that should
fire and do not are penalised).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spikemem.errors import ModelError

#: a neuron counts for a place holding more than this share of its training spikes (weighted)
SHARE = 0.1
#: a neuron firing for at least this fraction of all places has its score divided by their number
INVOLVEMENT = 0.02


@dataclass
class Assignment:
    """``places``: the place ids, in the order of the score columns;
    ``neuron_place``: each neuron's column (-1: a neuron that never fired);
    ``counts``: for the weighted kind, each neuron's spikes per place (n_e x places)."""
    places: np.ndarray
    neuron_place: np.ndarray
    counts: np.ndarray | None = None

    @property
    def weighted(self) -> bool:
        return self.counts is not None


def check_responses(responses, where: str = "responses") -> np.ndarray:
    r = np.asarray(responses, dtype=np.float64)
    if r.ndim != 2:
        raise ModelError(f"{where}: expected an images x neurons matrix, got shape {r.shape}")
    if not np.all(np.isfinite(r)) or np.any(r < 0):
        raise ModelError(f"{where}: spike counts must be finite and >= 0")
    return r


def assign(responses, places, weighted: bool = False) -> Assignment:
    """The neuron-to-place assignment from ``responses`` (images x neurons spike
    counts) to the images of places ``places`` (one id per image)."""
    r = check_responses(responses)
    places = np.asarray(places)
    if places.shape != (r.shape[0],):
        raise ModelError(f"assign: {r.shape[0]} response rows but {places.size} place ids")
    ids, column = np.unique(places, return_inverse=True)
    per_image = np.zeros((ids.size, r.shape[0]))
    per_image[column, np.arange(r.shape[0])] = 1.0
    totals = per_image @ r                                     # places x neurons: spikes per place
    means = totals / per_image.sum(1, keepdims=True)
    # the first place with the highest mean (the authors' strict '>' from zero): -1 if it never fired
    neuron_place = np.where(means.max(0) > 0, np.argmax(means, axis=0), -1)
    return Assignment(ids, neuron_place, totals.T.copy() if weighted else None)


def scores(responses, assignment: Assignment) -> np.ndarray:
    """Images x places (``assignment.places`` order): each place's score for each image."""
    r = check_responses(responses)
    n_e = assignment.neuron_place.size
    if r.shape[1] != n_e:
        raise ModelError(f"scores: responses of {r.shape[1]} neurons for an assignment of {n_e}")
    n_places = assignment.places.size
    if not assignment.weighted:
        member = np.zeros((n_e, n_places))
        fired = assignment.neuron_place >= 0
        member[np.flatnonzero(fired), assignment.neuron_place[fired]] = 1.0
        size = member.sum(0)
        return np.divide(r @ member, size, out=np.zeros((r.shape[0], n_places)), where=size > 0)
    counts = assignment.counts
    total = counts.sum(1, keepdims=True)
    share = np.divide(counts, total, out=np.zeros_like(counts), where=total > 0)
    learnt = share > SHARE
    involved = (counts > 0).sum(1)
    damp = np.where(involved >= INVOLVEMENT * n_places, 1.0 / np.maximum(involved, 1), 1.0)
    summed = r @ (learnt * share * damp[:, None])
    support = learnt * counts
    fired = (r != 0) @ support
    norm = np.divide(fired, support.sum(0), out=np.zeros_like(fired), where=support.sum(0) > 0)
    return summed * norm
