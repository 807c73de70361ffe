"""Where the bundled scenarios and notebooks are: inside the installed package, not the checkout."""

from __future__ import annotations

from pathlib import Path

from loadsim.errors import OptionsError

PACKAGE = Path(__file__).resolve().parent
SCENARIOS = PACKAGE / "scenarios"
NOTEBOOKS = PACKAGE / "notebooks"


def scenario_names() -> list[str]:
    """Names of the bundled scenarios (``ha9`` ...)."""
    return sorted(p.stem for p in SCENARIOS.glob("*.py") if not p.name.startswith("_"))


def scenario_file(name: str) -> Path:
    """A bundled scenario by name, or a path to a scenario file of the user's."""
    if name.endswith(".py"):
        path = Path(name)
        if not path.is_file():
            raise OptionsError(f"scenario file '{name}' does not exist; give a .py path or one of: "
                               f"{', '.join(scenario_names())}")
        return path
    path = SCENARIOS / f"{name}.py"
    if not path.is_file():
        raise OptionsError(f"scenario '{name}' unknown; use one of: {', '.join(scenario_names())} or a .py path")
    return path


def notebook_file(name: str) -> Path:
    """A bundled notebook by name (``sizing``, ``tls_vs_plain``)."""
    return NOTEBOOKS / f"{name}.ipynb"


EXAMPLE_ESTATE = SCENARIOS / "estate-example.toml"  # an estate file: one hub and eight branch HA pairs
