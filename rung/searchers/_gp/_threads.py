"""Run the GP's linear algebra on one BLAS thread.

The GP's matrices are small (at most a few hundred rows), so a multi-threaded BLAS gains
little from its threads, and on a busy machine it loses a lot: OpenBLAS threads spin while
they wait for each other, and when the cores are shared with trials (the usual case for a
tuner) a 40 x 40 matrix inverse was measured at 6 ms instead of 0.01 ms. The limit is set
with ``threadpoolctl`` when it is installed (it comes with scikit-learn) and is a no-op
otherwise: it changes speed, never results beyond floating-point rounding.
"""

from __future__ import annotations

import contextlib
from typing import Any

_controller: Any = None


def one_blas_thread() -> contextlib.AbstractContextManager[Any]:
    """A context in which BLAS (numpy's and scipy's) uses a single thread, if possible."""
    global _controller
    if _controller is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _controller = False
        else:
            _controller = ThreadpoolController()
    if _controller is False:
        return contextlib.nullcontext()
    return _controller.limit(limits=1, user_api="blas")
