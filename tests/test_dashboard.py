"""The dashboard's JSON API, access rules and stop action, on experiments run by real tuners.

Driven through Starlette's TestClient (an in-process ASGI client); the browser tests in
tests/slow/browser drive the pages themselves.
"""

from __future__ import annotations

import time
import uuid
import warnings

import httpx
import pytest
with warnings.catch_warnings():  # Starlette suggests httpx2; httpx is what is installed
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

import rung
from objectives import per_epoch
from rung.dashboard import Dashboard
from rung.schedulers import ASHA
from rung.dashboard._server import check_access, start
from rung.storage import MemoryStorage, SQLStorage, Storage
from rung.tuner._tuner import Tuner, check_dashboard

LOCAL = "http://127.0.0.1"


def asha_run(store, name="asha", n=12, seed=3):
    space = {"x": rung.uniform(-1, 1), "y": rung.uniform(-1, 1), "epochs": 9,
             "opt": rung.choice(["sgd", "adam"])}
    tuner = Tuner(per_epoch, space, metric="loss", mode="min", searcher="random", seed=seed,
                  scheduler=ASHA("epoch", min_resource=1, max_resource=9, reduction_factor=3),
                  max_trials=n, n_workers=1, backend="inprocess", storage=store, experiment=name, verbose=0)
    return tuner.run()


def wait_complete(client, name):
    """Poll the summary until the dashboard has read the whole log."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        summary = client.get(f"/api/experiments/{name}/summary").json()
        if summary["loading"]["log_complete"]:
            return summary
        time.sleep(0.05)
    raise AssertionError("the dashboard did not finish reading the log")


@pytest.fixture
def run_store():
    store = MemoryStorage()
    result = asha_run(store)
    dashboard = Dashboard(store, poll_seconds=0.05)
    with TestClient(dashboard, base_url=LOCAL) as client:
        yield store, result, client
    dashboard.close()


def test_experiment_list_and_summary_match_the_result(run_store):
    store, result, client = run_store
    listing = client.get("/api/experiments").json()
    assert [e["name"] for e in listing["experiments"]] == ["asha"]
    assert listing["experiments"][0]["n_trials"] == 12
    summary = wait_complete(client, "asha")
    assert summary["n_trials"] == len(result.trial_records)
    assert summary["n_reports"] == len(result.report_records)
    assert summary["best_trial"] == result.best_trial.trial_id
    assert summary["best_value"] == pytest.approx(result.best_trial.metric_value)
    counts = {status: sum(t.status.value == status for t in result.trial_records) for status in summary["counts"]}
    assert summary["counts"] == counts
    assert [p["name"] for p in summary["parameters"]] == ["x", "y", "opt"]  # the constant is left out
    assert summary["rungs"] == sorted(result.decision_rungs)


def test_views_hold_the_runs_data(run_store):
    store, result, client = run_store
    wait_complete(client, "asha")
    curves = client.get("/api/experiments/asha/views/curves").json()
    assert curves["drawn"] == curves["total"] == 12  # small: every trial drawn
    by_trial = {line["trial"]: line for line in curves["lines"]}
    for trial in result.trial_records:
        reports = [r for r in result.report_records if r.trial_id == trial.trial_id]
        assert by_trial[trial.trial_id]["y"] == pytest.approx([r.metrics["loss"] for r in reports])
        assert by_trial[trial.trial_id]["x"] == [r.metrics["epoch"] for r in reports]
    stopped = [line["state"] for line in curves["lines"] if line["state"].startswith("stopped")]
    assert stopped and all(state.startswith("stopped at ") for state in stopped)
    incumbent = client.get("/api/experiments/asha/views/incumbent").json()
    points = result.trajectory_points
    assert incumbent["n_improvements"] == len(points)
    assert incumbent["time"]["y"] == pytest.approx([p.best_value for p in points] + [points[-1].best_value])
    assert incumbent["time"]["trial"] == [p.trial_id for p in points] + [points[-1].trial_id]
    assert incumbent["time"]["x"][:-1] == pytest.approx([p.elapsed for p in points])
    assert incumbent["time"]["x"][-1] >= points[-1].elapsed  # held to the end of the run
    rungs = client.get("/api/experiments/asha/views/rungs").json()
    assert [level["level"] for level in rungs["levels"]] == sorted(set(result.decision_rungs) | {9.0})
    params = client.get("/api/experiments/asha/views/params").json()
    assert sorted(params["trial"]) == [t.trial_id for t in result.trial_records]
    x = next(p for p in params["params"] if p["name"] == "x")
    configs = {t.trial_id: t.config for t in result.trial_records}
    assert x["values"] == [configs[t]["x"] for t in params["trial"]]
    timeline = client.get("/api/experiments/asha/views/timeline").json()
    assert timeline["n_lanes"] == 1  # one worker: runs never overlap
    assert timeline["total"] == sum(t.n_starts for t in result.trial_records)
    assert client.get("/api/experiments/asha/views/nope").status_code == 404


def test_trial_table_sorts_filters_and_pages(run_store):
    store, result, client = run_store
    wait_complete(client, "asha")
    page = client.get("/api/experiments/asha/trials", params={"sort": "value", "limit": 5}).json()
    values = sorted((t.metric_value, t.trial_id) for t in result.trial_records)
    assert [row["trial"] for row in page["rows"]] == [tid for _, tid in values[:5]]
    assert page["total"] == 12
    second = client.get("/api/experiments/asha/trials", params={"sort": "value", "limit": 5, "offset": 5}).json()
    assert [row["trial"] for row in second["rows"]] == [tid for _, tid in values[5:10]]
    down = client.get("/api/experiments/asha/trials", params={"sort": "trial", "order": "desc", "limit": 3}).json()
    assert [row["trial"] for row in down["rows"]] == [11, 10, 9]
    stopped = client.get("/api/experiments/asha/trials", params={"status": "stopped"}).json()
    assert {row["trial"] for row in stopped["rows"]} == {t.trial_id for t in result.trial_records if t.status.value == "stopped"}
    adam = client.get("/api/experiments/asha/trials", params={"q": "adam"}).json()
    assert {row["trial"] for row in adam["rows"]} == {t.trial_id for t in result.trial_records if t.config["opt"] == "adam"}
    by_param = client.get("/api/experiments/asha/trials", params={"sort": "param:x", "limit": 12}).json()
    assert [row["config"]["x"] for row in by_param["rows"]] == sorted(t.config["x"] for t in result.trial_records)
    for bad in ({"sort": "nope"}, {"order": "up"}, {"status": "lost"}, {"limit": "-1"}, {"offset": "x"}):
        response = client.get("/api/experiments/asha/trials", params=bad)
        assert response.status_code == 400 and list(bad)[0] in response.json()["error"]


def test_trial_details_hold_every_report_and_decision(run_store):
    store, result, client = run_store
    wait_complete(client, "asha")
    stopped = next(t for t in result.trial_records if t.status.value == "stopped")
    detail = client.get(f"/api/experiments/asha/trials/{stopped.trial_id}").json()
    reports = [r for r in result.report_records if r.trial_id == stopped.trial_id]
    assert [r["metrics"]["loss"] for r in detail["reports"]] == pytest.approx([r.metrics["loss"] for r in reports])
    stored = [e for e in store.read_log(1).reports if e.trial_id == stopped.trial_id]
    assert [(r["action"], r["reason"], r["details"]) for r in detail["reports"]] == \
        [(e.action, e.reason, dict(e.details)) for e in stored]
    assert detail["reports"][-1]["action"] == "stop" and detail["reports"][-1]["reason"]
    assert detail["config"] == stopped.config
    assert [e["kind"] for e in detail["events"]][0] == "start" and detail["events"][-1]["kind"] == "end"
    assert detail["stdout"] is None  # it printed nothing, so it has no stdout.log
    assert client.get("/api/experiments/asha/trials/999").status_code == 404
    assert client.get("/api/experiments/nope/trials/0").status_code == 404


def test_failure_traceback_and_output_tail(tmp_path):
    def fails(config):
        print("about to fail", config["x"])
        rung.report(loss=1.0)
        raise RuntimeError("diverged on purpose")

    store = MemoryStorage()
    Tuner(fails, {"x": rung.uniform(0, 1)}, metric="loss", max_trials=2, backend="inprocess", storage=store,
          experiment="fails", verbose=0, workdir=tmp_path / "w").run()
    dashboard = Dashboard(store, poll_seconds=0.05)
    with TestClient(dashboard, base_url=LOCAL) as client:
        wait_complete(client, "fails")
        detail = client.get("/api/experiments/fails/trials/0").json()
    dashboard.close()
    assert detail["status"] == "failed"
    assert "diverged on purpose" in detail["error"] and "RuntimeError" in detail["traceback"]
    assert "about to fail" in detail["stdout"]


def test_reads_are_incremental_and_rebuild_what_the_run_saw(tmp_path):
    from rung.dashboard._follow import Follower

    store = SQLStorage(tmp_path / "store.db")
    result = asha_run(store, n=10)
    follower = Follower(store, "asha", page_size=7, background=False)
    follower.load_trials()
    assert follower.data.n_trials == 10 and follower.data.n_reports == 0  # trial rows first
    total = len(store.read_log(1).entries)
    read = 0
    while not follower.data.log_complete:
        read += follower.poll_once()
    assert read == total and follower.data.last_seq == store.read_log(1).last_seq
    data = follower.data
    assert data.n_reports == len(result.report_records)
    values = data.values()
    for trial in result.trial_records:
        assert values[trial.trial_id] == pytest.approx(trial.metric_value)
    assert data.best_trial() == result.best_trial.trial_id
    assert follower.poll_once() == 0  # nothing new: nothing read
    # A new entry is read alone.
    before = data.last_seq
    recorder = store.recorder(1)
    recorder.append(rung.storage.EventRecord(before + 1, "end", 0, 99.0, {"status": "completed"}))
    recorder.flush()
    assert follower.poll_once() == 1 and data.last_seq == before + 1


class DefaultPaging(MemoryStorage):
    """A store that only has read_log: the base class's read_log_page and read_trials."""

    read_log_page = Storage.read_log_page
    read_trials = Storage.read_trials


@pytest.mark.parametrize("kind", ["memory", "sqlite", "postgresql", "defaults"])
def test_read_log_page_and_read_trials_page_through_the_store(kind, tmp_path):
    if kind == "defaults":
        store = DefaultPaging()
    elif kind == "postgresql":
        import postgres

        if postgres.unreachable_reason():
            pytest.skip(postgres.unreachable_reason())
        store = SQLStorage(postgres.URL)
    else:
        store = MemoryStorage() if kind == "memory" else SQLStorage(tmp_path / "s.db")
    name = f"paging-{uuid.uuid4().hex[:8]}"
    asha_run(store, name=name, n=8)
    experiment_id = store.require_experiment(name).id
    try:
        whole = store.read_log(experiment_id)
        pages, after = [], -1
        while True:
            page = store.read_log_page(experiment_id, after, 5)
            assert len(page.entries) <= 5
            assert {t.trial_id for t in page.trials} == {e.trial_id for e in page.entries}
            if not page.entries:
                assert page.last_seq == after
                break
            assert page.last_seq == page.entries[-1].seq
            pages += page.entries
            after = page.last_seq
        assert pages == whole.entries
        assert store.read_trials(experiment_id) == whole.trials
        paged, after = [], -1
        while rows := store.read_trials(experiment_id, after, 3):
            assert len(rows) <= 3 and all(row.trial_id > after for row in rows)
            paged += rows
            after = rows[-1].trial_id
        assert paged == whole.trials
        for bad in (0, -1, True):
            with pytest.raises(ValueError, match="limit"):
                store.read_log_page(experiment_id, -1, bad)
            with pytest.raises(ValueError, match="limit"):
                store.read_trials(experiment_id, -1, bad)
    finally:
        store.delete_experiment(name)


def test_token_rule():
    assert check_access("127.0.0.1", None) is None
    token = check_access("0.0.0.0", None)
    assert token and len(token) >= 16  # elsewhere: a token is made if none is given
    assert check_access("0.0.0.0", "s3cret-token") == "s3cret-token"
    with pytest.raises(ValueError, match="token"):
        check_access("0.0.0.0", "short")
    store = MemoryStorage()
    asha_run(store, n=2)
    guarded = Dashboard(store, token="s3cret-token")
    with TestClient(guarded, base_url="http://10.1.2.3:8470", follow_redirects=False) as client:
        assert client.get("/api/experiments").status_code == 401
        assert client.get("/api/experiments", headers={"Authorization": "Bearer wrong-token"}).status_code == 401
        assert client.get("/api/experiments", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200
        first = client.get("/?token=s3cret-token")
        assert first.status_code == 303 and first.headers["location"] == "/"
        assert "httponly" in first.headers["set-cookie"].lower()
        assert client.get("/api/experiments").status_code == 200  # the cookie now carries it
    guarded.close()
    open_board = Dashboard(store)
    with TestClient(open_board, base_url=LOCAL) as client:
        assert client.get("/api/experiments").status_code == 200
        assert client.get("/api/experiments", headers={"host": "localhost:8470"}).status_code == 200
        assert client.get("/api/experiments", headers={"host": "evil.example:8470"}).status_code == 403
    open_board.close()


def test_stop_action_goes_through_the_store():
    store = MemoryStorage()
    asha_run(store, n=2)
    experiment_id = store.require_experiment("asha").id
    dashboard = Dashboard(store)
    with TestClient(dashboard, base_url=LOCAL) as client:
        assert client.post("/api/experiments/asha/stop", headers={"X-Rung-Action": "stop"}).status_code == 409
        store.claim(experiment_id)  # as a running tuner does
        assert client.post("/api/experiments/asha/stop").status_code == 400  # no action header
        other_site = client.post("/api/experiments/asha/stop",
                                 headers={"X-Rung-Action": "stop", "Origin": "http://evil.example"})
        assert other_site.status_code == 403
        assert client.get("/api/experiments/asha/stop").status_code == 405
        assert not store.stop_requested(experiment_id)
        answer = client.post("/api/experiments/asha/stop", headers={"X-Rung-Action": "stop", "Origin": LOCAL})
        assert answer.status_code == 200 and store.stop_requested(experiment_id)
        assert client.post("/api/experiments/nope/stop", headers={"X-Rung-Action": "stop"}).status_code == 404
    dashboard.close()


def test_pages_and_assets_are_served_from_the_package():
    store = MemoryStorage()
    dashboard = Dashboard(store)
    with TestClient(dashboard, base_url=LOCAL) as client:
        assert "exp-table" in client.get("/").text
        assert "trial-table" in client.get("/experiments/anything").text
        plotly = client.get("/static/plotly.min.js")
        assert plotly.status_code == 200 and len(plotly.content) > 1_000_000
        assert client.get("/static/app.js").status_code == 200
        assert client.get("/static/..%2Fserver.py").status_code == 404
    dashboard.close()


def test_tuner_dashboard_serves_the_running_experiment(capsys):
    seen = []

    class Peek(rung.Callback):
        def on_report(self, state, trial, report, decision):
            if not seen:
                url = capsys.readouterr().err.split(": ")[-1].strip()
                base = url.split("/experiments/")[0]
                answer = httpx.get(base + "/api/experiments/live/summary", timeout=10).json()
                seen.append((url, answer["status"], answer["name"]))

    store = MemoryStorage()
    Tuner(per_epoch, {"x": rung.uniform(-1, 1), "y": 0.0, "epochs": 2}, metric="loss", max_trials=2,
          backend="inprocess", storage=store, experiment="live", verbose=0, dashboard=True, callbacks=[Peek()]).run()
    url, status, name = seen[0]
    assert url.startswith("http://127.0.0.1:") and url.endswith("/experiments/live")
    assert (status, name) == ("running", "live")
    with pytest.raises(httpx.TransportError):  # stopped with the run
        httpx.get(url, timeout=2)


@pytest.mark.parametrize("bad, error", [
    ("yes", TypeError), ({"port": 70000}, ValueError), ({"colour": "red"}, ValueError),
    ({"host": ""}, ValueError), ({"token": 5}, TypeError),
])
def test_tuner_dashboard_argument_is_checked(bad, error):
    with pytest.raises(error, match="dashboard"):
        check_dashboard(bad)
    assert check_dashboard(False) is None and check_dashboard(True) == {}


def test_start_refuses_a_busy_port():
    store = MemoryStorage()
    board = start(store)
    try:
        port = int(board.url.rsplit(":", 1)[1].split("/")[0])
        with pytest.raises(OSError, match=f"127.0.0.1:{port}"):
            start(store, port=port)
    finally:
        board.stop()


def test_cli_dashboard_arguments(tmp_path, capsys):
    from rung.cli import build_parser, main

    assert main(["dashboard", "--storage", str(tmp_path / "none.db")]) == 2
    assert "no store" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stopped:
        main(["dashboard", "--port", "70000"])
    assert stopped.value.code == 2 and "port" in capsys.readouterr().err
    store = SQLStorage(tmp_path / "s.db")
    asha_run(store, n=2)
    assert main(["dashboard", "--storage", str(tmp_path / "s.db"), "--experiment", "other"]) == 2
    assert "--experiment: no experiment named 'other'" in capsys.readouterr().err
    assert main(["dashboard", "--storage", str(tmp_path / "s.db"), "--host", "0.0.0.0", "--token", "short"]) == 2
    assert "token" in capsys.readouterr().err
    run = build_parser().parse_args(["run", "spec.yaml", "--dashboard", "--dashboard-port", "8999"])
    assert run.dashboard and run.dashboard_port == 8999
    from rung.cli._running import _overrides

    assert _overrides(run, store)["dashboard"] == {"port": 8999}
    assert "dashboard" not in _overrides(build_parser().parse_args(["run", "spec.yaml"]), store)


def test_comparison_page_shows_rung_compare(tmp_path):
    from objectives import quadratic

    store_path = tmp_path / "cmp.db"
    comparison = rung.compare(quadratic, {"x": rung.uniform(-1, 1), "y": rung.uniform(-1, 1)}, metric="loss",
                              mode="min", methods=["random", "tpe"], seeds=2, max_trials=4, backend="inprocess",
                              name="cmp", storage=str(store_path), jobs=1)
    store = SQLStorage(store_path)
    dashboard = Dashboard(store)
    with TestClient(dashboard, base_url=LOCAL) as client:
        listing = {e["name"]: e for e in client.get("/api/experiments").json()["experiments"]}
        assert listing["cmp"]["comparison"] is True
        assert len(listing) == 5 and all(not e["comparison"] for name, e in listing.items() if name != "cmp")
        page = client.get("/api/comparisons/cmp").json()
        assert page["methods"] == ["random", "tpe"] and len(page["runs"]) == 4
        assert [row["method"] for row in page["summary"]] == ["random", "tpe"]
        finals = {(r["method"], r["seed"]): r["final"] for r in page["runs"]}
        assert finals == {(r.method, r.seed): pytest.approx(r.final) for r in comparison.run_records}
        assert page["figure"]["data"]  # the plotly figure of rung.compare
        assert "plot-comparison" in client.get("/comparisons/cmp").text
        assert client.get("/api/comparisons/nope").status_code == 404
        some_run = next(name for name in listing if name != "cmp")
        assert client.get(f"/api/comparisons/{some_run}").status_code == 404  # an experiment, not a comparison
    dashboard.close()


def test_host_names():
    from rung.dashboard._app import host_name

    assert [host_name(h) for h in ("127.0.0.1:8470", "localhost", "[::1]:80", "evil.example:1")] == \
        ["127.0.0.1", "localhost", "[::1]", "evil.example"]
