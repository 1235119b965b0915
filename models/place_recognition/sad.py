"""The SAD baseline: sum of absolute differences between patch-normalised images.

Each image is prepared as the spiking networks see it (:mod:`spikemem.encoding`:
grayscale, ``size`` x ``size``, ``patch`` x ``patch`` patch normalisation, grey
levels 0..255), and a query scores each reference image by the negative mean
absolute difference of their pixels, so that higher is better, as every score
matrix of this package is.
"""
from __future__ import annotations

import numpy as np

from spikemem.encoding import grayscale, patch_normalise, resize
from spikemem.errors import ModelError

# bounds the queries x references x pixels temporary of one block (64 MiB of float32)
_ELEMENTS = 1 << 24


def prepare(images, size: int = 28, patch: int = 7, what: str = "images") -> np.ndarray:
    """``n x size*size`` grey levels (0..255) of ``images``, patch-normalised."""
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ModelError(f"SAD: size must be a whole number >= 1, got {size!r}")
    if len(images) == 0:
        raise ModelError(f"SAD: no {what}")
    out = np.empty((len(images), size * size))
    for i, image in enumerate(images):
        where = f"{what} {i}"
        gray = grayscale(image, where)
        if gray.shape != (size, size):
            gray = resize(gray, size)
        out[i] = np.floor((patch_normalise(gray, patch, where) + 1.0) * 127.5).reshape(-1)
    return out


def sad_scores(reference_images, query_images, size: int = 28, patch: int = 7) -> np.ndarray:
    """``n_query x n_reference``: minus the mean absolute difference (grey levels)
    between each query and each reference image, both patch-normalised."""
    # grey levels are whole numbers 0..255: float32 holds them and their differences exactly
    ref = prepare(reference_images, size, patch, "reference image").astype(np.float32)
    query = prepare(query_images, size, patch, "query image").astype(np.float32)
    scores = np.empty((len(query), len(ref)))
    block = max(1, _ELEMENTS // ref.size)
    for lo in range(0, len(query), block):
        diff = np.abs(query[lo:lo + block, None, :] - ref[None, :, :])
        scores[lo:lo + block] = -diff.sum(axis=2, dtype=np.float64) / ref.shape[1]
    return scores


def place_scores(scores, reference_places) -> tuple[np.ndarray, np.ndarray]:
    """Per-image scores to per-place scores: for each place, the best score over
    its reference images (of every reference traverse).

    Returns the ``n_query x n_places`` matrix and the sorted place id of each column.
    """
    scores = np.asarray(scores, dtype=np.float64)
    places = np.asarray(reference_places)
    if scores.ndim != 2:
        raise ModelError(f"place_scores: scores must be n_query x n_reference, got shape {scores.shape}")
    if places.ndim != 1 or len(places) != scores.shape[1]:
        raise ModelError(f"place_scores: {scores.shape[1]} reference columns but reference_places "
                         f"of shape {places.shape}")
    if scores.shape[1] == 0:
        raise ModelError("place_scores: no reference images")
    ids, column = np.unique(places, return_inverse=True)
    order = np.argsort(column, kind="stable")
    starts = np.searchsorted(column[order], np.arange(len(ids)))
    return np.maximum.reduceat(scores[:, order], starts, axis=1), ids.astype(np.int64)


def route_scores(route, traverse: str | None = None, size: int = 28, patch: int = 7):
    """SAD place scores of a route's query traverse (or of ``traverse``, the
    calibration one, say) against all its reference images.

    Returns ``(scores, place_ids, query_places)``, ready for
    :mod:`spikemem.models.place_recognition.metrics`.
    """
    name = route.query if traverse is None else traverse
    if name not in route.traverses:
        raise ModelError(f"SAD: the route has no traverse {name!r}")
    refs = [route.traverses[r] for r in route.reference]
    ref_images = [image for t in refs for image in t.images]
    ref_places = np.concatenate([t.places for t in refs])
    query = route.traverses[name]
    scores, ids = place_scores(sad_scores(ref_images, query.images, size, patch), ref_places)
    return scores, ids, query.places
