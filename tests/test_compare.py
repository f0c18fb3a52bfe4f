"""``rung.compare`` and ``rung compare``: methods over seeds, stored, scored and drawn.

A simulated problem runs on the simulator backend, so every run takes milliseconds and its
times are exact; the scores are checked against the runs read back from the store.
"""

import math
import textwrap

import numpy as np
import pytest

import rung
from rung.backends import SimulatedProblem
from rung.cli import main
from rung.compare import scoring
from rung.storage import MemoryStorage, open_storage

EPOCHS = 9


class Curve(SimulatedProblem):
    """Loss decays over epochs to 10 * (x - 0.3)^2; one epoch takes 1 + x simulated seconds."""

    def steps(self, config, start_step):
        for epoch in range(start_step + 1, EPOCHS + 1):
            yield 1.0 + config["x"], {"epoch": epoch, "loss": 10 * (config["x"] - 0.3) ** 2 + 1.0 / epoch}


curve = Curve()
SPACE = {"x": rung.uniform(0, 1)}
SETTINGS = dict(metric="loss", max_trials=8, n_workers=2, resource_attr="epoch", max_resource=EPOCHS)


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    url = tmp_path_factory.mktemp("compare") / "store.db"
    seen = []
    comparison = rung.compare(curve, SPACE, methods=["random", "tpe", "asha"], seeds=3, name="cmp", storage=url,
                              jobs=2, on_run=seen.append, **SETTINGS)
    return url, comparison, seen


def final_of(experiment, url):
    """The best loss among the run's completed trials, straight from the store."""
    result = rung.load(experiment, url)
    values = [t.metric_value for t in result.trial_records if t.status.value == "completed"]
    return min(values)


def test_every_method_and_seed_is_a_stored_experiment(stored):
    url, comparison, seen = stored
    runs = comparison.runs
    assert list(zip(runs["method"], runs["seed"])) == [(m, s) for m in ("random", "tpe", "asha") for s in range(3)]
    assert sorted((r.method, r.seed) for r in seen) == sorted(zip(runs["method"], runs["seed"]))
    store = open_storage(url)
    try:
        names = {e.name for e in store.list_experiments()}
        record = store.require_experiment("cmp")
    finally:
        store.dispose()
    assert set(runs["experiment"]) | {"cmp"} == names
    assert record.status == "finished" and record.settings["comparison"]["methods"] == ["random", "tpe", "asha"]
    for row in runs.itertuples():
        assert row.experiment == f"cmp.{row.method}.s{row.seed}"
        assert row.final == final_of(row.experiment, url)
        assert row.trials == 8
    asha = rung.load("cmp.asha.s0", url)
    assert asha.count("stopped") > 0  # ASHA really stopped trials early


def test_summary_final_values_and_time_to_target(stored):
    url, comparison, _ = stored
    runs = comparison.runs
    target = float(np.median(runs[runs.method == "random"]["final"]))
    assert comparison.default_target() == target
    summary = comparison.summary().set_index("method")
    for method in ("random", "tpe", "asha"):
        finals = runs[runs.method == method]["final"].to_numpy()
        row = summary.loc[method]
        assert row["final_mean"] == pytest.approx(finals.mean())
        half = 4.302652729911275 * finals.std(ddof=1) / math.sqrt(3)  # t(0.975, 2)
        assert row["final_high"] - row["final_mean"] == pytest.approx(half)
        assert row["final_best"] == finals.min() and row["target"] == target
        times = []
        for experiment in runs[runs.method == method]["experiment"]:
            result = rung.load(experiment, url)
            done = sorted((t.ended_at, t.metric_value) for t in result.trial_records if t.status.value == "completed")
            times.append(next((t for t, v in done if v <= target), math.inf))
        assert row["median_time_to_target"] == sorted(times)[1]  # lower median of three
        assert row["reached"] == sum(math.isfinite(t) for t in times)
    assert summary.loc["random", "reached"] >= 2  # its own median is reached by half of its seeds


def test_curves_are_mean_and_band_of_the_incumbents(stored):
    _, comparison, _ = stored
    curves = comparison.curves(points=20)
    horizon = comparison.horizon()
    assert curves["time"].max() == pytest.approx(horizon)
    for method in comparison.methods:
        line = curves[curves.method == method]
        records = [r for r in comparison.run_records if r.method == method]
        at = np.array([scoring.incumbent_at(r.steps, line["time"].to_numpy()) for r in records])
        complete = ~np.isnan(at).any(axis=0)
        assert np.allclose(line["mean"].to_numpy()[complete], at[:, complete].mean(axis=0))
        assert line["mean"].to_numpy()[~complete].tolist() == [] or np.isnan(line["mean"].to_numpy()[~complete]).all()
        finite = line["mean"].dropna().to_numpy()
        assert (np.diff(finite) <= 1e-12).all()  # an incumbent never gets worse


def test_plots_draw_the_curves(stored, tmp_path):
    _, comparison, _ = stored
    from rung.compare._draw import comparison_figure

    curves = comparison.curves(points=50)
    fig = comparison_figure(comparison, points=50)
    axes = fig.axes[0]
    lines = {line.get_gid(): line for line in axes.get_lines()}
    for method in comparison.methods:
        drawn = lines[f"mean-{method}"]
        line = curves[curves.method == method]
        assert np.allclose(drawn.get_xdata(), line["time"]) and np.allclose(drawn.get_ydata(), line["mean"],
                                                                          equal_nan=True)
    assert [c.get_gid() for c in axes.collections] == [f"band-{m}" for m in comparison.methods]
    assert axes.get_xlabel() == "simulated seconds" and "best loss" in axes.get_ylabel()
    assert [t.get_text() for t in axes.get_legend().get_texts()] == comparison.methods
    assert comparison.plot(tmp_path / "cmp.png").stat().st_size > 5000
    figure = comparison.figure(points=50)
    means = [trace for trace in figure.data if trace.name in comparison.methods]
    assert [trace.name for trace in means] == comparison.methods
    assert "final_mean" in comparison._repr_html_()


def test_a_stored_comparison_loads_and_lists(stored):
    url, comparison, _ = stored
    assert rung.compare.list_comparisons(url) == ["cmp"]
    again = rung.compare.load_comparison("cmp", url)
    assert again.summary().equals(comparison.summary())
    assert again.runs.equals(comparison.runs)


def test_running_it_again_reuses_the_finished_runs(stored):
    url, comparison, _ = stored
    seen = []
    again = rung.compare(curve, SPACE, methods=["random", "tpe", "asha"], seeds=3, name="cmp", storage=url,
                         on_run=seen.append, **SETTINGS)
    assert seen == [] and again.runs.equals(comparison.runs)
    with pytest.raises(ValueError, match="has methods \\['random', 'tpe', 'asha'\\]"):
        rung.compare(curve, SPACE, methods=["random"], seeds=3, name="cmp", storage=url, **SETTINGS)


@pytest.mark.parametrize("change, message", [
    ({"methods": ["random", "nope"]}, "unknown method 'nope'"),
    ({"methods": ["random", "random"]}, "more than once"),
    ({"methods": "random"}, "non-empty list"),
    ({"seeds": 0}, "seeds must be a positive count"),
    ({"seeds": [1, 1]}, "more than once"),
    ({"resource_attr": None}, "stop trials early: pass resource_attr="),
    ({"max_trials": None}, "needs a budget"),
    ({"name": "bad/name"}, "name must not contain path separators"),
    ({"jobs": 0}, "jobs must be a positive integer"),
    ({"metric": None}, "metric is required"),
])
def test_bad_arguments_are_refused_before_any_run(change, message):
    store = MemoryStorage()
    kwargs = {**SETTINGS, "methods": ["random", "asha"], "seeds": 2, "storage": store, **change}
    with pytest.raises((ValueError, TypeError), match=message):
        rung.compare(curve, SPACE, **kwargs)
    assert store.list_experiments() == []


def test_combined_method_names_and_an_in_memory_store_run_in_process():
    store = MemoryStorage()
    statuses = []
    with pytest.warns(UserWarning, match="jobs=4 ignored"):
        comparison = rung.compare(curve, SPACE, methods=["random+median", "tpe+asha"], seeds=[5], storage=store,
                                  jobs=4, name="mem",
                                  on_run=lambda run: statuses.append(store.require_experiment("mem").status),
                                  **SETTINGS)
    assert statuses == ["running", "running"] and store.require_experiment("mem").status == "finished"
    assert comparison.runs["experiment"].tolist() == ["mem.random+median.s5", "mem.tpe+asha.s5"]
    settings = store.require_experiment("mem.tpe+asha.s5").settings
    assert (settings["searcher"], settings["scheduler"]) == ("TPE", "ASHA")


def test_the_cli_compares_the_methods_of_a_spec(tmp_path, capsys):
    (tmp_path / "problem.py").write_text(textwrap.dedent("""
        from rung.backends import SimulatedProblem

        class Curve(SimulatedProblem):
            def steps(self, config, start_step):
                for epoch in range(start_step + 1, 10):
                    yield 1.0, {"epoch": epoch, "loss": (config["x"] - 0.3) ** 2 + 1.0 / epoch}

        curve = Curve()
    """))
    (tmp_path / "spec.yaml").write_text(textwrap.dedent("""
        name: cli-problem
        trial: {function: "problem:curve"}
        space: {x: {type: uniform, low: 0.0, high: 1.0}}
        metric: loss
        scheduler: {name: asha, resource_attr: epoch, max_resource: 9}
        budget: {max_trials: 6, max_concurrent: 2}
    """))
    url = str(tmp_path / "cli.db")
    code = main(["compare", str(tmp_path / "spec.yaml"), "--methods", "random", "asha", "--seeds", "2",
                 "--name", "clicmp", "--storage", url, "--jobs", "1", "--plot", str(tmp_path / "c.png")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "clicmp" in out and "random" in out and "asha" in out and "time to target" in out
    assert err.count("done: ") == 4 and (tmp_path / "c.png").exists()
    loaded = rung.compare.load_comparison("clicmp", url)
    assert loaded.runs["trials"].tolist() == [6, 6, 6, 6]
    assert main(["compare", str(tmp_path / "spec.yaml"), "--methods", "bogus", "--storage", url]) == 2
    assert "unknown method 'bogus'" in capsys.readouterr().err


def quadratic(config):
    return (config["x"] - 0.3) ** 2


def test_a_plain_function_runs_in_worker_processes_on_the_wall_clock(tmp_path):
    comparison = rung.compare(quadratic, SPACE, metric="loss", methods=["random", "tpe"], seeds=2, max_trials=5,
                              storage=tmp_path / "s.db", jobs=2, name="wall")
    assert comparison.clock == "wall-clock (s)"
    runs = comparison.runs
    assert runs["trials"].tolist() == [5, 5, 5, 5]
    for row in runs.itertuples():
        result = rung.load(row.experiment, tmp_path / "s.db")
        assert row.final == min(t.metric_value for t in result.trial_records)
        assert result.stop_reason == "max_trials"


_FORK_CHECK = textwrap.dedent("""
    import sys, threading, warnings
    import rung

    def quadratic(config):
        return {"loss": (config["x"] - 0.3) ** 2}

    space, where = {"x": rung.uniform(0, 1)}, sys.argv[1]
    importer = threading.Thread(target=lambda: __import__("time").sleep(0.5), name="rung-imports")
    importer.start()  # ends by itself: waited for, then the runs fork
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        first = rung.compare(quadratic, space, metric="loss", methods=["tpe"], seeds=2, max_trials=4,
                             storage=where + "/a.db", jobs=2, name="a")
    assert not importer.is_alive() and first.runs["trials"].tolist() == [4, 4]
    release = threading.Event()
    other = threading.Thread(target=release.wait, name="someone-else")
    other.start()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            second = rung.compare(quadratic, space, metric="loss", methods=["tpe"], seeds=2, max_trials=4,
                                  storage=where + "/b.db", jobs=2, name="b")
    finally:
        release.set()
        other.join()
    print([str(w.message) for w in caught if "one after another" in str(w.message)])
    assert second.runs["final"].tolist() == first.runs["final"].tolist()  # same seeds, same results
""")


def test_forks_only_when_no_other_thread_could_hold_an_import_lock(tmp_path):
    # in a fresh interpreter: threads other tests leave behind (Ray's, for one) would change the answer
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _FORK_CHECK, str(tmp_path)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert "one after another: threads ['someone-else'] are running" in done.stdout
