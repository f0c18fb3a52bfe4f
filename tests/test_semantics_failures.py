"""Issue 13, item 12: every failure visible. Each distinct error is shown once with its
traceback as it happens; the first trials all failing the same way end the experiment with a
reason, a warning and ``stop_reason``."""

from __future__ import annotations

import warnings

import pytest

import rung
from objectives import misbehaving
from rung.tuner._failures import FailureWatch, error_signature
from rung.trial._record import Trial, TrialStatus

SPACE = {"x": rung.uniform(0, 1)}


def _tune(objective, space=SPACE, **options):
    options = {"metric": "loss", "backend": "inprocess", "storage": ":memory:", "verbose": 0, "seed": 1,
               "max_trials": 50, "searcher": "random", **options}
    return rung.Tuner(objective, space, **options).run()


def wrong_path(config):
    with open(f"/nonexistent/data-{config['x']:.3f}.csv") as f:  # a message that differs per trial
        return len(f.read())


def two_errors(config):
    if config["x"] < 0.5:
        raise ValueError(f"bad learning rate {config['x']:.3f}")
    raise KeyError("layers")


def mostly_failing(config):
    if config["x"] > 0.2:
        raise ValueError("diverged")
    return config["x"]


def test_the_first_five_trials_failing_alike_end_the_experiment_with_a_warning():
    with pytest.warns(RuntimeWarning) as caught:
        result = _tune(wrong_path)
    assert len(result.trial_records) == 5  # not 50
    assert result.count("failed") == 5
    assert result.stop_reason == "initial_failures"
    message = str(caught[0].message)
    assert "the first 5 trials all failed with the same error and none succeeded" in message
    assert "FileNotFoundError" in message and "(trial 0;" in message
    assert "Traceback (most recent call last)" in message and "wrong_path" in message


@pytest.mark.parametrize("limit, trials", [(3, 3), (1, 1), (None, 12)])
def test_the_number_of_initial_failures_is_configurable(limit, trials):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = _tune(wrong_path, max_trials=12, max_initial_failures=limit)
    assert len(result.trial_records) == trials
    assert result.stop_reason == ("max_trials" if limit is None else "initial_failures")


def test_different_errors_do_not_end_the_experiment_early():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        result = _tune(two_errors, max_trials=12)
    kinds = {t.error.split(":")[0] for t in result.trial_records}
    assert kinds == {"ValueError", "KeyError"}
    assert len(result.trial_records) == 12 and result.stop_reason == "max_trials"


def test_a_success_among_the_first_trials_keeps_the_experiment_going():
    # Seed 1 draws x <= 0.2 for one of the first five trials (checked below).
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        result = _tune(mostly_failing, max_trials=10)
    first = result.trial_records[:5]
    assert any(t.status is TrialStatus.COMPLETED for t in first)
    assert len(result.trial_records) == 10 and result.stop_reason == "max_trials"


def test_invalid_max_initial_failures_is_named():
    with pytest.raises(ValueError, match="max_initial_failures must be a positive integer, got max_initial_failures=0"):
        rung.Tuner(wrong_path, SPACE, metric="loss", max_trials=3, max_initial_failures=0)


def test_worker_processes_stop_early_too():
    space = {"kind": "raise"}
    with pytest.warns(RuntimeWarning, match="ValueError: bad learning rate"):
        result = rung.Tuner(misbehaving, space, metric="loss", backend="process", n_workers=1, max_trials=20,
                            storage=":memory:", verbose=0, searcher="random").run()
    assert result.stop_reason == "initial_failures"
    assert len(result.trial_records) == 5


def test_the_console_shows_each_distinct_error_once_with_its_traceback(capsys):
    _tune(two_errors, max_trials=10, verbose=1)
    err = capsys.readouterr().err
    assert err.count("Traceback (most recent call last)") == 2  # two distinct errors, each once
    assert err.count("failed: ValueError: bad learning rate") == 1
    assert err.count("failed: KeyError: 'layers'") == 1
    assert "in two_errors" in err
    assert "trials failed with ValueError at" in err  # the end counts the repeats


def test_the_console_says_why_the_experiment_stopped(capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        _tune(wrong_path, verbose=1)
    err = capsys.readouterr().err
    assert err.count("Traceback (most recent call last)") == 1
    assert "stopped by initial_failures" in err


# -- the rule, on scripted trials ------------------------------------------------------------
def _failed(trial_id, error, traceback=None):
    return Trial(trial_id=trial_id, config={}, status=TrialStatus.FAILED, error=error, traceback=traceback)


TB = 'Traceback (most recent call last):\n  File "/home/u/train.py", line {line}, in train\n    x()\nValueError: no\n'


def test_error_signature_ignores_numbers_in_messages_but_not_the_raising_line():
    a = error_signature("ValueError: lr=0.1 too big", TB.format(line=12))
    b = error_signature("ValueError: lr=0.3 too big", TB.format(line=12))
    c = error_signature("ValueError: lr=0.3 too big", TB.format(line=40))
    assert a == b == "ValueError at /home/u/train.py:12"
    assert c != a
    assert error_signature("the trial exited with code 3 (sys.exit) before finishing", None) == \
        error_signature("the trial exited with code 4 (sys.exit) before finishing", None)
    assert error_signature("killed by SIGSEGV", None) != error_signature("exited with code 3", None)


def test_failure_watch_fires_once_at_the_limit_and_never_after_a_success():
    watch = FailureWatch(3)
    assert [watch.observe(_failed(i, "ValueError: x", TB.format(line=1))) for i in range(2)] == [None, None]
    detail = watch.observe(_failed(2, "ValueError: x", TB.format(line=1)))
    assert detail is not None and detail.startswith("the first 3 trials all failed")
    assert watch.observe(_failed(3, "ValueError: x", TB.format(line=1))) is None  # once
    watch = FailureWatch(2)
    ok = Trial(trial_id=0, config={}, status=TrialStatus.COMPLETED, metric_value=1.0)
    assert watch.observe(ok) is None
    assert [watch.observe(_failed(i, "ValueError: x", TB.format(line=1))) for i in (1, 2, 3)] == [None] * 3
    watch = FailureWatch(2)
    assert watch.observe(_failed(0, "ValueError: x", TB.format(line=1))) is None
    assert watch.observe(_failed(1, "KeyError: y", TB.format(line=2))) is None  # not alike
    assert watch.observe(_failed(2, "KeyError: y", TB.format(line=2))) is None  # the first ones differ


@pytest.mark.parametrize("line, expected", [("", 5), ("  max_initial_failures: 2\n", 2),
                                            ("  max_initial_failures: null\n", None)])
def test_a_spec_sets_max_initial_failures(tmp_path, line, expected):
    from rung.spec import load_spec

    (tmp_path / "failing_objectives.py").write_text("def f(config):\n    raise ValueError('no')\n")
    path = tmp_path / "spec.yaml"
    path.write_text(
        "name: failing\ntrial:\n  function: failing_objectives:f\nspace:\n  x: {type: uniform, low: 0, high: 1}\n"
        "metric: loss\nbudget:\n  max_trials: 9\n" + line + "backend: inprocess\n"
    )
    import sys

    sys.path.insert(0, str(tmp_path))
    try:
        tuner = load_spec(path).build_tuner(verbose=0, storage=":memory:")
        assert tuner.budgets.max_initial_failures == expected
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            result = tuner.run()
    finally:
        sys.path.remove(str(tmp_path))
    assert len(result.trial_records) == (9 if expected is None else expected)


def test_a_spec_refuses_a_bad_max_initial_failures(tmp_path):
    from rung.spec import SpecError, load_spec

    path = tmp_path / "spec.yaml"
    path.write_text("name: x\ntrial:\n  function: m:f\nspace:\n  x: 1.0\nmetric: loss\n"
                    "budget:\n  max_trials: 9\n  max_initial_failures: 0\n")
    with pytest.raises(SpecError, match="max_initial_failures: must be a positive integer, got 0"):
        load_spec(path)
