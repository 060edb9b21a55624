"""Benchmarks of the course: chapters, the book build, kernels against their plain versions, scaling.

    python benchmarks/run.py                 # everything (about 30-40 minutes on 2 cores)
    python benchmarks/run.py --only kernels  # one section: chapters, book, kernels, scaling, sweep,
                                             # training (networks' throughput), tests (the suite)

Everything runs with 2 threads (the size of a free Binder/Colab machine). Results are merged into
``benchmarks/results/benchmarks.json`` (written atomically), which the book's statistics page reads.
Targets (issue "Measure it"): a chapter <= 60 s at its default size (<= 180 s if it trains a
network), <= 4 GB peak, <= 15 s at 'smoke'; the book <= 10 min cold, <= 30 s warm; cross-validated PCA
>= 3x faster than the paper's recipe with |delta alpha| < 0.01.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "2"

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))  # the book's build tooling (chapter_runner.py)
RESULTS = ROOT / "benchmarks" / "results" / "benchmarks.json"
TRAINS_A_NETWORK = {"05_mousenet", "08_pointcloud", "09_ceiling"}
SECTIONS = ("chapters", "book", "kernels", "scaling", "sweep", "training", "tests")


def machine() -> dict:
    """What the numbers were measured on."""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor() or platform.machine()
    try:
        mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    except (ValueError, OSError):
        mem_gb = float("nan")
    return {
        "cpu": cpu,
        "cores_available": os.cpu_count(),
        "threads_used": 2,
        "memory_gb": round(mem_gb, 1),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                 cwd=ROOT).stdout.strip(),
    }


def timed(fn, *args, repeat: int = 1, **kwargs):
    """(best wall time in s over `repeat` runs, result of the last run)."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn(*args, **kwargs)
        best = min(best, time.perf_counter() - t0)
    return best, out


# ---------------------------------------------------------------------------------------- chapters
def bench_chapters(sizes=("smoke", "full"), only=None) -> list[dict]:
    """Each chapter (or those named in ``only``) at each size, in a fresh process."""
    from chapter_runner import toc_chapters

    chapters = [c for c in toc_chapters() if not only or c.stem in only]
    rows = []
    if "full" in sizes or "course" in sizes:
        # Chapters load the synthetic recording through neurolab.synthetic.cached_recording, as a learner's second and
        # later chapters do: generate it once here, so that no chapter's time includes the first write.
        for size in {"full", "course"} & set(sizes):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", f"from neurolab.io import load; load('synthetic', {size!r}, 0)"],
                           check=True, cwd=ROOT)
            print(f"  synthetic-data cache ready for {size!r} ({time.perf_counter() - t0:.1f} s)", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for chapter in chapters:
            for size in sizes:
                out = Path(tmp) / size / f"{chapter.stem}.ipynb"
                out.parent.mkdir(parents=True, exist_ok=True)
                run = subprocess.run(  # every fit computed (memos off): what one run of the chapter costs
                    [sys.executable, str(ROOT / "benchmarks" / "run_chapter.py"), str(chapter), size, str(out)],
                    capture_output=True, text=True, cwd=ROOT, env=os.environ | {"NEUROLAB_MEMO": "0"},
                )
                if run.returncode != 0:
                    rows.append({"chapter": chapter.stem, "size": size, "error": run.stderr[-2000:]})
                    print(f"  {chapter.stem:16s} {size:6s} FAILED", flush=True)
                    continue
                row = json.loads(run.stdout.strip().splitlines()[-1])
                limit = 15.0 if size == "smoke" else (180.0 if chapter.stem in TRAINS_A_NETWORK else 60.0)
                row |= {"target_seconds": limit, "target_gb": 4.0,
                        "ok": row["seconds"] <= limit and row["peak_gb"] <= 4.0}
                rows.append(row)
                print(f"  {chapter.stem:16s} {size:6s} {row['seconds']:7.1f} s {row['peak_gb']:5.2f} GB", flush=True)
    return rows


# -------------------------------------------------------------------------------------------- book
def _chapter_seconds(build: Path) -> dict[str, float]:
    """{chapter: execution seconds} of the notebooks in a book build's jupyter-cache."""
    from jupyter_cache import get_cache

    cache = get_cache(build / "_build" / ".jupyter_cache")
    return {Path(r.uri).stem: round(float(r.data.get("execution_seconds", float("nan"))), 1)
            for r in cache.list_cache_records()}


def bench_book() -> dict:
    """The book built three times from one copy of its sources, each chapter's time recorded:

    - 'cold, memo empty': no execution cache, and the data cache's memos of trained networks and
      permutation nulls removed (``<cache>/memo/fastai_fit``, ``permutation_null``), as on a machine
      that has only run the chapters' data once;
    - 'cold': no execution cache, the data cache warm (the synthetic recording, the spontaneous PCs,
      the memos): the Statistics page's definition, a rebuild after a change;
    - 'warm': nothing changed, every chapter served from the execution cache."""
    from neurolab.io import cache_dir

    jb = Path(sys.executable).with_name("jupyter-book")
    out = {"definition": "cold: execution cache empty, data cache warm (synthetic recording, memos)",
           "target_cold_seconds": 300, "target_warm_seconds": 30}
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "book"
        src.mkdir()
        for name in ("_config.yml", "_toc.yml", "book", "chapters", "benchmarks"):
            path = ROOT / name
            (shutil.copytree if path.is_dir() else shutil.copy2)(path, src / name)
        for label in ("cold_memo_empty", "cold", "warm"):
            if label != "warm":
                shutil.rmtree(src / "_build", ignore_errors=True)
            if label == "cold_memo_empty":
                for kind in ("fastai_fit", "permutation_null"):
                    shutil.rmtree(cache_dir() / "memo" / kind, ignore_errors=True)
            t0 = time.perf_counter()
            run = subprocess.run([str(jb), "build", str(src)], capture_output=True, text=True)
            seconds = time.perf_counter() - t0
            if run.returncode != 0:
                return out | {"error": (run.stdout + run.stderr)[-3000:]}
            out[f"{label}_seconds"] = round(seconds, 1)
            if label != "warm":
                out[f"{label}_chapters"] = _chapter_seconds(src)
                keep = os.environ.get("NEUROLAB_BENCH_KEEP")  # a folder for the executed chapters
                if keep:  # (to compare their glued values between builds)
                    shutil.copytree(src / "_build" / "jupyter_execute", Path(keep) / label, dirs_exist_ok=True)
            print(f"  book {label}: {seconds:.1f} s", flush=True)
    out["ok"] = out["cold_seconds"] <= 300 and out["warm_seconds"] <= 30
    return out


# ----------------------------------------------------------------------------------------- kernels
def paper_cvpca(X, n_components: int = 1024) -> np.ndarray:
    """The recipe of the paper's Python code: scikit-learn PCA fitted on repeat 1 (stimuli as
    features), neuron-space projections of both repeats, covariance per component."""
    from sklearn.decomposition import PCA

    pca = PCA(n_components=min(n_components, X.shape[1]), random_state=0).fit(X[0].T)
    axes = X[0].T @ (pca.components_.T / pca.singular_values_)
    return np.sum((X[0] @ axes) * (X[1] @ axes), axis=0)


def plain_identity(X) -> float:
    """Identity decoding the straightforward way: numpy's full correlation matrix of both repeats."""
    n = X.shape[1]
    corr = np.corrcoef(X[1], X[0])[:n, n:]
    return float(np.mean(np.argmax(corr, axis=1) == np.arange(n)))


def denoised_repeats(size="full", seed=0, **overrides):
    from neurolab.preprocessing import denoise_recording
    from neurolab.recording import split_repeats

    rec, _ = denoise_recording(make(size, seed, **overrides), 32)
    return split_repeats(rec)[0]


def make(size, seed, **overrides):
    """The synthetic recording of (size, seed) with the real class labels."""
    from neurolab.io import load_classes
    from neurolab.synthetic import make_recording

    return make_recording(size, seed, labels=load_classes()[0], **overrides)


def bench_kernels() -> dict:
    from neurolab.decoding import identity_accuracy
    from neurolab.geometry import cvpca, powerlaw

    out = {}
    t_gen, _ = timed(make, "full", 0)
    tracemalloc.start()
    make("full", 0)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    out["synthetic_full"] = {"seconds": t_gen, "peak_traced_gb": peak / 1e9, "target_seconds": 30, "target_gb": 3,
                             "ok": t_gen <= 30 and peak / 1e9 <= 3}
    print(f"  synthetic full: {t_gen:.1f} s, {peak / 1e9:.2f} GB traced", flush=True)

    X = denoised_repeats()
    t_ours, ss = timed(cvpca, X, repeat=2)
    t_paper, ss_paper = timed(paper_cvpca, X, repeat=1)
    a_ours, a_paper = powerlaw(ss)[0], powerlaw(ss_paper)[0]
    out["cvpca"] = {
        "seconds": t_ours, "paper_recipe_seconds": t_paper, "speedup": t_paper / t_ours,
        "alpha": a_ours, "paper_recipe_alpha": a_paper, "delta_alpha": abs(a_ours - a_paper),
        "target_speedup": 3.0, "target_delta_alpha": 0.01,
        "ok": t_paper / t_ours >= 3.0 and abs(a_ours - a_paper) < 0.01,
    }
    print(f"  cvPCA: {t_ours:.2f} s vs paper recipe {t_paper:.2f} s (x{t_paper / t_ours:.1f}); "
          f"alpha {a_ours:.4f} vs {a_paper:.4f}", flush=True)

    t_id, acc = timed(identity_accuracy, X, repeat=2)
    t_plain, acc_plain = timed(plain_identity, X, repeat=1)
    out["identity"] = {"seconds": t_id, "plain_seconds": t_plain, "speedup": t_plain / t_id,
                       "accuracy": acc, "plain_accuracy": acc_plain, "ok": acc == acc_plain}
    print(f"  identity: {t_id:.2f} s vs np.corrcoef {t_plain:.2f} s (x{t_plain / t_id:.1f})", flush=True)
    return out


# ----------------------------------------------------------------------------------------- scaling
def bench_scaling() -> dict:
    """Time and memory of the core analyses against neurons (1k, 11k, 33k = three recordings
    pooled) and images (700, 1,400, 2,800)."""
    from neurolab.decoding import identity_accuracy
    from neurolab.geometry import cvpca

    def analyse(X):
        tracemalloc.start()
        t0 = time.perf_counter()
        cvpca(X)
        t_cv = time.perf_counter() - t0
        t0 = time.perf_counter()
        identity_accuracy(X)
        t_id = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return {"cvpca_seconds": t_cv, "identity_seconds": t_id, "peak_traced_gb": peak / 1e9}

    rows = []
    for n in (1_000, 11_000):
        X = denoised_repeats(n_neurons=n, n_spont=3_000)
        rows.append({"n_neurons": n, "n_images": X.shape[1]} | analyse(X))
        print(f"  {n:6d} neurons: {rows[-1]}", flush=True)
    pooled = np.concatenate([denoised_repeats(seed=s) for s in range(3)], axis=2)
    rows.append({"n_neurons": pooled.shape[2], "n_images": pooled.shape[1], "pooled_recordings": 3} | analyse(pooled))
    print(f"  {pooled.shape[2]:6d} neurons: {rows[-1]}", flush=True)
    del pooled
    X = denoised_repeats()
    for n_img in (700, 1_400):
        rows.append({"n_neurons": X.shape[2], "n_images": n_img} | analyse(X[:, :n_img]))
        print(f"  {n_img:6d} images: {rows[-1]}", flush=True)
    return {"rows": rows}


# ----------------------------------------------------------------------------------------- sweep
def bench_sweep() -> dict:
    """Tasks per minute of a sweep (seven twins x four analyses) on a Dask LocalCluster of 1 and 2
    workers, and the peak memory of a worker; each run starts from an empty results folder."""
    import tempfile

    from neurolab.io import RECORDINGS
    from neurolab.sweep import SweepConfig, run_sweep, twin

    config = SweepConfig(recordings=tuple(twin(n) for n in RECORDINGS), size="course",
                         grid={"analysis": ("cvpca", "identity", "signal_variance", "category_signal"),
                               "n_pcs": (32,)})
    rows = []
    for workers in (1, 2):
        with tempfile.TemporaryDirectory() as out:
            start = time.perf_counter()
            report = run_sweep(config, out, backend="dask", n_jobs=workers, progress=False)
            seconds = time.perf_counter() - start
        n = len(report.computed)
        rows.append({"workers": workers, "tasks": n, "failed": len(report.failed), "seconds": seconds,
                     "tasks_per_minute": 60 * n / seconds,
                     "worker_peak_rss_mb": float(report.rows["peak_rss_mb"].max())})
        print(f"  {workers} worker(s): {n} tasks in {seconds:.1f} s ({60 * n / seconds:.1f} per minute), "
              f"worker peak {rows[-1]['worker_peak_rss_mb']:.0f} MB", flush=True)
    return {"config": "7 twins (course size) x cvpca, identity, signal_variance, category_signal, 32 PCs",
            "rows": rows}


# ---------------------------------------------------------------------------------------- training
def bench_training() -> list[dict]:
    """FastaiClassifier's training throughput against a plain PyTorch loop (benchmarks/nn_throughput.py)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import nn_throughput

    return nn_throughput.main([])


# ------------------------------------------------------------------------------------------- tests
def bench_tests() -> dict:
    """The whole test suite's wall time (``pytest -q``), as ``make test`` runs it after ruff."""
    t0 = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=ROOT,
                         capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    summary = next((line for line in reversed(run.stdout.splitlines()) if " in " in line and "passed" in line), "")
    return {"seconds": round(seconds, 1), "returncode": run.returncode, "summary": summary.strip("= ")}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=SECTIONS, action="append", help="run only these sections")
    parser.add_argument("--sizes", default="smoke,full", help="chapter sizes, comma-separated")
    parser.add_argument("--chapter", action="append",
                        help="re-measure only this chapter (stem, e.g. 03_tabular), replacing its rows")
    args = parser.parse_args(argv)
    sections = args.only or list(SECTIONS)

    results = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    results["machine"] = machine()
    for section in sections:
        print(f"[{section}]", flush=True)
        if section == "chapters":
            sizes = tuple(args.sizes.split(","))
            rows = bench_chapters(sizes, only=args.chapter)
            if args.chapter:  # keep the other chapters' rows, in book order
                fresh = {(r["chapter"], r["size"]): r for r in rows}
                kept = [fresh.pop((r["chapter"], r["size"]), r) for r in results.get("chapters", [])]
                rows = kept + list(fresh.values())
            results["chapters"] = rows
        elif section == "book":
            results["book"] = bench_book()
        elif section == "kernels":
            results["kernels"] = bench_kernels()
        elif section == "scaling":
            results["scaling"] = bench_scaling()
        elif section == "sweep":
            results["sweep"] = bench_sweep()
        elif section == "training":
            results["training"] = bench_training()
        elif section == "tests":
            results["tests"] = bench_tests()
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        tmp = RESULTS.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(results, indent=2, default=float))
        tmp.replace(RESULTS)
    print(f"results written to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
