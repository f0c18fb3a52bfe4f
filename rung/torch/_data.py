"""The objective's data: given as tensors, a Dataset or DataLoaders; split once, batched per trial.

:func:`prepare` turns what the user gave into a :class:`Prepared` (training and validation
parts, input shape, number of outputs). It runs once per worker process (the objective
caches it), never once per trial. The validation part is held out from the training data
(seeded; stratified by label for classification, with scikit-learn's splitter) unless the
user gives one; the test set is never part of it.

Tensors are batched by index (a shuffled permutation from the trial's own generator), which
costs nothing per batch; Datasets go through a ``DataLoader`` whose sampler uses that same
generator. Either way the order of the batches is a function of the generator's state,
which the checkpoint keeps, so a resumed trial sees the batches it would have seen.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Subset, TensorDataset

TASKS = ("classification", "regression", "binary")


@dataclass
class Part:
    """One part of the data: tensors (fast path), a Dataset, or a fixed DataLoader."""

    x: torch.Tensor | None = None
    y: torch.Tensor | None = None
    dataset: Dataset | None = None
    loader: DataLoader | None = None

    def __len__(self) -> int:
        if self.x is not None:
            return len(self.x)
        if self.dataset is not None:
            return len(self.dataset)  # type: ignore[arg-type]
        assert self.loader is not None
        return len(self.loader.dataset)  # type: ignore[arg-type]

    def batches(self, batch_size: int, generator: torch.Generator | None, device: torch.device
                ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """The part's batches; shuffled by ``generator`` when one is given (training)."""
        if self.x is not None and self.y is not None:
            n = len(self.x)
            order = torch.randperm(n, generator=generator) if generator is not None else None
            for start in range(0, n, batch_size):
                index = order[start:start + batch_size] if order is not None else slice(start, start + batch_size)
                yield self.x[index].to(device), self.y[index].to(device)
            return
        loader = self.loader
        if loader is None:
            assert self.dataset is not None
            loader = DataLoader(self.dataset, batch_size=batch_size, shuffle=generator is not None,
                                generator=generator)
        for x, y in loader:
            yield x.to(device), y.to(device)

    def n_batches(self, batch_size: int) -> int:
        if self.loader is not None:
            return len(self.loader)
        return max(1, -(-len(self) // batch_size))

    def first_input(self) -> torch.Tensor:
        if self.x is not None:
            return self.x[0]
        source = self.dataset if self.dataset is not None else self.loader.dataset  # type: ignore[union-attr]
        return torch.as_tensor(source[0][0])


@dataclass
class Prepared:
    train: Part
    valid: Part
    input_shape: tuple[int, ...]
    n_outputs: int
    task: str
    fixed_batches: bool  # DataLoaders given: their batch size wins over the config's


def _tensor(value: Any, what: str) -> torch.Tensor:
    try:
        return torch.as_tensor(np.asarray(value) if not isinstance(value, torch.Tensor) else value)
    except Exception as exc:
        raise TypeError(f"{what} must be an array or tensor, got {type(value).__name__}") from exc


def _targets(y: torch.Tensor, task: str) -> torch.Tensor:
    if task == "classification":
        return y.long()
    return y.float()


def _labels_of(dataset: Dataset) -> np.ndarray:
    targets = getattr(dataset, "targets", None)
    if targets is not None:
        return np.asarray(targets)
    return np.asarray([int(dataset[i][1]) for i in range(len(dataset))])  # type: ignore[arg-type]


def _n_outputs(y: np.ndarray, task: str) -> int:
    if task == "classification":
        return int(y.max()) + 1
    if task == "binary":
        return 1
    return 1 if y.ndim == 1 else int(y.shape[1])


def _split(n: int, labels: np.ndarray | None, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split

    if not 0.0 < fraction < 1.0:
        raise ValueError(f"valid_fraction must be between 0 and 1 (exclusive), got valid_fraction={fraction!r}")
    train, valid = train_test_split(np.arange(n), test_size=fraction, random_state=seed, stratify=labels)
    return np.sort(train), np.sort(valid)


def as_part(data: Any, task: str, what: str) -> Part:
    """A Part from ``(X, y)``, a Dataset or a DataLoader."""
    if isinstance(data, DataLoader):
        return Part(loader=data)
    if isinstance(data, Dataset):
        return Part(dataset=data)
    if isinstance(data, (tuple, list)) and len(data) == 2:
        x, y = _tensor(data[0], f"{what}[0] (the inputs)"), _tensor(data[1], f"{what}[1] (the targets)")
        if len(x) != len(y):
            raise ValueError(f"{what}: {len(x)} inputs but {len(y)} targets")
        return Part(x=x.float(), y=_targets(y, task))
    raise TypeError(f"{what} must be (X, y) arrays or tensors, a torch Dataset or a DataLoader, "
                    f"got {type(data).__name__}")


def prepare(data: Any, valid_data: Any, *, task: str, valid_fraction: float, seed: int) -> Prepared:
    """Training and validation parts from the user's data (split here when no validation data is given)."""
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got task={task!r}")
    whole = as_part(data, task, "data")
    if valid_data is not None:
        train, valid = whole, as_part(valid_data, task, "valid_data")
    elif whole.loader is not None:
        raise ValueError("data is a DataLoader, which rung cannot split: pass valid_data too "
                         "(a DataLoader, a Dataset or (X, y)) or give data as (X, y) or a Dataset")
    elif whole.x is not None and whole.y is not None:
        labels = whole.y.numpy() if task != "regression" else None
        tr, va = _split(len(whole.x), labels, valid_fraction, seed)
        train = Part(x=whole.x[tr], y=whole.y[tr])
        valid = Part(x=whole.x[va], y=whole.y[va])
    else:
        assert whole.dataset is not None
        labels = _labels_of(whole.dataset) if task != "regression" else None
        tr, va = _split(len(whole.dataset), labels, valid_fraction, seed)  # type: ignore[arg-type]
        train, valid = Part(dataset=Subset(whole.dataset, tr.tolist())), Part(dataset=Subset(whole.dataset, va.tolist()))
    if train.y is not None:
        y_all = train.y.numpy()
    elif train.dataset is not None:
        y_all = _labels_of(train.dataset) if task != "regression" else np.asarray(
            [np.asarray(train.dataset[i][1]) for i in range(min(len(train), 1))])
    else:
        assert train.loader is not None
        y_all = np.concatenate([np.asarray(batch[1]) for batch in train.loader])
    fixed = train.loader is not None
    if fixed and valid.loader is None:
        warnings.warn("data is a DataLoader but valid_data is not: validation batches use the config's batch_size",
                      stacklevel=3)
    return Prepared(train=train, valid=valid, input_shape=tuple(train.first_input().shape),
                    n_outputs=_n_outputs(y_all, task), task=task, fixed_batches=fixed)


def shape_text(shape: Sequence[int]) -> str:
    return "x".join(str(s) for s in shape)
