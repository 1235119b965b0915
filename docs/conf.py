"""Sphinx configuration of spikemem's documentation (``make docs``)."""
from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).parent
sys.path.insert(0, str(DOCS / "_ext"))

import spikemem  # noqa: E402  (installed; autodoc imports its modules)

project = "spikemem"
author = "spikemem developers"
copyright = "2026, spikemem developers"
release = version = spikemem.__version__

extensions = [
    "myst_nb",                    # MyST Markdown pages and notebooks (brings myst_parser)
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",        # numpydoc sections (Parameters, Returns, ...) in docstrings
    "benchmark_table",            # docs/_ext: tables from benchmarks/results/*.json
]

source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "jupyter_execute", "**.ipynb_checkpoints"]
benchmark_results = "../benchmarks/results"

# MyST
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# myst-nb: the notebooks are stored without outputs; the test suite executes them.
nb_execution_mode = "off"

# autodoc
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_google_docstring = False
napoleon_numpy_docstring = True
nitpicky = False



html_theme = "furo"
html_title = f"spikemem {release}"
html_show_sourcelink = False
