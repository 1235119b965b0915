"""Sphinx configuration of spikemem's documentation (``make docs``)."""
from __future__ import annotations

import re
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



# --- Docstrings as their modules write them ----------------------------------------
# Two habits of the module docstrings that reStructuredText reads otherwise:
# ``|x|`` (an absolute value) outside literals is a substitution reference, and a
# first column of a two-column simple table may run into the gap before the second.
# Both are mended here, in the build, rather than in the modules.
_BORDER = re.compile(r"^(\s*)(=+)(\s+)(=+)\s*$")


def _escape_bars(line: str) -> str:
    parts = re.split(r"(``.*?``)", line)
    return "".join(p if p.startswith("``") else re.sub(r"(?<!\\)\|", r"\\|", p) for p in parts)


def _widen_tables(lines: list) -> list:
    borders = [k for k, line in enumerate(lines) if _BORDER.match(line)]
    for top, bottom in zip(borders[:-1], borders[1:]):
        indent, first, gap, second = _BORDER.match(lines[top]).groups()
        start = len(indent) + len(first) + len(gap)
        rows = [lines[k] for k in range(top + 1, bottom) if lines[k].strip() and not _BORDER.match(lines[k])]
        if all(not r[len(indent) + len(first):start].strip() for r in rows):
            continue                           # already well formed (or a header border pair)
        width = len(first)
        for k in range(top + 1, bottom):
            m = re.match(r"^(\s*\S.*?)(\s{2,})(\S.*)$", lines[k]) if lines[k][:start].strip() else None
            if m:
                width = max(width, len(m.group(1)) - len(indent))
        for k in range(top, bottom + 1):
            line = lines[k]
            if _BORDER.match(line):
                lines[k] = f"{indent}{'=' * width}{gap}{second}"
            elif line.strip():
                m = re.match(r"^(\s*\S.*?)(\s{2,})(\S.*)$", line) if line[:start].strip() else None
                head, rest = (m.group(1), m.group(3)) if m else ("", line[start:])
                lines[k] = f"{head.ljust(len(indent) + width)}{gap}{rest}"
        break
    return lines


def _mend_docstring(app, what, name, obj, options, lines):
    lines[:] = _widen_tables([_escape_bars(line) for line in lines])


def setup(app):
    app.connect("autodoc-process-docstring", _mend_docstring)


html_theme = "furo"
html_title = f"spikemem {release}"
html_show_sourcelink = False
