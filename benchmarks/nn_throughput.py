"""Training throughput of FastaiClassifier against a plain PyTorch loop, on the CPU and a CUDA GPU.

The same model (MouseNet on chapter 5's 1,584 voxels, the tabular MLP on 1,000 features), the same
batch size, the same optimiser (Adam with decoupled weight decay, fastai's and torch's AdamW) and the
same data, already on the device in both. The plain loop is the floor of what any wrapper can do:
shuffle the indices, index a batch, forward, loss, backward, step. FastaiClassifier adds fastai's
one-cycle schedule, callbacks and validation metrics; the goal is at least 0.8 of the loop's
samples per second. The first epoch of each is a warm-up and is not counted.

    python benchmarks/nn_throughput.py [--epochs 4] [--out benchmarks/results/nn_throughput.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from pathlib import Path

import numpy as np
import torch

from neurolab.nn import FastaiClassifier, MouseNet, TabularMLP

ROOT = Path(__file__).resolve().parents[1]
N, N_CLASSES, BS, LR, WD = 4480, 13, 64, 3e-3, 1e-2


def _data(n_features: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, N_CLASSES, N)
    X = rng.normal(size=(N, n_features)).astype(np.float32)
    return X, y


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def plain_loop(build, X, y, epochs: int, device: torch.device, optimiser: str = "fastai", seed: int = 0) -> float:
    """Samples per second of the plain loop, epochs after the first.

    optimiser: 'fastai' (the optimiser FastaiClassifier trains with: fastai's Adam with decoupled
    weight decay, stepped from the loop) or 'torch' (``torch.optim.AdamW``, torch's fused kernels).
    """
    torch.manual_seed(seed)
    xt, yt = torch.from_numpy(X).to(device), torch.from_numpy(y).to(device)
    model = build(X.shape[1], N_CLASSES).to(device).train()
    if optimiser == "fastai":
        from fastai.optimizer import Adam

        opt = Adam(list(model.parameters()), lr=LR, wd=WD, decouple_wd=True)
    else:
        opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=WD)
    loss_fn = torch.nn.CrossEntropyLoss()
    n_train = int(0.9 * len(X))  # FastaiClassifier holds out 10 % for validation metrics
    seconds = 0.0
    for epoch in range(epochs):
        _sync(device)
        start = time.perf_counter()
        order = torch.randperm(n_train, device=device)
        for i in range(0, n_train - BS + 1, BS):
            idx = order[i : i + BS]
            opt.zero_grad()
            loss_fn(model(xt[idx]), yt[idx]).backward()
            opt.step()
        _sync(device)
        if epoch:
            seconds += time.perf_counter() - start
    return (epochs - 1) * (n_train // BS) * BS / seconds


def fastai_fit(build, X, y, epochs: int, device: torch.device) -> float:
    """Samples per second of FastaiClassifier, from the difference of an epochs and a 1-epoch fit."""
    def fit(n_epochs):
        clf = FastaiClassifier(build, epochs=n_epochs, lr=LR, wd=WD, bs=BS, rng=0, device=str(device))
        _sync(device)
        start = time.perf_counter()
        clf.fit(X, y)
        _sync(device)
        return time.perf_counter() - start

    fit(1)  # warm-up: imports, first kernels
    one, many = fit(1), fit(epochs)
    n_train = int(round(0.9 * len(X)))
    return (epochs - 1) * (n_train // BS) * BS / (many - one)


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    os.environ["NEUROLAB_MEMO"] = "0"  # every fit trains: a remembered one would measure a file read
    torch.set_num_threads(max(1, torch.get_num_threads()))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=ROOT).stdout.strip()
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    models = {"mousenet": (1584, lambda nf, nc: MouseNet(nc)),
              "tabular_mlp": (1000, lambda nf, nc: TabularMLP(nf, nc))}
    rows = []
    for name, (n_features, build) in models.items():
        X, y = _data(n_features)
        for device in devices:
            loop = plain_loop(build, X, y, args.epochs, device, "fastai")
            loop_torch = plain_loop(build, X, y, args.epochs, device, "torch")
            wrapped = fastai_fit(build, X, y, args.epochs, device)
            row = {"model": name, "device": str(device), "batch_size": BS, "samples": N,
                   "plain_loop_samples_per_s": round(loop), "fastai_samples_per_s": round(wrapped),
                   "ratio": round(wrapped / loop, 3),
                   "plain_loop_torch_adamw_samples_per_s": round(loop_torch),
                   "ratio_to_torch_adamw": round(wrapped / loop_torch, 3), "threads": torch.get_num_threads(),
                   "gpu": torch.cuda.get_device_name(0) if device.type == "cuda" else None,
                   "torch": torch.__version__, "commit": commit}
            print(json.dumps(row), flush=True)
            rows.append(row)
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1) + "\n")
    return rows


if __name__ == "__main__":
    main()
