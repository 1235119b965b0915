import numpy as np
import pytest
from brian2 import Hz, mV
from PIL import Image

import spikemem as sm
from spikemem.encoding import grayscale, image_rates, patch_normalise
from spikemem.errors import ModelError


def by_loop(image, patch):
    """Patch normalisation written the slow, obvious way: a window per pixel, cut at the edges."""
    half, out = patch // 2, np.zeros_like(image)
    for r in range(image.shape[0]):
        for c in range(image.shape[1]):
            window = image[max(0, r - half):r + half + 1, max(0, c - half):c + half + 1]
            if window.std() > 0:
                out[r, c] = np.clip((image[r, c] - window.mean()) / window.std(), -1, 1)
    return out


def test_patch_normalisation_uses_the_window_centred_on_each_pixel():
    image = np.random.default_rng(1).uniform(0, 255, (28, 28))
    image[10:20, 10:20] = 40.0                              # flat windows in the middle
    assert np.allclose(patch_normalise(image, 7), by_loop(image, 7))
    assert np.all(patch_normalise(image, 7)[13:17, 13:17] == 0)
    assert np.allclose(patch_normalise(image, 3), by_loop(image, 3))


def checkerboard():
    """Alternate pixels dark and bright: every window holds both (normalised to about -1 and +1)."""
    rows, cols = np.indices((28, 28))
    return np.where((rows + cols) % 2 == 0, 255.0, 0.0)


def test_rates_per_pixel():
    flat = image_rates(np.full((28, 28), 90.0))
    assert flat.shape == (784,) and np.allclose(flat, 127 * 0.25)         # a flat image: the middle level
    rates = image_rates(checkerboard())
    assert rates.min() >= 0 and rates.max() <= 255 * 0.25
    bright = checkerboard().reshape(-1) > 0
    assert rates[bright].min() > 60 and rates[~bright].max() < 4
    assert np.allclose(image_rates(checkerboard(), rate_per_level=1 * Hz), 4 * rates)
    assert np.all(rates / 0.25 == np.round(rates / 0.25))                 # whole grey levels


def test_colour_and_pillow_images_are_read_as_grayscale():
    rgb = np.random.default_rng(2).integers(0, 256, (56, 56, 3)).astype(np.uint8)
    pil = Image.fromarray(rgb)
    assert np.allclose(grayscale(rgb), np.asarray(pil.convert("L"), dtype=float), atol=1.0)
    assert image_rates(pil).shape == (784,)
    assert np.allclose(image_rates(rgb), image_rates(np.asarray(pil.convert("L"), dtype=float)), atol=2.0)


@pytest.mark.parametrize("call, words", [
    (lambda: image_rates(np.zeros((28, 28, 2))), "shape (28, 28, 2)"),
    (lambda: image_rates(np.zeros((0, 5))), "empty"),
    (lambda: image_rates(np.where(np.eye(28) > 0, np.nan, 1.0)), "pixel (0, 0) is not finite"),
    (lambda: image_rates(np.zeros((28, 28)), patch=4), "odd whole number of pixels"),
    (lambda: image_rates(np.zeros((28, 28)), rate_per_level=1 * mV), "rate_per_level"),
    (lambda: image_rates(np.zeros((28, 28)), rate_per_level=-1 * Hz), ">= 0 Hz"),
    (lambda: image_rates(np.zeros((28, 28)), size=0), "size must be"),
])
def test_bad_images_are_refused_by_name(call, words):
    with pytest.raises(ModelError) as e:
        call()
    assert words in str(e.value)


def test_an_image_drives_a_poisson_source():
    net = sm.Network(seed=3)
    net.poisson_source("pixels", 784, 0 * Hz)
    net.record_spikes("pixels")
    sim = sm.simulation(net, "numba", progress=False)
    sim.set_rates("pixels", image_rates(checkerboard()))
    sim.run(0.35)
    ids = sim.result().spikes["pixels"].ids
    bright = checkerboard().reshape(-1) > 0
    assert bright[ids].mean() > 0.99                    # dark pixels normalise to about -1: under 0.5 Hz
    assert np.unique(ids[bright[ids]]).size > 0.9 * bright.sum()    # about 62 Hz x 0.35 s: nearly all fire
