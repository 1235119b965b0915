"""A VPRTempo-style baseline: a one-spike temporal code and two trained layers, in torch.

After Hines, Stratton, Milford and Fischer, "VPRTempo: A Fast Temporally Encoded
Spiking Neural Network for Visual Place Recognition", ICRA 2024 (arXiv 2309.10225).
Our own implementation of the mechanism the paper and the published package describe:

- **Code.** Every input pixel spikes once per image; its spike time is carried as an
  amplitude in [0, 1] (an early spike is a large amplitude). Ours: the amplitude is
  the spec's preprocessed grey level (grayscale, ``size`` x ``size``, ``patch`` x
  ``patch`` patch normalisation, whole levels 0..255) over 255. The published
  package uses 56 x 56 images, 15 x 15 patches and a gamma correction first.
- **Layers.** input -> feature (``feature_factor`` x inputs, 2 in the paper) -> output
  (one neuron per place). A layer's activity is ``clamp(W x - theta, 0, 0.9)``.
  Weights start as the sum of an excitatory part (N(0.5, 1/6) clipped at 0, each
  synapse kept with probability ``p_exc``) and an inhibitory part (N(-0.5, 1/6)
  clipped at 0, kept with ``p_inh``); a synapse keeps its sign for ever (its weight
  stays within [1e-6, 10] or [-10, -1e-6]). Ours: each part is normalised so every
  neuron's row sums to 1 in absolute value (the package divides the whole matrix
  by one row's sum, which is the same on average).
- **Feature layer** (unsupervised): for each synapse whose input and neuron are both
  active, ``dw = eta_stdp * (0.5 - y)`` (excitatory) or ``-eta_stdp * (0.5 - y)``
  (inhibitory): a neuron that fires early (y > 0.5) loses excitation and gains
  inhibition. Thresholds start U(0, 0.5) and follow intrinsic threshold plasticity
  ``dtheta = eta_ip * (y - r)``, theta >= 0, towards target activities ``r`` spread
  evenly over (0.2, 0.9] across the layer. Ours: ``y`` is the neuron's activity, as
  in the paper (the package's code subtracts the target alone).
- **Output layer** (supervised by a forced spike): the neuron of the image's place
  is taught to reach 0.5 and all others 0: ``dw_ij = eta_stdp * (x_j / r_j) * (t_i - y_i)``
  with ``x_j / r_j`` the feature activity over that feature neuron's target (a
  rarely active feature learns faster); all synapses present, thresholds 0.
- **Homeostasis** of inhibition in both layers: every inhibitory weight of a neuron
  is scaled by ``1 + 50 eta_stdp u`` with ``u`` that neuron's input ``W x`` before
  its threshold, so a neuron driven hard gets more inhibition.
- **Annealing.** Both learning rates follow ``eta0 * ((T - t) / T)**2``, renewed
  every ``anneal_every`` (100) steps, over the ``T`` steps (images x epochs) of
  one layer's training. The feature layer is trained for all epochs first, then
  the output layer on the frozen feature layer; images in a new random order each
  epoch, one image a step.
- **Modules.** Places are split, in sorted order, into modules of at most
  ``module_places`` (500 in the paper); each module has its own two layers and
  learns only its places' images. At query time every module sees every query
  and the output drives are concatenated.
- **Scores.** A query's score for a place is its output neuron's drive ``W y``
  (before threshold and clamp, so scores do not tie). Ours: the feature layer is
  applied with its thresholds and clamp as in training (the package's inference
  multiplies the two weight matrices without them).

    model = train_tempo(reference_images, reference_places, epochs=4, seed=0)
    scores, place_ids = model.scores(query_images)     # n_query x n_places
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from spikemem.encoding import grayscale, patch_normalise, resize
from spikemem.errors import ModelError

if TYPE_CHECKING:
    import torch

#: hyperparameters and their defaults (the package's, except where noted above)
DEFAULTS = dict(size=28, patch=7, feature_factor=2, module_places=500,
                p_exc=0.1, p_inh=0.5, threshold_range=(0.0, 0.5), target_range=(0.2, 0.9),
                eta_stdp=0.005, eta_ip=0.15, homeostasis=50.0, anneal_every=100, clamp=0.9)


def _torch():
    try:
        import torch
    except ImportError as e:        # the torch extra is optional
        raise ModelError("the VPRTempo-style baseline needs torch: pip install spikemem[torch]") from e
    return torch


# ---------------------------------------------------------------- the code

def _images(images, what: str) -> np.ndarray:
    """``images`` as a float array n x H x W (or n x H x W x 3/4), checked finite."""
    try:
        a = np.asarray(images, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise ModelError(f"{what}: expected an array of images (n x H x W), {e}") from e
    if a.ndim not in (3, 4) or a.shape[0] == 0:
        raise ModelError(f"{what}: expected a non-empty array of images (n x H x W), got shape {a.shape}")
    bad = ~np.isfinite(a.reshape(len(a), -1)).all(axis=1)
    if bad.any():
        raise ModelError(f"{what}: image {int(np.argmax(bad))} has a pixel that is not finite")
    return a


def encode(images, size: int = 28, patch: int = 7, what: str = "images") -> np.ndarray:
    """The one-spike code: n x (size*size) amplitudes in [0, 1], row-major, from the
    spec's preprocessing (grayscale, resize, patch normalisation, whole grey levels)."""
    a = _images(images, what)
    out = np.empty((len(a), size * size))
    for k, image in enumerate(a):
        gray = grayscale(image, f"{what}[{k}]")
        if gray.shape != (size, size):
            gray = resize(gray, size)
        out[k] = np.floor((patch_normalise(gray, patch, f"{what}[{k}]") + 1.0) * 127.5).reshape(-1) / 255.0
    return out


# ---------------------------------------------------------------- one layer and its learning rules

@dataclass
class Layer:
    """A layer's weights (n_out x n_in, sign fixed per synapse), thresholds and
    target activities (``None``: no threshold plasticity)."""
    w: "torch.Tensor"
    theta: "torch.Tensor"
    target: "torch.Tensor | None" = None
    exc: "torch.Tensor" = field(init=False)
    inh: "torch.Tensor" = field(init=False)

    def __post_init__(self):
        torch = _torch()
        # the sign of each synapse is decided once, at initialisation; the bounds
        # that keep it are precomputed so one clamp per update enforces them
        self.exc, self.inh = self.w > 0, self.w < 0
        self.sign = self.exc.to(self.w.dtype) - self.inh.to(self.w.dtype)
        self.present = (self.exc | self.inh).to(self.w.dtype)
        zero = torch.zeros_like(self.w)
        self._low = torch.where(self.exc, 1e-6, torch.where(self.inh, -10.0, zero))
        self._high = torch.where(self.exc, 10.0, torch.where(self.inh, -1e-6, zero))

    def drive(self, x):
        """``W x`` for one input (a vector) or a batch of inputs (rows)."""
        return x @ self.w.T

    def activity(self, x, clamp: float = 0.9):
        """``clamp(W x - theta, 0, clamp)``: the spike amplitude (early spike = large)."""
        return (self.drive(x) - self.theta).clamp(0.0, clamp)

    def keep_signs(self):
        """Excitatory weights within [1e-6, 10], inhibitory within [-10, -1e-6], absent at 0."""
        self.w = self.w.clamp(self._low, self._high)

    def inhibitory_homeostasis(self, u, eta, factor):
        """Scale each neuron's inhibitory weights by ``1 + factor * eta * u`` (``u``: its input)."""
        torch = _torch()
        self.w = torch.where(self.inh, self.w * (1.0 + factor * eta * u)[:, None], self.w)


def init_layer(n_in: int, n_out: int, p_exc: float, p_inh: float, threshold_range, target_range,
               generator, device="cpu") -> Layer:
    """Random excitatory plus inhibitory weights, each part row-normalised to unit sum in
    absolute value; thresholds U(threshold_range); targets evenly over target_range
    (``None``: no threshold plasticity)."""
    torch = _torch()

    def part(sign, p):
        w = (torch.randn(n_out, n_in, generator=generator, dtype=torch.float64) / 6.0 + 0.5).clamp(min=0.0)
        w = w * (torch.rand(n_out, n_in, generator=generator, dtype=torch.float64) < p)
        norm = w.sum(dim=1, keepdim=True)
        return sign * w / torch.where(norm > 0, norm, 1.0)

    w = part(1.0, p_exc) + part(-1.0, p_inh)
    lo, hi = threshold_range
    theta = lo + (hi - lo) * torch.rand(n_out, generator=generator, dtype=torch.float64)
    target = None
    if target_range is not None:
        lo, hi = target_range
        target = lo + (hi - lo) * torch.arange(1, n_out + 1, dtype=torch.float64) / n_out
    to = dict(device=device, dtype=torch.float32)
    return Layer(w.to(**to), theta.to(**to), None if target is None else target.to(**to))


def feature_step(layer: Layer, x, eta_stdp: float, eta_ip: float, homeostasis: float = 50.0,
                 clamp: float = 0.9) -> None:
    """One unsupervised step of the feature layer on one input ``x`` (a vector)."""
    torch = _torch()
    u = layer.drive(x)
    y = (u - layer.theta).clamp(0.0, clamp)
    # on synapses whose input and neuron are both active, excitatory weights move by
    # eta (0.5 - y) and inhibitory ones by the opposite (``sign``)
    post = eta_stdp * (0.5 - y) * (y > 0)
    layer.w = layer.w + torch.outer(post, (x > 0).to(x.dtype)) * layer.sign
    layer.keep_signs()
    if layer.target is not None and eta_ip > 0:
        layer.theta = (layer.theta + eta_ip * (y - layer.target)).clamp(min=0.0)
    layer.inhibitory_homeostasis(u, eta_stdp, homeostasis)
    layer.keep_signs()


def output_step(layer: Layer, x, place: int, rates, eta_stdp: float, homeostasis: float = 50.0,
                clamp: float = 0.9) -> None:
    """One supervised step of the output layer: the neuron ``place`` is taught to reach
    0.5 and the others 0, each feature's activity ``x`` weighted by 1 / its target ``rates``."""
    torch = _torch()
    u = layer.drive(x)
    y = (u - layer.theta).clamp(0.0, clamp)
    t = torch.zeros_like(y)
    t[place] = 0.5
    # every synapse present learns by the same rule, whatever its sign
    layer.w = layer.w + torch.outer(eta_stdp * (t - y), x / rates) * layer.present
    layer.keep_signs()
    layer.inhibitory_homeostasis(u, eta_stdp, homeostasis)
    layer.keep_signs()


def annealed(eta0: float, step: int, total: int, every: int, current: float) -> float:
    """The learning rate at ``step`` of ``total``: ``eta0 ((total - step) / total)**2``,
    renewed every ``every`` steps (``current`` in between)."""
    return eta0 * ((total - step) / total) ** 2 if step % every == 0 else current


# ---------------------------------------------------------------- the trained model

@dataclass
class TempoModel:
    """Trained modules: ``modules[k]`` is (feature layer, output layer) for the k-th run
    of ``module_places`` places in ``place_ids`` (sorted); its output neuron i is
    the i-th place of that run."""
    modules: list
    place_ids: np.ndarray
    size: int
    patch: int
    clamp: float
    device: str = "cpu"

    def encode(self, images, what: str = "query images"):
        torch = _torch()
        return torch.as_tensor(encode(images, self.size, self.patch, what), dtype=torch.float32, device=self.device)

    def scores(self, query_images, batch: int = 1024):
        """The scores (n_query x n_places) of every query for every place, and the place
        ids of the columns: the output neurons' drives, all modules side by side."""
        torch = _torch()
        x = self.encode(query_images)
        out = []
        with torch.no_grad():
            for start in range(0, len(x), batch):
                xb = x[start:start + batch]
                out.append(torch.cat([out_layer.drive(feat.activity(xb, self.clamp))
                                      for feat, out_layer in self.modules], dim=1))
        return torch.cat(out).cpu().numpy().astype(np.float64), self.place_ids.copy()


def _hyperparams(given: dict) -> dict:
    unknown = sorted(set(given) - set(DEFAULTS))
    if unknown:
        raise ModelError(f"train_tempo: unknown hyperparameter(s) {unknown}; known: {sorted(DEFAULTS)}")
    hp = {**DEFAULTS, **given}
    for name in ("size", "patch", "feature_factor", "module_places", "anneal_every"):
        v = hp[name]
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ModelError(f"train_tempo: {name} must be a whole number >= 1, got {v!r}")
    for name in ("p_exc", "p_inh"):
        if not 0.0 <= hp[name] <= 1.0:
            raise ModelError(f"train_tempo: {name} is a probability, got {hp[name]!r}")
    for name in ("eta_stdp", "eta_ip", "homeostasis", "clamp"):
        if not _number(hp[name]) or hp[name] < 0:
            raise ModelError(f"train_tempo: {name} must be a finite number >= 0, got {hp[name]!r}")
    for name, low in (("threshold_range", 0.0), ("target_range", 1e-12)):
        pair = hp[name]
        if len(np.atleast_1d(pair)) != 2 or not all(_number(v) for v in pair) or not low <= pair[0] <= pair[1]:
            raise ModelError(f"train_tempo: {name} must be (low, high) with {low:g} <= low <= high, got {pair!r}")
    return hp


def _number(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and bool(np.isfinite(v))


def train_tempo(reference_images, reference_places, epochs: int = 4, seed: int = 0, device: str = "cpu",
                **hyperparams) -> TempoModel:
    """Train one module per ``module_places`` places on the reference images (n x H x W,
    one place id per image in ``reference_places``; several images may show one place);
    ``hyperparams`` override ``DEFAULTS``. The same seed gives the same model (on one device)."""
    torch = _torch()
    hp = _hyperparams(hyperparams)
    device = str(device)
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ModelError(f"train_tempo: epochs must be a whole number >= 1, got {epochs!r}")
    images = _images(reference_images, "reference images")
    places = np.asarray(reference_places)
    if places.ndim != 1 or len(places) != len(images):
        raise ModelError(f"train_tempo: reference_places has {places.size} entries (shape {places.shape}) "
                         f"for {len(images)} reference images: one place id per image")
    if not np.issubdtype(places.dtype, np.integer):
        raise ModelError(f"train_tempo: reference_places must be whole numbers, got dtype {places.dtype}")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ModelError(f"train_tempo: device {device!r} asked for, but torch sees no CUDA device")

    x_all = torch.as_tensor(encode(images, hp["size"], hp["patch"], "reference images"), dtype=torch.float32,
                            device=device)
    place_ids = np.unique(places)
    generator = torch.Generator().manual_seed(int(seed))
    order_rng = np.random.default_rng(seed)
    n_in = hp["size"] ** 2
    modules = []
    for start in range(0, len(place_ids), hp["module_places"]):
        ids = place_ids[start:start + hp["module_places"]]
        rows = np.flatnonzero(np.isin(places, ids))
        targets = np.searchsorted(ids, places[rows])
        feat = init_layer(n_in, hp["feature_factor"] * n_in, hp["p_exc"], hp["p_inh"], hp["threshold_range"],
                          hp["target_range"], generator, device)
        out = init_layer(hp["feature_factor"] * n_in, len(ids), 1.0, 1.0, (0.0, 0.0), None, generator, device)
        orders = [order_rng.permutation(len(rows)) for _ in range(2 * epochs)]
        _train_feature(feat, x_all[rows], orders[:epochs], hp)
        _train_output(out, feat, x_all[rows], targets, orders[epochs:], hp)
        modules.append((feat, out))
    return TempoModel(modules, place_ids, hp["size"], hp["patch"], hp["clamp"], device)


def _train_feature(feat: Layer, x, orders, hp):
    total = sum(len(o) for o in orders)
    eta, eta_ip, step = hp["eta_stdp"], hp["eta_ip"], 0
    for order in orders:
        for k in order:
            eta = annealed(hp["eta_stdp"], step, total, hp["anneal_every"], eta)
            eta_ip = annealed(hp["eta_ip"], step, total, hp["anneal_every"], eta_ip)
            feature_step(feat, x[k], eta, eta_ip, hp["homeostasis"], hp["clamp"])
            step += 1


def _train_output(out: Layer, feat: Layer, x, targets, orders, hp):
    y = feat.activity(x, hp["clamp"])           # the feature layer is frozen now
    rates = feat.target
    total = sum(len(o) for o in orders)
    eta, step = hp["eta_stdp"], 0
    for order in orders:
        for k in order:
            eta = annealed(hp["eta_stdp"], step, total, hp["anneal_every"], eta)
            output_step(out, y[k], int(targets[k]), rates, eta, hp["homeostasis"], hp["clamp"])
            step += 1
