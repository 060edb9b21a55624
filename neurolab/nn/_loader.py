"""A fastai ``DataLoader`` over two tensors that builds each batch with one indexing operation.

fastai's default path makes an item per sample and collates a list of (x, y) tuples: Python work
per sample. ``TensorBatches`` keeps fastai's own sampling (the same shuffled order from the same
seed, ``drop_last``, batch size) and only replaces how a batch is made: ``x[idx], y[idx]`` for the
batch's indices, on the device the tensors live on. The batches hold exactly the rows the default
path would have stacked, so the numbers are the same. (Its own module: fastai is imported only when
a network trains, and a fitted ``FastaiClassifier`` pickles with its loaders.)
"""

from __future__ import annotations

import torch
from fastai.data.load import DataLoader

__all__ = ["TensorBatches"]


class TensorBatches(DataLoader):
    """fastai DataLoader over ``x`` (n, ...) and ``y`` (n,), batches made by indexing."""

    def __init__(self, x, y, **kwargs):
        self.x, self.y = x, y
        kwargs.pop("dataset", None)  # always the rows of x (``new`` passes one)
        super().__init__(range(len(x)), **kwargs)

    def create_batches(self, samps):
        idxs = torch.as_tensor(list(samps), dtype=torch.long).to(self.x.device)
        step = self.bs
        stop = len(idxs) - len(idxs) % step if self.drop_last else len(idxs)
        for start in range(0, stop, step):
            batch = idxs[start : start + step]
            yield self.x[batch], self.y[batch]

    def new(self, dataset=None, cls=None, **kwargs):  # fastai copies loaders this way
        kwargs.setdefault("x", self.x)
        kwargs.setdefault("y", self.y)
        return super().new(dataset=None, cls=cls, **kwargs)
