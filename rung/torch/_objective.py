"""The ready training objective: ``TrainingObjective(model, data)(config)`` trains and reports.

One call is one trial: build the model, optimizer, LR schedule and loss the config names
(defaults for what it leaves out), train epoch by epoch, and report each epoch through
``rung.report`` (``epoch``, ``train_loss``, ``validation_loss``, ``validation_error`` and
``validation_accuracy`` for classification, ``lr``). After each report the trial's state is
checkpointed (model, optimizer, schedule, both random generators, early stopping), so a trial
paused by ASHA or Hyperband, or restarted after a crash, continues exactly where it was.

The data are prepared once per process and cached on the objective. Small tensor data (the
named digits and MNIST-1D, or data this process already prepared) travel to the workers with
the pickled objective; anything else each worker prepares in :meth:`rung_warm_up` before its
first trial, together with torch's first-use costs, so each forked trial starts warm.
"""

from __future__ import annotations

import inspect
import io
import math
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import torch
from torch import nn

from ..trial._limits import resource_limit
from ..trial._session import current_session, report
from ._config import resolve
from ._data import Prepared, as_part, prepare
from ._early_stopping import EarlyStopping
from ._losses import build_loss, loss_name
from ._models import MODELS, build_model
from ._optimizers import build_optimizer
from ._schedules import Schedule, build_schedule
from ._space import check_space
from ._state import TrialState
from ._warm import one_thread, warm_torch

ModelFn = Callable[..., nn.Module]

#: The named data sets small enough to prepare in the tuner and send to every worker.
SMALL_NAMED_SETS = ("digits", "mnist1d")
#: Prepared tensor data up to this size travel to the workers with the pickled objective.
SHIP_LIMIT_BYTES = 64 * 2**20


def _shippable(prepared: Prepared | None) -> bool:
    """Whether ``prepared`` is tensors only (no Dataset or DataLoader) of at most SHIP_LIMIT_BYTES."""
    if prepared is None:
        return False
    size = 0
    for part in (prepared.train, prepared.valid):
        if part.x is None or part.y is None:
            return False
        size += part.x.element_size() * part.x.nelement() + part.y.element_size() * part.y.nelement()
    return size <= SHIP_LIMIT_BYTES


def pick_device(device: str) -> torch.device:
    """``"auto"`` (CUDA when present, else CPU), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``, checked."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        chosen = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got device={device!r}") from exc
    if chosen.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} but torch sees no CUDA device here (torch {torch.__version__})")
    if chosen.type not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got device={device!r}")
    return chosen


@dataclass
class EpochResult:
    epoch: int
    train_loss: float
    validation_loss: float
    validation_error: float | None
    lr: float

    def metrics(self) -> dict[str, float]:
        out = {"epoch": self.epoch, "train_loss": self.train_loss, "validation_loss": self.validation_loss,
               "lr": self.lr}
        if self.validation_error is not None:
            out["validation_error"] = self.validation_error
            out["validation_accuracy"] = 1.0 - self.validation_error
        return out


@dataclass
class _Parts:
    """What one trial trains: built from its config."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    schedule: Schedule
    loss: nn.Module
    log_softmax: bool
    generator: torch.Generator
    early: EarlyStopping
    config: dict[str, Any]
    history: list[dict[str, float]] = field(default_factory=list)


class TrainingObjective:
    """Train a model on the given data with the hyperparameters of each config.

    Parameters
    ----------
    model:
        ``"softmax"``, ``"mlp"``, ``"lenet"`` (ReLU, max pooling) or ``"lenet_classic"``
        (sigmoid, average pooling), or the user's ``model_fn(config)`` (or
        ``model_fn(config, input_shape, n_outputs)``) returning an ``nn.Module``.
    data:
        ``(X, y)`` arrays or tensors, a torch ``Dataset``, a ``DataLoader`` (then with
        ``valid_data``), or a callable returning one of these (called once per process).
        ``"digits"`` and ``"mnist1d"`` name the offline data sets of :mod:`rung.torch.datasets`
        (digits upsampled to 28x28 for LeNet); ``"fashion_mnist"`` reads ``data_dir``.
    valid_data:
        A validation set; without it ``valid_fraction`` of ``data`` is held out (seeded by
        ``seed``, stratified by label for classification).
    test_data:
        Evaluated only by :meth:`evaluate_test`, once, never during tuning.
    task:
        ``"classification"`` (default), ``"regression"`` or ``"binary"``.
    device:
        ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"`` (CUDA when present). In the process
        backend each trial sees the GPU the backend assigned it as ``cuda``.
    threads:
        torch's intra-op threads per trial; None keeps torch's (the process backend sets
        ``OMP_NUM_THREADS`` to the CPUs divided by the workers).
    extra_entries:
        Config entries that your ``model_fn`` reads (otherwise unknown entries are errors).
    early_stopping_metric:
        What in-trial early stopping watches (``"validation_loss"`` or ``"validation_error"``).
    """

    def __init__(self, model: str | ModelFn = "mlp", data: Any = "digits", *, valid_data: Any = None,
                 test_data: Any = None, task: str = "classification", valid_fraction: float = 0.2, seed: int = 0,
                 device: str = "cpu", threads: int | None = None, data_dir: str | os.PathLike | None = None,
                 extra_entries: Sequence[str] = (), early_stopping_metric: str = "validation_loss") -> None:
        if isinstance(model, str) and model not in MODELS:
            raise ValueError(f"model must be one of {MODELS} or a model_fn(config) -> nn.Module, got model={model!r}")
        if not (isinstance(model, str) or callable(model)):
            raise TypeError(f"model must be a name or a callable, got {type(model).__name__}")
        if early_stopping_metric not in ("validation_loss", "validation_error"):
            raise ValueError("early_stopping_metric must be 'validation_loss' or 'validation_error', "
                             f"got early_stopping_metric={early_stopping_metric!r}")
        if threads is not None and (not isinstance(threads, int) or threads < 1):
            raise ValueError(f"threads must be a positive integer or None, got threads={threads!r}")
        if data == "fashion_mnist" and data_dir is None:
            raise ValueError("data='fashion_mnist' needs data_dir=<folder with the IDX files>")
        if isinstance(data, str) and data not in ("digits", "mnist1d", "fashion_mnist"):
            raise ValueError(f"data names one of 'digits', 'mnist1d', 'fashion_mnist', got data={data!r}")
        self.model = model
        self.data = data
        self.valid_data = valid_data
        self.test_data = test_data
        self.task = task
        self.valid_fraction = valid_fraction
        self.seed = seed
        self.device = device
        pick_device(device)  # refuse a device that cannot work before any trial runs
        self.threads = threads
        self.data_dir = None if data_dir is None else str(data_dir)
        self.extra_entries = frozenset(extra_entries)
        self.early_stopping_metric = early_stopping_metric
        self._prepared: Prepared | None = None
        self._test_done = False
        self.data_loads = 0  # how many times this process prepared the data (1 per worker)

    # -- pickling: small prepared data travel with the objective ---------------------------
    def __getstate__(self) -> dict[str, Any]:
        """The objective for a worker: with the prepared data when they are small tensors.

        A worker that receives them skips preparing them (for the named sets: importing
        scikit-learn or generating MNIST-1D, and for every classification set the stratified
        split, which imports scikit-learn's splitter): several CPU seconds per worker, paid
        once here instead. The named sets ``"digits"`` and ``"mnist1d"`` are prepared here for
        that; other data only travel if this process already prepared them (a range test or
        :meth:`fit` before tuning) and they are tensors of at most :data:`SHIP_LIMIT_BYTES`.
        Anything else is prepared once per worker, in its warm-up.
        """
        state = dict(self.__dict__)
        state["data_loads"] = 0
        if self._prepared is None and isinstance(self.data, str) and self.data in SMALL_NAMED_SETS \
                and self.valid_data is None:
            self.prepared()
        state["_prepared"] = self._prepared if _shippable(self._prepared) else None
        return state

    # -- data ---------------------------------------------------------------------------------
    def _load(self, source: Any) -> Any:
        if callable(source) and not isinstance(source, (torch.utils.data.Dataset, torch.utils.data.DataLoader)):
            return source()
        if source == "digits":
            from .datasets import digits

            return digits(28 if self.model in ("lenet", "lenet_classic") else 8)
        if source == "mnist1d":
            from .datasets import mnist1d

            return mnist1d()
        if source == "fashion_mnist":
            from .datasets import fashion_mnist

            assert self.data_dir is not None
            return fashion_mnist(self.data_dir, train=True)
        return source

    def prepared(self) -> Prepared:
        """The prepared data (loaded and split on first use in this process, then cached)."""
        if self._prepared is None:
            self._prepared = prepare(self._load(self.data), self._load(self.valid_data) if self.valid_data is not None
                                     else None, task=self.task, valid_fraction=self.valid_fraction, seed=self.seed)
            self.data_loads += 1
        return self._prepared

    def rung_warm_up(self) -> None:
        """Run once by each worker before its first trial: data, threads, torch's first-use costs.

        Building each optimizer once loads what torch.optim loads lazily on first use
        (over a second); forked trials inherit all of it.
        """
        self._set_threads()
        with one_thread():  # no thread pool in a process that forks trials (see one_thread)
            data = self.prepared()
            warm_torch()
        # One step, one evaluation and one checkpoint round trip of a default trial on one
        # batch: the code paths every trial takes (torch.save's and torch.load's first use
        # included) are then loaded in the worker, not in each forked trial. Only a speed-up:
        # a model_fn that needs entries the defaults lack just skips it (with a warning).
        try:
            with one_thread():
                self._rehearse(data)
        except Exception as exc:
            warnings.warn(f"rung.torch warm-up could not rehearse a default trial ({type(exc).__name__}: {exc}); "
                          "trials pay their first-use costs themselves", stacklevel=2)

    def _rehearse(self, data: Prepared) -> None:
        parts = self.build({})
        device = pick_device(self.device)
        batch_size = int(parts.config["batch_size"])
        x, y = next(iter(data.train.batches(batch_size, parts.generator, device)))
        parts.loss(self._forward(parts, x), y).backward()
        parts.optimizer.step()
        parts.schedule.after_batch()
        parts.model.eval()
        with torch.no_grad():
            self._forward(parts, x).argmax(dim=1)
        buffer = io.BytesIO()
        torch.save({"model": parts.model.state_dict(), "optimizer": parts.optimizer.state_dict(),
                    "rng": torch.get_rng_state(), "generator": parts.generator.get_state()}, buffer)
        buffer.seek(0)
        torch.load(buffer, weights_only=True)

    def rung_check_space(self, space: Any) -> None:
        """Called by ``rung.Tuner`` when it is built: refuse a space this objective cannot train.

        Unknown entries, and fixed values, choice options or condition values that are no
        optimizer, schedule, activation, loss (for this task), batch norm, init or mode this
        objective knows, raise a :class:`ConfigError` naming the entry and the value (with the
        closest known name), before any worker starts or any trial runs. See
        ``rung.torch._space.check_space``.
        """
        check_space(space, task=self.task, extra_entries=self.extra_entries)

    def _set_threads(self) -> None:
        if self.threads is not None and torch.get_num_threads() != self.threads:
            torch.set_num_threads(self.threads)

    # -- one trial ----------------------------------------------------------------------------
    def _build_model(self, config: Mapping[str, Any], data: Prepared) -> nn.Module:
        if isinstance(self.model, str):
            return build_model(self.model, config, data.input_shape, data.n_outputs)
        accepts = len(inspect.signature(self.model).parameters)
        module = self.model(config, data.input_shape, data.n_outputs) if accepts >= 3 else self.model(config)
        if not isinstance(module, nn.Module):
            raise TypeError(f"model_fn returned {type(module).__name__}, not a torch.nn.Module")
        return module

    def build(self, config: Mapping[str, Any]) -> _Parts:
        """Model, optimizer, schedule, loss, generator and early stopping for ``config``, freshly seeded."""
        full = resolve(config, self.extra_entries)
        data = self.prepared()
        device = pick_device(self.device)
        seed = int(full["seed"])
        torch.manual_seed(seed)
        model = self._build_model(full, data).to(device)
        optimizer = build_optimizer(model.parameters(), full)
        batch_size = int(full["batch_size"])
        schedule = build_schedule(optimizer, full, data.train.n_batches(batch_size))
        name = loss_name(full, self.task)
        generator = torch.Generator().manual_seed(seed)
        early = EarlyStopping(int(full["early_stopping_patience"]), float(full["early_stopping_min_delta"]))
        return _Parts(model, optimizer, schedule, build_loss(name, full).to(device), name == "nll", generator, early,
                      full)

    def _forward(self, parts: _Parts, x: torch.Tensor) -> torch.Tensor:
        out = parts.model(x)
        if parts.log_softmax:
            out = torch.log_softmax(out, dim=1)
        if self.task != "classification" and out.dim() == 2 and out.shape[1] == 1:
            out = out.squeeze(1)
        return out

    def _train_epoch(self, parts: _Parts, data: Prepared, device: torch.device) -> float:
        parts.model.train()
        l1 = float(parts.config["l1"])
        weights = [p for name, p in parts.model.named_parameters() if p.dim() > 1] if l1 > 0 else []
        total, count = 0.0, 0
        for x, y in data.train.batches(int(parts.config["batch_size"]), parts.generator, device):
            parts.optimizer.zero_grad(set_to_none=True)
            loss = parts.loss(self._forward(parts, x), y)
            objective = loss + l1 * sum(w.abs().sum() for w in weights) if weights else loss
            objective.backward()
            parts.optimizer.step()
            parts.schedule.after_batch()
            total += float(loss.detach()) * len(x)
            count += len(x)
        return total / max(count, 1)

    def _evaluate(self, parts: _Parts, part: Any, device: torch.device) -> tuple[float, float | None]:
        parts.model.eval()
        total, wrong, count = 0.0, 0, 0
        with torch.no_grad():
            for x, y in part.batches(max(256, int(parts.config["batch_size"])), None, device):
                out = self._forward(parts, x)
                total += float(parts.loss(out, y)) * len(x)
                if self.task == "classification":
                    wrong += int((out.argmax(dim=1) != y).sum())
                elif self.task == "binary":
                    wrong += int(((out > 0).float() != y).sum())
                count += len(x)
        error = None if self.task == "regression" else wrong / max(count, 1)
        return total / max(count, 1), error

    def _epoch(self, parts: _Parts, data: Prepared, epoch: int, device: torch.device) -> EpochResult:
        train_loss = self._train_epoch(parts, data, device)
        valid_loss, error = self._evaluate(parts, data.valid, device)
        parts.schedule.after_epoch(valid_loss)
        return EpochResult(epoch, train_loss, valid_loss, error, float(parts.optimizer.param_groups[0]["lr"]))

    def _watched(self, result: EpochResult) -> float:
        if self.early_stopping_metric == "validation_error" and result.validation_error is not None:
            return result.validation_error
        return result.validation_loss

    def __call__(self, config: dict[str, Any]) -> None:
        """Run one trial: train, report every epoch, checkpoint after every report.

        Outside a tuning run (no trial session) it trains without reporting; use
        :meth:`fit` to get the curve.
        """
        self._set_threads()
        if current_session() is None and "RUNG_REPORT_FD" not in os.environ:
            self.fit(config)
            return None
        parts = self.build(config)
        data = self.prepared()
        device = pick_device(self.device)
        state = TrialState(device)
        start = state.restore(parts)
        for epoch in range(start + 1, self._last_epoch(parts.config) + 1):
            result = self._epoch(parts, data, epoch, device)
            stop = parts.early.update(self._watched(result)) or not math.isfinite(result.train_loss)
            # Report, then checkpoint (also when the report pauses the trial): a tuner that
            # dies in between makes the epoch run again, never skipped.
            try:
                report(**result.metrics())
            finally:
                state.save(parts, epoch)
            if stop:
                break
        return None

    @staticmethod
    def _last_epoch(config: Mapping[str, Any]) -> int:
        """``epochs``, or less when the scheduler caps this launch (``rung.resource_limit()`` or
        ``max_epochs`` in the config); the schedules still plan over ``epochs``."""
        last = int(config["epochs"])
        for cap in (resource_limit(None), config.get("max_epochs")):
            if cap is not None:
                last = min(last, int(math.floor(float(cap))))
        return last

    def fit(self, config: Mapping[str, Any]) -> tuple[nn.Module, list[dict[str, float]]]:
        """Train ``config`` outside any tuning run; return the model and its per-epoch metrics.

        The same training as a trial's (same seed, split, schedule and early stopping).
        """
        self._set_threads()
        parts = self.build(config)
        data = self.prepared()
        device = pick_device(self.device)
        for epoch in range(1, self._last_epoch(parts.config) + 1):
            result = self._epoch(parts, data, epoch, device)
            parts.history.append(result.metrics())
            if parts.early.update(self._watched(result)) or not math.isfinite(result.train_loss):
                break
        return parts.model, parts.history

    # -- range tests on the objective's own data and model -------------------------------------
    def _loader(self, parts: _Parts) -> "_Batches":
        return _Batches(self.prepared(), int(parts.config["batch_size"]), parts.generator, pick_device(self.device))

    def _loss_fn(self, parts: _Parts) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
        def loss(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            if parts.log_softmax:
                out = torch.log_softmax(out, dim=1)
            if self.task != "classification" and out.dim() == 2 and out.shape[1] == 1:
                out = out.squeeze(1)
            return parts.loss(out, y)
        return loss

    def lr_range_test(self, config: Mapping[str, Any] | None = None, **options: Any) -> Any:
        """:func:`rung.torch.lr_range_test` on this objective's model, optimizer, loss and training data.

        ``config`` gives the model and optimizer (defaults otherwise); ``options`` go to the test.
        """
        from ._range_test import lr_range_test

        parts = self.build(config or {})
        return lr_range_test(parts.model, parts.optimizer, self._loss_fn(parts), self._loader(parts), **options)

    def momentum_range_test(self, config: Mapping[str, Any] | None = None, *, lr: float, **options: Any) -> Any:
        """:func:`rung.torch.momentum_range_test` on this objective's model and data (``config``'s optimizer
        must have momentum or betas: SGD with momentum by default)."""
        from ._range_test import momentum_range_test

        parts = self.build({"optimizer": "momentum", **(config or {})})
        return momentum_range_test(parts.model, parts.optimizer, self._loss_fn(parts), self._loader(parts), lr=lr,
                                   **options)

    # -- the test set, once -------------------------------------------------------------------
    def evaluate_test(self, config: dict[str, Any], *, test_data: Any = None,
                      checkpoint: str | os.PathLike | None = None) -> dict[str, float]:
        """Evaluate the final config on the test set, once (a second call raises).

        Trains ``config`` on the training part exactly as its trial did (same seed, split and
        epochs), or loads the model from a trial's ``checkpoint`` directory, then returns
        ``test_loss`` (and ``test_error``, ``test_accuracy`` for classification) and ``epochs``.
        """
        source = test_data if test_data is not None else self.test_data
        if source is None:
            raise ValueError("no test set: pass test_data= here or to TrainingObjective(test_data=...)")
        if self._test_done:
            raise RuntimeError("the test set was already evaluated once; evaluating it again after looking at "
                               "its result would make it a validation set (build a new objective to do so anyway)")
        if source == "fashion_mnist":
            from .datasets import fashion_mnist

            assert self.data_dir is not None
            source = fashion_mnist(self.data_dir, train=False)
        elif source == "mnist1d":
            from .datasets import mnist1d

            source = mnist1d(test=True)
        test = as_part(source() if callable(source) else source, self.task, "test_data")
        device = pick_device(self.device)
        parts = self.build(config)
        if checkpoint is not None:
            epochs = TrialState(device).restore(parts, Path(checkpoint))
            if epochs == 0:
                raise FileNotFoundError(f"no rung.torch checkpoint in {checkpoint}")
        else:
            parts.model, history = self.fit(config)
            epochs = len(history)
        self._test_done = True
        loss, error = self._evaluate(parts, test, device)
        out = {"test_loss": loss, "epochs": float(epochs)}
        if error is not None:
            out.update(test_error=error, test_accuracy=1.0 - error)
        return out


class _Batches:
    """The training part as a re-iterable loader with a length (for the range tests)."""

    def __init__(self, data: Prepared, batch_size: int, generator: torch.Generator, device: torch.device) -> None:
        self.data, self.batch_size, self.generator, self.device = data, batch_size, generator, device

    def __len__(self) -> int:
        return self.data.train.n_batches(self.batch_size)

    def __iter__(self) -> Any:
        return self.data.train.batches(self.batch_size, self.generator, self.device)
