"""The trained RNN path integrator (the ANN variant of the grid-cell model),
after Sorscher, Mel, Ganguli and Ocko (2019, 2023).

A vanilla RNN (ReLU, no biases) receives the animal's velocity; its initial
state is the place-cell code of the start position through a linear encoder,
and a linear readout gives place-cell logits. It learns to predict the
place-cell code along the path: cross-entropy between the softmax of the
logits and the place-cell distribution, plus ``weight_decay`` times the
squared recurrent weights, minimised with Adam.

Place cells: ``n_place`` centres uniform in a square box of side ``box``
(coordinates from -box/2 to box/2), each a difference of Gaussians: a softmax
over cells of -d^2/(2 w^2) minus the softmax of -d^2/(2 s w^2) with
``w = place_width`` and ``s = surround_scale``, shifted to be non-negative
and normalised to sum to 1 (Sorscher's code: the surround's variance is s
times the centre's, so s = 2 is a surround sqrt(2) times wider; None: the
centre's softmax alone). Position is decoded as the mean centre of the
``top_k`` most active predicted cells.

Training paths: Sorscher's random walk, drawn fresh at every step: speeds
Rayleigh-distributed with scale 0.13*2*pi m/s, heading turned by Gaussian
noise of 11.52 rad/s, dt = 0.02 s; near a wall (within 3 cm, heading towards
it) the animal slows to a quarter and turns to run along it. The input is a
step's displacement (velocity times dt, in metres), as Sorscher's.

Published settings and the defaults here (scaled for a 2-core machine without
a GPU; every published value is an argument of :class:`Settings`):

==================  ==========  ========  =========================================
setting             published   default   why scaled
==================  ==========  ========  =========================================
n_units             4096        512       one training step ~30x cheaper on a CPU
n_place             512         512
place_width         0.12 m      0.12 m
surround_scale      2           2
box                 2.2 m       2.2 m
sequence_length     20          20
batch               200         200
steps               100,000     1500      minutes, not days, on one CPU core
learning_rate       1e-4        1e-3      few steps: a larger step size converges in them
weight_decay        1e-4        1e-4
==================  ==========  ========  =========================================

Whether grid-like units emerge depends on these choices (Schaeffer, Khona and
Fiete 2022); nothing here is tuned for it. The difference-of-Gaussians target
is within 0.1 nats of the uniform distribution's entropy at these sizes, and
1500 steps do not learn it (the error stays at chance, about 1 m); Gaussian
place cells (``surround_scale=None``) are learnt in as many steps
(benchmarks/grid_rnn.py and its results in benchmarks/results/grid_cells/).
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

import numpy as np

from spikemem.errors import ModelError

__all__ = ["PathIntegrator", "Settings", "decode_positions", "decoding_error", "place_code", "random_walk", "rate_maps",
           "train_path_integrator", "unit_activity", "unit_grid_scores"]

#: Sorscher's random walk: Rayleigh scale of the speed (m/s), turning noise (rad/s), wall region (m)
SPEED_SCALE = 0.13 * 2 * np.pi
TURN_SIGMA = 11.52
BORDER = 0.03


@dataclass(frozen=True)
class Settings:
    """The size and training of one path integrator (see the module's table)."""
    n_units: int = 512
    n_place: int = 512
    place_width: float = 0.12
    surround_scale: float | None = 2.0         # None: no surround (Sorscher's DoG = False)
    box: float = 2.2
    activation: str = "relu"
    sequence_length: int = 20
    batch: int = 200
    steps: int = 1500
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    dt: float = 0.02
    top_k: int = 3

    def __post_init__(self):
        for name in ("n_units", "n_place", "sequence_length", "batch", "steps", "top_k"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ModelError(f"Settings: {name} must be a positive integer, got {v!r}")
        for name in ("place_width", "box", "learning_rate", "dt"):
            v = getattr(self, name)
            if not _number(v) or not v > 0:
                raise ModelError(f"Settings: {name} must be a positive number, got {v!r}")
        if self.surround_scale is not None and (not _number(self.surround_scale) or not self.surround_scale > 1):
            raise ModelError(f"Settings: surround_scale must be a number > 1 (the surround's variance over the "
                             f"centre's), got {self.surround_scale!r}")
        if not _number(self.weight_decay) or not self.weight_decay >= 0:
            raise ModelError(f"Settings: weight_decay must be a number >= 0, got {self.weight_decay!r}")
        if self.activation not in ("relu", "tanh"):
            raise ModelError(f"Settings: activation must be 'relu' or 'tanh', got {self.activation!r}")
        if self.top_k > self.n_place:
            raise ModelError(f"Settings: top_k = {self.top_k} is more than the n_place = {self.n_place} place cells")


def _number(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and np.isfinite(v)


# --- place cells and paths

def place_code(positions, centres, width: float, surround_scale: float | None) -> np.ndarray:
    """The difference-of-Gaussians place-cell distribution at ``positions`` (..., 2):
    (..., n_place), non-negative, summing to 1 over cells (Gaussians only for
    ``surround_scale`` None)."""
    d2 = ((np.asarray(positions)[..., None, :] - centres) ** 2).sum(-1)
    code = _softmax(-d2 / (2 * width ** 2))
    if surround_scale is None:
        return code
    code -= _softmax(-d2 / (2 * surround_scale * width ** 2))
    code -= code.min(-1, keepdims=True)
    return code / code.sum(-1, keepdims=True)


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def decode_positions(activity, centres, top_k: int = 3) -> np.ndarray:
    """Sorscher's decoder: the mean centre of the ``top_k`` most active place cells
    of ``activity`` (..., n_place) -> positions (..., 2)."""
    a = np.asarray(activity)
    top = np.argpartition(-a, top_k - 1, axis=-1)[..., :top_k]
    return np.asarray(centres)[top].mean(-2)


def random_walk(n: int, steps: int, box: float, rng, dt: float = 0.02, speed_scale: float = SPEED_SCALE,
                turn_sigma: float = TURN_SIGMA) -> np.ndarray:
    """``n`` paths of ``steps`` steps of Sorscher's random walk in the box from -box/2 to
    box/2, starting uniformly in it: positions (n, steps + 1, 2) in metres. As in
    Sorscher's code a turn away from a wall follows the step towards it, so a path
    may overshoot a wall by a few centimetres (about 1 % of the samples in the
    2.2 m box)."""
    half = box / 2
    pos = np.empty((n, steps + 1, 2))
    pos[:, 0] = rng.uniform(-half, half, (n, 2))
    heading = rng.uniform(0, 2 * np.pi, n)
    turns = rng.normal(0, turn_sigma, (n, steps))
    speeds = rng.rayleigh(speed_scale, (n, steps))
    walls = np.arange(4) * np.pi / 2                      # the right, top, left and bottom walls' normals
    for t in range(steps):
        x, y = pos[:, t, 0], pos[:, t, 1]
        dists = np.stack([half - x, half - y, half + x, half + y])
        d_wall, facing = dists.min(0), walls[dists.argmin(0)]
        towards = np.mod(heading - facing + np.pi, 2 * np.pi) - np.pi
        near = (d_wall < BORDER) & (np.abs(towards) < np.pi / 2)
        turn = np.where(near, np.sign(towards) * (np.pi / 2 - np.abs(towards)), 0.0) + dt * turns[:, t]
        v = np.where(near, 0.25, 1.0) * speeds[:, t]
        pos[:, t + 1] = pos[:, t] + (v * dt)[:, None] * np.stack([np.cos(heading), np.sin(heading)], -1)
        heading = heading + turn
    return pos


# --- the network

def _torch():
    try:
        import torch
    except ImportError:
        raise ModelError("the RNN path integrator needs torch (pip install 'spikemem[torch]')") from None
    return torch


def _network(settings: Settings):
    torch = _torch()

    class Net(torch.nn.Module):
        """Encoder (place code -> initial state), vanilla RNN on displacements, readout to place-cell logits."""

        def __init__(self):
            super().__init__()
            self.encoder = torch.nn.Linear(settings.n_place, settings.n_units, bias=False)
            self.rnn = torch.nn.RNN(2, settings.n_units, nonlinearity=settings.activation, bias=False,
                                    batch_first=True)
            self.decoder = torch.nn.Linear(settings.n_units, settings.n_place, bias=False)

        def forward(self, steps, start_code):
            hidden, _ = self.rnn(steps, self.encoder(start_code)[None])
            return hidden, self.decoder(hidden)

    return Net()


def _device(device):
    torch = _torch()
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
        torch.empty(0, device=dev)
    except (RuntimeError, AssertionError) as e:
        raise ModelError(f"device {device!r} is not usable here ({e})") from None
    return dev


class PathIntegrator:
    """A (trained) RNN path integrator: its ``settings``, place-cell ``centres``
    (n_place x 2, metres), the torch network ``net`` on ``device``, and the loss and
    decoding error (m) at each training step (``losses``, ``errors``)."""

    def __init__(self, settings: Settings, seed: int, device=None):
        if not isinstance(settings, Settings):
            raise ModelError(f"settings must be a Settings, got {type(settings).__name__}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ModelError(f"seed must be a non-negative integer, got {seed!r}")
        torch = _torch()
        self.settings, self.seed, self.device = settings, int(seed), _device(device)
        half = settings.box / 2
        self.centres = np.random.default_rng([self.seed, 0]).uniform(-half, half, (settings.n_place, 2))
        with torch.random.fork_rng(devices=[]):            # the seed decides the weights; the caller's RNG stays
            torch.manual_seed(self.seed)
            self.net = _network(settings).to(self.device)
        self.losses, self.errors = np.zeros(0), np.zeros(0)

    # --- running
    def _tensors(self, positions):
        s = self.settings
        torch = _torch()
        code = place_code(positions[:, 0], self.centres, s.place_width, s.surround_scale)
        steps = np.diff(positions, axis=1)
        return (torch.as_tensor(steps, dtype=torch.float32, device=self.device),
                torch.as_tensor(code, dtype=torch.float32, device=self.device))

    def run(self, positions) -> tuple[np.ndarray, np.ndarray]:
        """Run the network along ``positions`` (n, T + 1, 2) or (T + 1, 2), in metres in the
        model's box, one sample per ``settings.dt``: the first is the start (given to
        the network as its place code), the rest are reached by integrating the
        displacements. Returns the units' activity (n, T, n_units) and the decoded
        positions (n, T, 2), without the leading n for one path."""
        p, one = _paths(positions, self.settings.box)
        torch = _torch()
        with torch.no_grad():
            hidden, logits = self.net(*self._tensors(p))
        decoded = decode_positions(logits.cpu().numpy(), self.centres, self.settings.top_k)
        hidden = hidden.cpu().numpy()
        return (hidden[0], decoded[0]) if one else (hidden, decoded)

    # --- checkpoints
    def save(self, path) -> None:
        """Write the settings, seed, place-cell centres, weights and training curves to ``path`` (npz)."""
        weights = {f"w:{k}": v.detach().cpu().numpy() for k, v in self.net.state_dict().items()}
        np.savez(path, settings=np.array(json.dumps(dataclasses.asdict(self.settings), sort_keys=True)),
                 seed=np.array(self.seed), centres=self.centres, losses=self.losses, errors=self.errors, **weights)

    def load(self, path) -> "PathIntegrator":
        """Replace this model's weights, centres and curves by those saved in ``path``;
        refused if the checkpoint's network has another size. Returns self."""
        try:
            with np.load(path, allow_pickle=False) as f:
                data = {k: f[k] for k in f.files}
        except (OSError, ValueError) as e:
            raise ModelError(f"{path}: not a readable path-integrator checkpoint ({e})") from None
        if "settings" not in data or "centres" not in data:
            raise ModelError(f"{path}: not a path-integrator checkpoint (no settings or place-cell centres)")
        theirs = json.loads(str(data["settings"]))
        for name in ("n_units", "n_place"):
            if theirs.get(name) != getattr(self.settings, name):
                raise ModelError(f"{path}: a checkpoint with {name} = {theirs.get(name)}, this model has "
                                 f"{name} = {getattr(self.settings, name)}")
        torch = _torch()
        state = {k[2:]: torch.as_tensor(v) for k, v in data.items() if k.startswith("w:")}
        try:
            self.net.load_state_dict(state)
        except RuntimeError as e:
            raise ModelError(f"{path}: its weights do not fit this network ({e})") from None
        self.centres, self.losses, self.errors = data["centres"], data["losses"], data["errors"]
        return self

    @classmethod
    def from_file(cls, path, device=None) -> "PathIntegrator":
        """The model saved in ``path``, with the settings it was saved with."""
        try:
            with np.load(path, allow_pickle=False) as f:
                settings, seed = json.loads(str(f["settings"])), int(f["seed"])
        except (OSError, ValueError, KeyError) as e:
            raise ModelError(f"{path}: not a readable path-integrator checkpoint ({e})") from None
        return cls(Settings(**settings), seed, device).load(path)


def _paths(positions, box) -> tuple[np.ndarray, bool]:
    p = np.asarray(positions, dtype=np.float64)
    one = p.ndim == 2
    p = p[None] if one else p
    if p.ndim != 3 or p.shape[-1] != 2 or p.shape[1] < 2:
        raise ModelError(f"positions: expected (T + 1, 2) or (n, T + 1, 2) with T >= 1, got shape "
                         f"{np.shape(positions)}")
    if not np.isfinite(p).all():
        raise ModelError("positions: not all finite")
    if np.abs(p).max() > box:           # the walk may step a little past a wall; this far is another frame
        raise ModelError(f"positions: far outside the model's box (from {-box / 2} to {box / 2} m; largest |x| or "
                         f"|y| = {np.abs(p).max():.3g} m); centre the path in the box first")
    return p, one


# --- training

def train_path_integrator(settings: Settings | None = None, seed: int = 0, progress: bool = False,
                          device=None) -> PathIntegrator:
    """Train a path integrator with ``settings`` (default :class:`Settings`) on fresh
    random walks at every step; ``device`` None takes a GPU when there is one.
    Deterministic per seed on the CPU."""
    settings = Settings() if settings is None else settings
    model = PathIntegrator(settings, seed, device)
    torch = _torch()
    s, net = settings, model.net
    rng = np.random.default_rng([model.seed, 1])
    optimiser = torch.optim.Adam(net.parameters(), lr=s.learning_rate)
    centres = torch.as_tensor(model.centres, dtype=torch.float32, device=model.device)
    losses, errors = np.empty(s.steps), np.empty(s.steps)
    for k in _steps(s.steps, progress):
        paths = random_walk(s.batch, s.sequence_length, s.box, rng, s.dt)
        steps, start = model._tensors(paths)
        target = torch.as_tensor(place_code(paths[:, 1:], model.centres, s.place_width, s.surround_scale),
                                 dtype=torch.float32, device=model.device)
        _, logits = net(steps, start)
        loss = -(target * torch.log_softmax(logits, -1)).sum(-1).mean()
        loss = loss + s.weight_decay * (net.rnn.weight_hh_l0 ** 2).sum()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        with torch.no_grad():
            decoded = centres[torch.topk(logits, s.top_k, -1).indices].mean(-2)
            true = torch.as_tensor(paths[:, 1:], dtype=torch.float32, device=model.device)
            errors[k] = float(torch.linalg.norm(decoded - true, dim=-1).mean())
        losses[k] = loss.item()
    model.losses, model.errors = losses, errors
    return model


def _steps(n, progress):
    from spikemem.progress import progress as bar
    with bar(n, "training the path integrator", enabled=progress) as b:
        for k in range(n):
            yield k
            b.update(1)


# --- evaluation

def _resampled(t, positions, step):
    """Positions (T, 2) at times ``t``, linearly interpolated onto a grid of ``step`` s from t[0]."""
    grid = np.arange(0, t[-1] - t[0] + 1e-9 * step, step) + t[0]
    if len(grid) == len(t) and np.allclose(grid, t, rtol=0, atol=1e-9 * step):
        return positions
    return np.stack([np.interp(grid, t, positions[:, i]) for i in range(2)], -1)


def _trajectory(model: PathIntegrator, trajectory, dt, origin) -> np.ndarray:
    """A path (T, 2) in the model's box: positions sampled every ``dt`` s, or an
    object with ``xy`` and times ``t`` (and perhaps ``box``), interpolated onto the
    model's dt and shifted so that ``origin`` is the box's centre (default: the
    centre of the object's ``box``, with its corner at (0, 0), else the middle of
    the path's extent)."""
    if hasattr(trajectory, "xy"):
        xy, t = np.asarray(trajectory.xy, dtype=np.float64), np.asarray(trajectory.t, dtype=np.float64)
        if origin is None and getattr(trajectory, "box", None) is not None:
            origin = np.asarray(trajectory.box, dtype=np.float64) / 2
        if t.shape != xy.shape[:1] or len(t) < 2 or not np.all(np.diff(t) > 0):
            raise ModelError("trajectory: its times t must increase, one for each position")
    else:
        xy = np.asarray(trajectory, dtype=np.float64)
        if dt is None or not _number(dt) or not dt > 0:
            raise ModelError(f"trajectory: dt must be a positive number of seconds, got {dt!r}")
        t = np.arange(len(xy)) * float(dt)
    if xy.ndim != 2 or xy.shape[1] != 2 or len(xy) < 2:
        raise ModelError(f"trajectory: expected positions (T, 2) with T >= 2, got shape {xy.shape}")
    if not np.isfinite(xy).all():
        raise ModelError("trajectory: not all positions are finite")
    xy = _resampled(t, xy, model.settings.dt)
    middle = (xy.min(0) + xy.max(0)) / 2 if origin is None else np.asarray(origin, dtype=np.float64)
    return xy - middle


def unit_activity(model: PathIntegrator, trajectory, dt=None, origin=None) -> tuple[np.ndarray, np.ndarray]:
    """The units' activity along one trajectory, run from its first position:
    (positions (T, 2) in the model's box, activity (T, n_units)), one sample per
    ``model.settings.dt`` from the second position on. See :func:`decoding_error`
    for ``trajectory``, ``dt`` and ``origin``."""
    path = _trajectory(model, trajectory, dt, origin)
    hidden, _ = model.run(path)
    return path[1:], hidden


def decoding_error(model: PathIntegrator, trajectory, dt=None, origin=None) -> np.ndarray:
    """The distance (m) between the decoded and the true position at each step of
    ``trajectory``, the network run once over the whole of it from its first
    position (sample i is (i + 1) * model.settings.dt after the start).

    ``trajectory``: positions (T, 2) in metres sampled every ``dt`` seconds, or an
    object with ``xy`` and ``t`` (a :class:`~.trajectory.Trajectory`, whose gaps are
    bridged linearly); interpolated onto the model's dt and moved so that
    ``origin`` (default: the centre of the object's ``box``, else the middle of
    the path's extent) is the centre of the model's box. Its velocity is read
    from its positions."""
    path = _trajectory(model, trajectory, dt, origin)
    _, decoded = model.run(path)
    return np.linalg.norm(decoded - path[1:], axis=-1)


def rate_maps(model: PathIntegrator, paths, bins: int = 20, box: float | None = None) -> np.ndarray:
    """Each unit's mean activity in ``bins x bins`` spatial bins (units, bins, bins;
    NaN where no path went) over ``paths`` (n, T + 1, 2) or (T + 1, 2) in the
    model's box, each run from its first position; ``box`` (m, default the
    model's) is the side of the square, centred in the model's box, that the
    bins cover."""
    from .gridscore import rate_map
    p, _ = _paths(paths, model.settings.box)
    side = model.settings.box if box is None else box
    if not _number(side) or not side > 0:
        raise ModelError(f"rate_maps: box must be a positive number of metres, got {box!r}")
    hidden = np.concatenate([model.run(p[i:i + 500])[0] for i in range(0, len(p), 500)])
    where = p[:, 1:].reshape(-1, 2) + side / 2           # gridscore's maps have the box's corner at (0, 0)
    return rate_map(where, hidden.reshape(-1, hidden.shape[-1]), (side, side), bins)


def unit_grid_scores(model: PathIntegrator, paths, bins: int = 20, box: float | None = None) -> np.ndarray:
    """Grid scores (n_units,) of the units' :func:`rate_maps` over ``paths``; NaN for a unit
    that is constant (a silent ReLU unit)."""
    from .gridscore import grid_scores
    return grid_scores(rate_maps(model, paths, bins, box))
