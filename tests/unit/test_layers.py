"""Imports flow one way (cli -> experiments/report -> locust -> results -> embedded -> redis -> model/config),
and the pure core (model, defaults, errors) imports nothing heavy. Read statically from the source."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "loadsim"
BASE = {"errors", "defaults", "options"}
ALLOWED = {
    "errors": set(), "defaults": set(), "options": {"errors", "defaults"}, "paths": BASE,
    "config": BASE, "model": BASE,
    "redis": BASE | {"config"},
    "embedded": BASE | {"config", "redis"},
    "results": BASE | {"model", "redis", "config"},
    "locust": BASE | {"config", "model", "redis", "embedded", "results"},
    "experiments": BASE | {"paths", "config", "model", "embedded", "redis", "results"},  # redis: the FIPS arm
    "report": BASE | {"paths", "config", "model", "results"},
    "docs_tables": BASE | {"results"},
    "scenarios": {"locust"},
}
HEAVY = {"pandas", "matplotlib", "papermill", "nbclient", "nbformat", "locust", "gevent", "redis", "hiredis",
         "socket", "ssl", "subprocess"}


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names}
    return out


def _layer(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


def test_imports_flow_one_way():
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        layer = _layer(path)
        if layer in ("cli", "__init__", "__main__"):
            continue
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] != "loadsim" or len(parts) < 2 or parts[1] == "__version__":
                continue
            target = parts[1]
            if target != layer and target not in ALLOWED[layer]:
                wrong.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert not wrong, wrong


def test_the_pure_core_imports_nothing_heavy():
    for path in [*(PACKAGE / "model").glob("*.py"), PACKAGE / "defaults.py", PACKAGE / "errors.py",
                 PACKAGE / "options.py",
                 PACKAGE / "results" / "schema.py", PACKAGE / "results" / "summary.py"]:
        heavy = {name.split(".")[0] for name in _imports(path)} & (HEAVY - {"redis"} if "results" in str(path)
                                                                   else HEAVY)
        assert not heavy, f"{path.name} imports {heavy}"


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _import_graph() -> dict[str, set[str]]:
    """Module -> the loadsim modules it imports (anywhere in it: in functions, under TYPE_CHECKING too)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for imported in _imports(path):
            # "loadsim.results.summary.number" -> the longest prefix that is a module
            parts = imported.split(".")
            for n in range(len(parts), 1, -1):
                candidate = ".".join(parts[:n])
                if candidate in modules and candidate != name and not name.startswith(candidate + "."):
                    if not modules[candidate].name == "__init__.py" or n == len(parts):
                        targets.add(candidate)
                    break
        graph[name] = targets
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
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
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_circles():
    """No module imports, directly or through others, a module that imports it: not in a function, not for the
    type hints only (results.schema <-> summary <-> impact and locust.engine <-> users were such circles)."""
    assert _cycles(_import_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def _engine_ref(node: ast.AST) -> bool:
    """``eng``, ``engine`` or ``<anything>.engine``: how the modules name the Engine they were given."""
    return (isinstance(node, ast.Name) and node.id in ("eng", "engine")) or \
        (isinstance(node, ast.Attribute) and node.attr == "engine")


def test_the_engines_fields_are_written_only_by_the_engine():
    """Other modules (and the other classes of engine.py) call the Engine's methods; none assigns its fields or
    grows its collections from outside (users.py, plugin.py and run.py did)."""
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] \
                if isinstance(node, ast.AugAssign | ast.AnnAssign) else []
            written = [t for t in targets if isinstance(t, ast.Attribute) and _engine_ref(t.value)]
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr in ("append", "extend", "add", "update", "pop", "clear", "remove") \
                    and isinstance(node.func.value, ast.Attribute) and _engine_ref(node.func.value.value):
                written.append(node.func.value)
            wrong += [f"{path.relative_to(PACKAGE)}:{t.lineno}" for t in written]
    assert not wrong, wrong
