"""The notebook views: plotly figures draw the same data as the files; results render as HTML."""

import numpy as np
import plotly.graph_objects as go
import pytest

import rung
from rung.backends import SimulatedProblem
from rung.plots import data as views
from rung.plots import figures
from rung.plots._style import outcome_colors
from rung.schedulers import ASHA
from rung.storage import MemoryStorage

EPOCHS = 9


class Curve(SimulatedProblem):
    def steps(self, config, start_step):
        for epoch in range(start_step + 1, EPOCHS + 1):
            yield 1.0, {"epoch": epoch, "loss": 100 * (config["x"] - 0.3) ** 2 + 1.0 / epoch}


SPACE = {"x": rung.uniform(0, 1), "lr": rung.loguniform(1e-4, 1e-1), "kind": rung.choice(["<b>bold</b>", "plain"])}


@pytest.fixture(scope="module")
def result():
    store = MemoryStorage()
    rung.Tuner(Curve(), SPACE, metric="loss", max_trials=20, seed=1, scheduler=ASHA(max_resource=EPOCHS),
               backend="simulator", n_workers=2, verbose=0, storage=store, experiment="fig").run()
    return rung.load("fig", store)


def by_trial(result):
    return sorted(result.trial_records, key=lambda t: t.trial_id)


def test_learning_curves_one_trace_per_trial_with_its_reports_and_outcome_colour(result):
    fig = result.figure("learning_curves")
    assert isinstance(fig, go.Figure)
    ends = views.outcomes(result)
    colors = outcome_colors(ends.values())
    assert [trace.name for trace in fig.data] == views.ordered_outcomes(ends.values())
    for trace in fig.data:
        assert trace.line.color == colors[trace.name]
        ids = sorted(t for t, o in ends.items() if o == trace.name)
        expected_x, expected_y = [], []
        for trial_id in ids:
            group = result.reports[result.reports.trial_id == trial_id]
            if expected_x:
                expected_x.append(None)
                expected_y.append(None)
            expected_x += group["epoch"].tolist()
            expected_y += group["loss"].tolist()
        assert list(trace.x) == expected_x
        assert [v is None for v in trace.y] == [v is None for v in expected_y]
        assert np.allclose([v for v in trace.y if v is not None], [v for v in expected_y if v is not None])
        assert set(trace.customdata) - {None} == set(ids)
    assert sorted(shape.x0 for shape in fig.layout.shapes) == result.decision_levels()
    assert fig.layout.xaxis.title.text == "epoch" and fig.layout.yaxis.title.text == "loss"


def test_incumbent_figure_has_time_trials_and_the_time_split(result):
    fig = figures.incumbent(result)
    over_time, trials, incumbent_trials, split = fig.data
    expected = [(p.elapsed, p.best_value) for p in result.trajectory_points]
    assert list(zip(over_time.x, over_time.y))[:len(expected)] == expected
    assert list(split.x) == pytest.approx([result.decision_time, result.trial_time, result.wallclock])
    assert fig.layout.xaxis.title.text == "wall-clock (s)" and fig.layout.xaxis2.title.text == "trials finished"


def test_metric_per_rung_figure_ticks_exactly_the_levels_and_highlights_the_best(result):
    fig = figures.metric_per_rung(result)
    assert list(fig.layout.xaxis.tickvals) == [1, 3, 9] and list(fig.layout.xaxis.ticktext) == ["1", "3", "9"]
    best = fig.data[-1]
    assert best.name == f"best trial ({result.best_trial.trial_id})"
    reports = result.reports[result.reports.trial_id == result.best_trial.trial_id].set_index("epoch")["loss"]
    assert np.allclose(best.y, [reports[level] for level in best.x])


def test_parallel_coordinates_dimensions_hold_the_configs(result):
    (parcoords,) = figures.parallel_coordinates(result).data
    labels = [d.label for d in parcoords.dimensions]
    assert labels == ["x", "lr", "kind", "loss"]
    trials = by_trial(result)
    assert np.allclose(parcoords.dimensions[0].values, [t.config["x"] for t in trials])
    assert np.allclose(parcoords.dimensions[1].values, [np.log10(t.config["lr"]) for t in trials])
    assert list(parcoords.dimensions[2].ticktext) == ["<b>bold</b>", "plain"]
    assert np.allclose(parcoords.line.color, [t.metric_value for t in trials])


def test_scatter_slices_importance_and_timeline_figures(result):
    trials = by_trial(result)
    (points,) = result.figure("scatter", params=["x", "lr"]).data
    assert np.allclose(points.x, [t.config["x"] for t in trials]) and np.allclose(points.y, [t.config["lr"] for t in trials])
    (cloud,) = result.figure("scatter3d", params=["x", "lr"]).data
    assert np.allclose(cloud.z, [t.metric_value for t in trials])
    slices = result.figure("slices")
    assert [trace.name for trace in slices.data] == ["x", "lr", "kind"]
    importance = result.figure("importance")
    assert list(importance.data[0].y) == list(views.importance(result)["param"])
    timeline = result.figure("timeline")
    table = views.timeline(result)
    drawn = sorted((t, b, w) for trace in timeline.data for t, b, w in zip(trace.customdata, trace.base, trace.x))
    expected = sorted(zip(table["trial_id"], table["start"], table["end"] - table["start"]))
    assert np.allclose(np.array(drawn, dtype=float), np.array(expected, dtype=float))
    assert timeline.layout.yaxis.title.text == "worker slot"
    with pytest.raises(ValueError, match="unknown view 'nope'"):
        result.figure("nope")


def test_result_renders_as_escaped_html_with_its_best_trials(result):
    page = result._repr_html_()
    best = result.best_trial
    assert "fig" in page and f"{best.metric_value:.6g}" in page and f"(trial {best.trial_id})" in page
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt;" in page
    assert page.count("<tr>") >= 10  # headline rows and ten trials
    assert "decision time" in page and "training time" in page
    table = result.trials._repr_html_()  # the trials table is a DataFrame: Jupyter shows it as HTML
    assert table.count("<tr") == len(result.trial_records) + 1
