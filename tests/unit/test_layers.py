"""Imports flow one way (cli -> experiments/report -> locust -> results -> embedded -> redis -> model/config),
and the pure core (model, defaults, errors) imports nothing heavy. Read statically from the source."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "loadsim"
BASE = {"errors", "defaults"}
ALLOWED = {
    "errors": set(), "defaults": set(), "paths": BASE,
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
                 PACKAGE / "results" / "schema.py", PACKAGE / "results" / "summary.py"]:
        heavy = {name.split(".")[0] for name in _imports(path)} & (HEAVY - {"redis"} if "results" in str(path)
                                                                   else HEAVY)
        assert not heavy, f"{path.name} imports {heavy}"
