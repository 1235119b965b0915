"""Animal paths in a rectangular box: recorded, generated or read from a file.

Positions are in metres with the box's corner at (0, 0), times in seconds,
velocities in m/s. Two recordings ship with ratinabox and are read from the
installed package (nothing is downloaded):

- :func:`sargolini`: Sargolini et al. (2006), 29,800 positions at 50 Hz
  (600 s) in a 1 m x 1 m box; 8 tracking gaps of up to 0.36 s.
- :func:`tanni`: Tanni et al. (2022), 219,670 positions at 30 Hz (2 h) in a
  3.5 m (x) x 2.5 m (y) box; one gap of 0.63 s, a few tracking jumps.

:meth:`Trajectory.resample` puts either on a regular time grid (bridging the
gaps linearly), which is what a network's velocity signal needs.
"""
from __future__ import annotations

import csv
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spikemem.errors import ModelError

MAX_GAP = 5.0           # a step longer than this many median steps is a gap in the recording
MAX_SPEED = 5.0         # m/s; a typical speed above this means positions in centimetres
OUTSIDE = 0.1           # positions may stray this fraction of the box beyond its walls (tracking jitter)


@dataclass(frozen=True, eq=False)
class Trajectory:
    """A path: times ``t`` (T,) in s, strictly increasing; positions ``xy``
    (T, 2) in m inside ``box`` = (width, height) in m."""
    t: np.ndarray
    xy: np.ndarray
    box: tuple[float, float]
    name: str = "trajectory"

    def __post_init__(self):
        t = np.array(self.t, dtype=float)
        xy = np.array(self.xy, dtype=float)
        label = f"trajectory {self.name!r}"
        if t.ndim != 1 or len(t) == 0:
            raise ModelError(f"{label}: t must be a non-empty 1-D array of times, got shape {t.shape}")
        if xy.shape != (len(t), 2):
            raise ModelError(f"{label}: xy must be (T, 2) with T = {len(t)} as t, got shape {xy.shape}")
        if len(t) < 2:
            raise ModelError(f"{label}: needs at least 2 samples, got {len(t)}")
        for what, values in (("t", t), ("xy", xy)):
            bad = ~np.isfinite(values) if values.ndim == 1 else ~np.isfinite(values).all(axis=1)
            if bad.any():
                first = int(np.flatnonzero(bad)[0])
                raise ModelError(f"{label}: {what} is NaN or infinite at sample {first} "
                                 f"({int(bad.sum())} samples in all)")
        steps = np.diff(t)
        if (steps <= 0).any():
            k = int(np.flatnonzero(steps <= 0)[0])
            raise ModelError(f"{label}: time must increase, but t[{k + 1}] = {t[k + 1]!r} s "
                             f"follows t[{k}] = {t[k]!r} s")
        box = _box(self.box, label)
        low, high = -OUTSIDE * np.array(box), (1 + OUTSIDE) * np.array(box)
        outside = ((xy < low) | (xy > high)).any(axis=1)
        if outside.any():
            k = int(np.flatnonzero(outside)[0])
            raise ModelError(f"{label}: position {xy[k].tolist()} m at sample {k} lies outside the box "
                             f"{box} m (the corner at (0, 0)); positions in centimetres, or a wrong box?")
        t.flags.writeable = xy.flags.writeable = False
        object.__setattr__(self, "t", t)
        object.__setattr__(self, "xy", xy)
        object.__setattr__(self, "box", box)

    def __len__(self) -> int:
        return len(self.t)

    @property
    def duration(self) -> float:
        """Seconds from the first sample to the last."""
        return float(self.t[-1] - self.t[0])

    @property
    def dt(self) -> float:
        """The median step in seconds (the step of a regular trajectory)."""
        return float(np.median(np.diff(self.t)))

    def velocity(self) -> np.ndarray:
        """(T, 2) m/s: ``velocity()[k]`` carries ``xy[k]`` to ``xy[k + 1]``
        over ``[t[k], t[k + 1])``; the last sample repeats the one before.
        Held piecewise constant (as a network signal holds its samples), it
        integrates back to ``xy`` exactly at the sample times."""
        v = np.diff(self.xy, axis=0) / np.diff(self.t)[:, None]
        return np.vstack([v, v[-1:]])

    def speed(self) -> np.ndarray:
        """(T,) m/s."""
        return np.linalg.norm(self.velocity(), axis=1)

    def gaps(self, factor: float = MAX_GAP) -> np.ndarray:
        """Indices k whose step ``t[k + 1] - t[k]`` is longer than ``factor``
        median steps."""
        steps = np.diff(self.t)
        return np.flatnonzero(steps > factor * np.median(steps))

    def resample(self, dt: float) -> Trajectory:
        """The path at ``t[0], t[0] + dt, ...`` (up to the last sample),
        positions interpolated linearly; gaps are bridged by straight lines."""
        if not (isinstance(dt, (int, float, np.floating, np.integer)) and np.isfinite(dt) and dt > 0):
            raise ModelError(f"trajectory {self.name!r}: resample step dt must be a number of seconds > 0, "
                             f"got {dt!r}")
        if dt > self.duration:
            raise ModelError(f"trajectory {self.name!r}: resample step dt = {dt} s is longer than the "
                             f"trajectory ({self.duration} s)")
        count = int(np.floor(self.duration / dt * (1 + 1e-12))) + 1
        t = self.t[0] + np.arange(count) * dt
        xy = np.column_stack([np.interp(t, self.t, self.xy[:, i]) for i in range(2)])
        return Trajectory(t, xy, self.box, self.name)

    def slice(self, start: float, stop: float) -> Trajectory:
        """The samples with ``start <= t < stop`` (seconds, on this
        trajectory's clock, which is kept; see :meth:`from_zero`)."""
        keep = (self.t >= start) & (self.t < stop)
        if keep.sum() < 2:
            raise ModelError(f"trajectory {self.name!r}: slice [{start}, {stop}) s holds {int(keep.sum())} "
                             f"samples (the trajectory spans {self.t[0]} to {self.t[-1]} s); need at least 2")
        return Trajectory(self.t[keep], self.xy[keep], self.box, self.name)

    def from_zero(self) -> Trajectory:
        """The same path with its clock starting at 0 s."""
        return Trajectory(self.t - self.t[0], self.xy, self.box, self.name)

    def check(self, max_gap: float | None = MAX_GAP, max_speed: float | None = MAX_SPEED) -> Trajectory:
        """Itself, after refusing gaps longer than ``max_gap`` median steps
        and a typical speed (the 95th percentile) above ``max_speed`` m/s,
        the mark of positions in centimetres; None skips a check."""
        label = f"trajectory {self.name!r}"
        if max_gap is not None and len(self.gaps(max_gap)):
            k = int(self.gaps(max_gap)[0])
            raise ModelError(f"{label}: a gap of {self.t[k + 1] - self.t[k]:.4g} s after t[{k}] = {self.t[k]:.6g} s "
                             f"is more than {max_gap} times the median step ({self.dt:.4g} s); "
                             f"resample() bridges gaps, or pass max_gap=None")
        if max_speed is not None:
            speed = self.speed()
            typical = float(np.percentile(speed, 95))
            if typical > max_speed:
                k = int(np.argmax(speed))
                raise ModelError(f"{label}: the 95th percentile of speed is {typical:.4g} m/s (at most "
                                 f"{max_speed} m/s expected; {speed[k]:.4g} m/s at sample {k}): positions "
                                 "in centimetres or times in milliseconds? Positions are metres, times seconds")
        return self


def sargolini() -> Trajectory:
    """Sargolini et al. (2006): a rat foraging in a 1 m box, 600 s at 50 Hz,
    the clock starting at 0 s."""
    return _recording("sargolini", (1.0, 1.0))


def tanni() -> Trajectory:
    """Tanni et al. (2022): a rat in a 3.5 m (x) by 2.5 m (y) box, 2 h at
    30 Hz, the clock starting at 0 s."""
    return _recording("tanni", (3.5, 2.5))


def _recording(name: str, box) -> Trajectory:
    # the installed package's folder, found without importing ratinabox (which loads matplotlib)
    spec = importlib.util.find_spec("ratinabox")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"the {name} trajectory ships with ratinabox, which is not installed "
                         "(pip install ratinabox==1.15.3)")
    path = Path(spec.submodule_search_locations[0]) / "data" / f"{name}.npz"
    if not path.is_file():
        raise ModelError(f"the {name} trajectory is missing from the installed ratinabox ({path})")
    with np.load(path) as arrays:
        t, xy = arrays["t"], arrays["pos"]
    return Trajectory(t - t[0], xy, box, name)


def random_trajectory(duration: float, dt: float = 0.02, box=(1.0, 1.0), seed: int = 0,
                      name: str = "random", **motion) -> Trajectory:
    """Realistic random foraging (ratinabox's Agent, fitted to Sargolini's
    rat: Rayleigh speeds, smooth turning, wall avoidance) for ``duration`` s
    at step ``dt`` s in a ``box`` = (width, height) m, starting at t = 0.
    ``motion`` overrides the Agent's parameters (``speed_mean`` m/s,
    ``rotational_velocity_std`` rad/s, ``thigmotaxis``, ...). The same seed
    gives the same path; numpy's global random state is left as it was."""
    from ratinabox.Agent import Agent
    from ratinabox.Environment import Environment

    for what, value in (("duration", duration), ("dt", dt)):
        if not (isinstance(value, (int, float, np.integer, np.floating)) and np.isfinite(value) and value > 0):
            raise ModelError(f"random_trajectory: {what} must be a number of seconds > 0, got {value!r}")
    if dt > duration:
        raise ModelError(f"random_trajectory: dt = {dt} s is longer than the duration {duration} s")
    unknown = sorted(set(motion) - set(Agent.default_params) - {"name"})
    if unknown:
        raise ModelError(f"random_trajectory: unknown motion parameter(s) {unknown}; ratinabox's Agent "
                         f"takes {sorted(set(Agent.default_params) - {'name', 'dt', 'save_history'})}")
    width, height = _box(box, "random_trajectory")
    steps = int(round(duration / dt))
    # ratinabox draws from numpy's global generator: seed it, then put it back
    state = np.random.get_state()
    try:
        np.random.seed(seed)
        agent = Agent(Environment({"scale": height, "aspect": width / height}), {**motion, "dt": dt})
        xy = [np.array(agent.pos, dtype=float)]
        for _ in range(steps):
            agent.update()
            xy.append(np.array(agent.pos, dtype=float))
    finally:
        np.random.set_state(state)
    return Trajectory(np.arange(steps + 1) * dt, np.array(xy), (width, height), name)


def _box(box, where) -> tuple[float, float]:
    try:
        sides = tuple(float(v) for v in box)
    except (TypeError, ValueError):
        raise ModelError(f"{where}: box must be (width, height) in metres, got {box!r}") from None
    if len(sides) != 2 or not all(np.isfinite(v) and v > 0 for v in sides):
        raise ModelError(f"{where}: box must be (width, height) in metres, both > 0, got {box!r}")
    return sides


_TIME = ("t", "time", "times", "timestamp", "timestamps")


def load_trajectory(path, box=None, name: str | None = None, max_gap: float | None = MAX_GAP,
                    max_speed: float | None = MAX_SPEED) -> Trajectory:
    """A trajectory from a file: CSV with a header naming a time column
    (``t`` or ``time``), ``x`` and ``y`` (or three unnamed columns in that
    order), or an ``.npz`` holding ``t`` and ``pos`` (T, 2) as ratinabox saves
    them, or ``t``, ``x`` and ``y``. Seconds and metres, the box's corner at
    (0, 0); ``box`` = (width, height) m, by default the extent of the
    positions rounded up to the centimetre. Checked as
    :meth:`Trajectory.check` (gaps, speeds that mean centimetres)."""
    path = Path(path)
    name = name or path.stem
    if not path.is_file():
        raise ModelError(f"load_trajectory: no file {str(path)!r}")
    if path.suffix.lower() == ".npz":
        t, xy = _read_npz(path)
    elif path.suffix.lower() in (".csv", ".txt"):
        t, xy = _read_csv(path)
    else:
        raise ModelError(f"load_trajectory: {str(path)!r} is neither .csv nor .npz")
    if len(t) == 0:
        raise ModelError(f"load_trajectory: {str(path)!r} holds no samples")
    if box is None:
        finite = xy[np.isfinite(xy).all(axis=1)]
        extent = finite.max(axis=0) if len(finite) else np.ones(2)
        box = tuple(float(v) for v in np.maximum(np.ceil(extent * 100 - 1e-9) / 100, 0.01))
    return Trajectory(t, xy, box, name).check(max_gap, max_speed)


def _read_npz(path: Path):
    with np.load(path) as data:
        keys = set(data.files)
        time = next((k for k in _TIME if k in keys), None)
        if time is not None and "pos" in keys:
            return np.asarray(data[time], dtype=float), np.asarray(data["pos"], dtype=float)
        if time is not None and {"x", "y"} <= keys:
            return (np.asarray(data[time], dtype=float),
                    np.column_stack([np.asarray(data["x"], dtype=float), np.asarray(data["y"], dtype=float)]))
    raise ModelError(f"load_trajectory: {str(path)!r} holds {sorted(keys)}; expected 't' with 'pos' (T, 2), "
                     "or 't', 'x' and 'y'")


def _read_csv(path: Path):
    with open(path, newline="") as f:
        rows = [row for row in csv.reader(f) if row and not row[0].lstrip().startswith("#")]
    if not rows:
        return np.zeros(0), np.zeros((0, 2))
    header = [c.strip().lower() for c in rows[0]]
    if any(_number(c) is None for c in header):
        time = next((header.index(k) for k in _TIME if k in header), None)
        if time is None or "x" not in header or "y" not in header:
            raise ModelError(f"load_trajectory: {str(path)!r} has columns {rows[0]}; expected a time column "
                             "('t' or 'time'), 'x' and 'y'")
        columns, rows = (time, header.index("x"), header.index("y")), rows[1:]
    else:
        columns = (0, 1, 2)
    values = np.full((len(rows), 3), np.nan)
    for i, row in enumerate(rows):
        for j, c in enumerate(columns):
            value = _number(row[c]) if c < len(row) else None
            if value is None and c < len(row) and row[c].strip() not in ("", "nan", "NaN"):
                raise ModelError(f"load_trajectory: {str(path)!r} row {i + 1}: {row[c]!r} is not a number")
            values[i, j] = np.nan if value is None else value
    return values[:, 0], values[:, 1:]


def _number(text: str):
    try:
        return float(text)
    except ValueError:
        return None
