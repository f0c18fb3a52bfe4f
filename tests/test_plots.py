"""The views' data and the matplotlib figures that draw it, checked through the figure objects.

One seeded ASHA run on the simulator (three workers, 27 epochs) is made once and read back
from its store; every figure is checked against what the run recorded: each line's points,
colours by outcome, rung levels, ticks, labels, scales, bars and segments.
"""

import math

import matplotlib
import matplotlib.image
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.colors import to_hex

import rung
from rung.backends import SimulatedProblem
from rung.plots import data as views
from rung.plots import mpl
from rung.plots._style import BEST_COLOR, outcome_colors
from rung.schedulers import ASHA, FIFO, Decision
from rung.storage import MemoryStorage
from rung.storage._records import EventRecord, ExperimentRecord, LogSlice, ReportRecord, TrialRecord
from rung.trial._record import Trial, TrialStatus

matplotlib.use("Agg")
EPOCHS = 27


class Curve(SimulatedProblem):
    """Loss falls with epochs to a floor set by x (y and act barely matter); 1 + x s per epoch."""

    def steps(self, config, start_step):
        for epoch in range(start_step + 1, EPOCHS + 1):
            loss = 100 * (config["x"] - 0.3) ** 2 + 10.0 / epoch + 1e-3 * config["y"]
            yield 1.0 + config["x"], {"epoch": epoch, "loss": loss + (0.01 if config["act"] == "relu" else 0.0)}


SPACE = {"x": rung.uniform(0, 1), "y": rung.loguniform(1e-3, 10), "act": rung.choice(["relu", "tanh"])}


def run(name, store, scheduler, n_trials=30, **kw):
    rung.Tuner(Curve(), SPACE, metric="loss", max_trials=n_trials, seed=3, scheduler=scheduler,
               backend="simulator", n_workers=3, verbose=0, storage=store, experiment=name, **kw).run()
    return rung.load(name, store)


@pytest.fixture(scope="module")
def store():
    return MemoryStorage()


@pytest.fixture(scope="module")
def result(store):
    return run("asha", store, ASHA(max_resource=EPOCHS, reduction_factor=3))


def lines_by_gid(axes, prefix):
    return {line.get_gid(): line for line in axes.get_lines() if (line.get_gid() or "").startswith(prefix)}


def test_outcomes_name_the_rung_each_stopped_trial_was_stopped_at(result):
    ends = views.outcomes(result)
    reports = views.view_input(result).reports
    for trial in result.trial_records:
        if trial.status.value == "stopped":
            stop = reports[(reports.trial_id == trial.trial_id) & (reports.action == "stop")]
            assert ends[trial.trial_id] == f"stopped at {stop['rung'].iloc[0]:g}"
        else:
            assert ends[trial.trial_id] == trial.status.value
    assert {"completed", "stopped at 1", "stopped at 3"} <= set(ends.values())


def test_learning_curves_draw_every_report_coloured_by_outcome_with_rung_levels(result):
    fig = mpl.learning_curves(result)
    axes = fig.axes[0]
    ends = views.outcomes(result)
    colors = outcome_colors(ends.values())
    collections = {c.get_gid(): c for c in axes.collections}
    assert sorted(collections) == sorted(f"outcome-{o}" for o in set(ends.values()))
    for outcome, collection in collections.items():
        outcome = outcome[len("outcome-"):]
        trial_ids = sorted(t for t, o in ends.items() if o == outcome)
        segments = collection.get_segments()
        assert len(segments) == len(trial_ids)
        for trial_id, segment in zip(trial_ids, segments):
            group = result.reports[result.reports.trial_id == trial_id]
            assert list(segment[:, 0]) == list(group["epoch"])
            assert np.allclose(segment[:, 1], group["loss"])
        assert to_hex(collection.get_colors()[0]) == colors[outcome]
    rungs = lines_by_gid(axes, "rung-")
    assert sorted(float(line.get_xdata()[0]) for line in rungs.values()) == result.decision_levels() == [1, 3, 9, 27]
    assert axes.get_xlabel() == "epoch" and axes.get_ylabel() == "loss"
    legend = [t.get_text() for t in axes.get_legend().get_texts()]
    assert legend == views.ordered_outcomes(ends.values()) + ["rung level"]
    assert axes.get_yscale() == "log"  # 60 down to 0.4: more than two decades


def test_incumbent_over_time_and_trials_with_decision_and_training_time_apart(result):
    fig = mpl.incumbent(result)
    over_time, over_trials, split = fig.axes
    step = lines_by_gid(over_time, "incumbent-time")["incumbent-time"]
    expected = [(p.elapsed, p.best_value) for p in result.trajectory_points]
    assert list(zip(step.get_xdata(), step.get_ydata()))[:len(expected)] == expected
    assert step.get_xdata()[-1] == pytest.approx(result.wallclock)
    finished = sorted((t for t in result.trial_records if t.is_finished), key=lambda t: (t.ended_at, t.trial_id))
    best = np.minimum.accumulate([t.metric_value for t in finished])
    by_trials = lines_by_gid(over_trials, "incumbent-trials")["incumbent-trials"]
    assert np.allclose(by_trials.get_ydata(), best)
    assert list(by_trials.get_xdata()) == list(range(1, len(finished) + 1))
    widths = [patch.get_width() for patch in split.patches]
    assert widths == pytest.approx([result.decision_time, result.trial_time, result.wallclock])
    assert result.trial_time > result.wallclock  # three workers: more training than wall-clock
    for axes in fig.axes:
        assert axes.get_xlabel() and axes.get_ylabel()


def test_metric_per_rung_includes_the_top_rung_highlights_the_best_and_has_no_stray_ticks(result):
    data = views.metric_per_rung(result)
    assert data.levels == [1, 3, 9, 27]  # decision levels plus the top rung
    fig = mpl.metric_per_rung(result)
    axes = fig.axes[0]
    fig.canvas.draw()
    major = [t.get_text() for t in axes.get_xticklabels() if t.get_visible() and t.get_text()]
    minor = [t.get_text() for t in axes.get_xticklabels(minor=True) if t.get_visible() and t.get_text()]
    assert major == ["1", "3", "9", "27"] and minor == []
    best = result.best_trial
    line = lines_by_gid(axes, "best-")[f"best-{best.trial_id}"]
    assert to_hex(line.get_color()) == BEST_COLOR and line.get_linewidth() > 2
    reports = result.reports[result.reports.trial_id == best.trial_id].set_index("epoch")["loss"]
    assert list(line.get_xdata()) == [1, 3, 9, 27]
    assert np.allclose(line.get_ydata(), [reports[level] for level in (1, 3, 9, 27)])
    assert axes.get_xlabel() == "rung level (epoch)" and axes.get_ylabel() == "loss"
    # every other trial has one line through the levels it reached
    (others,) = [c for c in axes.collections if c.get_gid() == "trials"]
    rest = sorted(t.trial_id for t in result.trial_records if t.trial_id != best.trial_id)
    assert len(others.get_segments()) == len(rest)
    for trial_id, segment in zip(rest, others.get_segments()):
        reports = result.reports[result.reports.trial_id == trial_id].set_index("epoch")["loss"]
        reached = [lv for lv in (1, 3, 9, 27) if reports.index.max() >= lv]
        assert list(segment[:, 0]) == reached
        assert np.allclose(segment[:, 1], [reports[lv] for lv in reached])


def test_metric_per_rung_log_axis_only_when_values_span_decades(store):
    class Flat(SimulatedProblem):
        def steps(self, config, start_step):
            for epoch in range(start_step + 1, 10):
                yield 1.0, {"epoch": epoch, "loss": 1.0 + config["x"] + 1.0 / epoch}

    rung.Tuner(Flat(), {"x": rung.uniform(0, 1)}, metric="loss", max_trials=9, seed=0, backend="simulator",
               scheduler=ASHA(max_resource=9), verbose=0, storage=store, experiment="flat").run()
    flat = rung.load("flat", store)
    assert not views.metric_per_rung(flat).log_scale
    assert mpl.metric_per_rung(flat).axes[0].get_yscale() == "linear"
    assert views.metric_per_rung(views.view_input(rung.load("asha", store))).log_scale


def test_long_titles_wrap_inside_the_figure(store):
    name = "a-very-long-experiment-name-" * 6
    rung.Tuner(Curve(), SPACE, metric="loss", max_trials=4, seed=0, backend="simulator", verbose=0,
               storage=store, experiment=name[:-1]).run()
    fig = mpl.metric_per_rung(rung.load(name[:-1], store), levels=[1, EPOCHS])
    fig.canvas.draw()
    title = fig.axes[0].title
    assert title.get_text().replace("\n", "") .startswith(name[:-1].replace("-", "-"))
    assert "\n" in title.get_text()
    box, frame = title.get_window_extent(), fig.bbox
    assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and box.y1 <= frame.y1


def test_parallel_coordinates_one_scaled_line_per_trial_coloured_by_metric(result):
    fig = mpl.parallel_coordinates(result)
    axes = fig.axes[0]
    (lines,) = [c for c in axes.collections if c.get_gid() == "trials"]
    table = views.param_table(result).table
    assert len(lines.get_segments()) == len(table) == len(result.trial_records)
    assert np.allclose(lines.get_array(), table["value"])
    for segment in lines.get_segments():
        assert list(segment[:, 0]) == [0, 1, 2, 3]
        assert segment[:, 1].min() >= 0 and segment[:, 1].max() <= 1
    # x is linear, y log-scaled (loguniform), act categorical: its codes sit at 0 and 1
    row = table.iloc[0]
    x, y = table["x"], np.log10(table["y"])
    segment = lines.get_segments()[0]
    assert segment[0, 1] == pytest.approx((row["x"] - x.min()) / (x.max() - x.min()))
    assert segment[1, 1] == pytest.approx((math.log10(row["y"]) - y.min()) / (y.max() - y.min()))
    assert segment[2, 1] in (0.0, 1.0)
    assert [t.get_text() for t in axes.get_xticklabels()] == ["x", "y", "act", "loss"]
    assert views.param_table(result).categories == {"act": ["relu", "tanh"]}


def test_scatter_2d_and_3d_draw_the_chosen_parameters(result):
    fig = mpl.scatter(result, ["x", "y"])
    axes = fig.axes[0]
    (points,) = [c for c in axes.collections if c.get_gid() == "trials"]
    configs = [(t.config["x"], t.config["y"]) for t in sorted(result.trial_records, key=lambda t: t.trial_id)]
    assert np.allclose(points.get_offsets(), configs)
    assert np.allclose(points.get_array(), [t.metric_value for t in sorted(result.trial_records, key=lambda t: t.trial_id)])
    assert (axes.get_xlabel(), axes.get_ylabel(), axes.get_yscale()) == ("x", "y", "log")
    fig3 = mpl.scatter3d(result, ["x", "act"])
    axes3 = fig3.axes[0]
    (points3,) = [c for c in axes3.collections if c.get_gid() == "trials"]
    xs, ys, zs = points3._offsets3d
    ordered = sorted(result.trial_records, key=lambda t: t.trial_id)
    assert np.allclose(xs, [t.config["x"] for t in ordered])
    assert np.allclose(ys, [["relu", "tanh"].index(t.config["act"]) for t in ordered])
    assert np.allclose(zs, [t.metric_value for t in ordered])
    assert (axes3.get_xlabel(), axes3.get_ylabel(), axes3.get_zlabel()) == ("x", "act", "loss")
    with pytest.raises(ValueError, match="two parameters"):
        mpl.scatter(result, ["x"])
    with pytest.raises(ValueError, match="unknown parameter"):
        views.scatter(result, ["x", "nope"])


def test_slices_one_panel_per_parameter(result):
    fig = mpl.slices(result)
    visible = [a for a in fig.axes if a.get_visible() and a.collections]
    assert [a.get_xlabel() for a in visible] == ["x", "y", "act"]
    for axes, name in zip(visible, ["x", "y", "act"]):
        (points,) = axes.collections
        ordered = sorted(result.trial_records, key=lambda t: t.trial_id)
        expected = [t.config[name] if name != "act" else ["relu", "tanh"].index(t.config[name]) for t in ordered]
        assert np.allclose(points.get_offsets()[:, 0], expected)
        assert np.allclose(points.get_offsets()[:, 1], [t.metric_value for t in ordered])
        assert axes.get_ylabel() == "loss"


def test_importance_ranks_the_parameter_the_metric_depends_on_first(result):
    table = views.importance(result)
    assert list(table["param"])[0] == "x"
    assert table.set_index("param").loc["x", "importance"] > 10 * table.set_index("param").loc["y", "importance"]
    axes = mpl.importance(result).axes[0]
    assert [p.get_width() for p in axes.patches] == pytest.approx(list(table["importance"]))
    assert axes.get_ylabel() == "parameter" and "importance" in axes.get_xlabel()
    with pytest.raises(ValueError, match="at least 4 trials"):
        views.importance(views.ViewInput.from_result(result).__class__(**{
            **views.view_input(result).__dict__, "trial_records": result.trial_records[:3]}))


def test_timeline_packs_stays_on_at_most_n_workers_without_overlap(result):
    table = views.timeline(result)
    assert set(table["lane"]) == {0, 1, 2}
    for _, lane in table.groupby("lane"):
        lane = lane.sort_values("start")
        assert (lane["start"].to_numpy()[1:] >= lane["end"].to_numpy()[:-1] - 1e-9).all()
    axes = mpl.timeline(result).axes[0]
    drawn = []
    for collection in axes.collections:  # one per (outcome, lane): rectangles (x0, y0) .. (x1, y1)
        outcome, lane = collection.get_gid().split("@")
        for path in collection.get_paths():
            (x0, y0), (x1, y1) = path.vertices.min(axis=0), path.vertices.max(axis=0)
            drawn.append((outcome, int(lane), round(x0, 9), round(x1, 9), round((y0 + y1) / 2, 9)))
    expected = [(o, lane, round(s, 9), round(e, 9), float(lane))
                for o, lane, s, e in zip(table["outcome"], table["lane"], table["start"], table["end"])]
    assert sorted(drawn) == sorted(expected)
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("wall-clock (s)", "worker slot")
    assert [t.get_text() for t in axes.get_legend().get_texts()] == views.ordered_outcomes(table["outcome"])


def test_promoted_trials_have_one_stay_per_start(store):
    loaded = run("promotion", store, ASHA(max_resource=EPOCHS, reduction_factor=3, type="promotion"), n_trials=12)
    segments = views.view_input(loaded).segments
    counts = segments.groupby("trial_id").size()
    for trial in loaded.trial_records:
        assert counts[trial.trial_id] == trial.n_starts
    assert counts.max() > 1  # some trial was paused and resumed


def test_a_running_trial_shows_as_running_from_stored_records():
    experiment = ExperimentRecord(id=1, name="live", status="running", metric="loss", mode="min", seed=0,
                                  space={"x": {"type": "uniform", "low": 0.0, "high": 1.0}}, spec=None,
                                  settings={"scheduler_params": {"resource_attr": "epoch"}}, workdir=None,
                                  created_at=0.0, updated_at=0.0, elapsed=10.0, decision_time=0.5,
                                  stop_reason=None, stop_requested=False, owner="h:1")

    def row(trial_id, status, ended):
        return TrialRecord(trial_id=trial_id, config={"x": 0.1 * (trial_id + 1)}, status=status, created_at=0.0,
                           started_at=float(trial_id), ended_at=ended, run_time=0.0, n_reports=1, n_starts=1,
                           metric_value=None, last_metrics={}, resource=None, end_reason=None, error=None,
                           traceback=None)

    log = LogSlice(
        trials=[row(0, "stopped", 4.0), row(1, "running", None)],
        entries=[EventRecord(0, "start", 0, 0.0, {}), EventRecord(1, "start", 1, 1.0, {}),
                 ReportRecord(2, 0, 1, 2.0, {"epoch": 1, "loss": 3.0}, "stop", "bottom", {"rung": 1}),
                 ReportRecord(3, 1, 1, 3.0, {"epoch": 1, "loss": 2.0}, "continue", None, {}),
                 EventRecord(4, "end", 0, 4.0, {"status": "stopped"})],
        last_seq=4)
    src = views.ViewInput.from_log(experiment, log)
    assert src.guess_resource_attr() == "epoch"
    table = views.timeline(src)
    assert table[["trial_id", "lane", "start", "end", "outcome", "running"]].values.tolist() == [
        [0, 0, 0.0, 4.0, "stopped at 1", False], [1, 1, 1.0, 10.0, "running", True]]
    axes = mpl.timeline(src).axes[0]
    assert {c.get_gid(): c.get_hatch() for c in axes.collections} == {"stopped at 1@0": None, "running@1": "//"}
    curves = views.learning_curves(src)
    assert curves.points.values.tolist() == [[0, 1.0, 3.0, "stopped at 1"], [1, 1.0, 2.0, "running"]]


@pytest.mark.parametrize("view, options", [
    ("learning_curves", {}), ("incumbent", {}), ("metric_per_rung", {}), ("parallel_coordinates", {}),
    ("scatter", {"params": ["x", "y"]}), ("scatter3d", {"params": ["x", "y", "act"]}), ("slices", {}),
    ("importance", {}), ("timeline", {}),
])
def test_every_plot_method_writes_a_picture(result, tmp_path, view, options):
    path = getattr(result, f"plot_{view}")(tmp_path / f"{view}.png", **options)
    image = matplotlib.image.imread(path)
    assert image.shape[0] > 200 and image.shape[1] > 200
    assert image.std() > 0.01  # not a blank canvas


def test_a_live_result_plots_without_the_stored_log(tmp_path):
    live = rung.Tuner(Curve(), SPACE, metric="loss", max_trials=6, seed=0, backend="simulator", n_workers=2,
                      scheduler=ASHA(max_resource=EPOCHS), verbose=0, storage=":memory:").run()
    assert live.log_entries is None
    table = views.timeline(live)
    assert len(table) == 6 and set(table["lane"]) <= {0, 1}
    assert views.param_table(live).log_params == ["y"]  # from the space, not guessed
    assert live.plot_learning_curves(tmp_path / "c.png").exists()


class StopHalfAtRung3(FIFO):
    def on_report(self, trial, metrics):
        if metrics["epoch"] == 3 and trial.trial_id % 2:
            return Decision.stop("bottom half at rung 3", rung=3, value=metrics["loss"])
        return super().on_report(trial, metrics)


def curve(config):
    for epoch in range(1, 10):
        rung.report(epoch=epoch, loss=config["x"] + 1.0 / epoch)


def test_custom_scheduler_levels_and_explicit_levels(tmp_path):
    result = rung.Tuner(curve, {"x": rung.uniform(0, 1)}, metric="loss", max_trials=6, seed=0,
                        scheduler=StopHalfAtRung3(), backend="inprocess", verbose=0, storage=tmp_path / "s.db",
                        experiment="plots").run()
    assert result.decision_levels() == [3.0]
    assert views.metric_per_rung(result).levels == [3.0, 9.0]
    assert views.metric_per_rung(result, levels=[1, 3, 9]).levels == [1.0, 3.0, 9.0]
    assert views.outcomes(rung.load("plots", tmp_path / "s.db"))[1] == "stopped at 3"


def test_plots_need_the_resource_in_reports(tmp_path):
    result = rung.Tuner(lambda c: c["x"], {"x": rung.uniform(0, 1)}, metric="loss", max_trials=2,
                        backend="inprocess", verbose=0, storage=":memory:").run()
    with pytest.raises(ValueError, match="'epoch'.*reports have \\['loss'\\]"):
        result.plot_metric_per_rung(tmp_path / "x.png", resource_attr="epoch")
    with pytest.raises(ValueError, match="no resource_attr given"):
        result.plot_metric_per_rung(tmp_path / "x.png")
    assert views.learning_curves(result).x_label == "report"
    with pytest.raises(FileNotFoundError, match="does not exist"):
        result.plot_incumbent(tmp_path / "missing" / "x.png")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 50), st.integers(1, 20)), min_size=1, max_size=25))
def test_timeline_lanes_never_overlap_and_are_as_few_as_the_peak_concurrency(stays):
    segments = pd.DataFrame([{"trial_id": i, "start": float(s), "end": float(s + d), "kind": "start",
                              "running": False} for i, (s, d) in enumerate(stays)])
    trials = [Trial(trial_id=i, config={}, status=TrialStatus.COMPLETED) for i in range(len(stays))]
    src = views.ViewInput(experiment="e", metric="loss", mode="min", trial_records=trials,
                          reports=pd.DataFrame(columns=["trial_id", "step", "time", "loss", "action", "reason", "rung"]),
                          segments=segments, parameter_names=[], wallclock=100.0, decision_time=0.0,
                          decision_levels=[])
    table = views.timeline(src)
    for _, lane in table.groupby("lane"):
        lane = lane.sort_values("start")
        assert (lane["start"].to_numpy()[1:] >= lane["end"].to_numpy()[:-1]).all()
    peak = max(sum(1 for s, d in stays if s <= t < s + d) for t in range(0, 71))
    assert table["lane"].nunique() == peak
