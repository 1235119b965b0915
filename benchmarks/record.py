"""Benchmark results as the documentation reads them: one JSON file per run set
(``benchmarks/results/<benchmark>/NN-name.json``), rendered by the docs'
``benchmark-table`` directive. The file names the command, the machine and the
date beside the rows, and is written atomically."""
from __future__ import annotations

import datetime
import json
import os
import platform
import sys

from spikemem.results import atomic_write


def machine() -> str:
    """Cores and processor model of this machine, as /proc/cpuinfo names them."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), model)
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}"


def write_run_set(path: str, benchmark: str, rows: list, **fields) -> None:
    """Write ``rows`` and ``fields`` as one run set of ``benchmark`` to ``path``."""
    data = {"benchmark": benchmark, "command": "python " + " ".join(sys.argv), "machine": machine(),
            "date": datetime.date.today().isoformat(), **fields, "rows": rows}
    with atomic_write(path) as tmp:
        with open(tmp, "w") as f:
            json.dump(data, f, indent=1)
            f.write("\n")


def label(argv, output_option: str) -> str:
    """The command-line options that set a run's conditions (the docs' table label):
    ``argv`` (default ``sys.argv[1:]``) without ``output_option`` and its value."""
    words, kept = iter(sys.argv[1:] if argv is None else list(argv)), []
    for word in words:
        if word == output_option:
            next(words, None)
        elif not word.startswith(output_option + "="):
            kept.append(word)
    return " ".join(kept) or "(defaults)"
