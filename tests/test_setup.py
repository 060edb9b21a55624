"""The environment files agree with each other, and CI runs the suite the way a user does.

pip's files (requirements.txt, plus requirements-nodeps.txt for what is installed with --no-deps)
and Binder's environment.yml (conda packages, then its `pip:` list) must pin every package to the
same version. Names are compared after PEP 503 normalisation (case, and `-`, `_`, `.` alike);
conda packages whose name differs from pip's are mapped through CONDA_TO_PIP.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PIP_FILES = ("requirements.txt", "requirements-nodeps.txt")

CONDA_TO_PIP = {
    "pytorch": "torch",  # conda-forge's package name; pip's and the import's name is torch
}
"""conda package name -> pip package name, where the two differ."""

CONDA_ONLY = {"python", "pip"}
"""conda entries with no pip counterpart: the interpreter and the installer."""

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(==|=|>=|<=|~=|!=|>|<)?\s*([^=\s;#]*)")


def normalise(name: str) -> str:
    """PEP 503 name normalisation, after mapping conda-only names to pip's."""
    name = re.sub(r"[-_.]+", "-", name).lower()
    return CONDA_TO_PIP.get(name, name)


def parse_requirement(line: str) -> tuple[str, str, str]:
    """'numpy==2.4.6' -> ('numpy', '==', '2.4.6'); conda's 'pytorch=2.13.0=cpu_*' -> ('torch', '=', '2.13.0')."""
    match = _PIN.match(line.strip())
    if match is None:
        raise ValueError(f"cannot parse requirement {line!r}")
    name, op, version = match.groups()
    return normalise(name), op or "", version


def requirement_lines(path: Path) -> list[str]:
    """The requirement lines of a pip requirements file (comments and blank lines dropped)."""
    lines = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            lines.append(line)
    return lines


def pip_pins() -> dict[str, str]:
    pins: dict[str, str] = {}
    for fname in PIP_FILES:
        for line in requirement_lines(ROOT / fname):
            name, _, version = parse_requirement(line)
            assert name not in pins, f"{name} is pinned twice in {PIP_FILES}"
            pins[name] = version
    return pins


def conda_pins() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pins: dict[str, str] = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            entries = [e for e in dep["pip"] if not e.startswith("-")]  # skips `-e .`
        else:
            entries = [dep]
        for entry in entries:
            name, _, version = parse_requirement(entry)
            if name in CONDA_ONLY:
                continue
            assert name not in pins, f"{name} appears twice in environment.yml"
            pins[name] = version
    return pins


@pytest.mark.parametrize("fname", PIP_FILES)
def test_requirements_are_exact_pins(fname):
    lines = requirement_lines(ROOT / fname)
    assert lines, f"{fname} lists no package"
    loose = [line for line in lines if parse_requirement(line)[1] != "=="]
    assert not loose, f"{fname}: pin these with '==': {loose}"


def test_environment_yml_matches_requirements():
    pip, conda = pip_pins(), conda_pins()
    only_pip = sorted(set(pip) - set(conda))
    only_conda = sorted(set(conda) - set(pip))
    differ = {n: (pip[n], conda[n]) for n in sorted(set(pip) & set(conda)) if pip[n] != conda[n]}
    assert not only_pip, f"pinned for pip but missing from environment.yml: {only_pip}"
    assert not only_conda, f"pinned in environment.yml but missing from {PIP_FILES}: {only_conda}"
    assert not differ, f"versions differ (pip, environment.yml): {differ}"


def test_environment_yml_pins_every_conda_package():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "conda-forge" in env["channels"]
    for dep in env["dependencies"]:
        if isinstance(dep, str) and parse_requirement(dep)[0] not in CONDA_ONLY:
            assert parse_requirement(dep)[2], f"environment.yml: {dep!r} has no version"
    torch = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("pytorch"))
    assert torch.endswith("=cpu_*"), "Binder must get conda-forge's CPU build of pytorch"


def test_parse_requirement_mapping():
    assert parse_requirement("pytorch=2.13.0=cpu_*") == ("torch", "=", "2.13.0")
    assert parse_requirement("Scikit_Learn==1.9.1") == ("scikit-learn", "==", "1.9.1")
    assert parse_requirement("python=3.11") == ("python", "=", "3.11")


def test_ci_runs_make_test():
    script = ROOT / ".ci" / "run"
    text = script.read_text()
    assert text.startswith("#!"), ".ci/run needs a shebang"
    assert "set -euo pipefail" in text
    commands = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    assert "make test" in commands, ".ci/run must call `make test` on a line of its own"
    assert script.stat().st_mode & 0o111, ".ci/run must be executable"
    parsed = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert parsed.returncode == 0, f".ci/run is not valid bash: {parsed.stderr}"
