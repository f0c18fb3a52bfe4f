"""Seconds to draw every view of one run (issue 15), as a PNG file and as a plotly figure.

    python -m benchmarks.plots_scale [TRIALS]        # default 2000 (about 5,000 reports)

The run: random search under ASHA (9 epochs, reduction factor 3) on a simulated learning
curve with 8 simulated workers, recorded in memory. Prints one line per view.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import rung
import rung.plots as plots
from rung.backends import SimulatedProblem
from rung.plots import figures
from rung.schedulers import ASHA

VIEWS = ("learning_curves", "incumbent", "metric_per_rung", "parallel_coordinates", "slices", "importance",
         "timeline")


class Curve(SimulatedProblem):
    def steps(self, config, start_step):  # type: ignore[no-untyped-def]
        for epoch in range(start_step + 1, 10):
            loss = (config["x"] - 0.3) ** 2 * 100 + 10.0 / epoch + config["y"]
            yield 1.0 + config["x"], {"epoch": epoch, "loss": loss}


def main(n_trials: int) -> None:
    started = time.perf_counter()
    result = rung.Tuner(Curve(), {"x": rung.uniform(0, 1), "y": rung.uniform(0, 1)}, metric="loss",
                        max_trials=n_trials, seed=0, searcher="random", scheduler=ASHA(max_resource=9),
                        backend="simulator", n_workers=8, verbose=0, storage=":memory:").run()
    print(f"run: {n_trials} trials, {len(result.report_records)} reports in {time.perf_counter() - started:.2f} s")
    with tempfile.TemporaryDirectory() as directory:
        for view in VIEWS:
            started = time.perf_counter()
            getattr(plots, view)(result, Path(directory) / f"{view}.png")
            png = time.perf_counter() - started
            started = time.perf_counter()
            getattr(figures, view)(result)
            figure = time.perf_counter() - started
            print(f"{view}: png {png:.2f} s, plotly {figure:.2f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
