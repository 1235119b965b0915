"""``benchmark-table``: a table rendered from benchmark result files (JSON).

    ```{benchmark-table} cuba/0[1-7]-*.json
    :columns: label=command; round=round; run_s.numba=numba, 1 thread
    :format: run_s.*={} s; run_speedup.*={}x
    ```

The argument is a glob under ``benchmark_results`` (conf.py; default
``benchmarks/results`` beside ``docs/``); files are read in name order, each
one a run set::

    {"benchmark": ..., "command": ..., "machine": ..., "date": ..., "rows": [{...}, ...]}

Each row gives one table line. ``:columns:`` lists ``key=Label`` pairs; a key
is looked up in the row, then in the file's top level, and a dotted key goes
into nested objects (``run_s.numba`` is ``row["run_s"]["numba"]``).
``:format:`` maps key patterns (fnmatch) to ``str.format`` strings; a list or
object value is formatted item by item and joined with ``/``; ``:literal:``
names the keys shown as code; ``:rows:`` keeps the rows whose values match
``key=pattern`` pairs (fnmatch, e.g. ``case=example_[34]*``). A missing value
is left blank. Below the table:
each file's command, then the machines and dates.
"""
from __future__ import annotations

import fnmatch
import json
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util.docutils import SphinxDirective

MISSING = object()


def _pairs(text: str) -> list[tuple[str, str]]:
    out = []
    for item in (text or "").split(";"):
        if item.strip():
            key, _, value = item.partition("=")
            out.append((key.strip(), value.strip() or key.strip()))
    return out


def _lookup(row: dict, run: dict, key: str):
    for source in (row, run):
        value = source
        for part in key.split("."):
            if not isinstance(value, dict) or part not in value:
                value = MISSING
                break
            value = value[part]
        if value is not MISSING:
            return value
    return MISSING


def _cell(value, fmt: str) -> str:
    if value is MISSING or value is None:
        return ""
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return "/".join(fmt.format(v) for v in value)
    return fmt.format(value)


def _entry(text: str, literal: bool = False) -> nodes.entry:
    entry, paragraph = nodes.entry(), nodes.paragraph()
    if text:
        paragraph += nodes.literal(text=text) if literal else nodes.Text(text)
    entry += paragraph
    return entry


class BenchmarkTable(SphinxDirective):
    required_arguments = 1
    option_spec = {"columns": directives.unchanged_required, "format": directives.unchanged,
                   "literal": directives.unchanged, "caption": directives.unchanged,
                   "rows": directives.unchanged}

    def run(self):
        root = Path(self.env.srcdir, self.config.benchmark_results)
        files = sorted(root.glob(self.arguments[0]))
        if not files:
            raise self.error(f"benchmark-table: no file matches {self.arguments[0]!r} in {root}")
        columns = _pairs(self.options["columns"])
        formats = _pairs(self.options.get("format", ""))
        literal = {key.strip() for key in self.options.get("literal", "").split(";")}
        runs = []
        for path in files:
            self.env.note_dependency(str(path))
            try:
                runs.append(json.loads(path.read_text()))
            except (OSError, ValueError) as e:
                raise self.error(f"benchmark-table: {path.name}: {e}") from None

        def fmt(key):
            return next((f for pattern, f in formats if fnmatch.fnmatchcase(key, pattern)), "{}")

        table = nodes.table(classes=["benchmark-table"])
        if "caption" in self.options:
            table += nodes.title(text=self.options["caption"])
        group = nodes.tgroup(cols=len(columns))
        table += group
        group.extend(nodes.colspec(colwidth=1) for _ in columns)
        head, body = nodes.thead(), nodes.tbody()
        group += head
        group += body
        head += nodes.row("", *(_entry(label) for _, label in columns))
        wanted = _pairs(self.options.get("rows", ""))
        for run in runs:
            for row in run.get("rows", []):
                if not all(fnmatch.fnmatchcase(str(_lookup(row, run, key)), pattern) for key, pattern in wanted):
                    continue
                body += nodes.row("", *(_entry(_cell(_lookup(row, run, key), fmt(key)), key in literal)
                                        for key, _ in columns))

        sources = nodes.bullet_list(classes=["benchmark-sources"])
        where = {}
        for path, run in zip(files, runs):
            item = nodes.paragraph()
            item += nodes.literal(text=run.get("command", "command not recorded"))
            item += nodes.Text(f" ({path.relative_to(root)})")
            sources += nodes.list_item("", item)
            where.setdefault((run.get("machine", "machine not recorded"), run.get("date", "date not recorded")), 0)
        measured = nodes.paragraph(text="; ".join(f"{m}, {d}" for m, d in where) + ".")
        return [table, nodes.paragraph(text="Measured with:"), sources, measured]


def setup(app):
    app.add_config_value("benchmark_results", "../benchmarks/results", "env")
    app.add_directive("benchmark-table", BenchmarkTable)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
