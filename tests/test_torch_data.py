"""rung.torch data: IDX files and Fashion-MNIST, the validation split, the test set once, data once per worker."""

import gzip
import os
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch

torch.set_num_threads(1)  # small tensors: one thread is faster than two on a shared machine
from torch.utils.data import DataLoader, TensorDataset

import rung
import rung.torch as rt
from rung.torch import datasets


def _fashion_files(root: Path, n_train=60, n_test=20, gz=True) -> Path:
    rng = np.random.default_rng(0)
    raw = root / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    suffix = ".gz" if gz else ""
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = np.arange(n) % 10
        images = rng.integers(0, 40, size=(n, 28, 28)).astype(np.uint8)
        images[:, 2 + labels, 3:20] = 255  # a learnable stripe per class
        datasets.write_idx(raw / f"{prefix}-images-idx3-ubyte{suffix}", images)
        datasets.write_idx(raw / f"{prefix}-labels-idx1-ubyte{suffix}", labels)
    return root


def test_idx_round_trip_plain_and_gzipped_and_bad_files_are_named(tmp_path):
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    for name in ("a.idx", "b.idx.gz"):
        assert np.array_equal(datasets.read_idx(datasets.write_idx(tmp_path / name, array)), array)
    with gzip.open(tmp_path / "b.idx.gz", "rb") as handle:
        assert handle.read(4) == bytes([0, 0, 8, 3])
    (tmp_path / "bad").write_bytes(b"\x01\x02\x03\x04rest")
    with pytest.raises(ValueError, match="bad.*not an IDX file"):
        datasets.read_idx(tmp_path / "bad")
    (tmp_path / "short").write_bytes(bytes([0, 0, 8, 1]) + (10).to_bytes(4, "big") + b"abc")
    with pytest.raises(ValueError, match="holds 3 data bytes, its header says 10"):
        datasets.read_idx(tmp_path / "short")


def test_fashion_mnist_from_idx_files_trains_and_the_test_set_is_evaluated_once(tmp_path):
    root = _fashion_files(tmp_path / "fmnist")
    x, y = datasets.fashion_mnist(root)
    assert x.shape == (60, 1, 28, 28) and x.dtype == torch.float32 and float(x.max()) == 1.0
    assert y.tolist() == [i % 10 for i in range(60)]
    assert datasets.fashion_mnist(root, train=False)[0].shape == (20, 1, 28, 28)
    objective = rt.TrainingObjective("softmax", "fashion_mnist", data_dir=root, valid_fraction=0.5,
                                     test_data="fashion_mnist")
    _, history = objective.fit({"epochs": 2, "lr": 0.05, "batch_size": 10})
    assert [h["epoch"] for h in history] == [1, 2]
    result = objective.evaluate_test({"epochs": 2, "lr": 0.05, "batch_size": 10})
    assert set(result) == {"test_loss", "test_error", "test_accuracy", "epochs"} and result["epochs"] == 2
    assert result["test_error"] == pytest.approx(1 - result["test_accuracy"])
    with pytest.raises(RuntimeError, match="already evaluated once"):
        objective.evaluate_test({"epochs": 2})
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte.*rung downloads nothing"):
        datasets.fashion_mnist(tmp_path / "empty", train=False)
    with pytest.raises(ValueError, match="data_dir"):
        rt.TrainingObjective("softmax", "fashion_mnist")


def test_the_validation_split_is_seeded_and_stratified():
    x = torch.randn(300, 4)
    y = torch.tensor([0] * 150 + [1] * 90 + [2] * 60)
    first = rt.TrainingObjective("mlp", (x, y), valid_fraction=0.2, seed=5).prepared()
    again = rt.TrainingObjective("mlp", (x, y), valid_fraction=0.2, seed=5).prepared()
    other = rt.TrainingObjective("mlp", (x, y), valid_fraction=0.2, seed=6).prepared()
    assert Counter(first.valid.y.tolist()) == {0: 30, 1: 18, 2: 12}
    assert Counter(first.train.y.tolist()) == {0: 120, 1: 72, 2: 48}
    assert torch.equal(first.valid.x, again.valid.x) and not torch.equal(first.valid.x, other.valid.x)
    assert first.input_shape == (4,) and first.n_outputs == 3
    dataset = TensorDataset(x, y)
    dataset.targets = y  # like torchvision's data sets
    split = rt.TrainingObjective("mlp", dataset, seed=5).prepared()
    assert Counter(int(split.valid.dataset[i][1]) for i in range(len(split.valid))) == {0: 30, 1: 18, 2: 12}


def test_dataloaders_need_a_validation_set_and_then_train():
    x, y = torch.randn(64, 3), torch.arange(64) % 2
    loader = DataLoader(TensorDataset(x, y), batch_size=16)
    with pytest.raises(ValueError, match="cannot split.*pass valid_data"):
        rt.TrainingObjective("mlp", loader).prepared()
    objective = rt.TrainingObjective("mlp", loader, valid_data=DataLoader(TensorDataset(x[:16], y[:16]), batch_size=8))
    _, history = objective.fit({"epochs": 1, "layers": 1, "units_1": 4})
    assert len(history) == 1
    with pytest.raises(TypeError, match="data must be"):
        rt.TrainingObjective("mlp", {"x": x}).prepared()


def test_a_user_model_fn_gets_its_own_config_entries():
    x, y = torch.randn(40, 3), torch.arange(40) % 2
    seen = []

    def model_fn(config, input_shape, n_outputs):
        seen.append((config["width"], input_shape, n_outputs))
        return torch.nn.Sequential(torch.nn.Linear(3, config["width"]), torch.nn.ReLU(),
                                   torch.nn.Linear(config["width"], n_outputs))

    objective = rt.TrainingObjective(model_fn, (x, y), extra_entries=["width"])
    objective.fit({"width": 7, "epochs": 1})
    assert seen == [(7, (3,), 2)]
    with pytest.raises(rt.ConfigError, match="unknown config entry 'width'"):
        rt.TrainingObjective(model_fn, (x, y)).fit({"width": 7})


def test_digits_and_devices():
    x, y = datasets.digits()
    assert x.shape == (1797, 1, 8, 8) and float(x.max()) == 1.0 and int(y.max()) == 9
    assert datasets.digits(28)[0].shape == (1797, 1, 28, 28)
    assert rt.pick_device("cpu") == torch.device("cpu")
    assert rt.pick_device("auto") == torch.device("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="device must be"):
        rt.TrainingObjective("mlp", (x, y), device="tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="device='cuda' but torch sees no CUDA device"):
            rt.TrainingObjective("mlp", (x, y), device="cuda")
    with pytest.raises(ValueError, match="threads must be a positive integer"):
        rt.TrainingObjective("mlp", (x, y), threads=0)


def test_threads_per_trial_are_set():
    before = torch.get_num_threads()
    try:
        objective = rt.TrainingObjective("softmax", (torch.randn(20, 2), torch.arange(20) % 2), threads=1)
        objective.fit({"epochs": 1})
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def counted_data(path):
    """Data loader that logs each call (pid) to ``path``: how often data were prepared, and where."""
    def load():
        with open(path, "a") as handle:
            handle.write(f"{os.getpid()}\n")
        generator = torch.Generator().manual_seed(0)
        x = torch.randn(80, 4, generator=generator)
        return x, (x[:, 0] > 0).long()
    return load


def test_data_are_prepared_once_per_worker_not_once_per_trial(tmp_path):
    log = tmp_path / "loads.txt"
    objective = rt.TrainingObjective("mlp", counted_data(str(log)))
    space = {"lr": rung.loguniform(1e-3, 1e-1), "epochs": 1, "layers": 1, "units_1": 4, "optimizer": "sgd"}
    result = rung.Tuner(objective, space, metric="validation_error", mode="min", searcher="random", seed=0,
                        backend="process", n_workers=2, max_trials=6, storage=":memory:", verbose=0).run()
    assert result.count("completed") == 6
    pids = log.read_text().split()
    assert len(pids) == 2 and len(set(pids)) == 2  # one load in each worker, none in the forked trials
    assert str(os.getpid()) not in pids
