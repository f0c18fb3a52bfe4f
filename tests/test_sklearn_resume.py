"""A named search is recorded in the store and survives a crash of the process that ran it.

A real crash: the search runs in a subprocess whose fit of max_depth=3 SIGKILLs the process
the first time. Fitting again under the same experiment name continues from the store:
the fits that finished are not run again, the one that was running is, and the results
equal scikit-learn's. Fitting a finished search again runs nothing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn import model_selection as sk
from sklearn.datasets import load_iris
from sklearn.tree import DecisionTreeClassifier

from rung.sklearn import GridSearchCV

GRID = {"max_depth": [1, 2, 3, 4, 5]}


class Crasher(DecisionTreeClassifier):
    """A tree that logs each fit; with $CRASH_MARKER unset-on-disk, max_depth=3 kills the process."""

    def fit(self, X, y, sample_weight=None, check_input=True):
        with open(os.environ["FIT_LOG"], "a") as log:
            log.write(f"{self.max_depth}\n")
        marker = os.environ.get("CRASH_MARKER")
        if marker and self.max_depth == 3 and not os.path.exists(marker):
            Path(marker).touch()
            os.kill(os.getpid(), signal.SIGKILL)
        return super().fit(X, y, sample_weight=sample_weight, check_input=check_input)


def search(tmp_path: Path) -> GridSearchCV:
    return GridSearchCV(Crasher(random_state=0), GRID, cv=2, experiment="crashing-grid",
                        storage=str(tmp_path / "store.db"), backend="inprocess")


SCRIPT = """
import sys
from pathlib import Path
from sklearn.datasets import load_iris
from test_sklearn_resume import search
X, y = load_iris(return_X_y=True)
search(Path(sys.argv[1])).fit(X, y)
"""


def fits_logged(tmp_path: Path) -> list[int]:
    return [int(line) for line in (tmp_path / "fits.log").read_text().split()]


def test_a_crashed_search_resumes_from_the_store(tmp_path, monkeypatch):
    env = {**os.environ, "RUNG_HOME": str(tmp_path / "home"), "FIT_LOG": str(tmp_path / "fits.log"),
           "CRASH_MARKER": str(tmp_path / "crashed"),
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], env=env, capture_output=True, timeout=300)
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()[-2000:]
    before = fits_logged(tmp_path)
    assert before.count(3) == 1 and 0 < len(before) < 10

    for key in ("RUNG_HOME", "FIT_LOG", "CRASH_MARKER"):
        monkeypatch.setenv(key, env[key])
    X, y = load_iris(return_X_y=True)
    resumed = search(tmp_path).fit(X, y)
    after = fits_logged(tmp_path)
    # every fit finished before the crash is kept; only the killed one runs again (plus the
    # refit of the best candidate on all the data)
    refit = [resumed.best_params_["max_depth"]]
    assert sorted(after) == sorted([d for d in GRID["max_depth"] for _ in range(2)] + [3] + refit)
    expected = sk.GridSearchCV(DecisionTreeClassifier(random_state=0), GRID, cv=2).fit(X, y)
    np.testing.assert_allclose(resumed.cv_results_["mean_test_score"], expected.cv_results_["mean_test_score"],
                               rtol=1e-12)
    assert resumed.cv_results_["rank_test_score"].tolist() == expected.cv_results_["rank_test_score"].tolist()
    assert resumed.best_params_ == expected.best_params_

    again = search(tmp_path).fit(X, y)  # finished: no fold is fitted again, only the refit
    assert fits_logged(tmp_path) == after + refit
    assert again.cv_results_["mean_test_score"].tolist() == resumed.cv_results_["mean_test_score"].tolist()


def test_the_same_name_with_other_data_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("RUNG_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FIT_LOG", str(tmp_path / "fits.log"))
    X, y = load_iris(return_X_y=True)
    search(tmp_path).set_params(param_grid={"max_depth": [1]}).fit(X, y)
    with pytest.raises(Exception, match="fingerprint"):
        search(tmp_path).set_params(param_grid={"max_depth": [1]}).fit(X[:100], y[:100])
