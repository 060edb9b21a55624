"""The Colab path: a notebook's install cell, run verbatim in what a Colab runtime ships, installs
the course without touching Colab's own packages, and every chapter's instructor edition then runs.

A bare virtual environment gets the packages and versions of ``tests/colab/runtime.txt`` (a Colab
runtime, CPU builds standing in for CUDA ones), a stand-in ``google.colab`` module imported at
kernel start (so the install cell's ``"google.colab" in sys.modules`` is true, as on Colab), and a
Jupyter kernel of its own. The repository address in the install cell is pointed at a local copy of
this checkout (a commit of the working tree); nothing else in the cell changes. Each chapter's
instructor edition then runs top to bottom at smoke size in a folder of its own, as on Colab's
``/content``: no file of the repository is at hand there.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from chapter_runner import CELL_TIMEOUT_S, SMOKE_PARAMS, chapter_parameters, toc_chapters
from editions import make_instructor_notebook, read_repository
from nbclient import NotebookClient
from papermill.parameterize import parameterize_notebook

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
RUNTIME = ROOT / "tests" / "colab" / "runtime.txt"
NO_DEPS = ("xgboost", "fastai")
"""Installed with --no-deps (see runtime.txt): xgboost from its CPU-only wheel, fastai as Colab has it."""
KERNEL = "colab-runtime"
INSTALL_TIMEOUT_S = 900


def runtime_pins() -> dict[str, str]:
    """{name: version} of tests/colab/runtime.txt, names normalised as pip freeze writes them."""
    pins = {}
    for line in RUNTIME.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[_normalise(name)] = version
    return pins


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _run(cmd: list[str], **kwargs) -> str:
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, **kwargs)
    assert run.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{(run.stdout + run.stderr)[-3000:]}"
    return run.stdout


def _freeze(python: Path) -> dict[str, str]:
    listed = json.loads(_run([str(python), "-m", "pip", "list", "--format", "json"]))
    return {_normalise(item["name"]): item["version"] for item in listed}


def _snapshot_of_checkout(dest: Path) -> str:
    """A git repository at ``dest`` holding this checkout's working tree (tracked and untracked,
    not ignored files) as one commit; returns the commit's hash."""
    _run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(dest)])
    listed = _run(["git", "-C", str(ROOT), "ls-files", "-co", "--exclude-standard", "-z"]).split("\0")
    for name in filter(None, listed):
        source, target = ROOT / name, dest / name
        if source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        elif target.exists():
            target.unlink()  # deleted in the working tree
    _run(["git", "-C", str(dest), "add", "-A"])
    _run(["git", "-C", str(dest), "-c", "user.name=test", "-c", "user.email=test@localhost",
          "commit", "--quiet", "--allow-empty", "-m", "working tree"])
    return _run(["git", "-C", str(dest), "rev-parse", "HEAD"]).strip()


@pytest.fixture(scope="module")
def colab(tmp_path_factory):
    """The Colab-like runtime: venv, stand-in google.colab, kernel spec, the checkout's snapshot."""
    root = tmp_path_factory.mktemp("colab")
    venv = root / "venv"
    _run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    pins = runtime_pins()
    _run([str(python), "-m", "pip", "install", "--quiet", f"pip=={pins['pip']}"])
    main = [f"{name}=={version}" for name, version in pins.items() if name not in (*NO_DEPS, "pip")]
    _run([str(python), "-m", "pip", "install", "--quiet", *main])
    wheels = root / "wheels"
    _run([str(python), "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
          "--platform", "manylinux2014_x86_64", "--dest", str(wheels), f"xgboost=={pins['xgboost']}"])
    _run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", *map(str, wheels.glob("xgboost-*.whl")),
          f"fastai=={pins['fastai']}"])

    standin = root / "standin" / "google" / "colab"
    standin.mkdir(parents=True)  # no google/__init__.py: `google` stays a namespace package
    (standin / "__init__.py").write_text('"""Stand-in for Colab\'s module: only its presence is read."""\n')
    startup = root / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-colab.py").write_text("import google.colab  # noqa: F401  (Colab imports it at start)\n")
    spec = root / "jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Colab-like runtime",
        "language": "python",
        "env": {"PYTHONPATH": str(root / "standin"), "IPYTHONDIR": str(root / "ipython"),
                "PYDEVD_DISABLE_FILE_VALIDATION": "1"},
    }))
    before = _freeze(python)
    for name, version in pins.items():
        have = before.get(name, "").split("+")[0]  # torch's CPU build is 2.13.0+cpu
        assert have == version, f"the Colab runtime has {name} {before.get(name)}, not {version}"
    repo = root / "repo"
    sha = _snapshot_of_checkout(repo)
    return {"root": root, "python": python, "before": before, "repo": repo, "sha": sha,
            "jupyter_path": str(root / "jupyter")}


def _install_cell(nb: nbformat.NotebookNode, colab: dict) -> nbformat.NotebookNode:
    """The edition's install cell, its repository address pointed at the local snapshot."""
    url, branch = read_repository(ROOT / "_config.yml")
    cell = next(c for c in nb.cells if c.metadata.get("neurolab", {}).get("role") == "colab-install")
    published = f"git+{url}@{branch}"
    assert published in cell.source
    cell.source = cell.source.replace(published, f"git+file://{colab['repo']}@{colab['sha']}")
    return cell


def _execute(nb: nbformat.NotebookNode, colab: dict, cwd: Path, monkeypatch) -> nbformat.NotebookNode:
    monkeypatch.setenv("JUPYTER_PATH", colab["jupyter_path"])
    cwd.mkdir(parents=True, exist_ok=True)
    NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name=KERNEL,
                   resources={"metadata": {"path": str(cwd)}}).execute()
    return nb


@pytest.fixture(scope="module")
def installed(colab, tmp_path_factory):
    """Run the first chapter's install cell verbatim in the Colab kernel; returns the packages after."""
    monkeypatch = pytest.MonkeyPatch()
    try:
        nb = nbformat.v4.new_notebook()
        edition = make_instructor_notebook(toc_chapters()[0])
        nb.cells = [
            _install_cell(edition, colab),
            nbformat.v4.new_code_cell(
                "import sys, neurolab, neurolab.nn, neurolab.viz, neurolab.sweep\n"
                "print('colab' if 'google.colab' in sys.modules else 'not colab', neurolab.__file__)"
            ),
        ]
        _execute(nb, colab, tmp_path_factory.mktemp("content"), monkeypatch)
    finally:
        monkeypatch.undo()
    return nb, _freeze(colab["python"])


def test_the_install_cell_installs_the_course_and_keeps_colabs_packages(colab, installed):
    nb, after = installed
    printed = "".join(o.get("text", "") for o in nb.cells[1].outputs)
    assert printed.startswith("colab ") and "site-packages/neurolab" in printed
    assert "neurolab" in after and "neurolab" not in colab["before"]
    changed = {name: (version, after.get(name)) for name, version in colab["before"].items()
               if after.get(name) != version}
    assert not changed, f"the install cell changed packages Colab already has (a restart prompt): {changed}"


@pytest.mark.parametrize("chapter", toc_chapters(), ids=lambda p: p.stem)
def test_the_instructor_edition_runs_in_the_colab_runtime(chapter, colab, installed, tmp_path, monkeypatch):
    nb = make_instructor_notebook(chapter)
    _install_cell(nb, colab)
    declared = set(chapter_parameters(chapter))
    nb.metadata["papermill"] = {}
    for cell in nb.cells:
        cell.metadata.setdefault("tags", [])
    nb = parameterize_notebook(nb, {k: v for k, v in SMOKE_PARAMS.items() if k in declared},
                               kernel_name=KERNEL, language="python")
    _execute(nb, colab, tmp_path / "content", monkeypatch)
    shown = [c for c in nb.cells if c.metadata.get("neurolab", {}).get("role") == "prose"]
    assert all(any("text/markdown" in o.get("data", {}) for o in c.outputs) for c in shown)
