"""Procedural scenes of a train route, rendered under several seasons.

The world is one long side view: a strip of distant hills, a row of objects
(trees, buildings, poles) standing on the ground, and a textured ground. Place
``p`` is the window of the strip that starts ``p * step`` columns along it (a quarter of the frame), so
neighbouring places overlap as consecutive frames of a train's camera do and are
easy to confuse. Every random draw of the world comes from ``seed``, so the
scenes are the same in every traverse; what changes between traverses is

- the season: brightness and texture of the vegetation, the hills and the ground
  (fall leaves brighter than the sky, winter snow on everything), the sky;
- illumination: a global gain and gamma per image, a linear shading gradient;
- sensor noise;
- the viewpoint: a few pixels of translation and a slight scale change;
- occluders: random blobs and rectangles in front of the scene.

``difficulty`` scales all of them together: 0 renders every traverse
identically; on 100 places SAD's Recall@1 of summer against spring and fall is
about 0.6 at 0.5 and about 0.1 at 1. Images are grayscale uint8, rendered for
all places of a traverse at once (1000 places x 4 traverses take about 2 s).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spikemem.errors import ModelError


@dataclass(frozen=True)
class Season:
    """Grey levels (0..255) and texture contrasts of the scene's materials."""

    sky: float
    hills: float
    hill_texture: float
    leaves: float
    leaf_texture: float
    ground: float
    ground_texture: float
    snow_on_roofs: float       # 0..1: how white the tops of buildings and trees are


SEASONS = {
    "spring": Season(sky=205, hills=120, hill_texture=30, leaves=95, leaf_texture=45,
                     ground=110, ground_texture=55, snow_on_roofs=0.0),
    "summer": Season(sky=225, hills=85, hill_texture=35, leaves=55, leaf_texture=40,
                     ground=95, ground_texture=60, snow_on_roofs=0.0),
    "fall": Season(sky=170, hills=135, hill_texture=45, leaves=185, leaf_texture=60,
                   ground=125, ground_texture=45, snow_on_roofs=0.0),
    "winter": Season(sky=185, hills=235, hill_texture=10, leaves=210, leaf_texture=20,
                     ground=235, ground_texture=12, snow_on_roofs=1.0),
}

#: the appearance every season is drawn towards as the difficulty goes to 0
_NEUTRAL = Season(**{f: float(np.mean([getattr(s, f) for s in SEASONS.values()]))
                     for f in Season.__dataclass_fields__})

# Nuisance amplitudes at difficulty 1, as fractions of the image size or plain numbers.
_SHIFT = 0.10          # translation, fraction of the size (each axis, uniform +-)
_ZOOM = 0.08           # scale change, +- fraction
_GAIN = 0.35           # log-normal sigma of the global gain
_GAMMA = 0.35          # log-normal sigma of the gamma
_SHADING = 0.45        # amplitude of the linear shading gradient
_NOISE = 14.0          # sensor noise, grey levels
_OCCLUDERS = 3.0       # mean number of occluders per image
_OCCLUDER_SIZE = 0.35  # largest occluder, fraction of the size

_TREE, _BUILDING, _POLE = 1, 2, 3


def render(n_places: int, seasons: list[str], difficulty: float = 0.5, size: int = 64,
           seed: int = 0) -> list[np.ndarray]:
    """One ``n_places x size x size`` uint8 array per entry of ``seasons``."""
    if isinstance(n_places, bool) or not isinstance(n_places, (int, np.integer)) or n_places < 1:
        raise ModelError(f"synthetic route: n_places must be a whole number >= 1, got {n_places!r}")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 16:
        raise ModelError(f"synthetic route: size must be a whole number >= 16, got {size!r}")
    if isinstance(difficulty, bool) or not isinstance(difficulty, (int, float, np.floating)) \
            or not 0.0 <= difficulty <= 1.0:
        raise ModelError(f"synthetic route: difficulty must be in [0, 1], got {difficulty!r}")
    for s in seasons:
        if s not in SEASONS:
            raise ModelError(f"synthetic route: unknown season {s!r} (the seasons are {', '.join(SEASONS)})")
    world = _World(n_places, size, np.random.default_rng([seed, 0]))
    out = []
    for k, s in enumerate(seasons):
        rng = np.random.default_rng([seed, 1, k])        # each traverse its own nuisances
        out.append(_traverse(world, _season(s, difficulty), difficulty, rng))
    return out


def _season(name: str, difficulty: float) -> Season:
    s = SEASONS[name]
    return Season(**{f: getattr(_NEUTRAL, f) + difficulty * (getattr(s, f) - getattr(_NEUTRAL, f))
                     for f in Season.__dataclass_fields__})


class _World:
    """The strip every traverse looks at: per-column heights and materials."""

    def __init__(self, n_places: int, size: int, rng: np.random.Generator):
        self.size = size
        self.step = max(1, size // 4)
        self.margin = size                    # room for viewpoint shifts at both ends
        width = (n_places - 1) * self.step + size + 2 * self.margin
        self.width = width
        self.ground_row = 0.62 * size
        u = np.arange(width)
        self.hill_top = self.ground_row - size * (0.06 + 0.16 * _smooth(rng, width, 3.0 * size, u)
                                                  + 0.04 * _smooth(rng, width, 0.5 * size, u))
        self.object_top, self.kind, self.albedo = self._objects(rng, width)
        self.hill_texture = _texture(rng, size, width, 3)
        self.leaf_texture = _texture(rng, size, width, 1)
        self.ground_texture = _texture(rng, size, width, 2)

    def _objects(self, rng, width):
        """Objects standing on the ground, nearer ones drawn over farther ones."""
        size, ground = self.size, self.ground_row
        top = np.full(width, np.inf)
        kind = np.zeros(width, dtype=np.int8)
        albedo = np.zeros(width)
        u = 0.0
        while u < width:
            u += rng.uniform(0.05, 0.4) * size
            k = rng.choice([_TREE, _BUILDING, _POLE], p=[0.55, 0.3, 0.15])
            if k == _TREE:
                w, h = rng.uniform(0.1, 0.28) * size, rng.uniform(0.2, 0.5) * size
            elif k == _BUILDING:
                w, h = rng.uniform(0.15, 0.4) * size, rng.uniform(0.12, 0.35) * size
            else:
                w, h = rng.uniform(0.02, 0.05) * size, rng.uniform(0.3, 0.55) * size
            lo, hi = int(u), min(width, int(u + max(w, 1.0)) + 1)
            if lo >= width:
                break
            x = (np.arange(lo, hi) - u - w / 2) / (w / 2)        # -1..1 across the object
            profile = np.sqrt(np.clip(1 - x ** 2, 0, 1)) if k == _TREE else np.ones(hi - lo)
            top[lo:hi] = ground - h * profile
            kind[lo:hi] = k
            albedo[lo:hi] = rng.uniform(40, 200) if k == _BUILDING else 45.0
        return top, kind, albedo


def _traverse(world: _World, season: Season, d: float, rng: np.random.Generator) -> np.ndarray:
    n = (world.width - 2 * world.margin - world.size) // world.step + 1
    size = world.size
    # the viewpoint of each image: where its pixels fall on the strip
    shift = d * _SHIFT * size * rng.uniform(-1, 1, (n, 2))
    zoom = 1.0 + d * _ZOOM * rng.uniform(-1, 1, n)
    centre = (size - 1) / 2
    pix = np.arange(size) - centre
    cols = (world.margin + np.arange(n) * world.step + centre)[:, None] + shift[:, :1] + pix[None, :] / zoom[:, None]
    rows = centre + shift[:, 1:] + pix[None, :] / zoom[:, None]
    c = np.clip(np.rint(cols).astype(np.int64), 0, world.width - 1)[:, None, :]       # n x 1 x size
    r = rows[:, :, None]                                                               # n x size x 1
    ri = np.clip(np.rint(r).astype(np.int64), 0, size - 1)

    image = np.empty((n, size, size))
    # sky with a brighter band at the horizon, hills, ground: back to front
    image[:] = season.sky + 25.0 * (r / size - 0.3)
    hills = r >= world.hill_top[c]
    hill_value = season.hills + season.hill_texture * world.hill_texture[ri, c]
    image = np.where(hills, hill_value, image)
    ground = r >= world.ground_row
    ground_value = season.ground + season.ground_texture * world.ground_texture[ri, c] * (r / size)
    image = np.where(ground, ground_value, image)
    # objects over the hills (and the sky), up to the ground
    top = world.object_top[c]
    obj = (r >= top) & ~ground
    kind = world.kind[c]
    leaves = season.leaves + season.leaf_texture * world.leaf_texture[ri, c]
    value = np.where(kind == _TREE, leaves, world.albedo[c])
    near_top = (r - top) < 0.06 * size
    value = np.where(near_top & (kind != _POLE), value + season.snow_on_roofs * (240 - value), value)
    image = np.where(obj, value, image)

    image = _illuminate(image, d, rng)
    image = _occlude(image, d, rng)
    image += d * _NOISE * rng.standard_normal(image.shape)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def _illuminate(image: np.ndarray, d: float, rng) -> np.ndarray:
    n, size = image.shape[0], image.shape[1]
    gain = np.exp(d * _GAIN * rng.standard_normal(n))[:, None, None]
    gamma = np.exp(d * _GAMMA * rng.standard_normal(n))[:, None, None]
    angle = rng.uniform(0, 2 * np.pi, n)
    axis = np.linspace(-0.5, 0.5, size)
    ramp = np.cos(angle)[:, None, None] * axis[None, None, :] + np.sin(angle)[:, None, None] * axis[None, :, None]
    shading = 1.0 + d * _SHADING * rng.uniform(0, 1, n)[:, None, None] * 2 * ramp
    return 255.0 * (np.clip(image, 0, 255) / 255.0) ** gamma * gain * shading


def _occlude(image: np.ndarray, d: float, rng) -> np.ndarray:
    n, size = image.shape[0], image.shape[1]
    counts = rng.poisson(d * _OCCLUDERS, n)
    total = int(counts.sum())
    if total == 0:
        return image
    which = np.repeat(np.arange(n), counts)
    cy, cx = rng.uniform(0, size, (2, total))
    ry, rx = rng.uniform(0.05, _OCCLUDER_SIZE / 2, (2, total)) * size
    value = rng.uniform(0, 255, total)
    ellipse = rng.random(total) < 0.5
    y = np.arange(size)[None, :, None]
    x = np.arange(size)[None, None, :]
    for lo in range(0, total, 256):                   # bounded memory on long routes
        sl = slice(lo, lo + 256)
        dy = (y - cy[sl, None, None]) / ry[sl, None, None]
        dx = (x - cx[sl, None, None]) / rx[sl, None, None]
        inside = np.where(ellipse[sl, None, None], dy ** 2 + dx ** 2 <= 1, (abs(dy) <= 1) & (abs(dx) <= 1))
        for k, i in enumerate(which[sl]):
            image[i][inside[k]] = value[lo + k]
    return image


def _smooth(rng, width: int, scale: float, u: np.ndarray) -> np.ndarray:
    """Smooth noise in [0, 1] along the strip, varying over about ``scale`` columns."""
    knots = np.arange(0, width + scale, scale)
    return np.interp(u, knots, rng.random(len(knots)))


def _texture(rng, rows: int, width: int, grain: int) -> np.ndarray:
    """Zero-mean texture in about [-1, 1], ``rows x width``, blobs ``grain`` pixels wide."""
    coarse = rng.uniform(-1, 1, (rows // grain + 2, width // grain + 2))
    return np.repeat(np.repeat(coarse, grain, axis=0), grain, axis=1)[:rows, :width]
