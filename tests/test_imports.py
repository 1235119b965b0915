"""The layers import one way: no module imports a module that imports it back
(directly or through others), the core never imports the zoo or the targets, and
the zoo and the targets never import each other."""
import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
#: installed package -> its folder in the tree
PACKAGES = {"spikemem": ROOT / "spikemem", "spikemem.models": ROOT / "models", "spikemem.hardware": ROOT / "hardware"}


def _modules() -> dict:
    """Module name -> its source file, for every module of the three folders."""
    out = {}
    for package, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            if "templates" in path.parts:
                continue
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join([package, *parts])] = path
    return out


def _imports(name: str, path: pathlib.Path, modules: dict) -> set:
    """The project modules ``name`` imports anywhere in its source (functions included)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def _graph() -> dict:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _cycles(graph: dict) -> list:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_no_module_imports_a_module_that_imports_it_back():
    assert _cycles(_graph()) == []


def test_the_core_never_imports_the_zoo_or_the_targets():
    offenders = {name: sorted(t for t in targets if t.startswith(("spikemem.models", "spikemem.hardware")))
                 for name, targets in _graph().items()
                 if not name.startswith(("spikemem.models", "spikemem.hardware"))}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_zoo_and_the_targets_never_import_each_other():
    """A model runs on a target through the backend registry, and a target reads any
    network: neither names the other (their shared vocabulary is the core's)."""
    sides = {"spikemem.models": "spikemem.hardware", "spikemem.hardware": "spikemem.models"}
    offenders = {}
    for name, targets in _graph().items():
        for side, other in sides.items():
            if name == side or name.startswith(side + "."):
                found = sorted(t for t in targets if t == other or t.startswith(other + "."))
                if found:
                    offenders[name] = found
    assert offenders == {}


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
