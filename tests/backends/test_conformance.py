"""Every registered backend, the hardware emulators included, through the same checks."""
import pytest

from spikemem.backends import BACKENDS

from backends.conformance import CHECKS

MARKS = {"torch": pytest.mark.torch, "hardware": pytest.mark.hardware}


def _params():
    for entry in BACKENDS.entries():
        marks = [MARKS[entry.capabilities.extra]] if entry.capabilities.extra in MARKS else []
        for check in CHECKS:
            yield pytest.param(entry.name, check, id=f"{entry.name}-{check.__name__}", marks=marks)


@pytest.mark.parametrize("name, check", list(_params()))
def test_backend_conforms(name, check):
    check(name)


def test_every_backend_is_checked():
    assert {"numba", "brian2-numpy", "brian2-cython", "brian2-cpp", "torch", "norse"} <= set(BACKENDS.names())
