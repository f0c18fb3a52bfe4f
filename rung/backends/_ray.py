"""The Ray backend: trials run on the nodes of a Ray cluster; the tuner stays on the driver.

Each of the ``n_workers`` slots is a Ray actor (:mod:`rung.backends._ray_slot`) placed by
Ray with the trial's resources, which starts the process backend's warm worker program on
its node (:mod:`rung.backends._ray_worker`) on a TCP connection back to this driver. Trials
then run exactly as in the process backend (a fork of the warm worker per trial, reports
over framed JSON answered after the tuner's commit), so the searcher, scheduler, budgets
and store are the driver's own and decisions are those of a local run.

Ray is imported only when the backend first needs the cluster (``check_resources`` or
``start``), never on import or construction.

Faults. A slot whose actor dies is replaced (Ray places the replacement wherever the
resources are). If its node died, the trial it ran is launched again on the next free
slot with the same trial id and directory, so it continues from its last checkpoint, up to
``max_retries`` times; then it fails with the reason "node lost". Reports are answered only
after the tuner's commit, so every accepted report is in the store whatever dies. A slot
killed by Ray's memory monitor fails its trial with the reason "out of memory". The actors
belong to the driver: if the driver dies, Ray ends them and their trials, and a tuner run
again with ``resume=True`` starts those trials again from their checkpoints.
"""

from __future__ import annotations

import base64
import os
import secrets
import selectors
import socket
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from ..trial._session import Channel, ChannelError
from ._base import EXIT_CHANNEL_LOST, Backend, OutcomeKind, TrialEvents, TrialLaunch, TrialOutcome, describe_exit
from ._gpus import check_share
from ._pickling import dumps_objective
from ._process import WorkerStartError
from ._ray_files import TrialFiles, coerce_trial_files
from ._resources import TrialResources

__all__ = ["RayBackend", "ray_resources"]

#: Local Ray started by the backend when there is no cluster: its object store (bytes). Trials
#: exchange nothing through it (the objective travels once per slot on the connection).
LOCAL_OBJECT_STORE = 80 * 1024 * 1024
HELLO_TIMEOUT = 10.0
POLL_INTERVAL = 0.25  # seconds between looks at Ray for slots that are starting or lost
LOST_GRACE = 30.0  # seconds to wait for Ray's verdict on a slot whose connection dropped


class _Violation(Exception):
    """A message rung's own worker never sends (so a trial wrote it)."""


@dataclass
class _Slot:
    index: int
    token: str
    actor: Any
    ref: Any  # the ObjectRef of the actor's serve() call
    created: float
    conn: Channel | None = None
    where: dict[str, Any] = field(default_factory=dict)
    ready: bool = False
    launch: TrialLaunch | None = None
    child_pid: int | None = None
    outcome: TrialOutcome | None = None
    kill_requested: bool = False
    broken: str | None = None
    lost_since: float | None = None  # the connection dropped; waiting for Ray to say why
    #: Its last trial process was killed by a signal, maybe between reading a frame's header
    #: and its body (the rest would be the worker's next read): replaced once the end is out.
    retiring: bool = False

    @property
    def node(self) -> str:
        ip, node_id = self.where.get("ip"), str(self.where.get("node_id") or "")
        return f"{ip} ({node_id[:8]})" if ip else "an unknown node"


@dataclass
class _Retry:
    launch: TrialLaunch
    reason: str
    deadline: float


def ray_resources(resources: TrialResources) -> dict[str, Any]:
    """Ray actor options for ``resources``: ``num_cpus``, ``num_gpus``, ``memory``, ``resources``."""
    options: dict[str, Any] = {"num_cpus": resources.cpus, "num_gpus": resources.gpus}
    custom = dict(resources.custom)
    if "memory" in custom:
        options["memory"] = custom.pop("memory")
    if custom:
        options["resources"] = custom
    return options


def _needs(resources: TrialResources) -> dict[str, float]:
    """The trial's request in the names of ``ray.nodes()[i]["Resources"]``."""
    needs = {"CPU": resources.cpus, "GPU": resources.gpus, **dict(resources.custom)}
    return {name: amount for name, amount in needs.items() if amount > 0}


class RayBackend(Backend):
    """Run trials on a Ray cluster, ``n_workers`` at a time, each with ``resources_per_trial``.

    Parameters
    ----------
    address:
        The cluster to join (``"auto"``, ``"10.0.0.5:6379"``, ...). None: ``RAY_ADDRESS`` if
        set; else the Ray already initialised in this process; else a local Ray started
        for the run (127.0.0.1 only, no dashboard, a small object store) and shut down at
        the end. Ray Client addresses (``ray://``) are refused: trials connect back to the
        driver, so the tuner must run on the cluster (e.g. as a Ray job).
    storage_path:
        A directory every node mounts at the same path: trial directories (logs,
        checkpoints) go to ``storage_path/<experiment>/trial_<id>``, so a paused trial can
        resume and a trial from a lost node can be retried on any node. Or a
        :class:`~rung.backends._ray_files.TrialFiles` (the interface for other places,
        e.g. an object store). None: the experiment's directory on the driver, which is
        right only when every node shares the driver's file system (warned otherwise).
    max_retries:
        Times a trial whose node died is launched again (from its checkpoint) before it
        fails with the reason "node lost".
    start_timeout:
        Seconds a slot may take to be placed and load the objective; also how long a trial
        from a lost node may wait for a free slot.
    num_cpus:
        CPUs of the local Ray started when there is no cluster (default: this machine's).
    preload:
        Modules each node's worker imports before its first trial.
    listen_host:
        The address trials connect back to (default: this node's address as Ray sees it).
    """

    name = "ray"

    def __init__(
        self,
        *,
        address: str | None = None,
        storage_path: "TrialFiles | str | os.PathLike[str] | None" = None,
        max_retries: int = 3,
        start_timeout: float = 120.0,
        num_cpus: int | None = None,
        preload: Sequence[str] = (),
        listen_host: str | None = None,
    ) -> None:
        if address is not None and (not isinstance(address, str) or not address.strip()):
            raise ValueError(f"address must be a Ray cluster address such as 'auto' or 'host:6379', got address={address!r}")
        if isinstance(address, str) and address.startswith("ray://"):
            raise ValueError(
                f"address={address!r}: Ray Client addresses are not supported, because trials connect back to "
                "the tuner; run the tuner on the cluster instead (ray job submit, or a KubeRay RayJob)"
            )
        if type(max_retries) is not int or max_retries < 0:
            raise ValueError(f"max_retries must be an integer >= 0, got max_retries={max_retries!r}")
        if isinstance(start_timeout, bool) or not isinstance(start_timeout, (int, float)) or not start_timeout > 0:
            raise ValueError(f"start_timeout must be a number of seconds > 0, got start_timeout={start_timeout!r}")
        if num_cpus is not None and (type(num_cpus) is not int or num_cpus < 1):
            raise ValueError(f"num_cpus must be a whole number >= 1 or None, got num_cpus={num_cpus!r}")
        if isinstance(preload, str):
            raise ValueError(f"preload must be a list of module names, got preload={preload!r}")
        self.address = address
        self.files = coerce_trial_files(storage_path)
        self.max_retries = max_retries
        self.start_timeout = float(start_timeout)
        self.num_cpus = num_cpus
        self.preload = list(preload)
        self.listen_host = listen_host
        #: Trial ids launched again after their node died, one entry per retry.
        self.retried: list[int] = []
        self._owns_ray = False
        self._connected = False
        self._resources = TrialResources()
        self._events: TrialEvents | None = None
        self._init_message: tuple | None = None
        self._slots: list[_Slot] = []
        self._unknown: dict[int, tuple[socket.socket, Channel, float]] = {}
        self._listener: socket.socket | None = None
        self._selector: selectors.BaseSelector | None = None
        self._address: tuple[str, int] | None = None
        self._retries: list[_Retry] = []
        self._held: list[tuple[int, TrialOutcome, float]] = []
        self._retry_counts: dict[int, int] = {}
        self._replies: list[tuple[_Slot, int, str]] = []
        self._last_poll = 0.0
        self._n_workers = 0
        self._ray: Any = None

    def default_workers(self) -> int:
        return 1

    def trial_dir(self, experiment_dir: Path, trial_id: int) -> Path:
        return self.files.trial_dir(experiment_dir, trial_id)

    # -- the cluster -----------------------------------------------------------------------
    def _connect(self) -> Any:
        """Import Ray and join (or start) the cluster once; returns the ray module."""
        if self._ray is not None:
            return self._ray
        try:
            import ray
        except ImportError:
            raise ImportError("backend='ray' needs Ray: pip install 'rung[ray]'") from None
        if not ray.is_initialized():
            address = self.address or os.environ.get("RAY_ADDRESS") or None
            if address is None:
                _loopback_only()
                ray.init(address="local", num_cpus=self.num_cpus, include_dashboard=False,
                         object_store_memory=LOCAL_OBJECT_STORE,
                         log_to_driver=False, configure_logging=False)
            else:
                ray.init(address=address, log_to_driver=False, configure_logging=False)
            self._owns_ray = True
        self._ray = ray
        self._connected = True
        return ray

    def _alive_nodes(self) -> list[dict[str, Any]]:
        return [node for node in self._connect().nodes() if node.get("Alive")]

    def check_resources(self, resources: TrialResources, n_workers: int) -> None:
        """Refuse a trial that no alive node of the cluster could hold; warn when ``n_workers``
        such trials do not fit the cluster at once (an autoscaler may still add nodes)."""
        if resources.gpus > 0:
            check_share(resources.gpus)
        needs = _needs(resources)
        nodes = self._alive_nodes()
        fits = [node for node in nodes if all(node["Resources"].get(k, 0.0) >= v - 1e-9 for k, v in needs.items())]
        if not fits:
            offered = "; ".join(
                ", ".join(f"{k}={node['Resources'].get(k, 0):g}" for k in needs) or "nothing" for node in nodes
            ) or "no alive node"
            wanted = ", ".join(f"{k}={v:g}" for k, v in needs.items())
            raise ValueError(f"resources: each trial asks for {wanted}, but no node of the Ray cluster has that "
                             f"(nodes: {offered})")
        capacity = sum(min(int(node["Resources"].get(k, 0.0) / v + 1e-9) for k, v in needs.items()) if needs else n_workers
                       for node in fits)
        if capacity < n_workers:
            warnings.warn(f"the Ray cluster holds {capacity} trial(s) with {', '.join(f'{k}={v:g}' for k, v in needs.items())} "
                          f"at once, fewer than n_workers={n_workers}; the other slots wait for resources",
                          RuntimeWarning, stacklevel=3)
        self._resources = resources

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self, objective: Callable[[dict], Any], events: TrialEvents, n_workers: int) -> None:
        try:
            payload = base64.b64encode(dumps_objective(objective)).decode("ascii")
        except Exception as exc:
            raise TypeError(f"the objective {objective!r} cannot be sent to the Ray cluster ({exc}); "
                            "make it picklable") from exc
        ray = self._connect()
        self._events = events
        self._n_workers = n_workers
        self._init_message = ("init", {"objective": payload, "sys_path": list(sys.path), "preload": self.preload,
                                       "files": self.files.to_dict()})
        host = self.listen_host or ray.util.get_node_ip_address()
        self._listener = socket.create_server((host, 0), backlog=max(16, 2 * n_workers))
        self._listener.setblocking(False)
        self._address = (host, self._listener.getsockname()[1])
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ, None)
        self._warn_if_not_shared()
        self._slots = [self._new_slot(index) for index in range(n_workers)]
        deadline = time.monotonic() + self.start_timeout
        try:
            while not all(slot.ready for slot in self._slots):
                if time.monotonic() > deadline:
                    waiting = sum(1 for slot in self._slots if not slot.ready)
                    message = (f"{waiting} of {n_workers} Ray slot(s) did not start within {self.start_timeout:g} s "
                               f"(each asks for {ray_resources(self._resources)}); see `ray status` for what the "
                               "cluster has")
                    if waiting == n_workers:
                        raise WorkerStartError(message)
                    warnings.warn(message + "; the run goes on, and they join when Ray places them",
                                  RuntimeWarning, stacklevel=3)
                    break
                self.wait(0.1)
        except BaseException:
            self.shutdown()
            raise

    def _warn_if_not_shared(self) -> None:
        if self.files.shared():
            return
        driver_ip = self._address[0] if self._address else None
        others = sorted({node["NodeManagerAddress"] for node in self._alive_nodes()} - {driver_ip})
        if others:
            warnings.warn(
                f"the Ray cluster has nodes on other machines ({', '.join(others[:3])}) but trial directories are "
                "on the driver's disk; pass storage_path= (a directory every node mounts) so paused and retried "
                "trials find their checkpoints", RuntimeWarning, stacklevel=3)

    def _new_slot(self, index: int) -> _Slot:
        from ._ray_slot import Slot

        ray = self._ray
        actor_class = ray.remote(Slot).options(max_restarts=0, max_task_retries=0, max_concurrency=4,
                                                **ray_resources(self._resources))
        actor = actor_class.remote()
        token = secrets.token_hex(16)
        assert self._address is not None
        ref = actor.serve.remote(self._address[0], self._address[1], token, {})
        return _Slot(index=index, token=token, actor=actor, ref=ref, created=time.monotonic())

    def shutdown(self) -> None:
        for slot in self._slots:
            self._end_slot(slot)
        self._slots = []
        for sock, conn, _ in self._unknown.values():
            conn.close()
        self._unknown = {}
        if self._selector is not None:
            self._selector.close()
            self._selector = None
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        self._retries = []
        self._held = []
        if self._owns_ray and self._ray is not None:
            self._ray.shutdown()
        self._owns_ray = False
        self._ray = None

    def _end_slot(self, slot: _Slot) -> None:
        if slot.conn is not None:
            if slot.launch is not None and slot.child_pid is not None:
                slot.actor.kill_trial.remote(slot.child_pid)
            try:
                slot.conn.send(("shutdown",))
            except OSError:
                pass
            self._close_conn(slot)
        try:
            self._ray.kill(slot.actor, no_restart=True)
        except Exception:  # already dead, or Ray is gone
            pass

    def _close_conn(self, slot: _Slot) -> None:
        if slot.conn is None:
            return
        if self._selector is not None:
            try:
                self._selector.unregister(slot.conn.sock)
            except (KeyError, ValueError):
                pass
        slot.conn.close()
        slot.conn = None

    # -- scheduling --------------------------------------------------------------------------
    def _idle(self) -> list[_Slot]:
        return [slot for slot in self._slots if slot.ready and slot.launch is None and slot.conn is not None]

    def free_slots(self) -> int:
        return max(0, len(self._idle()) - len(self._retries))

    def launch(self, launch: TrialLaunch) -> None:
        self._send_run(self._idle()[0], launch)

    def _send_run(self, slot: _Slot, launch: TrialLaunch) -> None:
        slot.launch = launch
        slot.child_pid = None
        slot.outcome = None
        slot.kill_requested = False
        slot.broken = None
        assert slot.conn is not None
        try:
            slot.conn.send(("run", launch.trial_id, launch.config, str(launch.trial_dir), launch.resource, {}))
        except OSError:
            slot.lost_since = slot.lost_since or time.monotonic()  # found out on the next wait

    def terminate(self, trial_id: int) -> None:
        for retry in list(self._retries):
            if retry.launch.trial_id == trial_id:
                self._retries.remove(retry)
                assert self._events is not None
                self._events.on_end(trial_id, TrialOutcome(OutcomeKind.KILLED))
                return
        for slot in self._slots:
            if slot.launch is not None and slot.launch.trial_id == trial_id and not slot.kill_requested:
                slot.kill_requested = True
                if slot.child_pid is not None:
                    slot.actor.kill_trial.remote(slot.child_pid)

    # -- events ------------------------------------------------------------------------------
    def wait(self, timeout: float | None) -> None:
        if self._selector is None:
            return
        self._dispatch_retries()
        watching = any(not slot.ready or slot.lost_since is not None for slot in self._slots) or bool(self._retries)
        if watching:
            timeout = POLL_INTERVAL if timeout is None else min(timeout, POLL_INTERVAL)
        for key, _ in self._selector.select(timeout):
            if key.data is None:
                self._accept()
            elif isinstance(key.data, int):
                self._read_hello(key.data)
            else:
                self._drain(key.data)
        self._send_replies()
        now = time.monotonic()
        if now - self._last_poll >= POLL_INTERVAL:
            self._last_poll = now
            self._poll_ray(now)
        self._expire(now)
        self._dispatch_retries()
        self._release_held(now)

    def _accept(self) -> None:
        assert self._listener is not None and self._selector is not None
        while True:
            try:
                sock, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            from ._ray_slot import keep_alive

            sock.setblocking(True)
            keep_alive(sock)
            conn = Channel(sock)
            self._unknown[sock.fileno()] = (sock, conn, time.monotonic() + HELLO_TIMEOUT)
            self._selector.register(sock, selectors.EVENT_READ, sock.fileno())

    def _read_hello(self, fd: int) -> None:
        """The first message of a new connection must be a slot's ("hello", secret, where)."""
        sock, conn, _ = self._unknown[fd]
        try:
            messages = conn.receive_available()
        except ChannelError:
            messages = []
        if not messages and not conn.closed and conn.error is None:
            return
        self._drop_unknown(fd, close=False)
        first = messages[0] if messages else None
        slot = None
        if first is not None and len(first) == 3 and first[0] == "hello" and isinstance(first[1], str) \
                and isinstance(first[2], dict):
            token = first[1]
            slot = next((s for s in self._slots if s.conn is None and not s.ready
                         and secrets.compare_digest(s.token, token)), None)
        if slot is None or first is None or len(messages) > 1:
            conn.close()  # not one of our slots (or a slot speaking out of turn)
            return
        slot.conn = conn
        slot.where = {k: v for k, v in first[2].items() if isinstance(v, (str, int, type(None)))}
        assert self._selector is not None and self._init_message is not None
        self._selector.register(sock, selectors.EVENT_READ, slot)
        try:
            conn.send(self._init_message)
        except OSError:
            slot.lost_since = time.monotonic()

    def _drop_unknown(self, fd: int, close: bool) -> None:
        sock, conn, _ = self._unknown.pop(fd)
        assert self._selector is not None
        self._selector.unregister(sock)
        if close:
            conn.close()

    def _expire(self, now: float) -> None:
        for fd, (_, _, deadline) in list(self._unknown.items()):
            if now > deadline:
                self._drop_unknown(fd, close=True)
        for slot in list(self._slots):
            if slot.lost_since is not None and now - slot.lost_since > LOST_GRACE:
                self._slot_down(slot, None)
        for retry in list(self._retries):
            if now > retry.deadline:
                self._retries.remove(retry)
                assert self._events is not None
                self._events.on_end(retry.launch.trial_id, TrialOutcome(
                    OutcomeKind.FAILED, error=f"{retry.reason}, and no Ray slot could take the trial again within "
                                              f"{self.start_timeout:g} s"))

    def _dispatch_retries(self) -> None:
        while self._retries:
            idle = self._idle()
            if not idle:
                return
            retry = self._retries.pop(0)
            self.retried.append(retry.launch.trial_id)
            self._send_run(idle[0], retry.launch)

    def _send_replies(self) -> None:
        """Answer every report of this wake-up after one commit of all of them."""
        if not self._replies:
            return
        assert self._events is not None
        self._events.commit()
        replies, self._replies = self._replies, []
        for slot, trial_id, action in replies:
            if slot.conn is not None and slot.launch is not None and slot.launch.trial_id == trial_id:
                try:
                    slot.conn.send(("decision", trial_id, action))
                except OSError:
                    pass  # the slot died meanwhile; found on the next wait

    def _drain(self, slot: _Slot) -> None:
        conn = slot.conn
        if conn is None:
            return
        try:
            messages = conn.receive_available()
        except ChannelError:
            messages = []
        for message in messages:
            try:
                self._handle(slot, message)
            except _Violation as exc:
                self._break(slot, str(exc))
                return
            if slot.retiring:
                return
        if conn.error is not None:
            self._break(slot, f"wrote something that is not a rung message to its connection to the tuner ({conn.error})")
        elif conn.closed:
            self._close_conn(slot)
            slot.lost_since = time.monotonic()
            self._poll_ray(slot.lost_since)

    def _break(self, slot: _Slot, problem: str) -> None:
        slot.broken = f"the trial {problem}; the worker connection is rung's own channel, a trial must not write to it"
        self._close_conn(slot)
        self._slot_down(slot, None)

    def _handle(self, slot: _Slot, message: tuple) -> None:
        kind = message[0]
        current = slot.launch.trial_id if slot.launch is not None else None

        def expect(length: int, ok: bool = True) -> None:
            if len(message) != length or not ok:
                text = repr(message)
                raise _Violation(f"sent a malformed {kind!r} message {text[:200]}")

        if kind == "report":
            expect(3, current is not None and message[1] == current and isinstance(message[2], dict)
                   and all(isinstance(name, str) for name in message[2]))
            assert self._events is not None
            action = self._events.on_report(message[1], message[2])
            self._replies.append((slot, message[1], action))
        elif kind == "started":
            expect(3, current is not None and message[1] == current and type(message[2]) is int and message[2] > 0)
            slot.child_pid = message[2]
            if slot.kill_requested:
                slot.actor.kill_trial.remote(slot.child_pid)
        elif kind == "end":
            expect(6, current is not None and message[1] == current and message[2] in {k.value for k in OutcomeKind}
                   and all(part is None or isinstance(part, str) for part in message[4:]))
            _, _, outcome_kind, value, error, tb = message
            slot.outcome = TrialOutcome(OutcomeKind(outcome_kind), value, error, tb)
        elif kind == "exited":
            expect(3, current is not None and message[1] == current and type(message[2]) is int)
            if message[2] < 0:
                slot.retiring = True
                self._retire(slot)
                self._finish(slot, message[2], hold=True)  # held until a slot is ready again
            else:
                self._finish(slot, message[2])
        elif kind == "ready" and not slot.ready:
            slot.ready = True
        elif kind == "init_error" and not slot.ready:
            expect(3)
            raise WorkerStartError(f"a Ray slot on {slot.node} could not load the objective: {message[1]}\n{message[2]}")
        else:
            raise _Violation(f"sent an unexpected {kind!r} message")

    def _finish(self, slot: _Slot, returncode: int | None, error: str | None = None, hold: bool = False) -> None:
        """End the slot's trial; ``hold``: the slot died, so the end may wait for a slot (see
        :meth:`_release_held`)."""
        launch = slot.launch
        if launch is None:
            return
        if slot.kill_requested:
            outcome = TrialOutcome(OutcomeKind.KILLED)
        elif slot.broken is not None:
            outcome = TrialOutcome(OutcomeKind.FAILED, error=slot.broken)
        elif slot.outcome is not None and error is None:
            outcome = slot.outcome
        elif error is not None:
            outcome = TrialOutcome(OutcomeKind.FAILED, error=error)
        else:
            how = describe_exit(returncode) if returncode is not None else "ended"
            text = f"the trial process on {slot.node} {how} before the trial finished"
            if returncode == EXIT_CHANNEL_LOST:
                text += ": it lost its connection to the tuner"
            outcome = TrialOutcome(OutcomeKind.FAILED, error=text)
        slot.launch = None
        slot.outcome = None
        slot.child_pid = None
        slot.kill_requested = False
        if hold:
            self._held.append((launch.trial_id, outcome, time.monotonic()))
            self._release_held(time.monotonic())
            return
        assert self._events is not None
        self._events.on_end(launch.trial_id, outcome)

    def _release_held(self, now: float) -> None:
        """Deliver the ends of trials whose slot died, unless that would leave the tuner with
        no trial running and no free slot while replacements are still starting (it would
        end the experiment for want of work): then they wait for a slot, at most
        ``start_timeout`` seconds. The process backend keeps a dead worker's slot busy the
        same way."""
        if not self._held:
            return
        busy = any(slot.launch is not None for slot in self._slots) or bool(self._retries)
        starting = any(not slot.ready for slot in self._slots)
        oldest = min(since for _, _, since in self._held)
        if busy or self.free_slots() > 0 or not starting or now - oldest > self.start_timeout:
            held, self._held = self._held, []
            assert self._events is not None
            for trial_id, outcome, _ in held:
                self._events.on_end(trial_id, outcome)

    # -- slots that die ----------------------------------------------------------------------
    def _poll_ray(self, now: float) -> None:
        """Look at the serve() calls of slots that are starting or lost: a finished one means
        the slot's actor (or worker) is gone."""
        watched = [slot for slot in self._slots if not slot.ready or slot.lost_since is not None or slot.conn is None]
        if not watched or self._ray is None:
            return
        done, _ = self._ray.wait([slot.ref for slot in watched], num_returns=len(watched), timeout=0,
                                 fetch_local=False)
        finished = {ref.hex() for ref in done}
        for slot in watched:
            if slot.ref.hex() in finished:
                self._slot_down(slot, slot.ref)
            elif slot.lost_since is not None and self._node_dead(slot):
                self._slot_down(slot, None)

    def _node_dead(self, slot: _Slot) -> bool:
        node_id = slot.where.get("node_id")
        if not node_id:
            return False
        for node in self._ray.nodes():
            if node.get("NodeID") == node_id:
                return not node.get("Alive")
        return True

    def _retire(self, slot: _Slot) -> None:
        """Replace an idle slot whose connection may hold the rest of a frame a killed trial
        began to read (see ``_Slot.retiring``)."""
        if slot not in self._slots:
            return
        self._close_conn(slot)
        try:
            self._ray.kill(slot.actor, no_restart=True)
        except Exception:
            pass
        self._slots[self._slots.index(slot)] = self._new_slot(slot.index)

    def _slot_down(self, slot: _Slot, ref: Any) -> None:
        """The slot's actor or worker is gone: end or retry its trial, replace the slot."""
        if slot not in self._slots:
            return
        self._close_conn(slot)
        # A slot whose connection carried something rung never sends is ended by us: its
        # trial fails saying so (the cause is known, nothing to ask Ray).
        cause, detail = ("broken", "") if slot.broken is not None else self._cause(slot, ref)
        if not slot.ready and slot.launch is None and cause == "crashed":
            # A slot that fails while starting on a live node would fail again: say why now.
            raise WorkerStartError(f"a Ray slot on {slot.node} failed while starting: {detail}")
        launch = slot.launch
        index = self._slots.index(slot)
        try:
            self._ray.kill(slot.actor, no_restart=True)
        except Exception:
            pass
        self._slots[index] = self._new_slot(slot.index)
        node_id = slot.where.get("node_id")
        if cause == "node" and node_id and self._node_dead(slot):
            # Every other slot on that node is gone too, even if its connection has not
            # dropped yet: take them down now, so no retry is sent to a dead node.
            for other in [s for s in self._slots if s is not slot and s.where.get("node_id") == node_id]:
                self._slot_down(other, None)
        if launch is None:
            return
        trial_id = launch.trial_id
        if cause == "node" and not slot.kill_requested:
            reason = f"node lost: the Ray node {slot.node} running trial {trial_id} died ({detail})"
            count = self._retry_counts.get(trial_id, 0)
            if count < self.max_retries:
                self._retry_counts[trial_id] = count + 1
                warnings.warn(f"{reason}; it runs again from its checkpoint on the next free slot "
                              f"(retry {count + 1} of max_retries={self.max_retries})", RuntimeWarning, stacklevel=2)
                self._retries.append(_Retry(launch, reason, time.monotonic() + self.start_timeout))
                slot.launch = None
                return
            slot.outcome = None
            self._finish(slot, None, error=f"{reason}; retried {count} time(s), at most max_retries={self.max_retries}",
                         hold=True)
        elif cause == "oom" and not slot.kill_requested:
            slot.outcome = None
            self._finish(slot, None, error=f"out of memory: Ray's memory monitor killed trial {trial_id}'s worker on "
                                           f"{slot.node} ({detail})", hold=True)
        else:
            self._finish(slot, None, error=None if slot.kill_requested or slot.broken else
                         f"the trial's Ray worker on {slot.node} died: {detail}", hold=True)

    def _cause(self, slot: _Slot, ref: Any) -> tuple[str, str]:
        """Why the slot is gone: ("node" | "oom" | "crashed", words)."""
        ray = self._ray
        if ref is not None:
            try:
                code = ray.get(ref, timeout=5)
            except Exception as exc:
                return self._actor_error(slot, exc)
            if self._node_dead(slot):
                return "node", "its node stopped"
            if isinstance(code, int) and code < 0:
                # Ray kills an actor's child processes when it kills the actor (memory monitor,
                # node shutdown), so the worker program may end first: ask the actor itself.
                try:
                    ray.get(slot.actor.where.remote(), timeout=10)
                except Exception as exc:
                    return self._actor_error(slot, exc)
            return "crashed", f"the worker program {describe_exit(code) if isinstance(code, int) else 'ended'}"
        if self._node_dead(slot):
            return "node", "Ray marked the node dead"
        return "node", f"the connection to it dropped and Ray gave no reason within {LOST_GRACE:g} s"


    def _actor_error(self, slot: _Slot, exc: BaseException) -> tuple[str, str]:
        """Classify the error Ray raised for a dead slot actor."""
        text = str(exc).lower()
        if isinstance(exc, self._ray.exceptions.OutOfMemoryError) or "memory monitor" in text or \
                "out of memory" in text or "oom" in text.split():
            return "oom", _first_line(exc)
        if self._node_dead(slot) or ("node" in text and "died" in text):
            return "node", _first_line(exc)
        return "crashed", _first_line(exc)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]


def _loopback_only() -> None:
    """Make a local Ray bind 127.0.0.1 only (Ray otherwise picks this machine's public address)."""
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    try:
        from ray._private import ray_constants

        ray_constants.ENABLE_RAY_CLUSTER = False
    except (ImportError, AttributeError):
        pass
