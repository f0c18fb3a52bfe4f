"""rung.sklearn.sweep: validation_curve's numbers, one trial per value, and the band plot
(in-process trials: the worker processes are exercised by test_sklearn_search)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from sklearn.datasets import load_wine
from sklearn.model_selection import StratifiedKFold, validation_curve
from sklearn.tree import DecisionTreeClassifier
from threadpoolctl import threadpool_limits

from rung.sklearn import plot_sweep, sweep


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """One BLAS thread in this process (rung's workers get one each already): on a loaded
    2-core machine, OpenBLAS threads busy-waiting made an L-BFGS fit 10x slower."""
    with threadpool_limits(1):
        yield


X, Y = load_wine(return_X_y=True)


def test_sweep_table_is_validation_curves_and_the_plot_has_its_bands(tmp_path):
    values = [1, 2, 4, 8]
    tree = DecisionTreeClassifier(random_state=0)
    path = tmp_path / "sweep.png"
    table = sweep(tree, "min_samples_leaf", values, X, Y, cv=4, backend="inprocess", plot=str(path))
    train, test = validation_curve(tree, X, Y, param_name="min_samples_leaf", param_range=values,
                                   cv=StratifiedKFold(4))
    assert table.index.name == "min_samples_leaf" and list(table.index) == values
    np.testing.assert_allclose(table["mean_train_score"], train.mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose(table["std_validation_score"], test.std(axis=1), rtol=1e-12)
    np.testing.assert_allclose(table[[f"split{k}_validation_score" for k in range(4)]].to_numpy(), test, rtol=1e-12)
    assert path.stat().st_size > 1000

    ax = plot_sweep(table)
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["training score", "validation score"]
    np.testing.assert_allclose(lines[1].get_ydata(), test.mean(axis=1))
    band = ax.collections[1].get_paths()[0].vertices[:, 1]  # the validation band: mean +- std
    assert band.max() == pytest.approx((test.mean(axis=1) + test.std(axis=1)).max())
    assert band.min() == pytest.approx((test.mean(axis=1) - test.std(axis=1)).min())


def test_sweep_refuses_an_unknown_parameter():
    with pytest.raises(ValueError, match="min_leaf"):
        sweep(DecisionTreeClassifier(), "min_leaf", [1, 2], X, Y, backend="inprocess")
