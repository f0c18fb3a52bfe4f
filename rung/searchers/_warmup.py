"""Pay the model-based searchers' import costs in the background, not on the first trial.

The GP family needs ``scipy.stats`` (its Sobol designs) and ``scipy.optimize``; importing
them and loading the Sobol direction numbers takes about half a second, which ``import rung`` (also done by every trial process)
should not pay. :func:`start` imports them on a daemon thread as soon as a searcher that
needs them is built; a suggestion that needs a module before the thread got to it simply
waits for the import in progress (Python's import lock), never imports it twice.
"""

from __future__ import annotations

import threading

_started = False
_lock = threading.Lock()
_thread: threading.Thread | None = None


def _import_models() -> None:
    try:
        import numpy as np
        from scipy import spatial  # noqa: F401  (the plateau guard's k-d tree)
        from scipy.stats import qmc

        from ._gp import _acquisition, _data, _fitting, _model  # noqa: F401

        # The first Sobol engine loads scipy's direction numbers (about 30 ms), cached
        # for the process: a throwaway engine here, on its own generator.
        qmc.Sobol(2, scramble=True, rng=np.random.default_rng(0))
    except Exception:  # pragma: no cover - the searcher's own import reports it
        pass


def start() -> None:
    """Start importing the GP family's modules in the background (once per process)."""
    global _started, _thread
    with _lock:
        if _started:
            return
        _started = True
        _thread = threading.Thread(target=_import_models, name="rung-imports", daemon=True)
        _thread.start()


def wait() -> None:
    """Return once the imports :func:`start` began are done (at once if none were started).

    The Tuner calls this at the end of its construction, so ``run()`` makes its first
    suggestion without waiting for an import, and nothing forks mid-import."""
    thread = _thread
    if thread is not None:
        thread.join()
