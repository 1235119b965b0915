"""spikemem.learn: datasets and tasks import without torch; the rest asks for the torch extra."""
import subprocess
import sys

import spikemem.learn as learn

BLOCK_TORCH = "import sys; sys.modules['torch'] = None; sys.modules['numba'] = None\n"


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", BLOCK_TORCH + code], capture_output=True, text=True, timeout=120)


def test_datasets_and_tasks_import_without_torch():
    done = _run("import spikemem.learn.datasets, spikemem.learn.tasks\n"
                "from spikemem.learn import Dataset, permuted\n"
                "assert 'torch' not in [m for m, v in sys.modules.items() if v is not None]\n")
    assert done.returncode == 0, done.stderr


def test_torch_names_without_torch_ask_for_the_extra():
    done = _run("import spikemem.learn as learn\n"
                "from spikemem.errors import ModelError\n"
                "try:\n    learn.Trainer\nexcept ModelError as e:\n    print(e)\n")
    assert done.returncode == 0, done.stderr
    assert "Trainer" in done.stdout and "torch extra" in done.stdout


def test_lazy_names_resolve_to_their_modules():
    from spikemem.learn.trainer import Trainer
    assert learn.Trainer is Trainer
    assert set(learn.__all__) <= set(dir(learn))
