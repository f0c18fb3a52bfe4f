"""Real multi-fidelity problem: a PyTorch MLP on MNIST-1D, with epochs as the fidelity.

MNIST-1D (Greydanus & Steinbach) is a procedurally generated stand-in for MNIST: ten 1-D
digit templates, padded, scaled, sheared, shifted and noised into sequences of 40 values;
5000 samples, 4000 for training and 1000 held out. Small enough that an MLP trains in
seconds on a CPU, hard enough that configs differ (its README reports about 68 % test
accuracy for an MLP, 94 % for a CNN).

Data: generated offline by the ``mnist1d`` package (``pip install mnist1d``, part of the
``bench`` extra) with its default arguments (``get_dataset_args()``, seed 42), never
downloaded, and cached as plain npz (no pickle) in
``$RUNG_HOME/bench-data/mnist1d/mnist1d-default.npz``. The package seeds numpy's global random
state while generating; it is saved and restored around the call.

Model: ``num_layers`` hidden layers of ``units`` ReLU units with dropout, trained on the 4000
training samples with Adam or SGD (momentum only for SGD: a conditional parameter) and
cross-entropy; after each epoch it reports ``val_error`` (1 - accuracy on the 1000 held-out
samples, minimized) at ``epoch`` 1..27. Training is seeded from the config and the problem's
``seed`` with its own torch random state (the global one is left as found), so a config
always gives the same curve. ``steps(config, k)`` replays the first ``k`` epochs untimed
(there is no checkpoint to resume from) and yields epochs ``k+1``..27.
Training runs on one torch thread (see ``_own_torch_rng``).
Cost: measured seconds of each epoch (training plus validation), typically 0.02-0.5 s.
Optimum: unknown (``None``).
"""

from __future__ import annotations

import contextlib
import functools
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

import rung

from ._base import Problem, Step, config_seed

MAX_EPOCHS = 27
CACHE_NAME = "mnist1d-default.npz"


def cache_path() -> Path:
    """Where the generated data set is kept: under ``$RUNG_HOME`` (default ``~/.rung``)."""
    from rung.storage import rung_home

    return rung_home() / "bench-data" / "mnist1d" / CACHE_NAME


def generate() -> dict[str, np.ndarray]:
    """Generate MNIST-1D with the package's default arguments (no network)."""
    from mnist1d.data import get_dataset_args, make_dataset

    state = np.random.get_state()
    try:
        data = make_dataset(get_dataset_args())
    finally:
        np.random.set_state(state)
    return {key: np.asarray(data[key]) for key in ("x", "y", "x_test", "y_test")}


@functools.lru_cache(maxsize=4)
def load_data(path: str | None = None) -> dict[str, np.ndarray]:
    """The data set, generated on first use and cached on disk and per process."""
    target = Path(path) if path else cache_path()
    if not target.exists():
        arrays = generate()
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{os.getpid()}.tmp.npz")
        np.savez(partial, **arrays)
        os.replace(partial, target)  # atomic: concurrent workers never see half a file
    with np.load(target, allow_pickle=False) as z:
        return {key: z[key] for key in z.files}


@contextlib.contextmanager
def _own_torch_rng(holder: dict[str, Any]) -> Iterator[None]:
    """Run with the trial's torch random state (kept in ``holder``) on one thread, then put
    back the caller's state and thread count. Own state: dropout and shuffling stay
    reproducible even when other code uses torch between two epochs. One thread: these
    matrices are tiny, so extra threads only add synchronization (measured here: 1 ms per
    batch on one thread, 20 ms on two of a loaded 2-core machine), and parallel workers
    do not compete for cores."""
    import torch

    outer = torch.get_rng_state()
    threads = torch.get_num_threads()
    torch.set_rng_state(holder["state"])
    torch.set_num_threads(1)
    try:
        yield
    finally:
        holder["state"] = torch.get_rng_state()
        torch.set_rng_state(outer)
        torch.set_num_threads(threads)


class Mnist1dMLP(Problem):
    """An MLP on MNIST-1D trained for up to 27 epochs (module docstring)."""

    kind = "real"

    def __init__(self, name: str = "mnist1d-mlp", max_epochs: int = MAX_EPOCHS,
                 seed: int = 0) -> None:
        self.seed = int(seed)
        super().__init__(
            name=name,
            metric="val_error",
            mode="min",
            fidelity="epoch",
            levels=range(1, int(max_epochs) + 1),
            optimum=None,
            optimum_note="unknown; the mnist1d README reports about 0.32 test error for an MLP",
            cost_note="measured seconds per epoch (training and validation)",
        )

    def _make_space(self) -> dict[str, Any]:
        return {
            "learning_rate": rung.loguniform(1e-4, 1e-1),
            "batch_size": rung.randint(16, 256, log=True),
            "num_layers": rung.randint(1, 3),
            "units": rung.randint(32, 256, log=True),
            "dropout": rung.uniform(0.0, 0.5),
            "weight_decay": rung.loguniform(1e-6, 1e-2),
            "optimizer": rung.choice(["adam", "sgd"]),
            "momentum": rung.uniform(0.0, 0.99).when("optimizer", "==", "sgd"),
        }

    def default_config(self) -> dict[str, Any]:
        return {"learning_rate": 1e-3, "batch_size": 64, "num_layers": 2, "units": 128,
                "dropout": 0.1, "weight_decay": 1e-5, "optimizer": "adam"}

    def _build(self, config: dict[str, Any], n_in: int, n_out: int) -> tuple[Any, Any]:
        import torch
        from torch import nn

        layers: list[nn.Module] = []
        width = n_in
        for _ in range(config["num_layers"]):
            layers += [nn.Linear(width, config["units"]), nn.ReLU(), nn.Dropout(config["dropout"])]
            width = config["units"]
        layers.append(nn.Linear(width, n_out))
        model = nn.Sequential(*layers)
        if config["optimizer"] == "adam":
            optimizer = torch.optim.Adam(model.parameters(), lr=config["learning_rate"],
                                         weight_decay=config["weight_decay"])
        else:
            optimizer = torch.optim.SGD(model.parameters(), lr=config["learning_rate"],
                                        momentum=config["momentum"],
                                        weight_decay=config["weight_decay"])
        return model, optimizer

    def _steps(self, config: dict[str, Any], start_step: int) -> Iterator[Step]:
        import torch
        import torch.nn.functional as F

        data = load_data()
        x = torch.as_tensor(data["x"], dtype=torch.float32)
        y = torch.as_tensor(data["y"], dtype=torch.long)
        x_val = torch.as_tensor(data["x_test"], dtype=torch.float32)
        y_val = torch.as_tensor(data["y_test"], dtype=torch.long)
        seed = config_seed(config, self.seed) % (2**63)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            holder = {"state": torch.get_rng_state()}
        with _own_torch_rng(holder):
            model, optimizer = self._build(config, x.shape[1], 10)
        batch = config["batch_size"]

        def run_epoch() -> float:
            with _own_torch_rng(holder):
                model.train()
                order = torch.randperm(len(y))
                for start in range(0, len(y), batch):
                    index = order[start:start + batch]
                    optimizer.zero_grad()
                    loss = F.cross_entropy(model(x[index]), y[index])
                    loss.backward()
                    optimizer.step()
                model.eval()
                with torch.no_grad():
                    correct = (model(x_val).argmax(dim=1) == y_val).float().mean().item()
            return 1.0 - correct

        for i in range(self.n_steps):
            started = time.perf_counter()
            error = run_epoch()
            elapsed = time.perf_counter() - started
            if i >= start_step:
                yield elapsed, {"epoch": self.levels[i], self.metric: error}


def problems() -> dict[str, Callable[[], Problem]]:
    """The registry entries of this family: name to a factory."""
    return {"mnist1d-mlp": Mnist1dMLP}
