"""Trials that fail badly: the run goes on, the reason says what to do, the files stay private.

* ``isolation="none"``: a trial that kills its worker does not end the experiment; the slot
  stays busy while a replacement worker starts.
* A trial raising KeyboardInterrupt, an exception whose ``__str__`` raises, a trial closing
  its file descriptors: each fails with a reason naming what happened.
* Trial directories, logs, checkpoints, config.json and work dirs are private (0700 / 0600)
  whatever the umask.
* ``backend="inprocess"`` refuses a ``trial_timeout`` it could not enforce.
"""

import ctypes
import os
import stat
import sys
import time

import pytest

import rung
from rung.backends import InProcessBackend, ProcessBackend
from rung.script import Script


def run(objective, space, tmp_path, backend="process", n_workers=1, **options):
    options.setdefault("searcher", rung.searchers.Grid)
    return rung.Tuner(objective, space, metric="loss", backend=backend, n_workers=n_workers, verbose=0,
                      workdir=tmp_path / "runs", storage=":memory:", **options).run()


def errors_by(result, column):
    return {row[column]: (row["status"], row["error"]) for _, row in result.trials.iterrows()}


# -- isolation="none": a dead worker does not end the run --------------------------------------

def every_other_exits(config):
    if config["i"] % 2 == 1:
        os._exit(3)
    return float(config["i"])


def test_every_other_trial_killing_its_worker_still_runs_all_ten(tmp_path):
    result = run(every_other_exits, {"i": rung.choice(list(range(10)))}, tmp_path,
                 backend=ProcessBackend(isolation="none"), max_trials=10)
    trials = result.trials
    assert len(trials) == 10
    assert sorted(trials["config/i"]) == list(range(10))
    failed = trials[trials["status"] == "failed"]
    assert len(failed) == 5 and sorted(failed["config/i"]) == [1, 3, 5, 7, 9]
    assert all("exited with code 3" in error for error in failed["error"])
    assert result.stop_reason == "max_trials"


def kill_the_worker(config):
    kind = config["kind"]
    if kind == "os_exit":
        os._exit(3)
    if kind == "sys_exit":
        sys.exit(4)
    if kind == "segfault":
        ctypes.string_at(0)
    if kind == "hang":
        time.sleep(60)
    return 1.0


WORKER_DEATHS = [
    ("os_exit", "exited with code 3"),
    ("sys_exit", "exited with code 4"),
    ("segfault", "killed by SIGSEGV"),
    ("hang", "timed out after trial_timeout=3 s"),
]


@pytest.mark.parametrize("isolation", ["none", "fork"])
def test_each_way_of_killing_a_worker_fails_one_trial_and_the_run_goes_on(isolation, tmp_path):
    kinds = [kind for kind, _ in WORKER_DEATHS]
    kinds = [k for pair in zip(kinds, [f"ok{i}" for i in range(len(kinds))]) for k in pair]
    # The timeout is long enough that on a loaded machine a quick death is still seen as
    # one (the trial's clock starts at launch), and short enough to keep the test quick.
    result = run(kill_the_worker, {"kind": rung.choice(kinds)}, tmp_path, backend=ProcessBackend(isolation=isolation),
                 trial_timeout=3)
    outcomes = errors_by(result, "config/kind")
    assert len(outcomes) == len(kinds)
    assert result.stop_reason == "search_exhausted"
    for kind, reason in WORKER_DEATHS:
        status, error = outcomes[kind]
        assert status == "failed" and reason in error, (kind, error)
    assert all(outcomes[f"ok{i}"][0] == "completed" for i in range(len(WORKER_DEATHS)))


def dies_between_a_header_and_its_body(config):
    """Trial 0 is SIGKILLed (as ``terminate`` does) after reading the header of the answer to
    its report and before its body: the body stays on the worker's connection."""
    if config["i"] == 0:
        from rung.trial import _session

        read = _session.Channel._read_exactly

        def header_then_die(self, size):
            data = read(self, size)
            if size == _session._HEADER.size:
                os.kill(os.getpid(), 9)
            return data

        _session.Channel._read_exactly = header_then_die
    rung.report(loss=float(config["i"]))


def test_a_trial_killed_mid_frame_does_not_garble_the_next_trial_on_its_worker(tmp_path):
    """The worker is replaced after a trial process dies by a signal: before, it read the
    leftover body as its next frame, gave up on the channel, and the next trial failed."""
    result = run(dies_between_a_header_and_its_body, {"i": rung.choice([0, 1, 2])}, tmp_path)
    outcomes = errors_by(result, "config/i")
    assert outcomes[0][0] == "failed" and "killed by SIGKILL" in outcomes[0][1]
    assert outcomes[1][0] == "completed" and outcomes[2][0] == "completed", outcomes


# -- reasons a user can act on -----------------------------------------------------------------

class _Unprintable(Exception):
    def __str__(self):
        raise RuntimeError("no message for you")


def fail_oddly(config):
    kind = config["kind"]
    if kind == "keyboard_interrupt":
        raise KeyboardInterrupt
    if kind == "bad_str":
        raise _Unprintable()
    if kind == "base_exception":
        raise GeneratorExit("odd")
    if kind == "close_fds":
        os.closerange(0, 1024)
        rung.report(loss=1.0)
    if kind == "close_fds_quietly":
        os.closerange(0, 1024)
        return 1.0
    return 1.0


PROCESS_FAILURES = [
    ("keyboard_interrupt", "the trial raised KeyboardInterrupt"),
    ("bad_str", "_Unprintable: (its message cannot be shown: str() raised RuntimeError)"),
    ("base_exception", "GeneratorExit: odd"),
    ("close_fds", "lost its connection to the tuner (did the trial close file descriptors"),
    ("close_fds_quietly", "lost its connection to the tuner (did the trial close file descriptors"),
]


@pytest.mark.parametrize("isolation", ["fork", "none"])
def test_odd_failures_in_a_worker_name_what_happened(isolation, tmp_path):
    kinds = [kind for kind, _ in PROCESS_FAILURES] + ["ok"]
    result = run(fail_oddly, {"kind": rung.choice(kinds)}, tmp_path, backend=ProcessBackend(isolation=isolation))
    outcomes = errors_by(result, "config/kind")
    assert outcomes["ok"][0] == "completed"
    for kind, reason in PROCESS_FAILURES:
        status, error = outcomes[kind]
        assert status == "failed" and reason in error, (kind, error)
        assert "code 70" not in error


INPROCESS_FAILURES = [
    ("bad_str", "_Unprintable: (its message cannot be shown: str() raised RuntimeError)"),
    ("base_exception", "GeneratorExit: odd"),
]


def test_odd_failures_in_process_are_failed_trials_not_a_crashed_tuner(tmp_path):
    kinds = [kind for kind, _ in INPROCESS_FAILURES] + ["ok"]
    result = run(fail_oddly, {"kind": rung.choice(kinds)}, tmp_path, backend="inprocess")
    outcomes = errors_by(result, "config/kind")
    assert outcomes["ok"][0] == "completed"
    for kind, reason in INPROCESS_FAILURES:
        status, error = outcomes[kind]
        assert status == "failed" and reason in error, (kind, error)


def test_a_keyboard_interrupt_in_process_is_still_the_users_ctrl_c(tmp_path):
    def interrupted(config):
        raise KeyboardInterrupt

    result = run(interrupted, {"x": rung.uniform(0, 1)}, tmp_path, backend="inprocess", max_trials=3,
                 searcher="random")
    assert result.stop_reason == "interrupted"


CLOSING_SCRIPT = """
import os, sys, rung
if sys.argv[1] == "--after=true":
    rung.report(loss=2.0)
os.closerange(3, 1024)
rung.report(loss=1.0)
"""


@pytest.mark.parametrize("after", [False, True], ids=["before_the_first_report", "after_a_report"])
def test_a_script_that_closes_its_report_socket_is_told_so(after, tmp_path):
    program = tmp_path / "closer.py"
    program.write_text(CLOSING_SCRIPT)
    env = {"PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    result = run(Script([sys.executable, str(program)], env=env), {"after": after}, tmp_path,
                 backend="inprocess", max_trials=1, searcher="random")
    [error] = result.trials["error"]
    assert "the report socket RUNG_REPORT_FD=" in error and "was closed in this program" in error


# -- timeouts the in-process backend cannot enforce --------------------------------------------

def test_inprocess_refuses_a_trial_timeout_and_process_accepts_it():
    with pytest.raises(ValueError, match=r"backend 'inprocess' cannot stop a running trial, so trial_timeout=5 "):
        InProcessBackend().check_timeout(5)
    InProcessBackend().check_timeout(None)
    ProcessBackend().check_timeout(5)


# -- private files -----------------------------------------------------------------------------

def write_everything(config):
    print("secret on stdout")
    print("secret on stderr", file=sys.stderr)
    rung.save_checkpoint({"step": 1})
    rung.report(loss=1.0)
    return None


PRIVATE_SCRIPT = """
import sys
print("secret on stdout")
print("secret on stderr", file=sys.stderr)
print('RUNG_REPORT {"loss": 1.0}')
"""


def modes(root):
    """Permission bits of everything under ``root``'s trial directories, by relative path."""
    found = {}
    for trial_dir in sorted(root.glob("trial_*")):
        for path in [trial_dir, *sorted(trial_dir.rglob("*"))]:
            found[str(path.relative_to(root))] = stat.S_IMODE(path.lstat().st_mode)
    return found


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


CASES = [
    ("process fork", lambda tmp: write_everything, lambda: ProcessBackend(isolation="fork"),
     {"stdout.log", "stderr.log", "checkpoint", "checkpoint/state.json"}),
    ("process none", lambda tmp: write_everything, lambda: ProcessBackend(isolation="none"),
     {"stdout.log", "stderr.log", "checkpoint", "checkpoint/state.json"}),
    ("inprocess", lambda tmp: write_everything, lambda: "inprocess",
     {"stdout.log", "stderr.log", "checkpoint", "checkpoint/state.json"}),
    ("script", lambda tmp: _private_script(tmp), lambda: "inprocess",
     {"config.json", "work", "checkpoint"}),
    ("script in a worker", lambda tmp: _private_script(tmp), lambda: ProcessBackend(),
     {"config.json", "work", "checkpoint", "stdout.log", "stderr.log"}),
]


def _private_script(tmp_path):
    program = tmp_path / "private.py"
    program.write_text(PRIVATE_SCRIPT)
    return Script([sys.executable, str(program)])


@pytest.mark.parametrize("name, objective, backend, expected", CASES, ids=[case[0] for case in CASES])
def test_trial_files_are_private_whatever_the_umask(name, objective, backend, expected, tmp_path, umask_022):
    result = run(objective(tmp_path), {"x": rung.uniform(0, 1)}, tmp_path, backend=backend(), max_trials=1,
                 searcher="random")
    assert list(result.trials["status"]) == ["completed"], result.trials["error"].tolist()
    found = modes(tmp_path / "runs")
    relative = {path.split("/", 1)[1] for path in found if "/" in path}
    assert expected <= relative, relative
    for path, mode in found.items():
        is_dir = (tmp_path / "runs" / path).is_dir()
        assert mode == (0o700 if is_dir else 0o600), (path, oct(mode))
