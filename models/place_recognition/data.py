"""Traverses and routes: the data of place recognition.

A *traverse* is one pass along a route under one condition (a season, a time of
day): its images in driving order and the place id of each. A *route* gathers
traverses of the same places: the reference traverses a system learns, the query
traverse it is tested on, and optionally a held-out calibration traverse (used to
calibrate thresholds without touching the queries). This is the structure of
Nordland (spring and fall as references, summer as the query) and of the Oxford
RobotCar subsets the spiking place recognition papers use.

Images are uint8, either grayscale (n x H x W) or RGB (n x H x W x 3); the
arrays a traverse holds are read-only copies, so a route can be shared freely.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from spikemem.errors import ModelError


@dataclass(frozen=True)
class Traverse:
    """One pass along a route: ``images[i]`` shows place ``places[i]``."""

    name: str
    condition: str
    images: np.ndarray
    places: np.ndarray

    def __post_init__(self):
        images = np.asarray(self.images)
        if images.dtype != np.uint8:
            raise ModelError(f"traverse {self.name!r}: images must be uint8, got {images.dtype}")
        if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[3] != 3):
            raise ModelError(f"traverse {self.name!r}: images must be n x H x W (grayscale) or "
                             f"n x H x W x 3 (RGB), got shape {images.shape}")
        if len(images) == 0:
            raise ModelError(f"traverse {self.name!r} is empty")
        if images.shape[1] == 0 or images.shape[2] == 0:
            raise ModelError(f"traverse {self.name!r}: images of size {images.shape[1]} x {images.shape[2]}")
        places = np.asarray(self.places)
        if places.ndim != 1 or len(places) != len(images):
            raise ModelError(f"traverse {self.name!r}: {len(images)} images but places of shape {places.shape}")
        if places.dtype.kind not in "iuf":
            raise ModelError(f"traverse {self.name!r}: places must be whole numbers, got dtype {places.dtype}")
        if places.dtype.kind == "f":
            bad = ~(np.isfinite(places) & (places == np.round(places)))
            if bad.any():
                i = int(np.argmax(bad))
                raise ModelError(f"traverse {self.name!r}: the place of image {i} is not a whole number "
                                 f"({places[i]!r})")
        object.__setattr__(self, "images", _frozen(images))
        object.__setattr__(self, "places", _frozen(places.astype(np.int64)))

    def __len__(self) -> int:
        return len(self.images)

    @property
    def colour(self) -> bool:
        """Whether the images are RGB."""
        return self.images.ndim == 4

    def select(self, keep: np.ndarray) -> Traverse:
        """The traverse restricted to the images where ``keep`` (a boolean mask) is true."""
        return Traverse(self.name, self.condition, self.images[keep], self.places[keep])


def traverse(name: str, condition: str, images: Sequence, places: Sequence[int],
             labels: Sequence[str] | None = None) -> Traverse:
    """A :class:`Traverse` from a list of images (arrays or Pillow images).

    Every image must have the size and colour mode of the first; ``labels`` (file
    names, say) name the offending image in the message besides its index.
    """
    if len(images) == 0:
        raise ModelError(f"traverse {name!r} is empty")
    if len(places) != len(images):
        raise ModelError(f"traverse {name!r}: {len(images)} images but {len(places)} places")
    arrays = [_as_array(image, name, i, labels) for i, image in enumerate(images)]
    first = arrays[0]
    for i, a in enumerate(arrays):
        if a.ndim != first.ndim:
            raise ModelError(f"traverse {name!r}: {_which(i, labels)} is {_mode(a)}, "
                             f"{_which(0, labels)} is {_mode(first)}; one traverse takes one colour mode")
        if a.shape[:2] != first.shape[:2]:
            raise ModelError(f"traverse {name!r}: {_which(i, labels)} is {a.shape[0]} x {a.shape[1]}, "
                             f"{_which(0, labels)} is {first.shape[0]} x {first.shape[1]}")
    return Traverse(name, condition, np.stack(arrays), np.asarray(places))


@dataclass(frozen=True)
class Route:
    """Traverses of one route: ``reference`` to learn, ``query`` to test and an
    optional ``calibration`` traverse held out from the queries."""

    traverses: dict[str, Traverse]
    reference: tuple[str, ...]
    query: str
    calibration: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "reference", tuple(self.reference))
        object.__setattr__(self, "traverses", dict(self.traverses))
        if not self.reference:
            raise ModelError("a route needs at least one reference traverse")
        roles = [*self.reference, self.query] + ([self.calibration] if self.calibration is not None else [])
        for name in roles:
            if name not in self.traverses:
                raise ModelError(f"route: no traverse {name!r} (it has {sorted(self.traverses)})")
        if len(set(roles)) != len(roles):
            raise ModelError(f"route: reference {self.reference}, query {self.query!r} and calibration "
                             f"{self.calibration!r} must be different traverses")
        known = set(self.places.tolist())
        for name in (self.query, self.calibration):
            if name is None:
                continue
            for i, p in enumerate(self.traverses[name].places.tolist()):
                if p not in known:
                    raise ModelError(f"traverse {name!r}: image {i} shows place {p}, "
                                     f"which no reference traverse has")

    @property
    def places(self) -> np.ndarray:
        """The sorted place ids of the reference traverses."""
        return np.unique(np.concatenate([self.traverses[r].places for r in self.reference]))

    def regions(self, size: int) -> list[np.ndarray]:
        """The reference places cut into consecutive blocks of ``size`` (the last
        one shorter when ``size`` does not divide the number of places)."""
        places = self.places
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
            raise ModelError(f"region size must be a whole number >= 1, got {size!r}")
        if size > len(places):
            raise ModelError(f"a region of {size} places is larger than the route ({len(places)} places)")
        return [places[i:i + size] for i in range(0, len(places), size)]

    def subset(self, places) -> Route:
        """The route restricted to ``places`` (reference place ids)."""
        wanted = np.unique(np.asarray(places, dtype=np.int64).reshape(-1))
        if len(wanted) == 0:
            raise ModelError("subset: no places given")
        missing = np.setdiff1d(wanted, self.places)
        if len(missing):
            raise ModelError(f"subset: place {int(missing[0])} is not on the route")
        kept = {}
        for name, t in self.traverses.items():
            keep = np.isin(t.places, wanted)
            if not keep.any():
                if name in (*self.reference, self.query, self.calibration):
                    raise ModelError(f"subset: traverse {name!r} shows none of the places")
                continue
            kept[name] = t.select(keep)
        return Route(kept, self.reference, self.query, self.calibration)


def synthetic_route(n_places: int = 100, difficulty: float = 0.5, size: int = 64, seed: int = 0,
                    traverses=("spring", "fall", "summer", "winter"), reference=("spring", "fall"),
                    query: str = "summer", calibration: str | None = "winter") -> Route:
    """A procedurally generated route with the structure of Nordland.

    ``traverses`` names the passes, each rendered under the season of its name
    (``spring``, ``summer``, ``fall``, ``winter``); a mapping ``{name: season}``
    gives two passes of one season (``{"summer2": "summer", ...}``), which
    differ in their per-image nuisances. By default the references are spring and
    fall, the query summer (as the papers do on Nordland) and the calibration
    winter. ``difficulty`` in [0, 1] scales every nuisance together: 0 gives
    identical traverses. See :mod:`.scenes` for what is rendered.
    """
    from .scenes import SEASONS, render

    named = dict(traverses) if isinstance(traverses, dict) else {t: t for t in traverses}
    for name, season in named.items():
        if season not in SEASONS:
            raise ModelError(f"synthetic_route: traverse {name!r} has season {season!r}; "
                             f"the seasons are {', '.join(SEASONS)}")
    images = render(n_places, list(named.values()), difficulty=difficulty, size=size, seed=seed)
    places = np.arange(n_places)
    built = {name: Traverse(name, season, im, places) for (name, season), im in zip(named.items(), images)}
    return Route(built, tuple(reference), query, calibration)


def _as_array(image, name: str, i: int, labels) -> np.ndarray:
    if hasattr(image, "convert") and hasattr(image, "mode"):        # a Pillow image
        image = image.convert("L" if image.mode in ("1", "L", "LA", "I", "I;16", "F") else "RGB")
    a = np.asarray(image)
    if a.dtype != np.uint8:
        raise ModelError(f"traverse {name!r}: {_which(i, labels)} is {a.dtype}, expected uint8")
    if a.ndim == 3 and a.shape[2] == 4:
        raise ModelError(f"traverse {name!r}: {_which(i, labels)} has an alpha channel (RGBA); give RGB")
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] != 3):
        raise ModelError(f"traverse {name!r}: {_which(i, labels)} has shape {a.shape}, "
                         f"expected H x W or H x W x 3")
    return a


def _which(i: int, labels) -> str:
    return f"image {i} ({labels[i]})" if labels is not None else f"image {i}"


def _mode(a: np.ndarray) -> str:
    return "RGB" if a.ndim == 3 else "grayscale"


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a)
    a.setflags(write=False)
    return a
