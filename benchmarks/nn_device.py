"""Time FastaiClassifier's training on the CPU and, where one is present, on a CUDA GPU.

Random inputs of the chapters' shapes: MouseNet on 1,584 voxels (chapter 5) and the tabular
MLP on 1,000 features (chapter 3), 5,600 trials, 13 classes. Prints one JSON line per run and
the agreement of the two devices' predictions (the same model up to floating-point order).

    python benchmarks/nn_device.py [--epochs 5] [--out results/nn_device.json]
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import torch

from neurolab.nn import FastaiClassifier, MouseNet, TabularMLP


def _data(n_features: int, n: int = 5600, n_classes: int = 13, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.repeat(np.arange(n_classes), -(-n // n_classes))[:n])
    centres = rng.normal(size=(n_classes, n_features)).astype(np.float32)
    X = centres[y] * 0.05 + rng.normal(size=(n, n_features)).astype(np.float32)
    groups = np.arange(n) // 2
    return X, y, groups


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    os.environ["NEUROLAB_MEMO"] = "0"  # every fit trains: a remembered one would measure a file read
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    models = {
        "mousenet": (1584, lambda nf, nc: MouseNet(nc)),
        "tabular_mlp": (1000, lambda nf, nc: TabularMLP(nf, nc)),
    }
    rows = []
    for name, (n_features, build) in models.items():
        X, y, groups = _data(n_features)
        train, test = slice(0, 4480), slice(4480, None)
        preds = {}
        for device in devices:
            clf = FastaiClassifier(build, epochs=args.epochs, lr=3e-3, rng=0, device=device)
            start = time.perf_counter()
            clf.fit(X[train], y[train], groups=groups[train])
            seconds = time.perf_counter() - start
            preds[device] = clf.predict(X[test])
            row = {
                "model": name, "device": device, "epochs": args.epochs, "fit_seconds": round(seconds, 2),
                "test_accuracy": round(float(np.mean(preds[device] == y[test])), 4),
                "gpu": torch.cuda.get_device_name(0) if device == "cuda" else None,
                "torch": torch.__version__,
            }
            if len(preds) == 2:
                row["agreement_with_cpu"] = round(float(np.mean(preds["cuda"] == preds["cpu"])), 4)
            print(json.dumps(row), flush=True)
            rows.append(row)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(rows, f, indent=1)
    return rows


if __name__ == "__main__":
    main()
