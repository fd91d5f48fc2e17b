"""The engine knows no country: no engine module imports a system, in its source or when imported.

The interfaces (the command line, reports, sensitivity, the web app) name no registered system either:
they take the one asked for (``--system``) from the registry. (``refuge flee PATH`` is the Flee reader's
own verb, not a registered system, and imports it.)
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from refuge.systems import system_names

SRC = Path(__file__).parents[1] / "src" / "refuge"
#: the engine: the model API, backends, the loop, results, output, comparison, plots, scenarios and the run store
_MODULES = ("simulation", "output", "results", "compare", "plots", "errors", "limits", "safe_yaml", "progress",
            "listing")  # fmt: skip
ENGINE = sorted([*(SRC / "model").rglob("*.py"), *(SRC / "backends").rglob("*.py"), *(SRC / "scenarios").rglob("*.py"),
                 *(SRC / "store").rglob("*.py"), *(SRC / f"{name}.py" for name in _MODULES)])  # fmt: skip
#: the interfaces: they may load a system when a command runs, never by naming it
INTERFACES = sorted([*(SRC / "web").glob("*.py"), *(SRC / f"{name}.py" for name in ("cli", "cli_analysis", "report",
                                                                                   "sensitivity"))])  # fmt: skip


#: the system packages (``refuge.systems`` itself, the registry, is engine: it imports them only when asked)
SYSTEMS = tuple(f"refuge.systems.{p.name}" for p in (SRC / "systems").iterdir() if (p / "__init__.py").exists())


def _names_a_system(name: str, systems: tuple[str, ...] = SYSTEMS) -> bool:
    return any(name == system or name.startswith(f"{system}.") for system in systems)


def _module(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    package = _module(path) if path.name == "__init__.py" else _module(path).rpartition(".")[0]
    return imported(path.read_text(encoding="utf-8"), package)


def imported(source: str, package: str) -> set[str]:
    """Every module ``source`` (in ``package``) names in an import statement, resolved to an absolute name."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            parts = package.split(".")
            base = parts[: len(parts) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found |= {module, *(f"{module}.{alias.name}" for alias in node.names)}
    return found


@pytest.mark.parametrize("path", ENGINE, ids=lambda p: str(p.relative_to(SRC)))
def test_no_engine_module_names_a_system(path):
    systems = sorted(filter(_names_a_system, _imports(path)))
    assert not systems, f"{path.relative_to(SRC)} imports {systems}: the engine must take the system as an argument"


@pytest.mark.parametrize("path", INTERFACES, ids=lambda p: str(p.relative_to(SRC)))
def test_no_interface_names_a_registered_system(path):
    registered = tuple(f"refuge.systems.{name}" for name in system_names())
    systems = sorted(m for m in _imports(path) if _names_a_system(m, registered))
    assert not systems, f"{path.relative_to(SRC)} imports {systems}: take the system from --system (the registry)"


def test_the_engines_agents_backend_is_engine():
    """The agents backend, its traits, people and compiled step are the engine's: the tests above read them."""
    names = {str(p.relative_to(SRC)) for p in ENGINE}
    assert {f"backends/agents/{m}.py" for m in ("__init__", "backend", "people", "step", "traits")} <= names


def test_importing_the_engine_loads_no_system():
    modules = " ".join(_module(p) for p in ENGINE)
    code = (f"import importlib, sys\nfor m in {modules.split()!r}: importlib.import_module(m)\n"
            "print(sorted(m for m in sys.modules if m.startswith('refuge.systems.')))")  # fmt: skip
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_the_boundary_test_sees_every_way_of_importing_a_system():
    for source in ("from ..systems.korea import north_korea\n", "import refuge.systems.korea.flows\n",
                   "def f():\n    from ..systems import korea\n"):  # fmt: skip
        assert any(map(_names_a_system, imported(source, "refuge.backends"))), source
    assert not any(map(_names_a_system, imported("from ..systems import get_system\n", "refuge.backends")))
