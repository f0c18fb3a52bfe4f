"""Seed objectives run unchanged (issue 13, items 2 and 13): keyword-argument objectives,
``**config`` functions, numpy / torch numbers, and tracebacks that name the user's file."""

import subprocess
import sys

import numpy as np
import pytest
import torch
from scipy import stats

import rung
from rung.trial._calling import call_objective, plain_number, plain_result
from user_objectives import d2l_objective, numpy_numbers, syne_tune_function

# -- the seed snippets (in user_objectives: worker processes import them) ----------------------


def d2l_torch_objective(learning_rate, batch_size, max_epochs=3):
    """d2l's form, reporting torch tensors."""
    for epoch in range(1, max_epochs + 1):
        rung.report(epoch=epoch, validation_error=torch.tensor([(np.log10(learning_rate) + 1) ** 2 + 1 / batch_size / epoch]))


@pytest.mark.parametrize("backend", ["inprocess", "process"])
def test_d2l_keyword_objective_runs_with_a_d2l_scipy_space(backend):
    space = {"learning_rate": stats.loguniform(1e-2, 1), "batch_size": stats.randint(32, 256)}
    objective = d2l_torch_objective if backend == "inprocess" else d2l_objective
    result = rung.Tuner(objective, space, metric="validation_error", mode="min", max_trials=4,
                        backend=backend, n_workers=1, storage=":memory:", verbose=0, seed=0).run()
    assert result.count("completed") == 4, result.trials[["status", "error"]]
    for trial in result.trial_records:
        assert trial.n_reports == 3
        lr, bs = trial.config["learning_rate"], trial.config["batch_size"]
        assert trial.metric_value == pytest.approx((np.log10(lr) + 1) ** 2 + 1 / bs / 3, rel=1e-6)


@pytest.mark.parametrize("backend", ["inprocess"])
def test_syne_tune_kwargs_function_returning_a_0d_array_runs(backend):
    space = {"x": rung.uniform(0, 1), "width": rung.choice(16, 32, 64)}
    result = rung.Tuner(syne_tune_function, space, metric="loss", mode="min", max_trials=4,
                        backend=backend, n_workers=1, storage=":memory:", verbose=0, seed=1).run()
    assert result.count("completed") == 4, result.trials[["status", "error"]]
    for trial in result.trial_records:
        assert trial.metric_value == pytest.approx((trial.config["x"] - 0.3) ** 2 + trial.config["width"] / 1000)


def test_a_keyword_objective_on_a_conditional_space_gets_only_the_active_entries():
    def objective(optimizer, lr, momentum=None):
        assert (momentum is not None) == (optimizer == "sgd")
        return lr if momentum is None else lr + momentum

    space = {"optimizer": rung.choice("sgd", "adam"), "lr": rung.loguniform(1e-3, 1),
             "momentum": rung.uniform(0, 0.9).when("optimizer", "==", "sgd")}
    result = rung.Tuner(objective, space, metric="loss", max_trials=10, backend="inprocess",
                        storage=":memory:", verbose=0, seed=3).run()
    assert result.count("completed") == 10
    assert {t.config["optimizer"] for t in result.trial_records} == {"sgd", "adam"}


# -- which call ------------------------------------------------------------------------------------


def test_the_call_form_follows_the_signature():
    config = {"a": 1, "b": 2}
    assert call_objective(lambda config: sorted(config), config) == ["a", "b"]  # rung's own form
    assert call_objective(lambda a, b: a * 10 + b, config) == 12
    assert call_objective(lambda **kw: sorted(kw), config) == ["a", "b"]
    assert call_objective(lambda a, **kw: (a, kw), config) == (1, {"b": 2})
    assert call_objective(lambda cfg, **kw: cfg, config) == config  # one positional: the dict
    assert call_objective(lambda *args: args, config) == (config,)

    class Callable_:
        def __call__(self, config):
            return config["a"]

    assert call_objective(Callable_(), config) == 1
    assert call_objective(dict, config) == config  # no usable signature: the dict


def test_a_signature_that_fits_neither_form_fails_the_trial_saying_why():
    def objective(learning_rate, batch_size, momentum):
        return 0.0

    with pytest.raises(TypeError) as info:
        call_objective(objective, {"learning_rate": 0.1, "batch_size": 32})
    message = str(info.value)
    assert "the config has no 'momentum'" in message and "objective(**config)" in message
    with pytest.raises(TypeError, match="takes no parameter 'extra'"):
        call_objective(lambda a, b: 0, {"a": 1, "b": 2, "extra": 3})

    # a conditional parameter the function requires: the trials where it is inactive fail, saying why
    def needs_momentum(optimizer, momentum):
        return momentum

    space = {"optimizer": rung.choice("sgd", "adam"), "momentum": rung.uniform(0, 1).when("optimizer", "==", "sgd")}
    result = rung.Tuner(needs_momentum, space, metric="loss", max_trials=6, backend="inprocess",
                        storage=":memory:", verbose=0, seed=0).run()
    failed = [t for t in result.trial_records if t.status.value == "failed"]
    assert failed and all(t.config["optimizer"] == "adam" for t in failed)
    assert all("the config has no 'momentum'" in t.error for t in failed)


# -- numbers from numpy and torch --------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        (np.float32(0.5), 0.5), (np.float64(0.25), 0.25), (np.int64(3), 3), (np.array(0.5), 0.5),
        (np.array([0.5]), 0.5), (torch.tensor(0.5), 0.5), (torch.tensor([0.25]), 0.25),
        (torch.tensor([[2]]), 2), (torch.tensor(1.0, requires_grad=True) * 2, 2.0),
    ],
)
def test_one_element_numpy_and_torch_values_are_numbers(value, expected):
    number = plain_number(value)
    assert number == expected and type(number) in (int, float)
    assert plain_result({"loss": value, "name": "x"}) == {"loss": expected, "name": "x"}


def test_several_element_arrays_bools_and_strings_stay_what_they_are():
    array = np.array([1.0, 2.0])
    assert plain_number(array) is array
    assert plain_number(True) is True and plain_number("0.5") == "0.5"
    assert isinstance(plain_number(torch.tensor([1.0, 2.0])), torch.Tensor)


@pytest.mark.parametrize("backend", ["inprocess", "process"])
def test_reports_and_returns_of_numpy_and_torch_values_are_accepted(backend):
    objective = _tensor_objective if backend == "inprocess" else numpy_numbers
    result = rung.Tuner(objective, {"x": rung.uniform(0, 1)}, metric="loss", max_trials=2,
                        backend=backend, n_workers=1, storage=":memory:", verbose=0, seed=0).run()
    assert result.count("completed") == 2, result.trials[["status", "error"]]
    assert result.reports["loss"].map(type).eq(float).all()
    assert set(result.reports.columns) >= {"epoch", "loss", "accuracy"}


def _tensor_objective(config):
    rung.report(epoch=np.int64(1), loss=torch.tensor(config["x"]), accuracy=np.float32(0.5))
    return {"loss": np.array([config["x"] / 2])}


def test_a_returned_array_of_several_numbers_is_still_refused():
    result = rung.Tuner(lambda c: np.array([1.0, 2.0]), {"x": rung.uniform(0, 1)}, metric="loss",
                        max_trials=1, backend="inprocess", storage=":memory:", verbose=0).run()
    assert result.count("failed") == 1 and "ndarray" in result.trial_records[0].error


# -- item 13: tracebacks name the user's file ------------------------------------------------------

SCRIPT = '''
import linecache
import rung

def objective(config):
    x = config["x"]
    raise ValueError(f"bad x {x}")  # line 7

# What a notebook kernel does: the cell's code has a file name that is not on disk, and its
# source lives in linecache only.
cell = "/tmp/ipykernel_4242/does-not-exist-cell.py"
source = "def from_cell(config):\\n    scale = 2\\n    raise ValueError('from the cell')\\n"
linecache.cache[cell] = (len(source), None, source.splitlines(True), cell)
exec(compile(source, cell, "exec"), globals())

if __name__ == "__main__":
    for function in (objective, from_cell):
        result = rung.Tuner(function, {"x": rung.uniform(0, 1)}, metric="loss", max_trials=1,
                            backend="process", n_workers=1, storage=":memory:", verbose=0).run()
        print(result.trial_records[0].traceback)
        print("=" * 20)
'''


def test_worker_tracebacks_of_main_script_and_notebook_objectives_name_the_users_file_and_line(tmp_path):
    path = tmp_path / "user_script.py"
    path.write_text(SCRIPT)
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    script, notebook = done.stdout.split("=" * 20)[:2]
    assert "<dynamic-code>" not in done.stdout
    assert f'File "{path}", line 7, in objective' in script
    assert 'raise ValueError(f"bad x {x}")' in script  # the source line itself
    assert 'File "/tmp/ipykernel_4242/does-not-exist-cell.py", line 3, in from_cell' in notebook
    assert "raise ValueError('from the cell')" in notebook  # sent along: the file is not on disk


def test_a_keyword_objective_that_cannot_take_the_spaces_configs_is_refused_before_any_trial():
    def objective(learning_rate, batch_size, momentum):
        return 0.0

    space = {"learning_rate": rung.uniform(0, 1), "batch_size": rung.choice(32, 64)}
    with pytest.raises(TypeError) as info:
        rung.Tuner(objective, space, metric="loss", max_trials=1, backend="inprocess", storage=":memory:")
    assert "with this space's configs" in str(info.value) and "the config has no 'momentum'" in str(info.value)
    with pytest.raises(TypeError, match="takes no parameter 'extra'"):
        rung.Tuner(lambda learning_rate, batch_size: 0.0, {**space, "extra": rung.uniform(0, 1)},
                   metric="loss", max_trials=1, backend="inprocess", storage=":memory:")
    # the names a scheduler adds count: d2l's max_epochs comes from max_resource_attr
    def d2l(learning_rate, batch_size, max_epochs):
        for epoch in range(1, max_epochs + 1):
            rung.report(epoch=epoch, loss=learning_rate / epoch)

    asha = rung.schedulers.ASHA("epoch", max_resource=4, max_resource_attr="max_epochs")
    result = rung.Tuner(d2l, space, metric="loss", scheduler=asha, max_trials=4, backend="inprocess",
                        storage=":memory:", verbose=0, seed=0).run()
    assert result.count("failed") == 0
    assert max(t.n_reports for t in result.trial_records) <= 4
