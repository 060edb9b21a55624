"""The package's shape: one direction of flow and no import cycle; declared dependencies that
install and import in a bare environment; the lock file inside the declared bounds."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "neurolab"

LAYERS = {
    "neurolab": 0, "neurolab._cli": 0, "neurolab._validation": 0, "neurolab._stats": 0, "neurolab._store": 0,
    "neurolab.errors": 0, "neurolab.recording": 0,
    "neurolab.synthetic": 1, "neurolab.io": 2,
    "neurolab.preprocessing": 3,
    "neurolab.geometry": 4, "neurolab.spatial": 4,
    "neurolab.decoding": 5, "neurolab.nn": 5,
    "neurolab.viz": 6,
    "neurolab.teaching": 7, "neurolab.sweep": 7,
}
"""The direction of flow: a module may import only from its own layer or a lower one.
io / synthetic -> preprocessing -> geometry / spatial -> decoding / nn -> viz -> teaching."""


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """Every neurolab module ``name`` imports, at module level or inside a function."""
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            # `from neurolab.x import y`: y may itself be a module
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        found |= {t for t in targets if t in known and t != name}
    return found


def layer(name: str) -> int:
    """The layer of a module: that of its top-level module or subpackage (``neurolab.<x>``)."""
    top = ".".join(name.split(".")[:2])
    if top not in LAYERS:
        pytest.fail(f"{name} belongs to no layer: add {top} to LAYERS in tests/test_packaging.py")
    return LAYERS[top]


def test_no_import_cycle_inside_the_package():
    found = modules()
    graph = {name: imports_of(name, path, set(found)) for name, path in found.items()}
    # a package's __init__ re-exporting its own submodules is not a cycle through its parent
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt):] + [nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)


def test_imports_flow_one_way():
    found = modules()
    wrong = []
    for name, path in found.items():
        for target in imports_of(name, path, set(found)):
            if layer(target) > layer(name):
                wrong.append(f"{name} (layer {layer(name)}) imports {target} (layer {layer(target)})")
    assert not wrong, "imports against the flow:\n" + "\n".join(wrong)


def test_torch_is_imported_only_in_nn():
    for name, path in modules().items():
        tree = ast.parse(path.read_text())
        uses = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        uses |= {(n.module or "").split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        if {"torch", "fastai"} & uses:
            assert name.startswith("neurolab.nn"), f"{name} imports torch or fastai"


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _locked() -> dict[str, str]:
    pins = {}
    for file in ("requirements.txt", "requirements-nodeps.txt"):
        for line in (ROOT / file).read_text().splitlines():
            line = line.split("#")[0].strip()
            if line:
                req = Requirement(line)
                pins[req.name.lower().replace("_", "-")] = str(next(iter(req.specifier)).version)
    return pins


LOCK_NAMES = {"xgboost": "xgboost-cpu"}
"""Declared name -> the distribution the lock installs for it (the CPU-only build of the same module)."""


def test_the_lock_satisfies_the_declared_bounds():
    project = _pyproject()["project"]
    declared = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        declared += [r for r in extra if not r.startswith("neurolab[")]
    locked = _locked()
    for text in declared:
        req = Requirement(text)
        name = req.name.lower().replace("_", "-")
        name = LOCK_NAMES.get(name, name)
        assert name in locked, f"{name} is declared in pyproject.toml but not pinned in requirements.txt"
        assert req.specifier.contains(locked[name]), f"requirements.txt pins {name}=={locked[name]}, outside {req}"


@pytest.mark.slow
def test_pip_install_into_a_bare_environment(tmp_path):
    """`pip install .` alone gives a package that imports, and `pip check` is clean."""
    source = tmp_path / "source"  # a copy: building in the checkout would leave build/ behind
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(PACKAGE, source / "neurolab", ignore=shutil.ignore_patterns("__pycache__"))
    env = tmp_path / "venv"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    quiet = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    install = subprocess.run([python, "-m", "pip", "install", "-q", str(source)], capture_output=True, text=True,
                             env=quiet, timeout=1200)
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    code = "import neurolab.io, neurolab.synthetic, neurolab.decoding, neurolab.geometry, neurolab.spatial"
    imported = subprocess.run([python, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert imported.returncode == 0, imported.stderr[-3000:]
    check = subprocess.run([python, "-m", "pip", "check"], capture_output=True, text=True, env=quiet, timeout=300)
    assert check.returncode == 0, check.stdout + check.stderr
    where = subprocess.run([python, "-c", "import neurolab; print(neurolab.__file__)"], capture_output=True,
                           text=True, cwd=tmp_path, timeout=60)
    assert str(env) in where.stdout, f"imported the checkout, not the installed package: {where.stdout}"
    assert sys.prefix != str(env)
