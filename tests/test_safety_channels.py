"""Channels a trial can write to carry data only: nothing a trial writes is ever unpickled.

The worker socket (trial child -> tuner) and a script's RUNG_REPORT_FD use framed JSON
(``rung.trial._session.Channel``). A crafted pickle written to either must not run (no
marker file appears) and must fail only that trial, with a reason naming the channel.
"""

import math
import os
import pickle
import socket
import struct
import sys
import time

import numpy as np
import pytest

import rung
from rung.script import Script
from rung.trial._session import Channel, ChannelError, UnsendableError, encode_message

MARKER_VARIABLE = "RUNG_TEST_PICKLE_MARKER"


class _Exploit:
    """Unpickling this creates the marker file: proof that received bytes ran as code."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (exec, (f"open({self.path!r}, 'w').close()",))


def crafted_pickles(marker):
    """The crafted pickle raw, and framed as multiprocessing.Connection (4-byte length) framed it."""
    payload = pickle.dumps(("report", 0, _Exploit(str(marker))))
    return {"raw": payload, "connection_framed": struct.pack("!i", len(payload)) + payload}


# -- the wire format itself -----------------------------------------------------------------

ROUND_TRIPS = [
    ("nan", {"loss": math.nan}, lambda m: math.isnan(m["loss"])),
    ("inf", {"loss": math.inf, "low": -math.inf}, lambda m: m == {"loss": math.inf, "low": -math.inf}),
    ("float32", {"loss": np.float32(0.5)}, lambda m: m == {"loss": 0.5} and type(m["loss"]) is float),
    ("int64", {"epoch": np.int64(3)}, lambda m: m == {"epoch": 3} and type(m["epoch"]) is int),
    ("bool_", {"ok": np.bool_(True)}, lambda m: m == {"ok": True} and type(m["ok"]) is bool),
    ("0-d array", {"loss": np.array(0.25)}, lambda m: m == {"loss": 0.25}),
    ("array", {"curve": np.arange(3)}, lambda m: m == {"curve": [0, 1, 2]}),
    ("nested", {"a": {"b": [1, 2.5, None, "x"]}}, lambda m: m == {"a": {"b": [1, 2.5, None, "x"]}}),
    ("unicode", {"name": "läuft \u2603"}, lambda m: m == {"name": "läuft \u2603"}),
]


@pytest.mark.parametrize("name, metrics, check", ROUND_TRIPS, ids=[case[0] for case in ROUND_TRIPS])
def test_data_survives_the_wire(name, metrics, check):
    left, right = socket.socketpair()
    sender, receiver = Channel(left), Channel(right)
    sender.send(("report", 7, metrics))
    kind, trial_id, received = receiver.recv()
    assert (kind, trial_id) == ("report", 7)
    assert check(received), received
    sender.send(("report", 8, metrics))
    time.sleep(0.01)
    [(_, trial_id, received)] = receiver.receive_available()
    assert trial_id == 8 and check(received)
    sender.close()
    receiver.close()


UNSENDABLE = [
    ("object", object(), "object"),
    ("function", len, "builtin_function_or_method"),
    ("set", {1, 2}, "set"),
    ("bytes", b"raw", "bytes"),
    ("complex", 1j, "complex"),
]


@pytest.mark.parametrize("name, value, named", UNSENDABLE, ids=[case[0] for case in UNSENDABLE])
def test_what_is_not_data_is_refused_by_the_sender(name, value, named):
    with pytest.raises(UnsendableError, match=named):
        encode_message(("report", 0, {"loss": value}))


GARBAGE = [
    ("pickle", lambda marker: crafted_pickles(marker)["raw"], "announces"),
    ("framed pickle", lambda marker: crafted_pickles(marker)["connection_framed"], "not JSON"),
    ("framed JSON object", lambda marker: struct.pack("!I", 2) + b"{}", "not a rung message"),
    ("framed JSON number", lambda marker: struct.pack("!I", 1) + b"5", "not a rung message"),
    ("framed invalid UTF-8", lambda marker: struct.pack("!I", 2) + b"\xff\xfe", "not JSON"),
    ("truncated frame", lambda marker: struct.pack("!I", 100) + b"[1", "middle of a frame"),
]


@pytest.mark.parametrize("name, make, problem", GARBAGE, ids=[case[0] for case in GARBAGE])
def test_garbage_is_a_channel_error_and_nothing_runs(name, make, problem, tmp_path):
    marker = tmp_path / "marker"
    left, right = socket.socketpair()
    left.sendall(make(marker))
    left.close()  # so a frame that announces more than it holds is cut short
    receiver = Channel(right)
    with pytest.raises(ChannelError, match=problem):
        while True:
            receiver.receive_available()
    assert not marker.exists()
    right.close()


# -- the worker socket ------------------------------------------------------------------------

def write_to_worker_socket(config):
    """A trial that writes bytes of its choice to the worker's socket (its fd is the
    worker's argv[1]) instead of going through rung.report."""
    fd = int(sys.argv[1])
    kind = config["kind"]
    if kind.startswith("ok"):
        rung.report(loss=1.0)
        return 1.0
    if kind in ("raw", "connection_framed"):
        data = crafted_pickles(os.environ[MARKER_VARIABLE])[kind]
    elif kind == "forged_ready":
        data = encode_message(("ready", 1))
    elif kind == "forged_init_error":
        data = encode_message(("init_error", "boom", "tb"))
    elif kind == "other_trial":
        data = encode_message(("report", 10_000, {"loss": 0.0}))
    elif kind == "unknown":
        data = encode_message(("hello",))
    else:
        raise AssertionError(kind)
    os.write(fd, data)
    time.sleep(30)  # the tuner must end this trial itself
    return 0.0


FORGED = {
    "raw": "is not a rung message",
    "connection_framed": "is not a rung message",
    "forged_ready": "unexpected 'ready' message",
    "forged_init_error": "unexpected 'init_error' message",
    "other_trial": "malformed 'report' message",
    "unknown": "unexpected 'hello' message",
}


@pytest.mark.parametrize("isolation", ["fork", "none"])
def test_bytes_a_trial_writes_to_the_worker_socket_fail_only_that_trial(isolation, tmp_path, monkeypatch):
    marker = tmp_path / "marker"
    monkeypatch.setenv(MARKER_VARIABLE, str(marker))
    kinds = ["ok", *FORGED, "ok_after"]  # a trial after the forgeries still runs
    result = rung.Tuner(
        write_to_worker_socket, {"kind": rung.choice(kinds)}, metric="loss", searcher=rung.searchers.Grid,
        backend=rung.backends.ProcessBackend(isolation=isolation), n_workers=2, verbose=0,
        workdir=tmp_path / "runs", storage=":memory:",
    ).run()
    assert not marker.exists()
    assert result.stop_reason == "search_exhausted"
    rows = {row["config/kind"]: row for _, row in result.trials.iterrows()}
    assert len(result.trials) == len(kinds)
    assert rows["ok"]["status"] == rows["ok_after"]["status"] == "completed"
    for kind, problem in FORGED.items():
        assert rows[kind]["status"] == "failed", kind
        assert problem in rows[kind]["error"], (kind, rows[kind]["error"])
        assert "a trial must not write to it" in rows[kind]["error"]


def report_numpy_and_non_finite(config):
    rung.report(loss=np.float32(0.5), epoch=np.int64(1), spread=math.nan, bound=-math.inf, ok=np.bool_(True))
    return None


def report_an_object(config):
    rung.report(loss=0.5, model=object())


@pytest.mark.parametrize("backend", ["process", "inprocess"])
def test_numpy_scalars_and_non_finite_values_reach_the_tuner(backend, tmp_path):
    result = rung.Tuner(report_numpy_and_non_finite, {"x": rung.uniform(0, 1)}, metric="loss", max_trials=1,
                        backend=backend, n_workers=1, verbose=0, workdir=tmp_path, storage=":memory:").run()
    assert list(result.trials["status"]) == ["completed"], result.trials["error"].tolist()
    report = result.reports.iloc[0]
    assert report["loss"] == 0.5 and report["epoch"] == 1
    assert math.isnan(report["spread"]) and report["bound"] == -math.inf


def test_a_metric_that_is_not_data_fails_the_trial_naming_it(tmp_path):
    result = rung.Tuner(report_an_object, {"x": rung.uniform(0, 1)}, metric="loss", max_trials=1,
                        backend="process", n_workers=1, verbose=0, workdir=tmp_path, storage=":memory:").run()
    [error] = result.trials["error"]
    assert "metric 'model' cannot be sent to the tuner" in error and "object" in error


# -- a script's report socket ------------------------------------------------------------------

SCRIPT = """
import os, pickle, struct, sys, time
payload = open(sys.argv[1], "rb").read()
os.write(int(os.environ["RUNG_REPORT_FD"]), payload)
time.sleep(30)
"""


@pytest.mark.parametrize("variant", ["raw", "connection_framed"])
def test_a_crafted_pickle_on_the_script_report_socket_fails_the_trial(variant, tmp_path):
    marker = tmp_path / "marker"
    program = tmp_path / "evil.py"
    program.write_text(SCRIPT)
    payload = tmp_path / "payload.bin"
    payload.write_bytes(crafted_pickles(marker)[variant])
    objective = Script([sys.executable, str(program), str(payload)], args="json", grace_period=0.2)
    result = rung.Tuner(objective, {"x": rung.uniform(0, 1)}, metric="loss", max_trials=1, backend="inprocess",
                        verbose=0, workdir=tmp_path / "runs", storage=":memory:").run()
    assert not marker.exists()
    [row] = [row for _, row in result.trials.iterrows()]
    assert row["status"] == "failed"
    assert "not a rung report to RUNG_REPORT_FD" in row["error"]
