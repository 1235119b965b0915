"""Execute every notebook in notebooks/ and check what it printed.

Each notebook is one test. It runs in a kernel started with this interpreter
(``sys.executable``), whatever kernelspecs the machine has installed: the test
writes a private kernelspec into its temp directory and hands nbclient a kernel
manager that looks only there. The notebook's working directory is that temp
directory, so nothing lands in the repository.
"""
from __future__ import annotations

import pathlib
import sys

import nbformat
import pytest
from ipykernel.kernelspec import write_kernel_spec
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
KERNEL_NAME = "spikemem-test"
CELL_TIMEOUT_S = 300

#: Text that must appear in a notebook's outputs (stdout, results), per notebook.
EXPECTED_OUTPUT = {
    "astrocytes.ipynb": ["input spikes; IP3 peak", "G-ChI: calcium peak", "the wave reached 50 of 50 astrocytes",
                         "AM-SU recall accuracy at D=5", "the layer fired on"],
    "ca3_cam.ipynb": ["recall_by_cue", "recall_by_content", "obstacle  returned", "exact_recall_by_cue",
                      "classical_hopfield", "modern_hopfield"],
    "grid_cells.ipynb": ["growth factor", "lattice periods", "decoding error: mean", "grid scores of",
                         "rate variant on spinnaker", "spiking variant on loihi", "Sargolini decoding error"],
    "hlop.ipynb": ["snn hlop", "ann multitask", "principal angles to the top", "numba agrees with torch on"],
    "hardware.ipynb": ["passes every check", "neuron model 'CUBA'", "decoded answers as on numba",
                       "rate ratio", "ca3-pynn"],
    "place_recognition.ipynb": ["difficulty 0.50: SAD R@1", "ensemble + regularisation", "R@1 by number of modules",
                                "spinnaker emulator", "loihi emulator"],
    "sweeps.ipynb": ["9 points: 9 computed", "excitatory rate", "again: 0 computed, 9 from the cache",
                     "Elephant agrees with the sweep's metrics"],
}


def kernel_manager(tmp_path: pathlib.Path) -> KernelManager:
    """A kernel manager whose only kernel runs ``sys.executable -m ipykernel_launcher``."""
    kernels = tmp_path / "kernels"
    write_kernel_spec(path=kernels / KERNEL_NAME)
    specs = KernelSpecManager(kernel_dirs=[str(kernels)], ensure_native_kernel=False)
    km = KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs)
    assert km.kernel_spec.argv[0] == sys.executable
    return km


def output_text(nb) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                parts.append(out.text)
            elif out.output_type in ("execute_result", "display_data"):
                parts.append(out.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def test_notebooks_found():
    assert NOTEBOOKS, f"no notebooks in {ROOT / 'notebooks'}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and (c.outputs or c.execution_count is not None)]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; clear them before committing"


#: notebooks that need an extra (the hardware one runs sPyNNaker's mapping and brian2-loihi)
EXTRAS = {"hardware.ipynb": pytest.mark.hardware}


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name, marks=[EXTRAS[p.name]] if p.name in EXTRAS else [])
                                  for p in NOTEBOOKS])
def test_notebook_executes(path, tmp_path):
    nb = nbformat.read(path, as_version=4)
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    client = NotebookClient(nb, km=kernel_manager(tmp_path), timeout=CELL_TIMEOUT_S,
                            startup_timeout=120, allow_errors=False,
                            resources={"metadata": {"path": str(workdir)}})
    client.execute()        # raises CellExecutionError on the first failing cell

    errors = [out for cell in nb.cells for out in cell.get("outputs", []) if out.output_type == "error"]
    assert not errors
    text = output_text(nb)
    for needle in EXPECTED_OUTPUT.get(path.name, []):
        assert needle in text, f"{path.name}: no output contains {needle!r}"
    if path.name in EXPECTED_OUTPUT:
        images = [out for cell in nb.cells for out in cell.get("outputs", [])
                  if "image/png" in out.get("data", {})]
        assert images, f"{path.name}: no figure was rendered"
